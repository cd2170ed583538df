"""Negotiated-congestion routing (PathFinder) of every bus, starting from the backbone router's.

:mod:`hal.mapping.routing` grows each origin's bus greedily, origin after origin (backbone,
vertical branches, vertical-first). With ``MappingOptions.router = "negotiated"`` its buses are
only the first solution: all buses then negotiate for the L1 lines, as in McMurchie and
Ebeling's PathFinder (marocco has no equivalent):

* **The routing graph** has one node per L1 line of the wafer (64 horizontal and 256
  vertical per HICANN). A horizontal line joins its 8 vertical lines through crossbar switches
  and, through a repeater, the line it continues as on the eastern and western neighbour
  (``i -> i +- 2``); a vertical line joins its 2 horizontal lines and its northern and southern
  continuation (``v -> v +- 2`` in its half). So a bus keeps one *pair* of horizontal lines
  (``2j, 2j + 1``) per chip, fixed by the chip's position relative to its source: a hop east
  or west moves it by one pair, north or south by two. Lines and repeaters on the defect list,
  disabled HICANNs and the sending lines (each its own origin's root; a bus leaves it only
  westwards or through the next chip, :meth:`~hal.mapping.l1.L1Occupancy.hop`) are not in it.
* **Each origin's bus** is a tree. A target it lacks gets a branch: an A* expansion from every
  line the bus already holds (at no cost, so branches share lines: a Steiner-like tree) to any
  line on the target HICANN. Entering line ``n`` costs ``(b_n + h_n) * (1 + p * o_n)``: ``o_n``
  the other buses on it, ``p`` the present-congestion factor, ``h_n`` its history cost, ``b_n``
  1, or 2 for a vertical line on a HICANN that buses target (those feed its synapse drivers:
  the drivers of a bus arriving on a horizontal line hang on that line's 8 vertical lines).
* **What is negotiated for.** Per target HICANN its origins by edges, most first, as long as
  their rows (of ``slots_per_row`` addresses) fit its usable synapse rows (:func:`_wanted`):
  buses beyond them would mostly find no driver (the bound), and routing them first would take
  lines from those that do. The others get one short search over the lines still free at the end.
* **Negotiation.** The first iteration keeps the backbone router's buses and routes only the
  targets they miss, with ``p`` small, so branches may run over lines already in use. After
  each iteration the history cost of every over-used line grows by its over-use and ``p`` is
  multiplied; every bus on an over-used line is ripped up -- a backbone bus too, which is then
  routed here whole, target by target (nearest first) -- and routed again. It stops when no
  line is over-used, after ``MappingOptions.route_iterations`` iterations, or when its A*
  expansions have settled ``MappingOptions.route_work`` lines in all (both counts: the same
  result on every machine; the work limit is logged as ``negotiated_routing_work_limit``), or
  when ``MappingOptions.route_seconds`` of CPU time have passed (a safety limit, logged as
  ``negotiated_routing_time_limit``). Both limits are checked before each bus; buses not routed
  by then keep what they have. The work limit is what ends the negotiation on a wafer whose lines
  are saturated (the microcircuit of ``benchmarks/mapping_wafer.py``: its first iteration alone
  would settle ~10^7 lines, and legalisation then drops nearly every branch it found, since they
  run over the backbone buses' lines). Buses are visited in an order drawn from ``MappingOptions.seed``.
* **What stays illegal is dropped, never silently:** the backbone buses not ripped up are kept,
  then each branch in the buses' order if all its lines are still free and the line it starts
  from was kept; the dropped branches get one more (short) search over the lines still free; what
  finds none is tried by the backbone router's detours (step 4 of :mod:`hal.mapping.routing`,
  within ``MappingOptions.detour_budget``) and otherwise left unreached and counted as
  "unreachable bus" by the synapse phase. An expansion stops after ``_MAX_EXPANSIONS`` lines (a
  hopeless target does not search the whole wafer). A search over the free lines that runs out of
  lines has found every chip its bus can still reach; the bus's other targets outside them are
  dropped without a search (lines are only ever taken in legalisation, so none becomes reachable).

The backbone router's register writes wait (:attr:`~hal.mapping.l1.L1Occupancy.deferred`) until
it is known which of its buses stay; the kept branches are written through
:class:`~hal.mapping.l1.L1Occupancy` exactly as the backbone router writes its own (repeaters set
by ``hop``, crossbar switches closed), and the line each origin arrives on at a target goes into
``state.arrival`` for :mod:`hal.mapping.drivers`: the rest of the pipeline and the register
read-back are unchanged. A network the backbone router routes completely maps the same with
either router.
"""

from __future__ import annotations

import heapq
import time
from typing import TYPE_CHECKING

import numpy as np

from hal import coordinates as C
from hal.logging import get_logger
from hal.mapping.bound import slots_per_row
from hal.mapping.l1 import DEFECT, L1Line, L1Occupancy, sending_line

if TYPE_CHECKING:
    from hal.mapping.state import MappingState

__all__ = ["line_of", "node_of", "route_negotiated"]

log = get_logger(__name__)

#: Lines per HICANN in the graph: horizontal 0..63, then vertical 0..255 at 64..319.
_PER_CHIP = 320
_H = 64
#: Lines one A* expansion may settle before its target counts as unreachable (a quarter of the wafer's).
_MAX_EXPANSIONS = 30_000
#: The same for the targets routed last (beyond their HICANN's rows, :func:`_wanted`).
_LATER_EXPANSIONS = 2_000
#: Present-congestion factor of the first iteration, and its growth per iteration; weight of the history cost.
_PRESENT_START, _PRESENT_GROWTH, _HISTORY = 0.5, 1.8, 1.0
#: Extra cost of a vertical line on a HICANN that buses target (it feeds synapse drivers there).
_HEAD_COST = 1.0
#: Weight of the A* distance estimate (> 1: fewer lines expanded for slightly longer branches).
_PULL = 1.2

_DIRECTIONS = ("east", "west", "north", "south")


def node_of(line: L1Line) -> int:
    """The graph node of an L1 line."""
    value = line.line.value
    return line.hicann.enum * _PER_CHIP + (value if line.is_horizontal else _H + value)


def line_of(node: int) -> L1Line:
    """The L1 line of a graph node."""
    chip, k = divmod(node, _PER_CHIP)
    hicann = C.HICANNOnWafer(chip)
    return L1Line.horizontal(hicann, k) if k < _H else L1Line.vertical(hicann, k - _H)


class _Geometry:
    """Neighbour chips and, per line of a chip, its moves: (neighbour-chip table or None for a crossbar switch, line, repeater on this side)."""

    def __init__(self):
        chips = C.HICANNOnWafer.all()
        self.x = [h.x for h in chips]
        self.y = [h.y for h in chips]
        table = {}
        for direction in _DIRECTIONS:
            table[direction] = [(-1 if (n := getattr(h, direction)()) is None else n.enum) for h in chips]
        moves = []
        for k in range(_PER_CHIP):
            out = []
            if k < _H:
                line = C.HLineOnHICANN(k)
                for direction in ("east", "west"):
                    # the repeater sits at the border its line names: even lines west, odd lines east
                    mine = ("east" if k % 2 else "west") == direction
                    out.append((table[direction], getattr(line, direction)().value, mine))
                out.extend((None, _H + v.value, False) for v in line.crossbar_vlines())
            else:
                line = C.VLineOnHICANN(k - _H)
                top = C.VRepeaterOnHICANN(line.value).is_top
                for direction in ("north", "south"):
                    mine = ("north" if top else "south") == direction
                    out.append((table[direction], _H + getattr(line, direction)().value, mine))
                out.extend((None, h.value, False) for h in line.crossbar_hlines())
            moves.append(tuple(out))
        self.moves = tuple(moves)


_GEOMETRY: _Geometry | None = None


def _geometry() -> _Geometry:
    global _GEOMETRY
    if _GEOMETRY is None:
        _GEOMETRY = _Geometry()
    return _GEOMETRY


class _Net:
    """One origin's bus: its backbone-router lines (``fixed``, until ripped up) and its branches, per target (parent node, nodes)."""

    __slots__ = ("all_targets", "branches", "fixed", "later", "origin", "released", "rest", "root", "targets", "unreachable")

    def __init__(self, origin, root: int, all_targets: list[int], missing: list[int], fixed: set[int]):
        self.origin = origin
        self.root = root  # its sending line
        self.all_targets = all_targets  # nearest first; those worth negotiating for (:func:`_wanted`)
        self.targets = missing  # the targets its branches serve
        self.later: list[int] = []  # targets beyond their HICANN's rows: one search over the free lines at the end
        self.rest: list[int] = []  # all of those (``later`` once the bus is ripped up)
        self.fixed = fixed
        self.released = False  # True once its backbone-router lines are ripped up
        self.branches: dict = {}
        self.unreachable: set = set()

    def nodes(self):
        """The lines this bus holds besides its sending line."""
        for n in self.fixed:
            if n != self.root:
                yield n
        for _, path in self.branches.values():
            yield from path


class _Router:
    """The graph's costs and the A* expansion (module docstring)."""

    def __init__(self, l1: L1Occupancy, nets: list[_Net]):
        self.g = _geometry()
        size = C.HICANNOnWafer.size * _PER_CHIP
        blocked = bytearray(size)
        for key in l1.by_origin.get(DEFECT, ()):
            blocked[node_of(key)] = 1
        for key in l1.outputs:
            blocked[node_of(key)] = 1
        for chip in l1.dead:
            blocked[chip * _PER_CHIP:(chip + 1) * _PER_CHIP] = b"\x01" * _PER_CHIP
        self.blocked = blocked
        self.bad_repeaters = {node_of(key) for key in l1.bad_repeaters}
        self.occupancy = [0] * size
        for net in nets:
            for n in net.nodes():
                self.occupancy[n] += 1
        self.history = [0.0] * size
        self.present = _PRESENT_START
        self.work = 0  # lines settled by all searches (``MappingOptions.route_work``)
        self._pull: dict[int, list[float]] = {}  # target chip -> the A* estimate per chip
        # A vertical line on a HICANN that buses target feeds its synapse drivers (the heads of the
        # buses arriving there): passing through it costs more.
        self.base = [1.0] * size
        for chip in {t for net in nets for t in net.all_targets}:
            first = chip * _PER_CHIP + _H
            self.base[first:first + _PER_CHIP - _H] = [1.0 + _HEAD_COST] * (_PER_CHIP - _H)

    def search(self, starts: set[int], target: int, limit: int = 0, reachable: set | None = None) -> tuple[int, list[int]] | None:
        """The cheapest branch from ``starts`` to a line on chip ``target``: (parent node, new lines), or None.

        If the expansion runs out of lines (not of its ``limit``), ``reachable`` (if given) receives
        the chips of every line reachable from ``starts``.
        """
        g = self.g
        moves = g.moves
        pull = self._pull.get(target)
        if pull is None:  # the A* estimate of every chip for this target, computed once per target
            tx, ty = g.x[target], g.y[target]
            pull = self._pull[target] = [_PULL * (abs(x - tx) + abs(y - ty)) for x, y in zip(g.x, g.y)]
        blocked, bad, occ, hist, present, base_cost = self.blocked, self.bad_repeaters, self.occupancy, self.history, self.present, self.base
        best: dict[int, float] = {}
        parent: dict[int, int] = {}
        heap = []
        for s in starts:
            best[s] = 0.0
            heap.append((pull[s // _PER_CHIP], 0.0, s))
        heapq.heapify(heap)
        pop, push, known = heapq.heappop, heapq.heappush, best.get
        settled = 0
        inf = float("inf")
        while heap:
            _, cost, n = pop(heap)
            if cost > best[n]:
                continue
            chip = n // _PER_CHIP
            if chip == target:
                self.work += settled
                path = []
                while n in parent:
                    path.append(n)
                    n = parent[n]
                path.reverse()
                return n, path
            settled += 1
            if settled > (limit or _MAX_EXPANSIONS):
                self.work += settled
                return None
            base = chip * _PER_CHIP
            for table, k, mine in moves[n - base]:
                if table is None:
                    m = base + k
                    other = chip
                else:
                    other = table[chip]
                    if other < 0:
                        continue
                    m = other * _PER_CHIP + k
                    if (n if mine else m) in bad:
                        continue
                if blocked[m]:
                    continue
                step = cost + (base_cost[m] + hist[m]) * (1.0 + present * occ[m])
                if step < known(m, inf):
                    best[m] = step
                    parent[m] = n
                    push(heap, (step + pull[other], step, m))
        self.work += settled
        if reachable is not None:
            reachable.update(n // _PER_CHIP for n in best)
        return None

    def route(self, net: _Net) -> None:
        """(Re)route the targets of ``net`` that its branches serve (its old branches already ripped up)."""
        net.branches = {}
        net.unreachable = set()
        tree = set(net.fixed)
        for target in net.targets:
            found = self.search(tree, target)
            if found is None:
                net.unreachable.add(target)
                continue
            parent, path = found
            net.branches[target] = (parent, path)
            for n in path:
                self.occupancy[n] += 1
            tree.update(path)

    def rip_up(self, net: _Net) -> None:
        """Take ``net`` off its lines; the backbone router's part too: the whole bus is then routed here."""
        for n in net.nodes():
            self.occupancy[n] -= 1
        net.branches = {}
        if not net.released:
            net.released = True
            net.fixed = {net.root}
            net.targets = net.all_targets
            net.later = net.rest

    def overused(self, net: _Net) -> bool:
        occ = self.occupancy
        return any(occ[n] > 1 for n in net.nodes())


def route_negotiated(state: MappingState, targets_of: dict) -> None:
    """Route every ``origin -> targets`` (module docstring); the backbone router's buses are kept where they do not conflict.

    Expects ``state.l1`` in deferred mode (the backbone router's register writes kept per bus) and leaves
    it so, with the kept branches' writes pending (:func:`hal.mapping.routing.route_buses` flushes them);
    fills ``state.arrival``.
    """
    l1 = state.l1
    options = state.options
    origins = sorted(targets_of, key=lambda o: (o[0].enum, o[1]))
    wanted = _wanted(state)
    # Per origin, the target HICANNs (enums) it is wanted on and those it arrives on: one pass over each,
    # instead of hashing (origin, target) keys per target and origin (~10^6 of them on a full wafer).
    arrived: dict = {}
    for origin, target in state.arrival:
        arrived.setdefault(origin, set()).add(target.enum)
    xs, ys = _geometry().x, _geometry().y
    order = np.random.default_rng(options.seed).permutation(len(origins))
    nets = []
    for i in order:
        origin = origins[int(i)]
        source = origin[0]
        sx, sy = source.x, source.y
        targets = sorted(t.enum for t in targets_of[origin])
        targets.sort(key=lambda t: abs(xs[t] - sx) + abs(ys[t] - sy))  # nearest first; ties by enum (stable)
        root = node_of(L1Line.horizontal(source, sending_line(origin[1])))
        fixed = {node_of(k) for k in l1.by_origin.get(origin, ())} | {root}
        mine, here = wanted.get(origin, set()), arrived.get(origin, set())
        first = [t for t in targets if t in mine]
        net = _Net(origin, root, first, [t for t in first if t not in here], fixed)
        net.rest = [t for t in targets if t not in mine]
        net.later = [t for t in net.rest if t not in here]
        nets.append(net)
    router = _Router(l1, nets)
    started = time.process_time()
    iterations, overused = 0, 0
    todo = [net for net in nets if net.targets]
    out_of_time = False
    for iteration in range(options.route_iterations if todo else 0):
        iterations = iteration + 1
        for i, net in enumerate(nets):
            if router.work >= options.route_work:
                # The work limit (a count, the same on every machine): what is not routed yet keeps what it has.
                log.warning("negotiated_routing_work_limit", lines_settled=router.work, route_work=options.route_work,
                            iterations=iterations, buses=len(nets), buses_not_visited=len(nets) - i)
                out_of_time = True
                break
            if time.process_time() - started > options.route_seconds:
                # The safety limit (machine-dependent, hence logged): what is not routed yet stays unreached.
                log.warning("negotiated_routing_time_limit", seconds=options.route_seconds, iterations=iterations,
                            buses=len(nets), buses_not_visited=len(nets) - i)
                out_of_time = True
                break
            if iteration == 0 and net.targets:
                router.route(net)
            elif iteration > 0 and router.overused(net):
                router.rip_up(net)
                router.route(net)
        over = {n for net in nets for n in net.nodes() if router.occupancy[n] > 1}
        overused = len(over)
        if not overused or out_of_time:
            break
        for n in over:
            router.history[n] += _HISTORY * (router.occupancy[n] - 1)
        router.present *= _PRESENT_GROWTH
    kept, dropped = _legalise(router, nets, started + options.route_seconds)
    released = [net for net in nets if net.released]
    for net in released:
        l1.release(net.origin)
        for t in net.all_targets + net.rest:
            state.arrival.pop((net.origin, C.HICANNOnWafer(t)), None)
    reached = _commit(state, kept)
    log.info("negotiated_routing_finished", buses=len(todo), buses_rerouted=len(released),
             targets=sum(len(n.targets) for n in nets if n.released or n.targets), iterations=iterations,
             lines_overused=overused, reached=reached, unreachable=sum(len(n.unreachable) for n in nets), dropped_branches=dropped,
             lines_settled=router.work, seconds=round(time.process_time() - started, 1))


def _legalise(router: _Router, nets: list[_Net], deadline: float) -> tuple[list, int]:
    """Branches that share no line: the backbone router's buses not ripped up first, then the branches in the nets' order;
    the dropped ones searched once more over the lines still free.

    Returns ([(net, target, parent, path)] in writing order, branches dropped).
    """
    blocked = router.blocked
    for net in nets:
        if not net.released:
            for n in net.fixed:
                blocked[n] = 1
    kept, retry = [], []
    for net in nets:
        tree = set(net.fixed)
        for target in net.targets:
            branch = net.branches.get(target)
            if branch is None:
                continue
            parent, path = branch
            if parent in tree and not any(blocked[n] for n in path):
                _keep(kept, blocked, tree, net, target, branch)
            else:
                retry.append(net)
    # One more expansion per dropped branch, over the lines nobody kept (no sharing: other buses are blocked).
    # From here on lines are only taken, never freed: once a search of a bus runs out of lines, the chips
    # it reached are all its later searches can reach (``regions``), and a target elsewhere needs none.
    router.occupancy = [0] * len(router.occupancy)
    regions: dict = {}
    dropped = 0
    for net in dict.fromkeys(retry):
        mine = [k for k in kept if k[0] is net]
        tree = set(net.fixed) | {n for k in mine for n in k[3]}
        done = {k[1] for k in mine}
        for target in net.targets:
            if target in done or target in net.unreachable:
                continue
            found = _search_free(router, regions, net, tree, target)
            if found is None:
                dropped += 1
                continue
            _keep(kept, blocked, tree, net, target, found)
    # The targets left for later, over the lines still free, with a short expansion each, while time is left.
    later = [net for net in nets if net.later]
    for i, net in enumerate(later):
        if time.process_time() > deadline:
            log.warning("negotiated_routing_time_limit", stage="later", buses_not_visited=len(later) - i)
            break
        tree = set(net.fixed) | {n for k in kept if k[0] is net for n in k[3]}
        for target in net.later:
            found = _search_free(router, regions, net, tree, target)
            if found is not None:
                _keep(kept, blocked, tree, net, target, found)
    return kept, dropped


def _search_free(router: _Router, regions: dict, net: _Net, tree: set, target: int):
    """A short search over the lines still free for ``net``'s ``target``, unless an earlier one found it out of reach."""
    region = regions.get(net)
    if region is not None and target not in region:
        return None
    reachable = set()
    found = router.search(tree, target, _LATER_EXPANSIONS, reachable)
    if found is None and reachable:
        regions[net] = reachable
    return found


def _keep(kept: list, blocked, tree: set, net, target, branch) -> None:
    """Keep ``branch`` (parent, path) for ``net``'s ``target``: its lines are taken, and the bus's tree grows by them."""
    parent, path = branch
    kept.append((net, target, parent, path))
    for n in path:
        blocked[n] = 1
    tree.update(path)


def _wanted(state: MappingState) -> dict:
    """Per origin, the target HICANNs (enums) worth negotiating for: per target, its origins by edges (most first) while
    their rows fit its drivers.

    A target HICANN's usable rows hold at most that many rows of ``slots`` addresses; the buses of
    origins beyond them would mostly find no driver (the bound, :mod:`hal.mapping.bound`), and
    routing them first would take lines from those that do.
    """
    slots = slots_per_row(state.options.circuits_per_neuron)
    out: dict = {}
    for target, per_origin in state.row_needs.items():
        chip = state.chips[target]
        room = sum(chip.capacity[d] for d in chip.free_drivers)
        ranked = sorted(per_origin.items(), key=lambda item: (-len(item[1]), item[0][0].enum, item[0][1]))
        for origin, needs in ranked:
            if room <= 0:
                break
            out.setdefault(origin, set()).add(target.enum)
            room -= -(-len({need[0] for need in needs}) // slots)
    return out


def _commit(state: MappingState, kept: list) -> int:
    """Claim the kept branches (their repeaters and crossbar switches pending, for one batched write) and their arrivals; the targets reached."""
    l1 = state.l1
    reached = 0
    for net, target, parent, path in kept:
        origin = net.origin
        checkpoint = l1.checkpoint()
        here = line_of(parent)
        ok = True
        for n in path:
            there = line_of(n)
            if there.hicann == here.hicann:
                l1.claim(there, origin)
                h, v = (here, there) if here.is_horizontal else (there, here)
                l1.close_crossbar(here.hicann, h.line, v.line)
            else:
                direction = _direction(here.hicann, there.hicann)
                if l1.hop(here, direction, origin) != there:
                    ok = False
                    break
            here = there
        if not ok:
            # The graph and hop() disagree: a bug, but the bus is lost visibly (counted), not half-written.
            l1.rollback(checkpoint)
            log.error("negotiated_branch_refused", origin=str(origin), target=target)
            continue
        l1.keep(checkpoint)
        state.arrival[(origin, C.HICANNOnWafer(target))] = here.line
        reached += 1
    _widen(l1, state.arrival, [(net.origin, target) for net, target, _, _ in kept])
    return reached


def _widen(l1: L1Occupancy, arrival: dict, reached: list) -> None:
    """Arrivals on a vertical line move onto one of its horizontal lines where one is still free, now that every bus is routed.

    A vertical line feeds 14 synapse drivers; a horizontal line, through its 8 vertical lines, 28
    (:mod:`hal.mapping.drivers`). The backbone router does the same while it routes.
    """
    for origin, target in reached:
        key = (origin, C.HICANNOnWafer(target))
        line = arrival[key]
        if isinstance(line, C.HLineOnHICANN):
            continue
        for h in reversed(line.crossbar_hlines()):  # the odd line first, as the backbone router does
            candidate = L1Line(key[1], h)
            if l1.free(candidate, origin):
                l1.claim(candidate, origin)
                l1.close_crossbar(key[1], h, line)
                arrival[key] = h
                break


def _direction(a: C.HICANNOnWafer, b: C.HICANNOnWafer) -> str:
    if b.x > a.x:
        return "east"
    if b.x < a.x:
        return "west"
    return "south" if b.y > a.y else "north"
