"""The ideal chip as a backend.

It reads the register state through :func:`hal.wiring.extract_wiring`
(nominal transfer functions, so no mismatch), converts the hardware-domain
parameters to the biological domain with :mod:`hal.domains`, and integrates
the network with the independent reference integrator
(:mod:`plugins.reference.integrator`, validated against NEST's
``iaf_cond_exp``). Links are lossless; timestamps are quantised to the FPGA's
4 ns ticks on the way in and out, as on the real system.
"""

from __future__ import annotations

import numpy as np
import structlog

from hal.backend import Backend, Capabilities, RunRequest, RunResult
from hal.domains import PAPER_DOMAINS, Domains
from hal.errors import BackendError, CapabilityError, ConfigError
from hal.events import HardwareEvents
from hal.wiring import Wiring, extract_wiring
from plugins.reference.integrator import DEFAULT_DT_MS, Connections, NeuronParameters, SpikeTrains, simulate

__all__ = ["ReferenceBackend", "L1_DELAY_HW_S"]

log = structlog.get_logger(__name__)

#: Nominal delay of an on-wafer (L1) connection, hardware seconds: 0.1 ms biological.
#: model: no public number; of the order of the repeater and driver latencies.
L1_DELAY_HW_S = 10e-9
# Floating-gate cells are programmed, not free: the smallest conductance the integrator sees.
_TINY_NS = 0.0


class ReferenceBackend(Backend):
    """The ideal chip: what the configuration means, computed exactly."""

    name = "reference"
    capabilities = Capabilities(membrane_readout=True, deterministic=True)

    def __init__(self, wafer=0, *, dt_ms: float = DEFAULT_DT_MS, domains: Domains = PAPER_DOMAINS, **options):
        super().__init__(wafer, **options)
        if not (isinstance(dt_ms, (int, float)) and 0 < dt_ms <= 0.1):
            raise ConfigError(f"reference backend dt_ms: {dt_ms!r} out of range; valid 0 < dt_ms <= 0.1 (biological ms)")
        self.dt_ms = float(dt_ms)
        self.domains = domains

    def _check_locks(self, wiring: Wiring) -> None:
        for chip in sorted(self.locks.repeaters_unlocked, key=lambda c: (type(c).__name__, c.enum)):
            raise BackendError(
                f"{chip!r}: L1 repeaters not locked since their last change; apply configurations with "
                f"hal.Configurator (it locks), or write repeater_block_control start_lock"
            )
        for chip in sorted(self.locks.drivers_unlocked, key=lambda c: (type(c).__name__, c.enum)):
            raise BackendError(f"{chip!r}: synapse drivers not locked since their last change; write synapse_driver_control start_lock")

    def _run(self, request: RunRequest) -> RunResult:
        config = self.wafer_config()
        wiring = extract_wiring(config)
        self._check_locks(wiring)
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

        p = wiring.parameters
        # Bio units with the same g/C ratio: keep C, divide conductances by the speed-up.
        params = NeuronParameters(
            c_m_pf=p["c_pf"],
            g_l_ns=p["g_l_ns"] / d.speedup,
            e_l_mv=d.hw_mv_to_mv(p["e_l_mv"]),
            v_th_mv=d.hw_mv_to_mv(p["v_th_mv"]),
            v_reset_mv=d.hw_mv_to_mv(p["v_reset_mv"]),
            e_rev_e_mv=d.hw_mv_to_mv(p["e_rev_e_mv"]),
            e_rev_i_mv=d.hw_mv_to_mv(p["e_rev_i_mv"]),
            tau_syn_e_ms=d.tau_to_bio_ms(p["tau_syn_e_us"]),
            tau_syn_i_ms=d.tau_to_bio_ms(p["tau_syn_i_us"]),
            t_ref_ms=d.tau_to_bio_ms(p["t_ref_us"]),
        )
        sources, connections, inputs, unrouted = self._network(wiring, request)
        membrane_idx = None
        if request.membrane:
            owner = {(n.hicann, den): i for i, n in enumerate(wiring.neurons) for den in n.denmems}
            missing = [m for m in request.membrane if m not in owner]
            if missing:
                raise ConfigError(f"membrane recording: {missing[0][0]!r} {missing[0][1]!r} belongs to no logical neuron")
            membrane_idx = np.array([owner[m] for m in request.membrane])
        membrane_dt = float(d.ticks_to_ms(request.membrane_interval))
        # The integrator samples on its own grid: keep the requested interval a multiple of dt.
        dt = self.dt_ms if membrane_idx is None else membrane_dt / max(1, round(membrane_dt / self.dt_ms))
        sim = simulate(params, connections, len(sources), inputs, duration_ms, dt_ms=dt,
                       record_membrane=membrane_idx, membrane_dt_ms=membrane_dt)
        trace = self._trace(wiring, sim.spikes, request, config)
        membrane = None
        times = None
        if membrane_idx is not None:
            membrane = d.mv_to_hw_mv(sim.membrane)
            times = d.ms_to_ticks(sim.membrane_times_ms)
        info = {"neurons": n_neurons, "synapses": len(connections), "sources": len(sources), "dt_ms": dt}
        lost_input = {"unrouted": unrouted} if unrouted else {}
        return RunResult(trace, membrane, times, lost_input=lost_input, info=info)

    def _network(self, wiring: Wiring, request: RunRequest):
        """Integrator sources, connections and per-sample input spike trains."""
        d = self.domains
        syn = wiring.synapses
        origin_index = {(o.hicann.enum, o.channel): i for i, o in enumerate(wiring.origins)}
        # External sources: one per (origin, address) used by playback or by a background generator.
        pb = request.playback
        pb_origin = np.array([origin_index.get((int(h), int(c)), -1) for h, c in zip(pb.hicann, pb.channel)], dtype=np.int64)
        accepted = np.isin(pb_origin, list(wiring.input_origins)) if len(pb) else np.zeros(0, dtype=bool)
        unrouted = int(np.count_nonzero(~accepted))
        keys = pb_origin * 64 + pb.address.astype(np.int64)
        bg_trains = self._background(wiring, request)
        source_keys = np.unique(np.concatenate([keys[accepted], np.array([k for k, _ in bg_trains], dtype=np.int64)]))
        source_of = {int(k): i for i, k in enumerate(source_keys)}
        n_sources = len(source_keys)
        # Connections from external sources.
        syn_key = syn.origin * 64 + syn.address
        from_source = np.isin(syn_key, source_keys)
        pre = [np.array([source_of[int(k)] for k in syn_key[from_source]], dtype=np.int64)]
        post = [syn.post[from_source]]
        weight = [syn.conductance_ns[from_source]]
        exc = [syn.excitatory[from_source]]
        # Connections from neurons: a neuron's spikes carry its address into its origin.
        delay_ms = float(d.hw_s_to_ms(L1_DELAY_HW_S))
        for k, neuron in enumerate(wiring.neurons):
            o = wiring.neuron_origin[k]
            if o < 0:
                continue
            hit = syn_key == o * 64 + neuron.address
            if np.any(hit):
                pre.append(np.full(int(hit.sum()), n_sources + k))
                post.append(syn.post[hit])
                weight.append(syn.conductance_ns[hit])
                exc.append(syn.excitatory[hit])
        pre_a = np.concatenate(pre)
        connections = Connections(
            pre=pre_a,
            post=np.concatenate(post),
            weight_ns=np.concatenate(weight) / d.speedup,
            excitatory=np.concatenate(exc),
            delay_ms=np.full(pre_a.size, delay_ms),
        )
        # Per-sample input spike trains (times in bio ms, quantised to ticks as the FPGA does).
        times_ms = d.ticks_to_ms(pb.time[accepted])
        src = np.array([source_of[int(k)] for k in keys[accepted]], dtype=np.int64)
        samples = pb.sample[accepted]
        inputs = []
        for s in range(request.n_samples):
            sel = samples == s
            t = [times_ms[sel]]
            i = [src[sel]]
            for key, train in bg_trains:
                t.append(train)
                i.append(np.full(train.size, source_of[key]))
            inputs.append(SpikeTrains.from_unsorted(np.concatenate(t), np.concatenate(i)))
        return source_keys, connections, inputs, unrouted

    def _background(self, wiring: Wiring, request: RunRequest) -> list[tuple[int, np.ndarray]]:
        """Spike trains (bio ms) of the background generators that reach L1, same for every sample."""
        out = []
        d = self.domains
        duration_ms = float(d.ticks_to_ms(request.duration))
        for origin, address, period, random, seed in wiring.background:
            f_mhz = wiring.pll_mhz[wiring.origins[origin].hicann]
            if period == 0 or f_mhz <= 0:
                continue
            isi_ms = float(d.hw_s_to_ms(period / (f_mhz * 1e6)))
            if random:
                rng = np.random.default_rng([seed, request.seed])
                n = int(duration_ms / isi_ms * 1.5) + 10
                times = np.cumsum(rng.exponential(isi_ms, size=n))
            else:
                times = np.arange(isi_ms, duration_ms, isi_ms)
            out.append((origin * 64 + address, times[times < duration_ms]))
        return out

    def _trace(self, wiring: Wiring, spikes, request: RunRequest, config) -> HardwareEvents:
        d = self.domains
        parts = []
        for s, train in enumerate(spikes):
            neuron = train.index
            keep = wiring.recorded[neuron]
            neuron = neuron[keep]
            ticks = d.ms_to_ticks(train.times_ms[keep])
            origin = wiring.neuron_origin[neuron]
            hicann = np.array([wiring.origins[o].hicann.enum for o in origin], dtype=np.int64)
            channel = np.array([wiring.origins[o].channel for o in origin], dtype=np.int64)
            address = np.array([wiring.neurons[k].address for k in neuron], dtype=np.int64)
            inside = ticks < request.duration
            parts.append(HardwareEvents(np.full(int(inside.sum()), s), ticks[inside], hicann[inside], channel[inside], address[inside]))
        trace = HardwareEvents.concatenate(parts)
        # The FPGA's trace filter drops address-0 events when asked to.
        if len(trace):
            drop = np.zeros(len(trace), dtype=bool)
            for fpga, cfg in config.fpgas():
                if cfg.control.value.drop_background_events:
                    on_fpga = np.isin(trace.hicann, [h.enum for h in fpga.hicanns()])
                    drop |= on_fpga & (trace.address == 0)
            trace = trace.select(~drop)
        return trace
