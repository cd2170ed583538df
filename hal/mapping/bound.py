"""The resource bound: how many of a network's synapses the wafer can realise at best, for a placement.

Every synapse of an edge (pre, post, sign) sits in a synapse row on the post neuron's HICANN,
and that row's synapse driver listens to the L1 bus of the pre's origin (its DNC merger). What
limits the realisable synapses on a target HICANN ``t``, counted here exactly and optimally:

* **Drivers are per origin.** A driver and its two rows hear one L1 line, hence one origin;
  the HICANN has ``D`` usable drivers (defects removed) holding ``R <= 2 D`` usable rows.
* **A row carries one sign and one gmax divisor** (:mod:`hal.mapping.scales`) and at most ``s``
  addresses of its origin, ``s`` = the post neurons' columns per synapse half
  (``circuits / 2``, at most 16; 1 for 1 and 2 circuits): column ``i`` of every post neuron
  decodes the row's ``i``-th address (:mod:`hal.mapping.rows`). The 2-bit row decoder is
  not counted as a limit: the hardware decodes even and odd columns separately
  (``decoder_even`` / ``decoder_odd``), which for ``s = 2`` (4 circuits) covers any two
  addresses.
* **Halves.** With 1 circuit per neuron only the top half (drivers 0..111) reaches a circuit.

So the most synapses ``t`` can hold is a choice of at most ``D`` *driver units* -- two rows of
one origin -- with the most edges: per origin and (sign, divisor) the addresses sorted by
their edge counts and cut into rows of ``s`` (the best rows there are), per origin the rows
sorted and paired, and the ``D`` best pairs over all origins (an exchange argument shows
that this greedy choice is optimal; with rows on the defect list (``R < 2 D``) it may count a
few rows too many, so it stays an upper bound). The network's bound is the sum over target
HICANNs. It assumes every bus arrives (L1 lines and repeaters unlimited): L1 is what routing
and the merger tree spend, and what the bound measures them against. Neurons and sources
are already placed when it is computed (placement raises when they do not fit), and the FPGA
links limit spike rates, not synapses.

:class:`SynapseBound` is reported by every mapping (``MappingResult.bound``, ``hal map --json``).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from typing import TYPE_CHECKING

import attrs
import numpy as np

if TYPE_CHECKING:
    from hal.mapping.state import MappingState

__all__ = ["SynapseBound", "synapse_bound", "chip_bound", "chip_bound_of_edges", "slots_per_row", "summarise"]

#: A row's synapse decoders hold 4 bits: at most this many addresses per row.
_MAX_SLOTS = 16
#: Drivers 0..111 feed the top synapse array (:class:`~hal.coordinates.SynapseDriverOnHICANN`).
_TOP_DRIVERS = 112


@attrs.frozen
class SynapseBound:
    """The most synapses the placed network can have realised (see the module docstring).

    ``synapses``: the network's synapses; ``bound``: at most realisable;
    ``limited``: synapses beyond the bound by what limits them (reason -> count);
    ``realised``: what the mapping realised (<= ``bound``).
    """

    synapses: int
    bound: int
    realised: int
    limited: dict = attrs.field(factory=dict)
    #: per target HICANN (enum): (its synapses, at most realisable there)
    per_hicann: dict = attrs.field(factory=dict)

    @property
    def realised_of_bound(self) -> float:
        """``realised / bound`` (1.0 for a network without synapses)."""
        return self.realised / self.bound if self.bound else 1.0

    def to_dict(self) -> dict:
        return {"synapses": self.synapses, "bound": self.bound, "realised": self.realised,
                "realised_of_bound": round(self.realised_of_bound, 4), "limited": dict(self.limited)}


def slots_per_row(circuits_per_neuron: int) -> int:
    """Addresses one synapse row can carry for neurons of ``circuits_per_neuron`` circuits."""
    return max(1, min(circuits_per_neuron // 2, _MAX_SLOTS))


def chip_bound(needs: dict, drivers: int, slots: int) -> int:
    """The most edges one target HICANN holds: ``needs`` maps origin -> Counter{(address, excitatory, divisor): edges}.

    ``drivers`` usable drivers, ``slots`` addresses per row (module docstring).
    """
    units = []
    for counts in needs.values():
        by_kind: dict[tuple, list[int]] = defaultdict(list)
        for (_, excitatory, divisor), n in counts.items():
            by_kind[(excitatory, divisor)].append(n)
        rows = []
        for edges in by_kind.values():
            edges.sort(reverse=True)
            rows.extend(sum(edges[i:i + slots]) for i in range(0, len(edges), slots))
        rows.sort(reverse=True)
        units.extend(sum(rows[i:i + 2]) for i in range(0, len(rows), 2))
    units.sort(reverse=True)
    return sum(units[:drivers])


def chip_bound_of_edges(origin: np.ndarray, needs: np.ndarray, drivers: int, slots: int) -> int:
    """:func:`chip_bound` from one row per edge: ``origin`` (any integer id) and ``needs`` (address, excitatory, divisor).

    The same greedy choice with numpy sorts (a full wafer has ~10^6 edges): counts per address of
    each (origin, sign, divisor), sorted and cut into rows of ``slots``; per origin its rows sorted and
    paired into driver units; the ``drivers`` best units. Sums of sorted runs do not depend on how
    ties are ordered, so the result equals :func:`chip_bound`'s.
    """
    if origin.size == 0 or drivers <= 0:
        return 0
    # Edges per (origin, excitatory, divisor, address), as one integer code in that order (addresses 0..63).
    divisors = int(needs[:, 2].max()) + 1
    group = (origin.astype(np.int64) * 2 + needs[:, 1]) * divisors + needs[:, 2]
    codes, counts = np.unique(group * 64 + needs[:, 0], return_counts=True)
    group = codes // 64
    # Within each (origin, kind): counts descending, cut into rows of ``slots``.
    order = np.lexsort((-counts, group))
    group, counts = group[order], counts[order]
    row_id = _runs(_starts(group), slots)
    row_sum = np.bincount(row_id, weights=counts).astype(np.int64)
    row_origin = group[np.r_[0, np.flatnonzero(np.diff(row_id)) + 1]] // (2 * divisors)
    # Per origin: rows descending, paired into driver units.
    order = np.lexsort((-row_sum, row_origin))
    row_sum, row_origin = row_sum[order], row_origin[order]
    unit_id = _runs(_starts(row_origin), 2)
    units = np.bincount(unit_id, weights=row_sum).astype(np.int64)
    return int(np.sort(units)[::-1][:drivers].sum())


def _starts(keys: np.ndarray) -> np.ndarray:
    """Whether each element of the (sorted) ``keys`` starts a new group."""
    new = np.ones(keys.size, dtype=bool)
    new[1:] = keys[1:] != keys[:-1]
    return new


def _runs(starts: np.ndarray, size: int) -> np.ndarray:
    """Ids 0, 1, ... of consecutive chunks of ``size`` elements within each group (``starts`` marks a group's first)."""
    index = np.arange(starts.size)
    first = np.maximum.accumulate(np.where(starts, index, 0))
    chunk_starts = starts | (((index - first) % size) == 0)
    return np.cumsum(chunk_starts) - 1


def synapse_bound(state: MappingState) -> dict:
    """Per target HICANN (enum): (edges, at most realisable); from ``state.row_needs`` and the chips' usable drivers."""
    circuits = state.options.circuits_per_neuron
    slots = slots_per_row(circuits)
    out = {}
    for target, per_origin in state.row_needs.items():
        chip = state.chips[target]
        drivers = chip.free_drivers if circuits > 1 else {d for d in chip.free_drivers if d < _TOP_DRIVERS}
        sizes = [len(edges) for edges in per_origin.values()]
        total = sum(sizes)
        needs = np.fromiter(itertools.chain.from_iterable(itertools.chain.from_iterable(per_origin.values())), dtype=np.int64,
                            count=3 * total).reshape(total, 3)
        origin = np.repeat(np.arange(len(sizes)), sizes)
        out[target.enum] = (total, chip_bound_of_edges(origin, needs, len(drivers), slots))
    return out


def summarise(per_chip: dict, synapses: int, realised: int) -> SynapseBound:
    """The network's :class:`SynapseBound` from :func:`synapse_bound`'s per-chip numbers."""
    bound = sum(b for _, b in per_chip.values())
    over = synapses - bound
    return SynapseBound(synapses=synapses, bound=bound, realised=realised,
                        limited={"synapse drivers and rows": over} if over else {}, per_hicann=dict(per_chip))
