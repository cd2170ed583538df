"""The global L1 router: one bus per origin, from its sending line to every HICANN that holds rows for it.

1. A backbone along the origin's row (marocco's backbone router does the same): east through
   forwarding repeaters, west through the sending repeater's western output and then
   forwarding repeaters, each hop moving the line by 2 (halco).
2. Targets in other rows get a vertical branch from the backbone chip of their column: a
   crossbar switch onto one of the backbone line's 8 vertical lines, then vertical repeaters
   north or south (each hop moves the vertical line by 2 within its half).
3. Targets still unreached (their column is not on the backbone, or its vertical lines are
   taken) are tried the other way round, after every origin had steps 1 and 2: vertical from
   the origin's chip to their row, a crossbar switch onto a horizontal line there, and a
   backbone along that row.

4. Only for targets still unreached -- so that networks the first three steps route map as
   they did -- a detour: in a row, a bus can use just two lines per chip (its line and the
   partner line), and both can be taken (another bus on the partner, a neuron block's sending
   line ahead). From the bus's horizontal line nearest the target, a vertical line takes it to
   the neighbouring row, a backbone along that row past the obstacle, and a vertical line back
   to the target (:func:`route_detour`). A detour that does not get through is rolled back.
   The failed tries are bounded by ``MappingOptions.detour_budget`` (a count, not a time, so
   that a mapping is the same on every machine); what is left untried is logged
   (``detour_budget_exhausted``) and lost as "unreachable bus".

   With ``MappingOptions.router = "negotiated"`` all buses negotiate for the lines after steps
   1-3 (:mod:`hal.mapping.negotiated`, which may reroute what they built); step 4 then tries
   what is still unreached (where the negotiation ran out of iterations or time).

A blocked line or repeater ends a branch there; targets beyond it stay unreached (counted as
"unreachable bus"). The line an origin arrives on at a target (an ``HLineOnHICANN`` or a
``VLineOnHICANN``) is what :mod:`hal.mapping.drivers` feeds synapse drivers from.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from typing import TYPE_CHECKING

from hal import coordinates as C
from hal.logging import get_logger
from hal.mapping.l1 import L1Line, L1Occupancy, sending_line
from hal.mapping.negotiated import route_negotiated

if TYPE_CHECKING:
    from hal.mapping.state import MappingState

__all__ = ["route_buses", "route_detour", "route_origin", "route_origin_vertical_first"]

log = get_logger(__name__)

#: Horizontal lines of a bus tried as the start of a detour (nearest the target first): bounds the time spent on a hopeless target.
_DETOUR_STARTS = 8

Arrival = C.HLineOnHICANN | C.VLineOnHICANN


def route_buses(state: MappingState) -> None:
    """Phase: one bus per origin to the HICANNs that hold rows for it; fills ``state.arrival``."""
    targets_of: dict[tuple, set] = defaultdict(set)
    for target, per_origin in state.row_needs.items():
        for origin in per_origin:
            targets_of[origin].add(target)
    origins = sorted(targets_of, key=lambda o: (o[0].enum, o[1]))
    # The negotiated router may rip up what steps 1-3 build, and a detour that does not get through is
    # rolled back: the register writes wait until all buses are routed, then go out batched per HICANN
    # (a write of one switch or repeater at a time unpacks and packs its whole register).
    state.l1.deferred = True
    for origin in origins:
        state.arrival.update(route_origin(state.l1, origin, targets_of[origin]))
    arrival = state.arrival
    for origin in origins:
        row = origin[0].y
        rest = [t for t in targets_of[origin] if t.y != row and (origin, t) not in arrival]
        if rest:
            state.arrival.update(route_origin_vertical_first(state.l1, origin, rest))
    if state.options.router == "negotiated":
        route_negotiated(state, targets_of)
    _detours(state, targets_of, origins)
    state.l1.flush()


def _detours(state: MappingState, targets_of: dict, origins: list) -> None:
    """Step 4 for every target still unreached, within ``MappingOptions.detour_budget`` failed tries."""
    budget = [state.options.detour_budget]
    skipped = 0
    arrivals = state.arrival
    for origin in origins:
        missing = [t for t in targets_of[origin] if (origin, t) not in arrivals]
        if budget[0] <= 0:
            skipped += len(missing)
            continue
        for t in sorted(missing, key=_enum):
            if budget[0] <= 0:
                skipped += 1
                continue
            arrival = route_detour(state.l1, origin, t, budget)
            if arrival is not None:
                arrivals[(origin, t)] = arrival
    if skipped:
        log.warning("detour_budget_exhausted", budget=state.options.detour_budget, buses_not_tried=skipped)


def _enum(coordinate) -> int:
    return coordinate.enum


@functools.cache
def _crossbar_vlines(line: C.HLineOnHICANN) -> tuple[C.VLineOnHICANN, ...]:
    """``line.crossbar_vlines()``, built once per line (the detours ask ~10^5 times)."""
    return line.crossbar_vlines()


@functools.cache
def _crossbar_hlines(line: C.VLineOnHICANN) -> tuple[C.HLineOnHICANN, ...]:
    return line.crossbar_hlines()


def route_origin(l1: L1Occupancy, origin: tuple, targets: set) -> dict[tuple, Arrival]:
    """Steps 1 and 2 (module docstring) for one origin; {(origin, target): arrival line} for the targets reached."""
    source, channel = origin
    backbone = _horizontal(l1, origin, L1Line.horizontal(source, sending_line(channel)), [t.x for t in targets])
    out = {}
    by_column: dict[int, list] = defaultdict(list)
    for t in targets:
        if t.y == source.y:
            if t.x in backbone:
                out[(origin, t)] = backbone[t.x].line
        elif t.x in backbone:
            by_column[t.x].append(t)
    for x, column in sorted(by_column.items()):
        branch = backbone[x]
        for direction, wanted in (("north", [t for t in column if t.y < branch.hicann.y]),
                                  ("south", [t for t in column if t.y > branch.hicann.y])):
            if not wanted:
                continue
            far = min(t.y for t in wanted) if direction == "north" else max(t.y for t in wanted)
            reached = _vertical_branch(l1, origin, branch, direction, far)
            if reached:
                _close_crossbar(l1, branch.hicann, branch.line, reached[0].line)
                at = {r.hicann: r.line for r in reached}
                for t in wanted:
                    if t in at:
                        out[(origin, t)] = _widen(l1, origin, L1Line(t, at[t]))
    return out


def route_origin_vertical_first(l1: L1Occupancy, origin: tuple, rest: list) -> dict[tuple, Arrival]:
    """Step 3 (module docstring) for the targets in other rows that :func:`route_origin` left unreached."""
    source, channel = origin
    start = next(key for key in (L1Line.horizontal(source, sending_line(channel) + 1), L1Line.horizontal(source, sending_line(channel)))
                 if l1.owner.get(key) == origin)
    out = {}
    for direction, wanted in (("north", [t for t in rest if t.y < source.y]), ("south", [t for t in rest if t.y > source.y])):
        if not wanted:
            continue
        far = min(t.y for t in wanted) if direction == "north" else max(t.y for t in wanted)
        reached = _vertical_branch(l1, origin, start, direction, far)
        if not reached:
            continue
        _close_crossbar(l1, source, start.line, reached[0].line)
        in_row: dict[int, list] = defaultdict(list)
        for t in wanted:
            in_row[t.y].append(t)
        for vertical in reached[1:]:
            out.update(_serve_row(l1, origin, vertical, in_row.get(vertical.hicann.y, [])))
    return out


def route_detour(l1: L1Occupancy, origin: tuple, target: C.HICANNOnWafer, budget: list | None = None) -> Arrival | None:
    """Step 4 (module docstring): ``origin``'s bus to ``target`` round an obstacle through a neighbouring row; the arrival, or None.

    ``budget`` (a one-element list, decremented per failed try) bounds the work: each try that
    does not get through costs one; at 0 no further try is made.
    """
    starts = sorted(l1.horizontal_lines_of(origin),
                    key=lambda k: (abs(k.hicann.x - target.x) + abs(k.hicann.y - target.y), k.hicann.enum, k.line.value))
    for start in starts[:_DETOUR_STARTS]:
        for row in (start.hicann.y - 1, start.hicann.y + 1):
            if budget is not None and budget[0] <= 0:
                return None
            checkpoint = l1.checkpoint()
            arrival = _detour(l1, origin, start, row, target)
            if arrival is not None:
                l1.keep(checkpoint)
                return arrival
            l1.rollback(checkpoint)
            if budget is not None:
                budget[0] -= 1
    return None


def _detour(l1: L1Occupancy, origin, start: L1Line, row: int, target: C.HICANNOnWafer) -> Arrival | None:
    """From horizontal ``start`` vertically to ``row``, along ``row`` to the target's column, vertically to the target."""
    up = _vertical_branch(l1, origin, start, "north" if row < start.hicann.y else "south", row)
    if not up or up[-1].hicann.y != row:
        return None
    _close_crossbar(l1, start.hicann, start.line, up[0].line)
    line = _vline_to_hline(l1, origin, up[-1])
    if line is None:
        return None
    along = _horizontal(l1, origin, line, [target.x])
    if target.x not in along:
        return None
    if target.y == row:
        return along[target.x].line
    down = _vertical_branch(l1, origin, along[target.x], "south" if target.y > row else "north", target.y)
    if not down or down[-1].hicann.y != target.y:
        return None
    _close_crossbar(l1, along[target.x].hicann, along[target.x].line, down[0].line)
    return _widen(l1, origin, down[-1])


def _serve_row(l1: L1Occupancy, origin, vertical: L1Line, in_row: list) -> dict[tuple, Arrival]:
    """Targets in the row of ``vertical``'s chip: that chip directly, the others along a backbone from it."""
    out = {}
    if not in_row:
        return out
    chip = vertical.hicann
    for t in in_row:
        if t == chip:
            out[(origin, t)] = _widen(l1, origin, vertical)
    others = [t for t in in_row if t != chip]
    row_line = _vline_to_hline(l1, origin, vertical) if others else None
    if row_line is None:
        return out
    row_backbone = _horizontal(l1, origin, row_line, [t.x for t in others])
    for t in others:
        if t.x in row_backbone:
            out[(origin, t)] = row_backbone[t.x].line
    return out


def _close_crossbar(l1: L1Occupancy, chip: C.HICANNOnWafer, hline: C.HLineOnHICANN, vline: C.VLineOnHICANN) -> None:
    l1.close_crossbar(chip, hline, vline)


def _widen(l1: L1Occupancy, origin, vertical: L1Line) -> Arrival:
    """The arrival of a vertical bus on a target: onto a free horizontal line if there is one.

    A vertical line feeds 14 drivers through synapse switches; a horizontal line reaches 28
    through its 8 vertical lines, so an origin with many rows there gets more heads.
    """
    line = _vline_to_hline(l1, origin, vertical)
    return vertical.line if line is None else line.line


def _horizontal(l1: L1Occupancy, origin, start: L1Line, xs: list[int]) -> dict[int, L1Line]:
    """Extend ``origin``'s bus from ``start`` east and west along the row to cover columns ``xs``.

    Returns column -> the line that carries the origin there, for the columns reached.
    """
    reached = {start.hicann.x: start}
    for direction, far, more in (("east", max(xs), lambda x, f: x < f), ("west", min(xs), lambda x, f: x > f)):
        here = start
        while more(here.hicann.x, far):
            step = l1.hop(here, direction, origin)
            if step is None and reached[here.hicann.x] == here:
                # Blocked. Even lines run into the sending line of the fourth chip along (sending
                # lines are 8 apart, a hop moves by 2); odd lines never do. Switch over to the
                # partner line (2j <-> 2j + 1) through a vertical line on this chip -- its two
                # crossbar switches join them -- and go on there.
                other = _switch_partner(l1, here, origin)
                if other is not None:
                    here = other
                    reached[here.hicann.x] = here
                    step = l1.hop(here, direction, origin)
            if step is None:
                break
            here = step
            reached[here.hicann.x] = here
    return reached


def _vline_to_hline(l1: L1Occupancy, origin, vertical: L1Line) -> L1Line | None:
    """Join ``vertical`` to one of its two horizontal lines (the odd one first: it never meets a sending line)."""
    for h in reversed(_crossbar_hlines(vertical.line)):
        key = L1Line(vertical.hicann, h)
        if l1.free(key, origin):
            l1.claim(key, origin)
            _close_crossbar(l1, vertical.hicann, h, vertical.line)
            return key
    return None


def _switch_partner(l1: L1Occupancy, here: L1Line, origin) -> L1Line | None:
    """Join horizontal ``here`` to its partner line ``value ^ 1`` through a free vertical line; the partner, or None."""
    partner = L1Line.horizontal(here.hicann, here.line.value ^ 1)
    if not l1.free(partner, origin):
        return None
    for v in _crossbar_vlines(here.line):
        vertical = L1Line(here.hicann, v)
        if l1.free(vertical, origin):
            l1.claim(vertical, origin)
            l1.claim(partner, origin)
            _close_crossbar(l1, here.hicann, here.line, v)
            _close_crossbar(l1, here.hicann, partner.line, v)
            return partner
    return None


def _vertical_branch(l1: L1Occupancy, origin, branch: L1Line, direction: str, far: int) -> list[L1Line]:
    """Claim a vertical line from horizontal ``branch`` towards row ``far``; the vertical lines from the branch on, or [].

    Of the branch line's 8 crossbar lines, the first that is free all the way is taken; if
    none is, the one that gets furthest.
    """
    best: list[L1Line] = []
    for v in _crossbar_vlines(branch.line):
        path = _vertical_path(l1, origin, L1Line(branch.hicann, v), direction, far)
        if len(path) > len(best):
            best = path
        if path and path[-1].hicann.y == far:
            break
    if len(best) < 2:
        return []
    # Claim and configure the chosen path (the hop does both, step by step).
    l1.claim(best[0], origin)
    here = best[0]
    for _ in best[1:]:
        here = l1.hop(here, direction, origin)
    return best


def _vertical_path(l1: L1Occupancy, origin, start: L1Line, direction: str, far: int) -> list[L1Line]:
    """The free vertical lines from ``start`` towards row ``far`` (without claiming them); [] if ``start`` is taken."""
    if not l1.free(start, origin):
        return []
    path = [start]
    here = start
    while here.hicann.y != far:
        there = here.towards(direction)
        if there is None or not l1.free(there, origin) or l1.repeater_between(here, there, direction) in l1.bad_repeaters:
            break
        here = there
        path.append(here)
    return path
