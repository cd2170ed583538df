"""Connectivity-aware placement (``MappingOptions.placement = "partition"``): recursive spectral bisection.

Populations that talk to each other should sit near each other, so that their buses are
short. The network is coarsened into *units* -- consecutive neurons of one population, a
whole number of neuron blocks (so a unit's neurons share DNC mergers), at most 512 units --
weighted by the synapses between them. The allowed HICANNs and the units are then split
together, recursively (min-cut placement): the HICANNs geometrically along their longer
extent, into halves of equal count; the units along the Fiedler vector of their graph
Laplacian (spectral bisection: the cut with few synapses across it), into parts whose neuron
counts are in proportion to the two halves' capacity. Of the two ways to put the two unit
parts onto the two HICANN halves, the one whose synapses to units outside the set (at the
centre of their current region) are shorter is taken -- terminal propagation, processed
level by level so every unit has a region. A weak chain between consecutive units keeps the
graph connected and, where connectivity does not decide, the network's order.

The result is a target HICANN per unit. :func:`hal.mapping.placement.place_populations`
then places the neurons there, with the usual rules (defects, the FPGA input budget, FPGA
channels kept free for sources, ``max_neurons_per_hicann``); a neuron that does not fit its
target goes to the nearest HICANN with room.

Only numpy (dense eigen-decompositions of at most 512 units): the core imports nothing else.
Deterministic: no random numbers; ties broken by unit and HICANN order. The network uses no
more HICANNs than it needs with a quarter to spare: the allowed HICANNs nearest the first
one of ``MappingOptions.hicanns``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from hal import coordinates as C

if TYPE_CHECKING:
    from hal.mapping.state import MappingState

__all__ = ["partition_targets", "MAX_UNITS"]

#: Most units the network is coarsened to (the dense Laplacian of the top level is MAX_UNITS^2).
MAX_UNITS = 512
#: Weight of the chain between consecutive units, relative to the mean synapse weight.
_CHAIN = 1e-3
#: Spare capacity kept when choosing how many HICANNs to use.
_SPARE = 1.25


def _units(state: MappingState, per_block: int) -> tuple[list[tuple[str, int, int]], int]:
    """(population, first neuron, count) per unit: consecutive neurons, whole neuron blocks each, at most MAX_UNITS;
    and the neurons per whole unit."""
    network = state.network
    n = network.n_neurons
    blocks = 1
    while blocks < 8 and -(-n // (per_block * blocks)) + len(network.populations) > MAX_UNITS:
        blocks *= 2
    size = per_block * blocks
    return [(pop.name, start, min(size, pop.size - start)) for pop in network.populations for start in range(0, pop.size, size)], size


def _adjacency(state: MappingState, units: list, unit_size: int) -> np.ndarray:
    """Synapses between units (symmetric, dense), plus the weak chain between consecutive units."""
    network = state.network
    first = {}
    for u, (name, _, _) in enumerate(units):
        first.setdefault(name, u)
    a = np.zeros((len(units), len(units)))
    for proj in network.projections:
        if network.is_source(proj.pre):
            continue
        pre, post = proj.edges(network.size(proj.pre), network.size(proj.post))
        np.add.at(a, (first[proj.pre] + pre // unit_size, first[proj.post] + post // unit_size), 1.0)
    a = a + a.T
    np.fill_diagonal(a, 0.0)
    chain = _CHAIN * (a.sum() / max(1, np.count_nonzero(a)) if a.any() else 1.0)
    idx = np.arange(len(units) - 1)
    a[idx, idx + 1] += chain
    a[idx + 1, idx] += chain
    return a


def _fiedler_order(a: np.ndarray, members: np.ndarray) -> np.ndarray:
    """``members`` ordered along the Fiedler vector of their induced subgraph (ties: unit order)."""
    if members.size <= 2:
        return members
    sub = a[np.ix_(members, members)]
    laplacian = np.diag(sub.sum(1)) - sub
    _, vectors = np.linalg.eigh(laplacian)
    f = vectors[:, 1]
    if np.dot(f, np.arange(f.size) - (f.size - 1) / 2) < 0:  # orientation: along the network's order
        f = -f
    return members[np.lexsort((members, np.round(f, 12)))]


def _split_chips(chips: list) -> tuple[list, list]:
    """Two halves of equal count along the longer extent (x or y) of ``chips``."""
    xs, ys = [h.x for h in chips], [h.y for h in chips]
    along_x = max(xs) - min(xs) >= max(ys) - min(ys)
    ordered = sorted(chips, key=(lambda h: (h.x, h.y)) if along_x else (lambda h: (h.y, h.x)))
    half = len(ordered) // 2
    return ordered[:half], ordered[half:]


def _prefix(weights: np.ndarray, want: float, cap_first: float, cap_second: float) -> int:
    """How many of the ordered units go to the first part: total nearest ``want``, both parts within capacity."""
    total = weights.sum()
    cumulative = np.concatenate([[0.0], np.cumsum(weights)])
    ok = np.flatnonzero((cumulative <= cap_first + 1e-9) & (total - cumulative <= cap_second + 1e-9))
    if ok.size == 0:  # cannot honour both: keep the first part within its capacity
        ok = np.flatnonzero(cumulative <= cap_first + 1e-9)
    return int(ok[np.argmin(np.abs(cumulative[ok] - want))])


def _chosen_chips(state: MappingState, capacity: dict, neurons: int) -> list:
    """The allowed HICANNs nearest the first one, enough for ``neurons`` with a quarter to spare (all if short)."""
    chain = state.chain
    first = chain[0]
    ordered = sorted(chain, key=lambda h: (abs(h.x - first.x) + abs(h.y - first.y), chain.index(h)))
    chosen, room = [], 0
    for h in ordered:
        if room >= neurons * _SPARE:
            break
        chosen.append(h)
        room += capacity[h]
    return chosen


def partition_targets(state: MappingState, per_block: int, capacity: dict) -> dict[tuple[str, int], C.HICANNOnWafer]:
    """(population, neuron) -> target HICANN, by recursive spectral bisection (module docstring).

    ``capacity``: neurons each allowed HICANN can hold.
    """
    units, unit_size = _units(state, per_block)
    if not units:
        return {}
    weights = np.array([count for _, _, count in units], dtype=float)
    a = _adjacency(state, units, unit_size)
    chips = _chosen_chips(state, capacity, int(weights.sum()))
    position = np.zeros((len(units), 2))
    centre = np.mean([[h.x, h.y] for h in chips], axis=0)
    position[:] = centre
    target: dict[int, C.HICANNOnWafer] = {}
    level = [(np.arange(len(units)), chips)]
    while level:
        following = []
        for members, region in level:
            if len(region) == 1 or members.size == 0:
                for u in members.tolist():
                    target[u] = region[0]
                continue
            first, second = _split_chips(region)
            ordered = _fiedler_order(a, members)
            caps = [sum(capacity[h] for h in part) for part in (first, second)]
            centres = [np.mean([[h.x, h.y] for h in part], axis=0) for part in (first, second)]
            w = weights[ordered]
            total = w.sum()
            options = []
            for flip in (False, True):
                # flip: the head of the order goes to the second half
                c0, c1 = (caps[1], caps[0]) if flip else (caps[0], caps[1])
                k = _prefix(w, total * c0 / max(c0 + c1, 1e-9), c0, c1)
                head, tail = ordered[:k], ordered[k:]
                to_first, to_second = (tail, head) if flip else (head, tail)
                options.append((_external_cost(a, members, to_first, to_second, centres, position), flip, to_first, to_second))
            _, _, to_first, to_second = min(options, key=lambda o: (o[0], o[1]))
            position[to_first] = centres[0]
            position[to_second] = centres[1]
            following.extend([(to_first, first), (to_second, second)])
        level = following
    out = {}
    for u, (name, start, count) in enumerate(units):
        for i in range(start, start + count):
            out[(name, i)] = target[u]
    return out


def _external_cost(a: np.ndarray, members: np.ndarray, to_first: np.ndarray, to_second: np.ndarray, centres: list,
                   position: np.ndarray) -> float:
    """Synapse-weighted distance from each part's centre to the units outside ``members`` it talks to."""
    outside = np.ones(a.shape[0], dtype=bool)
    outside[members] = False
    if not outside.any():
        return 0.0
    others = position[outside]
    cost = 0.0
    for part, centre in ((to_first, centres[0]), (to_second, centres[1])):
        if part.size:
            distance = np.abs(others - centre).sum(1)
            cost += float(a[np.ix_(part, np.flatnonzero(outside))].sum(0) @ distance)
    return cost
