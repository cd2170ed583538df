"""The ideal chip as a backend.

It reads the register state through :func:`hal.netlist.wiring.extract_wiring`
(nominal transfer functions, so no mismatch), converts the hardware-domain
parameters to the biological domain with :mod:`hal.analog.domains`, and integrates
the network with the independent reference integrator
(:mod:`hal_plugins.reference.integrator`, validated against NEST's
``iaf_cond_exp``). Links are lossless; timestamps are quantised to the FPGA's
4 ns ticks on the way in and out, as on the real system.
"""

from __future__ import annotations

import numpy as np

from hal.backend import Backend, Capabilities, RunRequest, RunResult
from hal.analog.domains import PAPER_DOMAINS, Domains
from hal.errors import CapabilityError, ConfigError
from hal.backend.events import HardwareEvents
from hal.logging import get_logger
from hal.netlist import build_netlist, trace_events
from hal.netlist.bio import L1_DELAY_HW_S, bio_parameters, integration_step, membrane_neurons
from hal.netlist.wiring import extract_wiring
from hal_plugins.reference.integrator import DEFAULT_DT_MS, Connections, NeuronParameters, SpikeTrains, simulate

__all__ = ["ReferenceBackend"]

log = get_logger(__name__)



class ReferenceBackend(Backend):
    """The ideal chip: what the configuration means, computed exactly."""

    name = "reference"
    capabilities = Capabilities(membrane_readout=True, deterministic=True)

    def __init__(self, wafer=0, *, dt_ms: float = DEFAULT_DT_MS, domains: Domains = PAPER_DOMAINS, **options):
        super().__init__(wafer, **options)
        # Below 1 us biological (0.1 ns on the chip) a step only multiplies time and memory.
        if not (isinstance(dt_ms, (int, float)) and not isinstance(dt_ms, bool) and 0.001 <= dt_ms <= 0.1):
            raise ConfigError(f"reference backend dt_ms: {dt_ms!r} out of range; valid 0.001 <= dt_ms <= 0.1 (biological ms)")
        self.dt_ms = float(dt_ms)
        self.domains = domains

    def _run(self, request: RunRequest) -> RunResult:
        config = self.wafer_config()
        wiring = extract_wiring(config)
        self.require_locked()
        if wiring.adex_in_use:
            n = wiring.adex_in_use[0]
            raise CapabilityError(
                f"backend 'reference' implements LIF only (capability adaptation_and_exponential); {n!r} has adaptation "
                f"or the exponential term on: set its I_gladapt, I_fire and I_bexp to 0"
            )
        d = self.domains
        duration_ms = float(d.ticks_to_ms(request.duration))
        n_neurons = len(wiring.neurons)
        if n_neurons == 0:
            return RunResult(HardwareEvents.empty(), info={"neurons": 0})

        params = NeuronParameters(**bio_parameters(wiring.parameters, d))
        net = build_netlist(wiring, request.playback, request.n_samples, request.duration, request.seed)
        connections = Connections(
            pre=net.pre,
            post=net.post,
            weight_ns=net.conductance_ns / d.speedup,
            excitatory=net.excitatory,
            delay_ms=np.full(net.n_connections, float(d.hw_s_to_ms(L1_DELAY_HW_S))),
        )
        times_ms = d.ticks_to_ms(net.in_time)
        inputs = []
        for s in range(request.n_samples):
            sel = net.in_sample == s
            inputs.append(SpikeTrains.from_unsorted(times_ms[sel], net.in_source[sel]))
        membrane_idx = membrane_neurons(wiring, request)
        dt, membrane_dt = integration_step(self.dt_ms, request, d, membrane_idx is not None)
        sim = simulate(params, connections, net.n_sources, inputs, duration_ms, dt_ms=dt,
                       record_membrane=membrane_idx, membrane_dt_ms=membrane_dt)
        sample = np.concatenate([np.full(len(t.times_ms), k) for k, t in enumerate(sim.spikes)])
        ticks = d.ms_to_ticks(np.concatenate([t.times_ms for t in sim.spikes]))
        neuron = np.concatenate([t.index for t in sim.spikes])
        trace = trace_events(wiring, sample, ticks, neuron, config, request.duration)
        membrane = None
        times = None
        if membrane_idx is not None:
            membrane = d.mv_to_hw_mv(sim.membrane)
            times = d.ms_to_ticks(sim.membrane_times_ms)
        info = {"neurons": n_neurons, "synapses": len(connections), "sources": net.n_sources, "dt_ms": dt}
        lost_input = {"unrouted": net.unrouted} if net.unrouted else {}
        return RunResult(trace, membrane, times, lost_input=lost_input, info=info)
