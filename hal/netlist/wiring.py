"""What a register configuration wires together: logical neurons, their parameters, and every synapse.

Backends consume only registers; this module is the shared reading of them —
the chip's wiring, not its dynamics. It answers, for a :class:`WaferConfig`:

* which denmems are merged into which logical neuron (quad merge switches and
  the fire-input bit across quads), which denmem fires, and where its spikes go;
* each logical neuron's parameters in the hardware domain through the nominal
  transfer functions (:mod:`hal.analog.transfer`); a backend with mismatch applies its
  own per-circuit deviations on top of the DAC values it reads here;
* the path of events: FPGA channel, or neuron block -> merger tree, -> DNC merger -> sending
  repeater -> L1 lines (crossbar switches, repeaters across chip borders) ->
  synapse switches -> synapse drivers -> rows (driver decoder) -> synapses
  (synapse decoder, weight) -> denmem -> logical neuron;
* which neurons' spikes reach which FPGA channel for recording.

The merger tree is followed through all four levels into the DNC mergers
(:mod:`hal.netlist.merger_tree`): a neuron block's events arrive at every DNC merger whose tree
input the configured mergers lead them to. A neuron whose block reaches several DNC mergers sends
into each of their buses (:attr:`Wiring.fanout`); it is recorded through the first of them
(``neuron_origin``) only, where the chip would put it into the trace once per recording channel.
hal's DNC merger takes the tree on its left input and the FPGA on its right (halbe's model has them
the other way round: see :mod:`hal.hardware.recipes`).

Model simplifications (said here so that nobody mistakes them for the chip):
the tree's ``slow`` bits and arbitration are not modelled (routing only). A sending repeater in output mode
drives its own line; with ``towards_west`` also the western neighbour's line (the
hardware's left output). A driver with
``connect_neighbor`` passes its input to the next driver on the same side
(``d + 2``) when that one is enabled and not listening to L1 itself.

Reading the registers is most of an in-the-loop step on a small network (a step changes only
synapse weights, and each run read everything twice). :class:`WiringCache` keeps the last
reading and reuses it while every register except ``synapse_weight`` is unchanged (compared
word for word, so invalidation is exact); the synapse table is then the weight-free table of
every synapse the registers realise, filtered by the current weights (see
:meth:`WiringCache.read`). A cache belongs to one reader (a backend instance), never to the
module.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable
from typing import TypeVar

import attrs
import numpy as np

from hal import coordinates as C
from hal.hardware.fpga import FPGAConfig
from hal.hardware.hicann import SYNAPSE_WEIGHTS, GbitDirection, HICANNConfig, MergerMode
from hal.hardware.wafer import WaferConfig
from hal.netlist.l1 import Origin, drivers_reached, l1_lines
from hal.netlist.merger_tree import tree_inputs
from hal.netlist.neurons import (
    PARAMETER_NAMES,
    DenmemTransform,
    LogicalNeuron,
    NeuronReadout,
    denmem_parameters,
    read_neurons,
)
from hal.netlist.synapses import SynapseTable, read_synapses
from hal.validators import at_least

__all__ = ["LogicalNeuron", "Origin", "SynapseTable", "Wiring", "WiringCache", "MAX_CACHED_SYNAPSES", "extract_wiring",
           "denmem_parameters", "l1_lines", "PARAMETER_NAMES"]

_T = TypeVar("_T")

_PASSES_RIGHT = (MergerMode.RIGHT_ONLY, MergerMode.MERGE)
_PASSES_LEFT = (MergerMode.LEFT_ONLY, MergerMode.MERGE)


@attrs.frozen(eq=False)
class Wiring:
    """The result of reading a configuration's registers (see the module docstring)."""

    neurons: tuple[LogicalNeuron, ...]
    parameters: dict[str, np.ndarray]
    origins: tuple[Origin, ...]
    synapses: SynapseTable
    # (origin index) -> neurons whose spikes enter that origin (neuron block -> DNC merger)
    neuron_origin: np.ndarray  # per neuron: origin index or -1
    # FPGA playback channels that accept input: origin indices
    input_origins: frozenset[int]
    # recording: per neuron, True if its spikes reach the FPGA trace
    recorded: np.ndarray
    # background generators that reach L1: (origin index, address, period cycles, random, seed)
    background: tuple[tuple[int, int, int, bool, int], ...]
    pll_mhz: dict[C.HICANNOnWafer, float]
    adex_in_use: tuple[LogicalNeuron, ...]
    # (neuron index, origin index) for every further origin a neuron's block reaches besides neuron_origin
    fanout: tuple[tuple[int, int], ...] = ()

    def neuron_index(self) -> dict[tuple[C.HICANNOnWafer, C.NeuronOnHICANN], int]:
        return {(n.hicann, n.firing): i for i, n in enumerate(self.neurons)}

    def origin_index(self) -> dict[Origin, int]:
        return {o: i for i, o in enumerate(self.origins)}

    def trace_key_to_neurons(self) -> dict[tuple[int, int, int], list[int]]:
        """(hicann enum, channel, address) of a trace event -> the neurons that can have sent it."""
        out: dict[tuple[int, int, int], list[int]] = defaultdict(list)
        for i, n in enumerate(self.neurons):
            if self.recorded[i]:
                o = self.origins[self.neuron_origin[i]]
                out[(n.hicann.enum, o.channel, n.address)].append(i)
        return dict(out)


# -- origins: what enters L1 at each DNC merger ------------------------------------------------


@attrs.define
class _Origins:
    """The origins of a wafer as they are found, and what the neurons and generators send into them."""

    neuron_origin: np.ndarray  # per neuron: origin index or -1
    recorded: np.ndarray  # per neuron: its spikes reach the FPGA trace
    origins: list[Origin] = attrs.Factory(list)
    input_origins: set[int] = attrs.Factory(set)
    background: list[tuple[int, int, int, bool, int]] = attrs.Factory(list)
    pll_mhz: dict[C.HICANNOnWafer, float] = attrs.Factory(dict)
    fanout: list[tuple[int, int]] = attrs.Factory(list)


def _sending_neurons(neurons: tuple[LogicalNeuron, ...]) -> dict[tuple[C.HICANNOnWafer, int], list[int]]:
    """The neurons that send spikes, by (HICANN, neuron block): the block's merger-tree input."""
    sending: dict[tuple[C.HICANNOnWafer, int], list[int]] = defaultdict(list)
    for k, ln in enumerate(neurons):
        if ln.address is not None:
            sending[(ln.hicann, ln.firing.x // 32)].append(k)  # its neuron block (NeuronOnHICANN.to_neuron_block)
    return sending


def _chip_origins(found: _Origins, h: C.HICANNOnWafer, chip: HICANNConfig, fpga: FPGAConfig, sending) -> None:
    """Add the DNC mergers of one chip that emit something: FPGA playback, its neurons or a background generator."""
    found.pll_mhz[h] = chip.pll.value.frequency_mhz
    link_on = fpga.links[h.to_highspeed_link()].enable
    control = fpga.control.value
    tree = tree_inputs(chip.mergers.column("mode"))
    for j in range(8):
        gbit = chip.gbit_links[j]
        dnc = chip.dnc_mergers[j].mode
        from_fpga = gbit.direction is GbitDirection.TO_HICANN and dnc in _PASSES_RIGHT and link_on and control.playback_enable
        blocks, generators = tree[j] if dnc in _PASSES_LEFT else ((), ())
        generators = [g for g in generators if chip.background_generators[g].enable]
        if not (from_fpga or blocks or generators):
            continue
        oi = len(found.origins)
        found.origins.append(Origin(h, j))
        if from_fpga:
            found.input_origins.add(oi)
        for g in generators:
            bg = chip.background_generators[g]
            found.background.append((oi, bg.address, bg.period, bg.random, bg.seed))
        to_fpga = gbit.direction is GbitDirection.TO_DNC and link_on and control.trace_enable
        for b in blocks:
            for k in sending.get((h, b), ()):
                if found.neuron_origin[k] < 0:
                    found.neuron_origin[k] = oi
                    found.recorded[k] = to_fpga
                else:
                    found.fanout.append((k, oi))


def _read_origins(config: WaferConfig, neurons: tuple[LogicalNeuron, ...]) -> _Origins:
    """Every DNC merger that emits something, in HICANN then channel order (see :func:`_chip_origins`)."""
    fpga_cfg: dict[C.FPGAOnWafer, FPGAConfig] = dict(config.fpgas())
    found = _Origins(neuron_origin=np.full(len(neurons), -1, dtype=np.int64), recorded=np.zeros(len(neurons), dtype=bool))
    sending = _sending_neurons(neurons)
    for h, chip in config.hicanns():
        _chip_origins(found, h, chip, fpga_cfg.get(h.to_fpga()) or FPGAConfig(), sending)
    return found


# -- the whole reading -------------------------------------------------------------------------


def extract_wiring(config: WaferConfig, denmem_transform: DenmemTransform | None = None, *, synapses: bool = True) -> Wiring:
    """Read the wiring of ``config`` (see the module docstring).

    ``denmem_transform(hicann, per_denmem) -> per_denmem``, if given, changes the
    nominal per-denmem parameters before they are combined into logical neurons:
    this is where a backend applies its circuits' deviations.

    ``synapses=False`` skips the synapse drivers and synapses (the table is then
    :meth:`SynapseTable.empty`): for callers that need only the neurons, origins and
    what is recorded, such as :func:`hal.run`, whose backend reads its own table -- on a
    full wafer the table is 1.1 GB and most of the reading time.

    The steps: logical neurons and their parameters (:func:`hal.netlist.neurons.read_neurons`),
    the origins that emit into L1 (:func:`_read_origins`), the synapse drivers each origin
    reaches (:func:`hal.netlist.l1.drivers_reached`), and their synapses
    (:func:`hal.netlist.synapses.read_synapses`).
    """
    structure = _Structure.read(config, denmem_transform, synapses)
    return structure.with_table(structure.read_table(dict(config.hicanns())) if synapses else SynapseTable.empty())


# -- reading once, reusing while only weights change -------------------------------------------------

#: The register a :class:`WiringCache` refreshes instead of reading the wiring again.
_WEIGHTS = SYNAPSE_WEIGHTS.name

#: Weight-free synapse entries above which a :class:`WiringCache` does not keep the table between
#: runs (8 M entries are about 200 MB; a full wafer's 44 M, 1.1 GB, are read afresh each run instead).
MAX_CACHED_SYNAPSES = 2**23


@attrs.frozen(eq=False)
class _Structure:
    """Everything a configuration wires apart from its synapse weights.

    ``base`` is the wiring with an empty synapse table; ``drivers`` (None without synapses) the
    drivers each origin reaches, which with ``post_of_denmem`` is all :func:`read_synapses` needs
    besides the chips' registers.
    """

    base: Wiring
    post_of_denmem: dict[int, np.ndarray]
    drivers: list[dict[int, list[int]]] | None

    @classmethod
    def read(cls, config: WaferConfig, denmem_transform: DenmemTransform | None, synapses: bool) -> _Structure:
        found_neurons: NeuronReadout = read_neurons(dict(config.hicanns()), denmem_transform)
        found = _read_origins(config, found_neurons.neurons)
        base = Wiring(found_neurons.neurons, found_neurons.parameters, tuple(found.origins), SynapseTable.empty(), found.neuron_origin,
                      frozenset(found.input_origins), found.recorded, tuple(found.background), found.pll_mhz, found_neurons.adex,
                      tuple(found.fanout))
        return cls(base, found_neurons.post_of_denmem, drivers_reached(config, found.origins) if synapses else None)

    def read_table(self, hicanns: dict[C.HICANNOnWafer, HICANNConfig]) -> SynapseTable:
        return read_synapses(hicanns, self.drivers, self.post_of_denmem)

    def with_table(self, table: SynapseTable) -> Wiring:
        return self.base if not len(table) and not len(self.base.synapses) else attrs.evolve(self.base, synapses=table)


def _unit_weights(chip: HICANNConfig) -> HICANNConfig:
    """``chip`` with every synaptic weight 1 (its other registers shared, not copied): read through it,
    the synapse table lists every synapse the registers realise, whatever its weight, with the
    conductance of weight 1 (the row's unit conductance)."""
    image = dict(chip.image)
    image[_WEIGHTS] = np.empty_like(chip.image[_WEIGHTS])
    unit = HICANNConfig(image)
    unit.set_weights(1)
    return unit


@attrs.frozen(eq=False)
class _WeightFreeTable:
    """Every synapse the registers realise whatever its weight (conductance: weight 1), and where its weight is.

    :meth:`weighted` is the table :func:`read_synapses` reads for the chips' current weights,
    entry for entry and bit for bit: that reading lists the same synapses in the same order,
    leaving out those of weight 0, and its conductance is the weight times the same unit
    conductance.
    """

    table: SynapseTable
    # per HICANN with synapses: (its coordinate, the table rows on it)
    groups: tuple[tuple[C.HICANNOnWafer, np.ndarray], ...]

    @classmethod
    def read(cls, structure: _Structure, hicanns: dict[C.HICANNOnWafer, HICANNConfig]) -> _WeightFreeTable:
        table = structure.read_table({h: _unit_weights(chip) for h, chip in hicanns.items()})
        order = np.argsort(table.hicann, kind="stable")
        ordered = table.hicann[order]
        bounds = np.concatenate(([0], np.flatnonzero(ordered[1:] != ordered[:-1]) + 1, [ordered.size])) if ordered.size else np.zeros(1, int)
        groups = tuple((C.HICANNOnWafer(int(ordered[a])), order[a:b]) for a, b in zip(bounds[:-1], bounds[1:]))
        return cls(table, groups)

    def weighted(self, hicanns: dict[C.HICANNOnWafer, HICANNConfig]) -> SynapseTable:
        t = self.table
        weight = np.zeros(len(t), dtype=SYNAPSE_WEIGHTS.element_dtype)
        for h, rows in self.groups:
            weight[rows] = hicanns[h].weights[t.row[rows], t.column[rows]]
        keep = np.flatnonzero(weight)
        return SynapseTable(t.origin[keep], t.address[keep], t.post[keep], weight[keep] * t.conductance_ns[keep], t.excitatory[keep],
                            t.row[keep], t.column[keep], t.hicann[keep])

    def __len__(self) -> int:
        return len(self.table)


def _structure_words(config: WaferConfig) -> tuple:
    """What a wiring's structure depends on, as a value: the wafer, and per configured chip the
    layout and bytes of every register except the synapse weights (a copy, compared as one string)."""
    chips = []
    for chip, cfg in config.chips():
        names = sorted(name for name in cfg.image if name != _WEIGHTS)
        layout = tuple((name, cfg.image[name].dtype.str, cfg.image[name].shape) for name in names)
        chips.append((chip, layout, b"".join(np.ascontiguousarray(cfg.image[name]).tobytes() for name in names)))
    return config.wafer, tuple(chips)


@attrs.define
class WiringCache:
    """The last :func:`extract_wiring` of one reader, reused while only synapse weights change.

    :meth:`read` gives what :func:`extract_wiring` gives for the same arguments (the same
    neurons, parameters, origins and synapse table, bit for bit). It reads everything again
    when any register other than ``synapse_weight`` differs from the last reading's (word for
    word: neuron configuration, floating gates, decoders, drivers and rows, switches,
    repeaters, mergers, links, FPGA), when a chip is added or removed, or when the arguments
    differ. ``denmem_transform`` must be a pure function of its arguments for the cache's
    life (an emulator's fixed-pattern deviations are).

    While only weights change, the synapse table is made from a weight-free table read at the
    second run with the same structure (not the first: a configuration run once never holds
    it) and kept only if it has at most ``max_synapses`` entries; a larger one is read afresh
    each run. The cache holds a copy of the non-weight registers (115 kB per HICANN), compared at each read.
    ``reads`` and ``reuses`` count full readings and reuses (for tests and logs). What a reader
    derives from the wiring at every run can be kept with it (:meth:`derived`).
    """

    max_synapses: int = attrs.field(default=MAX_CACHED_SYNAPSES, validator=at_least(0))
    reads: int = attrs.field(default=0, init=False)
    reuses: int = attrs.field(default=0, init=False)
    _words: tuple | None = attrs.field(default=None, init=False, repr=False)
    _arguments: tuple | None = attrs.field(default=None, init=False, repr=False)
    _structure: _Structure | None = attrs.field(default=None, init=False, repr=False)
    _weight_free: _WeightFreeTable | None = attrs.field(default=None, init=False, repr=False)
    _weight_free_too_large: bool = attrs.field(default=False, init=False, repr=False)
    _derived: dict[str, tuple] = attrs.field(factory=dict, init=False, repr=False)

    def read(self, config: WaferConfig, denmem_transform: DenmemTransform | None = None, *, synapses: bool = True) -> Wiring:
        """:func:`extract_wiring` ``(config, denmem_transform, synapses=synapses)``, reusing the last reading where it holds."""
        arguments = (denmem_transform, synapses)
        hicanns = dict(config.hicanns())
        words = _structure_words(config)
        if self._structure is None or self._arguments != arguments or words != self._words:
            self.clear()
            self._structure = _Structure.read(config, denmem_transform, synapses)
            self._words, self._arguments = words, arguments
            self.reads += 1
            return self._structure.with_table(self._structure.read_table(hicanns) if synapses else SynapseTable.empty())
        self.reuses += 1
        structure = self._structure
        if not synapses:
            return structure.base
        if self._weight_free is None and not self._weight_free_too_large:
            weight_free = _WeightFreeTable.read(structure, hicanns)
            if len(weight_free) <= self.max_synapses:
                self._weight_free = weight_free
            else:
                self._weight_free_too_large = True
                return structure.with_table(weight_free.weighted(hicanns))
        if self._weight_free is None:
            return structure.with_table(structure.read_table(hicanns))
        return structure.with_table(self._weight_free.weighted(hicanns))

    def derived(self, name: str, key: Hashable, compute: Callable[[], _T]) -> _T:
        """``compute()``, kept under ``name`` until the next full reading or a call with another ``key``.

        For what a reader derives from the wiring of its last :meth:`read` and ``key`` alone (e.g.
        the neurons a request's membranes belong to), so that an in-the-loop step does not derive
        it again. One value per name. Nothing is kept when ``compute`` raises.
        """
        kept = self._derived.get(name)
        if kept is not None and kept[0] == key:
            return kept[1]
        value = compute()
        self._derived[name] = (key, value)
        return value

    def clear(self) -> None:
        """Forget the last reading (the next :meth:`read` reads everything)."""
        self._words = self._arguments = self._structure = self._weight_free = None
        self._weight_free_too_large = False
        self._derived.clear()
