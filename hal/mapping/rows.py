"""Synapse rows: which rows each origin needs on a target HICANN, what each row decodes, and
writing them (the mapping phase :func:`allocate_rows`).

A row serves one origin (the bus its driver listens to) with one sign and one gmax divisor
(:mod:`hal.mapping.scales`). Its driver decodes the two MSBs of the 6-bit L1 address
(``decoder_even`` / ``decoder_odd``), each synapse its own four LSBs. So a row can carry
several addresses of one MSB group: a neuron of merged circuits owns ``w`` columns in each
synapse half (``w = circuits / 2``), and their synaptic inputs add up, so column ``i`` of each
neuron can decode the row's ``i``-th address (its *slot*) -- marocco does the same.

First choice, as long as the drivers suffice: one row per (address, sign, divisor), the rows of
one pre next to each other (:func:`one_row_each`). Only on a HICANN where the driver plan
(:func:`hal.mapping.drivers.plan_drivers`) leaves rows out are the rows packed, with the
smallest number of slots (2, 3, ... up to ``w``) that loses no synapse, or else the one that
loses fewest (:func:`packed_rows`). Networks that fit unpacked therefore map as before.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

import attrs
import numpy as np

from hal import coordinates as C
from hal.mapping.drivers import allocate_drivers, plan_drivers
from hal.mapping.l1 import L1Line

if TYPE_CHECKING:
    from hal.mapping.state import ChipState, MappingState

__all__ = ["PlannedRow", "one_row_each", "packed_rows", "pack_factors", "allocate_rows"]

#: Addresses of one MSB group: a row holds at most this many (the synapse decoders' 4 bits).
_GROUP = 16

#: (L1 address, excitatory, gmax divisor): what one edge needs of a row.
Need = tuple[int, bool, int]


@attrs.frozen
class PlannedRow:
    """One synapse row of an origin: its sign, gmax divisor, and the address of each column slot.

    Slot ``i`` is decoded at every post neuron's ``i``-th column (ascending) in the row's
    synapse half. All addresses share their two MSBs, the row's driver decoder.
    """

    excitatory: bool
    divisor: int
    addresses: tuple[int, ...]

    @property
    def msbs(self) -> int:
        return self.addresses[0] >> 4


def one_row_each(needs: Iterable[Need]) -> list[PlannedRow]:
    """One row per distinct need, in the order they fill an origin's drivers.

    The rows of a pre with several (both signs) come next to each other -- excitatory first,
    so that a driver with two whole rows holds both signs of one pre -- then the pres with one row.
    A driver's two rows can serve any two pres of its origin: each row has its own decoder.
    """
    by_pre: dict[int, list[tuple[bool, int]]] = defaultdict(list)
    for address, excitatory, divisor in sorted(set(needs)):
        by_pre[address].append((excitatory, divisor))
    several, single = [], []
    for address, kinds in by_pre.items():
        rows = [PlannedRow(exc, div, (address,)) for exc, div in sorted(kinds, key=lambda k: (not k[0], k[1]))]
        (several if len(rows) > 1 else single).extend(rows)
    return several + single


def packed_rows(needs: Iterable[Need], slots: int) -> list[PlannedRow]:
    """Rows of up to ``slots`` addresses each, grouped by MSBs, sign and divisor (ascending addresses)."""
    groups: dict[tuple[int, bool, int], list[int]] = defaultdict(list)
    for address, excitatory, divisor in sorted(set(needs)):
        groups[(address >> 4, not excitatory, divisor)].append(address)
    rows = []
    for (_, inhibitory, divisor), addresses in sorted(groups.items()):
        rows.extend(PlannedRow(not inhibitory, divisor, tuple(addresses[i:i + slots])) for i in range(0, len(addresses), slots))
    return rows


def pack_factors(columns_per_half: int) -> range:
    """Slots per row to try, in order: 1 (no packing), then up to a neuron's columns per half (at most an MSB group)."""
    return range(1, min(columns_per_half, _GROUP) + 1)


def allocate_rows(state: MappingState) -> None:
    """Phase: drivers and rows on every target HICANN for the origins whose bus arrives there; fills ``state.row_of``.

    ``state.row_of`` maps an edge's key (origin, address, excitatory, target, divisor) to
    (synapse row, slot); ``state.packing`` records the HICANNs whose rows are packed.
    """
    # A neuron of one circuit has none in the bottom half; packing needs columns in both.
    circuits = state.options.circuits_per_neuron
    columns = state.columns_per_neuron(circuits) if circuits > 1 else 1
    for target, per_origin in state.row_needs.items():
        chip = state.chips[target]
        lines, counts = {}, {}
        for origin, needs in per_origin.items():
            line = state.arrival.get((origin, target))
            if line is None:
                state.unreachable.add((origin, target))
                continue
            lines[origin] = line
            counts[origin] = Counter(needs)
        owner = state.l1.vline_owner(target)
        slots, rows, plan = _choose_rows(chip, lines, counts, owner, columns)
        if slots > 1:
            state.packing[target] = slots
        assigned, chained = allocate_drivers(state.config.hicann(target), chip.free_drivers,
                                             {o: (lines[o], len(rows[o])) for o in lines},
                                             capacity=chip.capacity, vline_owner=owner, plan=plan)
        for vline, origin in owner.items():
            state.l1.claim(L1Line.vertical(target, vline), origin)
        chip.chained += chained
        written = []
        for origin, drivers in assigned.items():
            written.extend(_place_rows(state, target, origin, drivers, rows[origin]))
        _write_row_configs(state.config.hicann(target), written)


def _choose_rows(chip: ChipState, lines: dict, counts: dict, owner: dict, columns: int) -> tuple[int, dict, tuple]:
    """(slots per row, {origin: rows}, its driver plan): the fewest slots whose driver plan loses no edge, else the plan losing fewest."""
    best = None
    for slots in pack_factors(columns):
        rows = {o: (one_row_each(counts[o]) if slots == 1 else packed_rows(counts[o], slots)) for o in lines}
        plan = plan_drivers(chip.free_drivers, {o: (lines[o], len(rows[o])) for o in lines},
                            capacity=chip.capacity, vline_owner=owner)
        got = plan[3]
        lost = sum(counts[o][(a, row.excitatory, row.divisor)] for o in lines for row in rows[o][got[o]:] for a in row.addresses)
        if best is None or lost < best[0]:
            best = (lost, slots, rows, plan)
        if lost == 0:
            break
    return best[1], best[2], best[3]


def _place_rows(state: MappingState, target: C.HICANNOnWafer, origin, drivers: list[int],
                rows: list[PlannedRow]) -> list[tuple[int, PlannedRow]]:
    """The rows of ``drivers`` (skipping rows on the defect list) for ``rows`` in order, as (synapse row, planned row);
    fills ``state.row_of``."""
    placed = []
    wanted = iter(rows)
    for driver in drivers:
        for row in C.SynapseDriverOnHICANN(driver).rows():
            if (target.enum, row.value) in state.options.disabled_rows:
                continue
            need = next(wanted, None)
            if need is None:
                return placed
            placed.append((row.value, need))
            for slot, address in enumerate(need.addresses):
                state.row_of[(origin, address, need.excitatory, target, need.divisor)] = (row.value, slot)
    return placed


def _write_row_configs(cfg, placed: list[tuple[int, PlannedRow]]) -> None:
    """Sign, decoders and divisor of each placed row, one write per field (the rows are distinct).

    The same registers as one ``synapse_rows.update`` per row, which is ~10^5 updates on a wafer.
    """
    if not placed:
        return
    table = cfg.synapse_rows
    index = [row for row, _ in placed]
    excitatory = np.array([need.excitatory for _, need in placed])
    msbs = np.array([need.msbs for _, need in placed])
    divisors = np.array([need.divisor for _, need in placed])
    table.set_column("input_excitatory", excitatory, index=index)
    table.set_column("input_inhibitory", ~excitatory, index=index)
    table.set_column("decoder_even", msbs, index=index)
    table.set_column("decoder_odd", msbs, index=index)
    table.set_column("sel_gmax", 0, index=index)
    for sign, field in ((True, "gmax_div_excitatory"), (False, "gmax_div_inhibitory")):
        chosen = np.flatnonzero(excitatory == sign)
        if chosen.size:
            table.set_column(field, divisors[chosen], index=[index[i] for i in chosen])
