"""The HICANN chip: every configurable part declared once as registers, and its configuration.

Register layouts follow the public BrainScaleS-1 software (halbe's HICANN
containers) as summarised in HARDWARE_FACTS.md; bit positions inside a word are
this project's own, documented by the declarations below and in
``docs/registers.md`` (generated from them).
"""

from __future__ import annotations

import enum
import functools
from typing import Any

import attrs
import numpy as np

from hal import coordinates as C
from hal.errors import ConfigError, FieldOverflowError, UnknownNameError
from hal.hardware import floating_gates as fg
from hal.hardware._chip import ChipConfig
from hal.hardware._tables import RegisterTable, index_of
from hal.registers import Access, ArrayRegister, RegisterFile, RegisterValue, bits, choice, flag, register

__all__ = [
    "SYNAPSE_ROWS",
    "SYNAPSE_COLUMNS",
    "NEURONS",
    "PllConfig",
    "NeuronGlobalConfig",
    "DenmemConfig",
    "NeuronQuadConfig",
    "FGControllerConfig",
    "FGBiasConfig",
    "SynapseDriverConfig",
    "SynapseRowConfig",
    "RepeaterMode",
    "HRepeaterConfig",
    "VRepeaterConfig",
    "RepeaterBlockControl",
    "SynapseDriverControl",
    "MergerMode",
    "MergerConfig",
    "DNCMergerConfig",
    "GbitDirection",
    "GbitLinkConfig",
    "BackgroundGeneratorConfig",
    "AnalogSource",
    "AnalogOutputConfig",
    "FG_CELLS",
    "SYNAPSE_WEIGHTS",
    "SYNAPSE_DECODERS",
    "CROSSBAR_SWITCHES",
    "SYNAPSE_SWITCHES",
    "HICANN_REGISTERS",
    "HICANNConfig",
]

NEURONS = 512
SYNAPSE_ROWS = 448
SYNAPSE_COLUMNS = 256


# -- clocks --------------------------------------------------------------------------------


@register(name="pll")
@attrs.frozen
class PllConfig(RegisterValue):
    """HICANN PLL: f = 50 MHz x multiplier / divider (100..250 MHz in 25 MHz steps used)."""

    divider: int = bits(4, reset=1, doc="reference divider")
    multiplier: int = bits(6, reset=2, doc="feedback multiplier")
    enable: bool = flag(reset=True, doc="PLL running")

    @property
    def frequency_mhz(self) -> float:
        return 50.0 * self.multiplier / self.divider if self.divider else 0.0


# -- neurons --------------------------------------------------------------------------------


@register(name="neuron_config")
@attrs.frozen
class NeuronGlobalConfig(RegisterValue):
    """Per-half neuron settings (suffix ``_top``: y=0, ``_bottom``: y=1), 17 bits as in halbe."""

    fast_i_radapt_bottom: bool = flag()
    fast_i_radapt_top: bool = flag()
    slow_i_radapt_bottom: bool = flag()
    slow_i_radapt_top: bool = flag()
    fast_i_gladapt_bottom: bool = flag()
    fast_i_gladapt_top: bool = flag()
    slow_i_gladapt_bottom: bool = flag()
    slow_i_gladapt_top: bool = flag()
    fast_i_gl_bottom: bool = flag()
    fast_i_gl_top: bool = flag()
    slow_i_gl_bottom: bool = flag()
    slow_i_gl_top: bool = flag()
    bigcap_bottom: bool = flag(reset=True, doc="big membrane capacitance (2.16 pF) instead of small (0.16 pF)")
    bigcap_top: bool = flag(reset=True)
    spl1_reset: bool = flag(doc="reset the spike-to-L1 logic")
    neuron_reset_bottom: bool = flag(doc="hold the bottom half's neurons in reset")
    neuron_reset_top: bool = flag()


@register(name="neuron", count=NEURONS)
@attrs.frozen
class DenmemConfig(RegisterValue):
    """One neuron circuit (denmem): its spike output address and switches."""

    l1_address: int = bits(6, doc="6-bit L1 address of the spikes this circuit sends")
    activate_firing: bool = flag(doc="comparator and reset active (the circuit that fires for a logical neuron)")
    enable_spl1_output: bool = flag(doc="send spikes onto L1 / to the FPGA")
    enable_fire_input: bool = flag(doc="take spike/reset from the neighbouring quad")
    enable_aout: bool = flag(doc="drive the membrane onto the analog readout line")
    enable_current_input: bool = flag(doc="accept the current stimulus")


@register(name="neuron_quad", count=NEURONS // 4)
@attrs.frozen
class NeuronQuadConfig(RegisterValue):
    """Merge switches of a 2x2 quad: vertical per column, horizontal per row."""

    vertical_left: bool = flag(doc="join top and bottom denmem of the left column")
    vertical_right: bool = flag(doc="join top and bottom denmem of the right column")
    horizontal_top: bool = flag(doc="join left and right denmem of the top row")
    horizontal_bottom: bool = flag(doc="join left and right denmem of the bottom row")


# -- floating gates ---------------------------------------------------------------------------


@register(name="fg_controller", count=fg.FG_BLOCKS)
@attrs.frozen
class FGControllerConfig(RegisterValue):
    """Programming timing of one floating-gate block controller."""

    maxcycle: int = bits(8, reset=255)
    readtime: int = bits(6, reset=40)
    acceleratorstep: int = bits(6, reset=9)
    voltagewritetime: int = bits(6, reset=15)
    currentwritetime: int = bits(6, reset=1)


@register(name="fg_bias", count=fg.FG_BLOCKS)
@attrs.frozen
class FGBiasConfig(RegisterValue):
    """Programming biases of one floating-gate block controller."""

    fg_bias: int = bits(4, reset=8)
    fg_biasn: int = bits(4, reset=5)
    pulselength: int = bits(4, reset=9)
    groundvm: bool = flag()
    calib: bool = flag()


FG_CELLS = ArrayRegister(
    name="fg_cell",
    shape=(fg.FG_BLOCKS, fg.FG_ROWS, fg.FG_COLUMNS),
    element_width=10,
    per_word=1,
    axes=("block", "row", "column"),
    reset=fg.fg_reset_cells,
    doc="floating-gate cells: 4 blocks x 24 rows x 129 columns of 10-bit DAC values",
)

# -- synapses -------------------------------------------------------------------------------------

SYNAPSE_WEIGHTS = ArrayRegister(
    name="synapse_weight",
    shape=(SYNAPSE_ROWS, SYNAPSE_COLUMNS),
    element_width=4,
    per_word=8,
    element_name="weight",
    axes=("row", "column"),
    doc="4-bit synaptic weights, 8 per word, 32 words per synapse row",
)
SYNAPSE_DECODERS = ArrayRegister(
    name="synapse_decoder",
    shape=(SYNAPSE_ROWS, SYNAPSE_COLUMNS),
    element_width=4,
    per_word=8,
    element_name="decoder",
    axes=("row", "column"),
    doc="4-bit synapse decoder addresses (matched to the 4 LSBs of the L1 address)",
)


@register(name="synapse_driver", count=224)
@attrs.frozen
class SynapseDriverConfig(RegisterValue):
    """One synapse driver (serves two synapse rows)."""

    enable: bool = flag()
    locin: bool = flag(doc="take input from the L1 synapse switch (else from the neighbour)")
    connect_neighbor: bool = flag(doc="mirror the input to the adjacent driver")
    stp_enable: bool = flag()
    stp_mode: bool = flag(doc="False: facilitation, True: depression")
    stp_cap: int = bits(3)


@register(name="synapse_row", count=SYNAPSE_ROWS)
@attrs.frozen
class SynapseRowConfig(RegisterValue):
    """Per synapse row: which synaptic input it drives, driver decoders and gmax selection."""

    input_inhibitory: bool = flag(doc="drive synaptic input 0 (inhibitory by halco's default)")
    input_excitatory: bool = flag(doc="drive synaptic input 1 (excitatory)")
    decoder_even: int = bits(2, doc="2-bit driver decoder (L1 address MSBs) for even columns")
    decoder_odd: int = bits(2, doc="2-bit driver decoder for odd columns")
    sel_gmax: int = bits(2, doc="which of V_gmax0..3 scales this row")
    gmax_div_inhibitory: int = bits(4, reset=1, doc="gmax divisor of the inhibitory input (two summed dividers give 0..30)")
    gmax_div_excitatory: int = bits(4, reset=1, doc="gmax divisor of the excitatory input")


@register(name="synapse_driver_control", access=Access.WRITE_ONLY)
@attrs.frozen
class SynapseDriverControl(RegisterValue):
    """Command: reset and re-lock the synapse drivers' DLLs (written in the locking stage)."""

    dll_reset: bool = flag(access=Access.WRITE_ONLY)
    start_lock: bool = flag(access=Access.WRITE_ONLY)


# -- L1 routing -------------------------------------------------------------------------------


class RepeaterMode(enum.IntEnum):
    IDLE = 0
    FORWARDING = 1
    INPUT = 2
    OUTPUT = 3
    LOOPBACK = 4


@register(name="h_repeater", count=64)
@attrs.frozen
class HRepeaterConfig(RegisterValue):
    """A horizontal-line repeater."""

    mode: RepeaterMode = choice(RepeaterMode, 3, reset=RepeaterMode.IDLE)
    towards_west: bool = flag()
    towards_east: bool = flag()


@register(name="v_repeater", count=256)
@attrs.frozen
class VRepeaterConfig(RegisterValue):
    """A vertical-line repeater."""

    mode: RepeaterMode = choice(RepeaterMode, 3, reset=RepeaterMode.IDLE)
    towards_north: bool = flag()
    towards_south: bool = flag()


@register(name="repeater_block_control", count=6, access=Access.WRITE_ONLY)
@attrs.frozen
class RepeaterBlockControl(RegisterValue):
    """Command: reset and re-lock the DLLs of one repeater block."""

    dll_reset: bool = flag(access=Access.WRITE_ONLY)
    start_lock: bool = flag(access=Access.WRITE_ONLY)


CROSSBAR_SWITCHES = ArrayRegister(
    name="crossbar_switch",
    shape=(64, 8),
    element_width=1,
    per_word=8,
    element_name="switch",
    axes=("hline", "switch"),
    doc="crossbar switches: per horizontal line, 8 bits for its 4 left and 4 right vertical lines",
)
SYNAPSE_SWITCHES = ArrayRegister(
    name="synapse_switch",
    shape=(224, 32),
    element_width=1,
    per_word=32,
    element_name="switch",
    axes=("switch_row", "switch"),
    doc="synapse switches: per switch row, 32 bits for its 16 left and 16 right vertical lines",
)


class MergerMode(enum.IntEnum):
    LEFT_ONLY = 0
    RIGHT_ONLY = 1
    MERGE = 2


#: The upper levels' reset (mergers 8..14): halbe's default ``MergerTree``, in which neuron block
#: ``j`` reaches DNC merger ``j`` (:mod:`hal.netlist.merger_tree`). With all of them at the field
#: reset, blocks 3, 5 and 6's DNC mergers would carry block 7, and configurations saved before the
#: tree's upper levels were read (they store only what differs from reset) would read otherwise.
MERGER_TREE_RESET = {8: "RIGHT_ONLY", 9: "RIGHT_ONLY", 10: "RIGHT_ONLY", 11: "LEFT_ONLY", 12: "RIGHT_ONLY", 13: "LEFT_ONLY", 14: "LEFT_ONLY"}


@register(name="merger", count=15,
          instance_resets={index: {"mode": MergerMode[mode]} for index, mode in MERGER_TREE_RESET.items()})
@attrs.frozen
class MergerConfig(RegisterValue):
    """A merger of the neuron-block merger tree (levels of 8/4/2/1); mergers 8..14 reset to halbe's default tree."""

    mode: MergerMode = choice(MergerMode, 2, reset=MergerMode.RIGHT_ONLY)
    slow: bool = flag(doc="one idle clock between events; only in MERGE mode")


@register(name="dnc_merger", count=8)
@attrs.frozen
class DNCMergerConfig(RegisterValue):
    """A DNC merger: joins the merger tree with events from the FPGA."""

    mode: MergerMode = choice(MergerMode, 2, reset=MergerMode.RIGHT_ONLY)
    slow: bool = flag()
    loopback: bool = flag()


class GbitDirection(enum.IntEnum):
    OFF = 0
    TO_DNC = 1
    TO_HICANN = 2


@register(name="gbit_link", count=8)
@attrs.frozen
class GbitLinkConfig(RegisterValue):
    """One channel of the HICANN-FPGA link."""

    direction: GbitDirection = choice(GbitDirection, 2, reset=GbitDirection.OFF)
    timestamp_enable: bool = flag(doc="release pulses at their timestamp")


@register(name="background_generator", count=8, width=64)
@attrs.frozen
class BackgroundGeneratorConfig(RegisterValue):
    """A background generator (one per neuron block); also supplies the locking events."""

    enable: bool = flag()
    random: bool = flag(doc="Poisson-like (random ISI 4..32768) instead of regular (2..65536)")
    address: int = bits(6, doc="L1 address of the generated events")
    seed: int = bits(16)
    period: int = bits(16, reset=125, doc="inter-spike interval in PLL cycles (marocco default 125)")


class AnalogSource(enum.IntEnum):
    NONE = 0
    FG_LEFT = 1
    FG_RIGHT = 2
    MEMBRANE_TOP_EVEN = 3
    MEMBRANE_TOP_ODD = 4
    MEMBRANE_BOTTOM_EVEN = 5
    MEMBRANE_BOTTOM_ODD = 6
    FIRELINE_NEURON0 = 7
    PREOUT = 8
    DLL_VOLTAGE = 9


@register(name="analog_output", count=2)
@attrs.frozen
class AnalogOutputConfig(RegisterValue):
    """One of the two analog outputs (shared per reticle)."""

    enable: bool = flag()
    source: AnalogSource = choice(AnalogSource, 4, reset=AnalogSource.NONE)


HICANN_REGISTERS = RegisterFile.build(
    "hicann",
    [
        PllConfig,
        NeuronGlobalConfig,
        DenmemConfig,
        NeuronQuadConfig,
        FGControllerConfig,
        FGBiasConfig,
        FG_CELLS,
        SYNAPSE_WEIGHTS,
        SYNAPSE_DECODERS,
        SynapseDriverConfig,
        SynapseRowConfig,
        SynapseDriverControl,
        HRepeaterConfig,
        VRepeaterConfig,
        RepeaterBlockControl,
        CROSSBAR_SWITCHES,
        SYNAPSE_SWITCHES,
        MergerConfig,
        DNCMergerConfig,
        GbitLinkConfig,
        BackgroundGeneratorConfig,
        AnalogOutputConfig,
    ],
)


class HICANNConfig(ChipConfig):
    """Configuration of one HICANN: its register image, with typed access on top.

    The register image (one word array per state register) is the only state;
    every typed view reads and writes it, so what is set is exactly what the
    configurator will write. Out-of-range values raise before anything changes.
    """

    register_file = HICANN_REGISTERS

    def __init__(self, image: dict[str, np.ndarray] | None = None):
        super().__init__(image)
        image = self.image
        self.pll = RegisterTable(image, PllConfig, "PLL")
        self.neuron_config = RegisterTable(image, NeuronGlobalConfig, "NeuronGlobalConfig")
        self.neurons = RegisterTable(image, DenmemConfig, "NeuronOnHICANN")
        self.neuron_quads = RegisterTable(image, NeuronQuadConfig, "QuadOnHICANN")
        self.fg_controllers = RegisterTable(image, FGControllerConfig, "FGBlockOnHICANN")
        self.fg_biases = RegisterTable(image, FGBiasConfig, "FGBlockOnHICANN")
        self.synapse_drivers = RegisterTable(image, SynapseDriverConfig, "SynapseDriverOnHICANN")
        self.synapse_rows = RegisterTable(image, SynapseRowConfig, "SynapseRowOnHICANN")
        self.h_repeaters = RegisterTable(image, HRepeaterConfig, "HRepeaterOnHICANN")
        self.v_repeaters = RegisterTable(image, VRepeaterConfig, "VRepeaterOnHICANN")
        self.mergers = RegisterTable(image, MergerConfig, "MergerOnHICANN")
        self.dnc_mergers = RegisterTable(image, DNCMergerConfig, "DNCMergerOnHICANN")
        self.gbit_links = RegisterTable(image, GbitLinkConfig, "GbitLinkOnHICANN")
        self.background_generators = RegisterTable(image, BackgroundGeneratorConfig, "BackgroundGeneratorOnHICANN")
        self.analog_outputs = RegisterTable(image, AnalogOutputConfig, "AnalogOnHICANN")

    # -- synapse array ------------------------------------------------------------------------------

    @property
    def weights(self) -> np.ndarray:
        """The (448, 256) array of 4-bit synaptic weights (a copy)."""
        return SYNAPSE_WEIGHTS.from_words(self.image[SYNAPSE_WEIGHTS.name])

    def set_weights(self, values: Any, rows: Any = slice(None), columns: Any = slice(None)) -> None:
        """Set weights at ``[rows, columns]`` (numpy indexing); values 0..15."""
        self._set_array(SYNAPSE_WEIGHTS, values, (rows, columns))

    @property
    def decoders(self) -> np.ndarray:
        """The (448, 256) array of 4-bit synapse decoder addresses (a copy)."""
        return SYNAPSE_DECODERS.from_words(self.image[SYNAPSE_DECODERS.name])

    def set_decoders(self, values: Any, rows: Any = slice(None), columns: Any = slice(None)) -> None:
        self._set_array(SYNAPSE_DECODERS, values, (rows, columns))

    # -- floating gates ------------------------------------------------------------------------------

    @property
    def fg_cells(self) -> np.ndarray:
        """The (4, 24, 129) array of floating-gate DAC values (a copy)."""
        return FG_CELLS.from_words(self.image[FG_CELLS.name])

    def set_fg_cells(self, values: Any, index: Any = slice(None)) -> None:
        self._set_array(FG_CELLS, values, index)

    def neuron_parameter(self, name: str) -> np.ndarray:
        """DAC values of one per-neuron FG parameter for all 512 neurons, in neuron enum order."""
        blocks, rows, cols = _neuron_cells(_neuron_param(name))
        return self.fg_cells[blocks, rows, cols]

    def set_neuron_parameter(self, name: str, values: Any, neurons: Any = None) -> None:
        """Set one per-neuron FG parameter (DAC 0..1023) for all or the given neurons."""
        blocks, rows, cols = _neuron_cells(_neuron_param(name))
        sel = np.arange(NEURONS) if neurons is None else _neuron_indices(neurons)
        try:
            target = np.broadcast_to(np.asarray(values), sel.shape)
        except ValueError:
            raise ConfigError(f"FG parameter {name}: {np.shape(values)} values for {sel.size} neurons") from None
        FG_CELLS.check(target, lambda i: f"NeuronOnHICANN {int(sel[i])}", element_name=name)
        self._set_array(FG_CELLS, np.broadcast_to(values, blocks[sel].shape), (blocks[sel], rows[sel], cols[sel]))

    def shared_parameter(self, name: str) -> np.ndarray:
        """DAC values of one shared FG parameter per FG block (4 values; -1 where a block lacks it)."""
        p = _shared_param(name)
        cells = self.fg_cells
        return np.array([cells[b, p.row(b % 2), 0] if p.row(b % 2) >= 0 else -1 for b in range(fg.FG_BLOCKS)])

    def set_shared_parameter(self, name: str, values: Any, blocks: Any = None) -> None:
        """Set one shared FG parameter in all or the given FG blocks (those that hold it)."""
        p = _shared_param(name)
        chosen = range(fg.FG_BLOCKS) if blocks is None else [index_of(b, fg.FG_BLOCKS, "FGBlockOnHICANN") for b in np.atleast_1d(blocks)]
        chosen = [b for b in chosen if p.row(b % 2) >= 0]
        if not chosen:
            raise UnknownNameError("shared FG parameter in the selected blocks", name, fg.SHARED_PARAMETERS)
        idx = (np.array(chosen), np.array([p.row(b % 2) for b in chosen]), np.zeros(len(chosen), dtype=int))
        self._set_array(FG_CELLS, np.broadcast_to(values, (len(chosen),)), idx)

    # -- switch matrices ----------------------------------------------------------------------------

    def crossbar_switch(self, switch: C.CrossbarSwitchOnHICANN) -> bool:
        """Whether one crossbar switch (horizontal line to vertical line) is closed."""
        row, bit = divmod(_switch_enum(switch, C.CrossbarSwitchOnHICANN), 8)
        return bool(self.crossbar_switches[row, bit])

    def set_crossbar_switch(self, switch: C.CrossbarSwitchOnHICANN, closed: bool) -> None:
        row, bit = divmod(_switch_enum(switch, C.CrossbarSwitchOnHICANN), 8)
        self.set_crossbar_switches(_as_bit(closed, "crossbar_switch"), index=(row, bit))

    def synapse_switch(self, switch: C.SynapseSwitchOnHICANN) -> bool:
        """Whether one synapse switch (vertical line to synapse driver) is closed."""
        row, bit = divmod(_switch_enum(switch, C.SynapseSwitchOnHICANN), 32)
        return bool(self.synapse_switches[row, bit])

    def set_synapse_switch(self, switch: C.SynapseSwitchOnHICANN, closed: bool) -> None:
        row, bit = divmod(_switch_enum(switch, C.SynapseSwitchOnHICANN), 32)
        self.set_synapse_switches(_as_bit(closed, "synapse_switch"), index=(row, bit))

    @property
    def crossbar_switches(self) -> np.ndarray:
        """(64, 8) bool: per horizontal line, bit k is its switch to the vertical line with ``vline // 32 == k``.

        The enum of :class:`~hal.coordinates.CrossbarSwitchOnHICANN` is ``8 * hline + k``.
        """
        return CROSSBAR_SWITCHES.from_words(self.image[CROSSBAR_SWITCHES.name]).astype(bool)

    def set_crossbar_switches(self, values: Any, index: Any = slice(None)) -> None:
        self._set_array(CROSSBAR_SWITCHES, values, index)

    @property
    def synapse_switches(self) -> np.ndarray:
        """(224, 32) bool: per switch row, its 32 switches in ascending vertical-line order.

        The enum of :class:`~hal.coordinates.SynapseSwitchOnHICANN` is ``32 * switch_row + k``.
        """
        return SYNAPSE_SWITCHES.from_words(self.image[SYNAPSE_SWITCHES.name]).astype(bool)

    def set_synapse_switches(self, values: Any, index: Any = slice(None)) -> None:
        self._set_array(SYNAPSE_SWITCHES, values, index)

    # -- helpers ---------------------------------------------------------------------------------------

    def _set_array(self, spec: ArrayRegister, values: Any, index: Any) -> None:
        # Only the words holding selected elements are unpacked and repacked: the mapper writes
        # one switch or a few synapses at a time, and a whole-array round trip per write (the
        # weights are 114,688 elements) dominated the time to map a wafer.
        try:
            chosen = _positions(spec)[index]
        except IndexError as exc:
            raise ConfigError(f"{spec.name}: index {index!r} outside the array of shape {spec.shape}: {exc}") from None
        target_shape = np.shape(chosen)
        try:
            broadcast = np.broadcast_to(np.asarray(values), target_shape)
        except ValueError:
            raise ConfigError(
                f"{spec.name}: values of shape {np.shape(values)} do not fit the selection of shape {target_shape}"
            ) from None
        flat = np.ravel(chosen)
        checked = spec.check(broadcast, lambda i: spec.describe_index(int(flat[i])))
        if flat.size == 0:
            return
        word, slot = np.divmod(flat, spec.per_word)
        touched, local = np.unique(word, return_inverse=True)
        words = self.image[spec.name]
        elements = _unpack_words(spec, words[touched])
        # In selection order, as ``array[index] = values`` assigns: a repeated element keeps its last value.
        elements[local.ravel(), slot] = np.ravel(checked)
        words[touched] = spec.to_words(elements)


@functools.cache
def _positions(spec: ArrayRegister) -> np.ndarray:
    """The flat index of each element of ``spec``'s typed array, in its shape (read-only, shared)."""
    positions = np.arange(int(np.prod(spec.shape))).reshape(spec.shape)
    positions.flags.writeable = False
    return positions


def _unpack_words(spec: ArrayRegister, words: np.ndarray) -> np.ndarray:
    """(len(words), per_word) elements of some words of ``spec`` (as :meth:`ArrayRegister.from_words`, unshaped)."""
    w = np.asarray(words, dtype=np.uint64).reshape(-1, 1)
    shifts = np.arange(spec.per_word, dtype=np.uint64) * np.uint64(spec.element_width)
    mask = np.uint64((1 << spec.element_width) - 1)
    return ((w >> shifts) & mask).astype(spec.element_dtype)


def _switch_enum(switch: Any, kind: type) -> int:
    if not isinstance(switch, kind):
        raise ConfigError(f"expected a {kind.__name__}, got {switch!r}")
    return switch.enum


def _as_bit(closed: Any, register: str) -> int:
    if not isinstance(closed, (bool, np.bool_)):
        raise FieldOverflowError(register, "switch", closed, "True/False")
    return int(closed)


def _neuron_param(name: str) -> fg.FGParameter:
    try:
        return fg.NEURON_PARAMETERS[name]
    except KeyError:
        raise UnknownNameError("per-neuron FG parameter", name, fg.NEURON_PARAMETERS) from None


def _shared_param(name: str) -> fg.FGParameter:
    try:
        return fg.SHARED_PARAMETERS[name]
    except KeyError:
        raise UnknownNameError("shared FG parameter", name, fg.SHARED_PARAMETERS) from None


def _neuron_cells(p: fg.FGParameter) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(block, row, column) of parameter ``p`` for each neuron enum 0..511."""
    enum = np.arange(NEURONS)
    block = enum // 128
    row = np.where(block % 2 == 0, p.row_left, p.row_right)
    return block, row, enum % 128 + 1


def _neuron_indices(neurons: Any) -> np.ndarray:
    items = neurons if isinstance(neurons, (list, tuple, np.ndarray, range)) else [neurons]
    return np.array([index_of(n, NEURONS, "NeuronOnHICANN") for n in items], dtype=np.intp)
