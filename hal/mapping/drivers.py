"""Synapse drivers: which drivers an L1 line reaches, allocating drivers to the origins whose
buses arrive on a HICANN, and joining circuits into logical neurons.

Drivers are fed from the line the origin arrives on through crossbar and synapse switches; an
origin short of directly reachable drivers extends chains (``d -> d+2``). Which rows of its
drivers an origin needs, and what each row decodes, is :mod:`hal.mapping.rows`.
"""

from __future__ import annotations

import functools

from hal import coordinates as C
from hal.hardware.hicann import HICANNConfig
from hal.hardware.recipes import feed_drivers

__all__ = ["reachable_drivers", "drivers_reachable_from_line", "drivers_reachable_from_vline", "plan_drivers", "allocate_drivers",
           "merge_circuits", "merge_all_circuits"]


def merge_circuits(chip: HICANNConfig, denmems: tuple[C.NeuronOnHICANN, ...]) -> None:
    """Join ``denmems`` (a column, a quad, or several neighbouring quads) into one logical neuron.

    Inside a quad the vertical and horizontal switches join the circuits; from one quad to the
    next, the first (even) column of the next quad takes the fire signal from its left neighbour
    (``enable_fire_input``), which also joins the membranes in hal's wiring model.
    """
    merge_all_circuits(chip, [denmems])


def merge_all_circuits(chip: HICANNConfig, neurons) -> None:
    """:func:`merge_circuits` for many neurons of one HICANN, one register write per field.

    The switches a neuron closes are set to True and never cleared, so writing them all at once
    gives the same registers as one neuron after the other (a wafer has ~10^5 such updates).
    """
    quads: dict[str, set[int]] = {}
    fire: set[int] = set()
    for denmems in neurons:
        if len(denmems) == 1:
            continue
        columns = sorted({d.x for d in denmems})
        rows = sorted({d.y for d in denmems})
        for quad in sorted({x // 2 for x in columns}):
            in_quad = [x for x in columns if x // 2 == quad]
            if len(rows) == 2:
                for x in in_quad:
                    quads.setdefault("vertical_left" if x % 2 == 0 else "vertical_right", set()).add(quad)
            if len(in_quad) == 2:
                if 0 in rows:
                    quads.setdefault("horizontal_top", set()).add(quad)
                if 1 in rows:
                    quads.setdefault("horizontal_bottom", set()).add(quad)
            if quad * 2 > columns[0]:  # not the first quad: join it to the quad on its left
                fire.update(C.NeuronOnHICANN(x=quad * 2, y=y).enum for y in rows)
    for field, chosen in quads.items():
        chip.neuron_quads.set_column(field, 1, index=sorted(chosen))
    if fire:
        chip.neurons.set_column("enable_fire_input", 1, index=sorted(fire))


@functools.cache
def drivers_reachable_from_line(line: int) -> tuple[tuple[int, int], ...]:
    """(driver, vline) pairs a horizontal L1 line reaches on its HICANN through crossbar and synapse switches.

    Lines 8n..8n+7 reach the same 28 drivers (halco's switch patterns), so the 224 drivers
    form 8 groups that the lines of a group share.
    """
    out = []
    for v in C.HLineOnHICANN(line).crossbar_vlines():
        for r in v.synapse_switch_rows():
            if C.SynapseSwitchOnHICANN(switch_row=r, vline=v.value).driver_location == "local":
                out.append((r, v.value))
    return tuple(sorted(out))


def reachable_drivers(channel: int) -> list[tuple[int, int]]:
    """(driver, vline) pairs an origin's own sending line reaches directly on its HICANN."""
    return list(drivers_reachable_from_line(C.DNCMergerOnHICANN(channel).to_sending_repeater().to_hline().value))


@functools.cache
def drivers_reachable_from_vline(vline: int) -> tuple[tuple[int, int], ...]:
    """(driver, vline) pairs a vertical line reaches on its HICANN through synapse switches alone (14 drivers)."""
    rows = C.VLineOnHICANN(vline).synapse_switch_rows()
    return tuple((r, vline) for r in rows if C.SynapseSwitchOnHICANN(switch_row=r, vline=vline).driver_location == "local")


def _arrival(arrival) -> tuple[str, int]:
    """("H", line) or ("V", line) from a line coordinate, such a pair, or a bare int (a horizontal line)."""
    if isinstance(arrival, C.HLineOnHICANN):
        return ("H", arrival.value)
    if isinstance(arrival, C.VLineOnHICANN):
        return ("V", arrival.value)
    if isinstance(arrival, tuple):
        return arrival
    return ("H", int(arrival))


def _candidates(arrival: tuple[str, int]) -> list[tuple[int, int]]:
    kind, line = arrival
    return drivers_reachable_from_line(line) if kind == "H" else drivers_reachable_from_vline(line)


def _plan(free: set, demands: dict, candidates: dict, round_robin: bool, capacity: dict, vline_owner: dict):
    """One allocation strategy, without touching registers: (heads, chain_next, assigned).

    ``demands[o][1]`` counts synapse rows; a driver adds its usable rows (``capacity``, 2 unless
    a row is on the defect list). A vertical line carries one origin: ``vline_owner`` (copied)
    holds the lines already taken on this chip.
    """
    free = set(free)
    order = sorted(demands, key=lambda o: -demands[o][1])
    # Origins by their position in ``order`` (hashing an origin key costs more than the allocation itself);
    # a line owned by an origin that wants nothing here is -1.
    index = {o: i for i, o in enumerate(order)}
    owner = {v: index.get(o, -1) for v, o in vline_owner.items()}
    want = [demands[o][1] for o in order]
    options_of = [candidates[o] for o in order]
    assigned: list[list[int]] = [[] for _ in order]
    have = [0] * len(order)
    heads: list[list[tuple[int, int]]] = [[] for _ in order]
    chain_next: dict[int, int] = {}

    def rows(driver: int) -> int:
        return capacity.get(driver, 2)

    # A candidate passed over stays unusable (``free`` only shrinks, ``owner`` only grows), so each
    # origin's search resumes where it stopped: the scan from the start was quadratic per chip.
    tried = [0] * len(order)

    def take_head(i: int) -> bool:
        options = options_of[i]
        for k in range(tried[i], len(options)):
            driver, vline = options[k]
            if driver in free and owner.get(vline, i) == i:
                tried[i] = k + 1
                free.discard(driver)
                owner[vline] = i
                heads[i].append((driver, vline))
                assigned[i].append(driver)
                have[i] += rows(driver)
                return True
        tried[i] = len(options)
        return False

    def grow(i: int) -> bool:
        for d in list(assigned[i]):
            tail = d
            while tail in chain_next:
                tail = chain_next[tail]
            nxt = tail + 2
            if nxt in free and (nxt < 112) == (tail < 112):
                free.discard(nxt)
                chain_next[tail] = nxt
                assigned[i].append(nxt)
                have[i] += rows(nxt)
                return True
        return False

    if round_robin:
        for step in (take_head, grow):
            # Pass after pass over the origins in order; one that is not short, or whose step failed,
            # never gets anything in a later pass (free only shrinks, its chains are its own), so each
            # pass visits only those that got something in the pass before.
            active = list(range(len(order)))
            while active:
                active = [i for i in active if have[i] < want[i] and step(i)]
    else:
        for i in range(len(order)):
            while have[i] < want[i] and take_head(i):
                pass
            while have[i] < want[i] and grow(i):
                pass
    return ({o: heads[i] for i, o in enumerate(order)}, chain_next, {o: assigned[i] for i, o in enumerate(order)},
            {o: have[i] for i, o in enumerate(order)})


def plan_drivers(free: set, demands: dict, *, capacity: dict | None = None, vline_owner: dict | None = None) -> tuple:
    """The allocation :func:`allocate_drivers` would make, without touching registers or ``free``.

    Returns (heads, chain_next, assigned, rows) with ``rows[origin]`` the usable rows the origin
    gets; :func:`hal.mapping.rows.allocate_rows` uses it to see whether an origin's rows fit.
    """
    capacity = capacity or {}
    owner = vline_owner if vline_owner is not None else {}
    demands = {o: (_arrival(a), n) for o, (a, n) in demands.items()}
    candidates = {o: _candidates(demands[o][0]) for o in demands}
    best = None
    for round_robin in (True, False):
        plan = _plan(free, demands, candidates, round_robin, capacity, owner)
        missing = sum(max(0, demands[o][1] - plan[3][o]) for o in demands)
        if best is None or missing < best[0]:
            best = (missing, plan)
    return best[1]


def allocate_drivers(chip: HICANNConfig, free: set, demands: dict, *, capacity: dict | None = None,
                     vline_owner: dict | None = None, plan: tuple | None = None) -> tuple[dict, int]:
    """Synapse drivers for each origin on one HICANN; writes switches and driver configuration.

    ``demands`` maps an origin key to (arrival, synapse rows needed). The arrival is the L1 line
    that carries the origin on this HICANN: an :class:`~hal.coordinates.HLineOnHICANN` (or
    ``("H", line)``, or a bare int) for a horizontal line, a :class:`~hal.coordinates.VLineOnHICANN`
    (or ``("V", line)``) for a vertical one. A driver is a *head* when it is fed from that line:
    a horizontal line through a crossbar switch onto one of its 8 vertical lines and a synapse
    switch (lines 8n..8n+7 reach the same 28 heads); a vertical line through a synapse switch
    alone (14 heads). Chains extend an origin: the chain's last driver gets ``connect_neighbor``
    and feeds ``d + 2`` (see :func:`hal.netlist.wiring._driver_chain`). Two strategies are planned --
    heads dealt round-robin then chains round-robin (good when origins share a head group), and
    each origin in turn taking heads and chains (good when they do not) -- and the one that
    leaves fewer rows missing is written.

    ``capacity`` (driver -> usable rows, default 2) leaves out rows on the defect list;
    ``vline_owner`` (vertical line -> origin) holds lines other buses already use on this chip
    and receives the lines taken here. ``plan``: what :func:`plan_drivers` returned for the same
    arguments, if the caller has it (it is not planned again). Returns ({origin: drivers}, drivers chained).
    """
    owner = vline_owner if vline_owner is not None else {}
    demands = {o: (_arrival(a), n) for o, (a, n) in demands.items()}
    heads, chain_next, assigned, _ = plan if plan is not None else plan_drivers(free, demands, capacity=capacity, vline_owner=owner)
    feeds = []
    for origin, pairs in heads.items():
        kind, line = demands[origin][0]
        hline = C.HLineOnHICANN(line) if kind == "H" else None
        for driver, vline in pairs:
            owner[vline] = origin
            feeds.append((C.SynapseDriverOnHICANN(driver), C.VLineOnHICANN(vline), hline))
    feed_drivers(chip, feeds)
    for tail, nxt in chain_next.items():
        chip.synapse_drivers.update(tail, connect_neighbor=True)
        chip.synapse_drivers.update(nxt, enable=True, locin=False)
    used = {d for drivers in assigned.values() for d in drivers}
    free -= used
    return assigned, len(chain_next)


