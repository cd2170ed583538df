"""Mapping a :class:`~hal.network.Network` onto the wafer: the pipeline of phases over one :class:`MappingState`.

Algorithm (one page in ``docs/mapping.md``):

1. **Placement** (:mod:`hal.mapping.placement`): neurons of ``k`` merged circuits on HICANNs of
   the allowed chain; their addresses and parameters (through a calibration, nominal by
   default); the sources' FPGA channels.
2. **Row demand** (:mod:`hal.mapping.synapses`): which (pre, sign, gmax divisor) rows each target
   HICANN needs; the divisor realises a projection's own weight scale (:mod:`hal.mapping.scales`).
   The resource bound (:mod:`hal.mapping.bound`): the most synapses the target HICANNs' drivers
   and rows can hold for this placement, reported as ``MappingResult.bound``.
3. **Buses** (:mod:`hal.mapping.routing` over :mod:`hal.mapping.l1`): one L1 bus per origin to
   every HICANN that holds rows for it.
4. **Drivers and rows** (:mod:`hal.mapping.rows` over :mod:`hal.mapping.drivers`): one row per
   (pre, sign, divisor), or, on a HICANN whose drivers do not suffice for that, packed rows that
   carry several addresses, one per column of the post neurons.
5. **Synaptic strength and synapses** (:mod:`hal.mapping.synapses`).

What does not fit raises :class:`~hal.errors.ResourceError` naming the resource and by how
much, unless ``allow_loss`` is set, in which case the lost synapses are counted and listed.
"""

from __future__ import annotations

import contextlib
import gc

from hal import coordinates as C
from hal.errors import ConfigError
from hal.hardware.wafer import WaferConfig
from hal.logging import get_logger
from hal.mapping.bound import summarise, synapse_bound
from hal.mapping.options import MappingOptions
from hal.mapping.placement import configure_neurons, place_populations, place_sources
from hal.mapping.result import MappingResult
from hal.mapping.routing import route_buses
from hal.mapping.rows import allocate_rows
from hal.mapping.state import MappingState
from hal.mapping.synapses import collect_row_needs, set_gmax, write_synapses
from hal.network import Network

__all__ = ["map_network"]

log = get_logger(__name__)


def map_network(network: Network, wafer: C.Wafer = C.Wafer(0), options: MappingOptions = MappingOptions()) -> tuple[WaferConfig, MappingResult]:
    """Map ``network``; returns the register configuration and the mapping result."""
    if not isinstance(network, Network):
        raise ConfigError(f"map_network: expected a Network, got {type(network).__name__}")
    with _cyclic_gc_paused():
        state = MappingState.start(network, wafer, options)
        place_populations(state)
        configure_neurons(state)
        place_sources(state)
        collect_row_needs(state)
        state.bound = synapse_bound(state)
        route_buses(state)
        allocate_rows(state)
        set_gmax(state)
        write_synapses(state)
        result = _result(state)
    log.info("network_mapped", hicanns=len(result.hicanns_used), fpgas=len(result.fpgas_used), synapses=state.realised, lost=state.lost,
             bound=result.bound.bound)
    return state.config, result


@contextlib.contextmanager
def _cyclic_gc_paused():
    """Python's cycle collector off while mapping (as it was before afterwards, also on an error).

    A wafer's mapping allocates millions of small long-lived objects (edge keys, row demands, line
    owners) and no cyclic garbage to speak of; each full collection walks all of them, which cost
    the wafer-size microcircuit ~15 % of its CPU time (10 s). Reference counting still frees what
    the phases drop; the collector runs again as soon as the mapping returns. It is process-wide:
    other threads' cycles wait for the end of the mapping too.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _result(state: MappingState) -> MappingResult:
    """What the phases produced, with the resources used per HICANN."""
    placement, config, l1 = state.placement, state.config, state.l1
    used = tuple(sorted({h for pop in placement.values() for h, _ in pop}
                        | {a.hicann for addrs in state.source_address.values() for a in addrs if a}))
    fpgas = tuple(sorted({h.to_fpga() for h in used}))
    k = state.options.circuits_per_neuron
    resources = {h.enum: {"neurons": state.chips[h].neurons, "circuits": state.chips[h].neurons * k,
                          "drivers": int(config.hicann(h).synapse_drivers.column("enable").astype(bool).sum()),
                          "chained_drivers": state.chips[h].chained, "l1_lines": l1.lines_of(h, C.HLineOnHICANN),
                          "vertical_lines": l1.lines_of(h, C.VLineOnHICANN)}
                 for h in used}
    input_load = {h.enum: round(state.load[h], 1) for h in used if state.load[h] > 0}
    return MappingResult(network=state.network, placement=placement, source_address=state.source_address,
                         synapse_location=state.locations, synapses=state.realised, synapses_lost=state.lost,
                         lost_reasons=dict(state.lost_reasons), hicanns_used=used, fpgas_used=fpgas, resources=resources,
                         input_load_hz=input_load, gmax=state.gmax,
                         projection_ns_per_bit=tuple(state.network.ns_per_weight_bit / d for d in state.divisors),
                         row_packing={h.enum: slots for h, slots in state.packing.items()},
                         bound=summarise(state.bound, state.realised + state.lost, state.realised))
