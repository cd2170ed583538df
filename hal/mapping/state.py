"""The mapping state: what the phases of :func:`hal.mapping.map_network` read and fill in, in order.

:class:`MappingState` holds the network, the options, the configuration being written, the
allocation state of each HICANN (:class:`ChipState`) and of the L1 lines
(:class:`~hal.mapping.l1.L1Occupancy`), and the phases' results: placement, addresses, row
demand, bus arrivals, rows (and where they are packed), synapse locations.
"""

from __future__ import annotations

from collections import defaultdict

import attrs

from hal import coordinates as C
from hal.calibration import Calibration
from hal.hardware.wafer import WaferConfig
from hal.mapping.l1 import L1Occupancy, sending_line
from hal.mapping.options import MappingOptions
from hal.network import Network

__all__ = ["MappingState", "ChipState", "ADDRESSES", "sending_line_broken"]

#: L1 addresses of neurons and sources on one DNC merger; address 0 is left to the background (locking) events.
ADDRESSES = tuple(range(1, 64))


def sending_line_broken(hicann: int, channel: int, options: MappingOptions) -> bool:
    """Whether DNC merger ``channel`` of HICANN ``hicann`` (enum) cannot send: its line or repeater is on the defect list."""
    line = sending_line(channel)
    return (hicann, line) in options.disabled_hlines or (hicann, line) in options.disabled_hrepeaters


class ChipState:
    """Allocation state of one HICANN: free neuron columns and drivers, neurons and sources placed."""

    def __init__(self, hicann: C.HICANNOnWafer, width: int, options: MappingOptions):
        self.hicann = hicann
        self.width = width
        e = hicann.enum
        disabled = options.disabled_circuits
        # A neuron block whose sending line or repeater is broken cannot put its spikes on L1:
        # its circuits are left out like broken ones (the FPGA channel could still record them,
        # but a neuron that cannot send is of little use to a network).
        mute = {b for b in range(8) if sending_line_broken(e, b, options)}
        # Only this HICANN's defects are looked at, so that a full wafer's chips are set up quickly.
        broken = {item for h, item in disabled if h == e}
        self.free_columns = [x for x in range(0, 256, width)
                             if x // 32 not in mute
                             and not (broken and any(C.NeuronOnHICANN(x=x + dx, y=y).enum in broken for dx in range(width) for y in (0, 1)))]
        # Usable rows per driver: 2, or 1 when one of its rows is on the defect list (0: driver unusable).
        bad_rows = {row for h, row in options.disabled_rows if h == e}
        self.capacity = {d: 2 - (2 * d in bad_rows) - (2 * d + 1 in bad_rows) for d in range(224)}  # driver d: rows 2d, 2d + 1
        bad_drivers = {d for h, d in options.disabled_drivers if h == e}
        self.free_drivers = {d for d in range(224) if d not in bad_drivers and self.capacity[d] > 0}
        self.channel_of: dict[int, int] = {}  # neuron block -> the DNC merger it sends through (hal.mapping.merger)
        self.channel_count: dict[int, int] = defaultdict(int)  # DNC merger carrying neuron blocks -> addresses given out
        self.source_count: dict[int, int] = defaultdict(int)  # FPGA input channel -> sources on it
        self.neurons = 0
        self.chained = 0


def _row_needs() -> defaultdict:
    return defaultdict(lambda: defaultdict(list))


@attrs.define
class MappingState:
    """Everything one mapping run allocates and decides (see the module docstring)."""

    network: Network
    options: MappingOptions
    config: WaferConfig
    chips: dict[C.HICANNOnWafer, ChipState]  # the allowed HICANNs, west to east
    l1: L1Occupancy
    calibration: Calibration
    #: population -> [(hicann, denmems)] per neuron
    placement: dict[str, list] = attrs.field(factory=dict)
    #: predicted input rate per HICANN link (bio Hz)
    load: defaultdict = attrs.field(factory=lambda: defaultdict(float))
    #: (population, index) -> (hicann, DNC merger its block sends through, L1 address)
    address_of: dict = attrs.field(factory=dict)
    #: source population -> InputAddress (or None) per source
    source_address: dict[str, list] = attrs.field(factory=dict)
    #: gmax divisor of each projection's rows (:mod:`hal.mapping.scales`)
    divisors: list[int] = attrs.field(factory=list)
    #: per projection: (keys (origin, address, excitatory, target hicann, divisor) per edge, post indices, weight bits)
    edges: list = attrs.field(factory=list)
    #: target hicann -> origin -> [(address, excitatory, divisor)] per edge
    row_needs: defaultdict = attrs.field(factory=_row_needs)
    #: (origin, target hicann) -> the line (HLineOnHICANN or VLineOnHICANN) that carries the origin there
    arrival: dict = attrs.field(factory=dict)
    #: (origin, address, excitatory, target hicann, divisor) -> (synapse row, slot: the post neuron's column in the row's half)
    row_of: dict = attrs.field(factory=dict)
    #: target hicann -> addresses per row, where rows are packed (:mod:`hal.mapping.rows`)
    packing: dict = attrs.field(factory=dict)
    unreachable: set = attrs.field(factory=set)
    lost_reasons: defaultdict = attrs.field(factory=lambda: defaultdict(int))
    gmax: dict = attrs.field(factory=dict)
    #: per target HICANN (enum): (synapses, at most realisable) -- :mod:`hal.mapping.bound`
    bound: dict = attrs.field(factory=dict)
    #: per projection: (hicann enum, row, column) arrays, -1 where lost
    locations: list = attrs.field(factory=list)
    realised: int = 0
    lost: int = 0

    @classmethod
    def start(cls, network: Network, wafer: C.Wafer, options: MappingOptions) -> MappingState:
        """A fresh state: an empty configuration of ``wafer`` and the options' allowed HICANNs."""
        chain = [h for h in options.hicanns if h.enum not in options.disabled_hicanns]
        width = cls.columns_per_neuron(options.circuits_per_neuron)
        config = WaferConfig(wafer)
        return cls(network, options, config, {h: ChipState(h, width, options) for h in chain}, L1Occupancy(config, options),
                   options.calibration or Calibration.nominal())

    @staticmethod
    def columns_per_neuron(circuits: int) -> int:
        """Denmem columns of one neuron: one circuit takes one, from two on both rows of ``circuits / 2`` columns."""
        return 1 if circuits == 1 else circuits // 2

    @property
    def chain(self) -> list[C.HICANNOnWafer]:
        return list(self.chips)

    def origin_of(self, population: str, index: int) -> tuple[tuple[C.HICANNOnWafer, int], int]:
        """(origin, L1 address) of neuron or source ``index`` of ``population``."""
        if self.network.is_source(population):
            ia = self.source_address[population][index]
            return (ia.hicann, ia.channel), ia.address
        h, channel, address = self.address_of[(population, index)]
        return (h, channel), address
