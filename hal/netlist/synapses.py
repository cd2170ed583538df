"""Reading the synapses back: every (origin, L1 address) -> logical neuron entry the registers realise.

A driver that receives an origin's events feeds its two rows; each row has an excitatory and
an inhibitory input (either, both or none enabled), and a synapse of the row fires for the
addresses its decoder bits match (the row's 2-bit decoder for even or odd columns, then the
synapse's own 4 bits). Its conductance is its weight times the row's unit conductance, set
by the row's V_gmax (in the FG block of its driver's quadrant) and gmax divisor.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs
import numpy as np

from hal import coordinates as C
from hal.analog.transfer import synaptic_unit_conductance_ns
from hal.hardware.floating_gates import SYNAPSE_ROW_FG_BLOCK
from hal.hardware.hicann import NEURONS, HICANNConfig

__all__ = ["SYNAPSE_DTYPES", "SynapseTable", "read_synapses", "row_unit_conductances"]

#: dtypes of the :class:`SynapseTable` fields, in declaration order: each the narrowest that holds
#: its range (origin < 8 x 384, address < 64, post < 512 x 384, row < 448, column < 256, HICANN
#: < 384). A full wafer has 44 M synapses: 25 bytes a row instead of 57 is 1.1 GB instead of
#: 2.5 GB. The conductance stays float64, so that every backend's numbers are unchanged.
SYNAPSE_DTYPES = (np.int32, np.int16, np.int32, np.float64, np.bool_, np.int16, np.int16, np.int16)


@attrs.frozen(eq=False)
class SynapseTable:
    """Every realised synapse, one row per (origin, address) -> neuron entry.

    ``origin`` indexes :attr:`Wiring.origins`; ``address`` is the 6-bit L1
    address that triggers the synapse; ``post`` indexes :attr:`Wiring.neurons`;
    ``conductance_ns`` is the hardware-domain peak conductance (weight x unit
    conductance of the row); ``excitatory`` says which synaptic input it drives.
    The columns have the dtypes :data:`SYNAPSE_DTYPES` (narrow integers: compute
    keys such as ``origin * 64 + address`` in int32 or wider).
    """

    origin: np.ndarray
    address: np.ndarray
    post: np.ndarray
    conductance_ns: np.ndarray
    excitatory: np.ndarray
    row: np.ndarray
    column: np.ndarray
    hicann: np.ndarray

    def __len__(self) -> int:
        return int(self.origin.size)

    @classmethod
    def empty(cls) -> SynapseTable:
        """A table without synapses, in the table's dtypes."""
        return cls(*(np.zeros(0, dtype=dtype) for dtype in SYNAPSE_DTYPES))


def row_unit_conductances(chip: HICANNConfig) -> tuple[np.ndarray, np.ndarray]:
    """Hardware-domain conductance (nS) of weight 1 on each of the 448 rows: (excitatory, inhibitory) input.

    Set by the row's V_gmax (the shared parameter the row selects, in the FG block of its
    driver's side and half) and the row's gmax divisor of that input.
    """
    rows = chip.synapse_rows
    col = lambda name: rows.column(name).astype(np.int64)
    v_gmax = np.stack([chip.shared_parameter(f"V_gmax{i}") for i in range(4)])
    v_row = v_gmax[col("sel_gmax"), SYNAPSE_ROW_FG_BLOCK]
    return (synaptic_unit_conductance_ns(v_row, col("gmax_div_excitatory")),
            synaptic_unit_conductance_ns(v_row, col("gmax_div_inhibitory")))


class _ChipSynapses:
    """The synapse array of one HICANN, decoded once, for reading many drivers' synapses.

    ``post_of_denmem`` (512 entries, or None) gives the logical neuron of each
    denmem, -1 for denmems of no logical neuron.
    """

    def __init__(self, hicann: int, chip: HICANNConfig, post_of_denmem: np.ndarray | None):
        self.hicann = hicann
        self.weights = chip.weights
        self.decoders = chip.decoders
        rows = chip.synapse_rows
        col = lambda name: rows.column(name).astype(np.int64)
        self.excitatory = col("input_excitatory").astype(bool)
        self.inhibitory = col("input_inhibitory").astype(bool)
        self.decoder_even, self.decoder_odd = col("decoder_even"), col("decoder_odd")
        self.unit_excitatory, self.unit_inhibitory = row_unit_conductances(chip)
        self.post_of_denmem = np.full(NEURONS, -1, dtype=np.int64) if post_of_denmem is None else post_of_denmem
        self._per_row: np.ndarray | None = None

    def _inputs(self, drivers: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """(row, excitatory) of every enabled synaptic input of the drivers' rows, in reading order."""
        rows = (2 * np.asarray(drivers, dtype=np.int64)[:, None] + np.arange(2)).ravel()
        enabled = np.stack([self.excitatory[rows], self.inhibitory[rows]], axis=1).ravel()
        return np.repeat(rows, 2)[enabled], np.tile(np.array([True, False]), rows.size)[enabled]

    def _post(self, rows: np.ndarray) -> np.ndarray:
        """Logical neuron under every synapse of ``rows``: rows 0..223 feed the top denmems, 224..447 the bottom ones."""
        return self.post_of_denmem[np.where(rows >= 224, 256, 0)[:, None] + np.arange(256)]

    def count(self, drivers: list[int]) -> int:
        """How many synapses :meth:`fill` writes for ``drivers``."""
        if self._per_row is None:
            rows = np.arange(448)
            self._per_row = np.count_nonzero((self.weights != 0) & (self._post(rows) >= 0), axis=1)
        input_row, _ = self._inputs(drivers)
        return int(self._per_row[input_row].sum())

    def fill(self, origin: int, drivers: list[int], out: list[np.ndarray]) -> None:
        """Write the synapses of ``drivers`` (ascending) reached by ``origin`` into ``out`` (:class:`SynapseTable` columns).

        Order: driver, its two rows, per row the excitatory then the inhibitory
        input (those enabled), then column.
        """
        input_row, input_excitatory = self._inputs(drivers)
        weights = self.weights[input_row]
        post = self._post(input_row)
        which, column = np.nonzero((weights != 0) & (post >= 0))  # row-major: input by input, columns ascending
        row = input_row[which]
        excitatory = input_excitatory[which]
        out[0][:] = origin
        out[1][:] = (np.where(column % 2 == 0, self.decoder_even[row], self.decoder_odd[row]) << 4) | self.decoders[row, column]
        out[2][:] = post[which, column]
        out[3][:] = weights[which, column] * np.where(excitatory, self.unit_excitatory[row], self.unit_inhibitory[row])
        out[4][:] = excitatory
        out[5][:] = row
        out[6][:] = column
        out[7][:] = self.hicann


def read_synapses(
    hicanns: Mapping[C.HICANNOnWafer, HICANNConfig],
    drivers_per_origin: Sequence[Mapping[int, list[int]]],
    post_of_denmem: Mapping[int, np.ndarray],
) -> SynapseTable:
    """All synapses the origins reach: per origin (in order), per HICANN, its drivers' synapses.

    ``drivers_per_origin[o]`` maps a HICANN enum to the ascending drivers origin ``o`` reaches
    (:func:`hal.netlist.l1.drivers_reached`); ``post_of_denmem`` maps a HICANN enum to the
    logical neuron of each denmem (:class:`hal.netlist.neurons.NeuronReadout`).
    """
    chip_synapses: dict[int, _ChipSynapses] = {}
    jobs: list[tuple[int, _ChipSynapses, list[int]]] = []  # (origin, chip, its drivers reached by the origin)
    for oi, per_hicann in enumerate(drivers_per_origin):
        for hicann_enum, chip_drivers in per_hicann.items():
            table = chip_synapses.get(hicann_enum)
            if table is None:
                h = C.HICANNOnWafer(hicann_enum)
                table = chip_synapses[hicann_enum] = _ChipSynapses(hicann_enum, hicanns[h], post_of_denmem.get(hicann_enum))
            jobs.append((oi, table, chip_drivers))
    # Count first, then fill preallocated columns: a full wafer has 44 M synapses, and
    # concatenating pieces would hold the table twice.
    counts = [table.count(chip_drivers) for _, table, chip_drivers in jobs]
    stacked = [np.empty(sum(counts), dtype=dtype) for dtype in SYNAPSE_DTYPES]
    at = 0
    for (oi, table, chip_drivers), n in zip(jobs, counts):
        if n:
            table.fill(oi, chip_drivers, [column[at:at + n] for column in stacked])
            at += n
    return SynapseTable(*stacked)
