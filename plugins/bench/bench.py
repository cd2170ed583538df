"""Throughput benchmark: ``hal bench [--json]``.

What it measures (each scenario in a fresh subprocess, so that peak memory
and library state of one do not leak into another):

``paper_network``
    The 100-15-15-5 network of Schmitt et al. 2017 on one HICANN
    (:func:`hal.testing.networks.paper_network`: 135 logical neurons of 2
    circuits each -- 4 circuits would need 270 denmem columns, a HICANN has
    256 -- and 3,700 synapses of which those with a non-zero 4-bit weight are
    realised), driven by 100 Poisson sources with 2,500 Hz in total per sample
    (a random "image": rates ``u**2`` normalised to the total), 0.9 s on and
    0.1 s off, for a batch of samples. Per backend: biological seconds
    emulated per wall-clock second and synaptic events per second. The
    ``emulator`` and ``noisy`` backends run the whole batch; the
    ``reference`` backend, NEST (``iaf_cond_exp``) and Brian2 run the first
    samples of it (same seeds, hence the same input spikes), and the
    rate is reported with the subset size. NEST and Brian2 get the network as
    the reference backend sees it: :func:`hal.netlist.wiring.extract_wiring` and
    :func:`hal.netlist.build_netlist` converted to biological units exactly as
    ``plugins/reference/backend.py`` does, every sample a separate copy of the
    network in one simulation (as the emulator's batch).
``hicann``
    One full HICANN (:func:`full_hicann`): all 512 circuits single-circuit
    neurons, all 448 synapse rows (224 per circuit) driven, every synapse
    with a non-zero weight, Poisson background from the chip's own
    background generators. Wall time (configuration + run) and peak RSS.
``wafer``
    All 384 HICANNs configured like that: 196,608 neurons and 44,040,192
    synapses, each synapse receiving 40 Hz (the MaxHW point), for 0.1 s
    biological time. Wall time and peak RSS.

Synaptic events are spikes arriving at synapses, counted from the netlist's
fan-out: each input (or background) event times the number of connections of
its source, each neuron spike times the number of connections of its neuron.
Input events the link model drops are not counted; spikes lost only on the
way to the FPGA trace are (they reach their synapses on the wafer). Both
losses are reported. Timed runs on the paper network follow a 1-sample run
that configures the backend, and the best of ``repeat`` runs is reported.

This module imports only the standard library and structlog at import time; hal's heavier
parts are imported where used, and NEST and Brian2 only through
:func:`importlib.import_module` inside the worker that runs them.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from typing import Any

import structlog

__all__ = [
    "DESCRIPTION",
    "configure",
    "run_benchmarks",
    "full_hicann",
    "full_wafer",
    "paper_rates",
    "TARGETS",
    "main",
]

log = structlog.get_logger(__name__)

#: The goals of the issue (checked here and in docs/benchmarks.md, never by a timed test).
TARGETS = {
    "emulator_bio_s_per_wall_s": 10_000.0,
    "emulator_vs_simulators": 50.0,
    "wafer_wall_s": 120.0,
    "wafer_peak_rss_bytes": 4 * 2**30,
    "total_wall_s": 600.0,
}

PAPER_TOTAL_RATE_HZ = 2500.0
PAPER_SAMPLE_MS = 1000.0
PAPER_STIMULUS_MS = 900.0
MAXHW_RATE_HZ = 40.0



DESCRIPTION = "throughput benchmark: paper network, full HICANN, full wafer (docs/benchmarks.md)"

_FULL = dict(samples=1200, reference_samples=60, simulator_samples=60, hicann_bio_s=1.0, wafer_bio_s=0.1, wafer_hicanns=384, repeat=2)
_QUICK = dict(samples=6, reference_samples=2, simulator_samples=2, hicann_bio_s=0.02, wafer_bio_s=0.01, wafer_hicanns=2, repeat=1)


# -- configurations -------------------------------------------------------------------------------


def paper_rates(samples: int, seed: int = 0, total_hz: float = PAPER_TOTAL_RATE_HZ):
    """(samples, 100) Poisson rates: a random "image" per sample, ``u**2`` normalised to ``total_hz``."""
    import numpy as np

    grey = np.random.default_rng([seed, 2017]).uniform(0.0, 1.0, size=(samples, 100)) ** 2
    return grey / grey.sum(axis=1, keepdims=True) * total_hz


def full_hicann(*, rate_hz: float = MAXHW_RATE_HZ, seed: int = 0, excitatory_rows=(True, False), gmax_div: int = 15):
    """A HICANN configuration with every circuit a neuron and every synapse in use.

    * 512 single-circuit neurons (no merges), firing, nominal Table II
      parameters (:func:`hal.network.parameters.apply_nominal`); the bottom denmems
      take their input from the bottom rows 224..447, as :mod:`hal.netlist.wiring` reads it.
    * Background generator ``j`` (random mode, ``rate_hz`` biological, L1 address 0)
      and neuron block ``j`` share level-0 merger ``j`` (MERGE) and DNC merger
      ``j`` (tree input), whose sending repeater drives its L1 line; the
      line reaches its 28 drivers through one crossbar and one synapse switch
      each. The 8 lines together feed all 224 drivers, i.e. all 448 rows.
    * Every row decodes address 0 (driver decoder 0, synapse decoders 0),
      so every synapse receives its generator's Poisson events: one background
      address per block is all the wiring model lets a generator send, and only
      this way does every synapse see ``rate_hz``. Rows follow
      ``excitatory_rows`` cyclically (default alternating); weights are random
      1..15 with the largest gmax divisor (``gmax_div``), so that the neurons
      fire at about the input rate (38 Hz at 40 Hz input) instead of saturating.
    * Neuron ``i`` of a block sends address ``i`` (the one with address 0 sends
      nothing, address 0 being the background's); no synapse decodes those
      addresses, so neurons do not drive each other. Their spikes go to the
      FPGA trace (channel ``j`` towards the DNC), through the link model.
    """
    import numpy as np

    from hal import coordinates as C
    from hal.analog.domains import PAPER_DOMAINS
    from hal.hardware.hicann import GbitDirection, HICANNConfig, MergerMode, RepeaterMode
    from hal.calibration import apply_nominal
    from hal.network.parameters import SCHMITT2017
    from hal.mapping.drivers import reachable_drivers

    chip = HICANNConfig()
    enum = np.arange(512)
    in_block = enum % 32 + 32 * (enum // 256)  # index of the denmem in its neuron block (enum order)
    chip.neurons.set_column("activate_firing", 1)
    chip.neurons.set_column("l1_address", in_block)
    chip.neurons.set_column("enable_spl1_output", (in_block != 0).astype(np.int64))
    apply_nominal(chip, C.NeuronOnHICANN.all(), SCHMITT2017)
    # period in PLL cycles: f_pll / rate_hw; rate_hw = rate_bio * speedup.
    period = int(round(chip.pll.value.frequency_mhz * 1e6 / (rate_hz * PAPER_DOMAINS.speedup)))
    rng = np.random.default_rng([seed, 512])
    for j in range(8):
        chip.mergers.update(j, mode=MergerMode.MERGE)
        chip.dnc_mergers.update(j, mode=MergerMode.LEFT_ONLY)
        chip.gbit_links.update(j, direction=GbitDirection.TO_DNC)
        sending = C.DNCMergerOnHICANN(j).to_sending_repeater()
        chip.h_repeaters.update(sending.to_hrepeater(), mode=RepeaterMode.OUTPUT)
        chip.background_generators.update(j, enable=True, random=True, address=0, seed=int(rng.integers(1, 1 << 16)), period=period)
        hline = sending.to_hline().value
        done = set()
        for driver, vline in reachable_drivers(j):
            if driver not in done:
                done.add(driver)
                chip.set_crossbar_switch(C.CrossbarSwitchOnHICANN(hline=hline, vline=vline), True)
                chip.set_synapse_switch(C.SynapseSwitchOnHICANN(switch_row=driver, vline=vline), True)
    chip.synapse_drivers.set_column("enable", 1)
    chip.synapse_drivers.set_column("locin", 1)
    rows = np.arange(448)
    exc = np.asarray(excitatory_rows, dtype=np.int64)[rows % len(excitatory_rows)]
    chip.synapse_rows.set_column("input_excitatory", exc)
    chip.synapse_rows.set_column("input_inhibitory", 1 - exc)
    chip.synapse_rows.set_column("gmax_div_excitatory", gmax_div)
    chip.synapse_rows.set_column("gmax_div_inhibitory", gmax_div)
    chip.set_weights(rng.integers(1, 16, size=(448, 256)))
    chip.set_decoders(0)
    return chip


def full_wafer(n_hicanns: int = 384, *, rate_hz: float = MAXHW_RATE_HZ, seed: int = 0, wafer: int = 0):
    """``n_hicanns`` HICANNs (enum order) configured by :func:`full_hicann`, each with its own weights and seeds."""
    import numpy as np

    from hal import coordinates as C
    from hal.hardware.hicann import HICANNConfig
    from hal.hardware.wafer import WaferConfig

    template = full_hicann(rate_hz=rate_hz, seed=seed)
    rng = np.random.default_rng([seed, 384])
    hicanns = {}
    for h in C.HICANNOnWafer.all()[:n_hicanns]:
        chip = HICANNConfig({name: words.copy() for name, words in template.image.items()})
        chip.set_weights(rng.integers(1, 16, size=(448, 256)))
        chip.background_generators.set_column("seed", rng.integers(1, 1 << 16, size=8))
        hicanns[h] = chip
    config = WaferConfig(C.Wafer(wafer), hicanns=hicanns)
    for h in hicanns:
        config.fpga(h.to_fpga()).links.update(h.to_highspeed_link(), enable=True)
    return config


# -- counting ---------------------------------------------------------------------------------------


def _fan_out(net):
    import numpy as np

    from_source = net.pre < net.n_sources
    sources = np.bincount(net.pre[from_source], minlength=net.n_sources)
    neurons = np.bincount(net.pre[~from_source] - net.n_sources, minlength=net.n_neurons)
    return sources, neurons


def _synaptic_events(wiring, net, neuron_spikes, lost_input: int = 0, total_spikes: int | None = None) -> int:
    """Input events times their sources' fan-out (less the share lost on the links) plus neuron spikes times theirs.

    ``neuron_spikes`` counts spikes per wiring neuron as recorded. Lost input
    events are taken off at the mean fan-out of the input events (exact when
    all sources have the same fan-out, as in the paper network). Spikes the
    FPGA trace lost still reached their synapses on the wafer: given the
    backend's ``total_spikes``, the recorded ones are scaled up to it.
    """
    import numpy as np

    sources, neurons = _fan_out(net)
    from_inputs = int(sources[net.in_source].sum()) if net.in_source.size else 0
    if lost_input and net.in_source.size:
        from_inputs = int(round(from_inputs * (1 - lost_input / net.in_source.size)))
    spikes = np.asarray(neuron_spikes, dtype=np.int64)
    from_neurons = float(np.dot(spikes, neurons))
    if total_spikes is not None and spikes.sum() > 0:
        from_neurons *= total_spikes / spikes.sum()
    return from_inputs + int(round(from_neurons))


def _recorded_spikes(wiring, recording):
    """Spikes per wiring neuron from a recording (neurons not recorded: 0)."""
    import numpy as np

    spikes = np.zeros(len(wiring.neurons), dtype=np.int64)
    spikes[np.flatnonzero(wiring.recorded)] = recording.spike_counts.sum(axis=0)
    return spikes


def _peak_rss_bytes() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024  # Linux: KiB


def _rates(bio_s: float, wall_s: float, events: int) -> dict[str, float]:
    return {"bio_s_per_wall_s": bio_s / wall_s, "synaptic_events_per_s": events / wall_s}


# -- scenarios (each runs in a worker process) ------------------------------------------------------


def _paper_setup(samples: int, seed: int):
    from hal.testing.networks import paper_network, poisson_experiment

    net = paper_network(seed=seed)
    experiment = poisson_experiment(net, paper_rates(samples, seed), duration_ms=PAPER_SAMPLE_MS, stop_ms=PAPER_STIMULUS_MS, seed=seed)
    return net, experiment


def _scenario_backend(backend: str, samples: int, seed: int, profile: bool = False, repeat: int = 1, options: dict | None = None) -> dict:
    """One hal backend on the paper network: a configuring 1-sample run, then the timed batch (best of ``repeat``)."""
    import hal
    from hal.netlist import build_netlist
    from hal.netlist.wiring import extract_wiring

    net, experiment = _paper_setup(samples, seed)
    b = hal.get_backend(backend, **(options or {}))
    t0 = time.perf_counter()
    _, warm = _paper_setup(1, seed)
    hal.run(warm, b)  # configures the backend (register writes, locking) once, as a training loop would
    setup_s = time.perf_counter() - t0
    walls, load = [], [os.getloadavg()[0]]
    for _ in range(repeat):
        t0 = time.perf_counter()
        recording = hal.run(experiment, b)
        walls.append(time.perf_counter() - t0)
        load.append(os.getloadavg()[0])
    wall_s = min(walls)
    rss = _peak_rss_bytes()
    wiring = extract_wiring(experiment.config)
    request = experiment.request()
    netlist = build_netlist(wiring, request.playback, request.n_samples, request.duration, request.seed)
    lost = recording.lost_events
    lost_input = sum(lost["input"].values())
    total_spikes = recording.hardware.info.get("spikes")
    events = _synaptic_events(wiring, netlist, _recorded_spikes(wiring, recording), lost_input, total_spikes)
    bio_s = samples * experiment.duration_ms * 1e-3
    out = {
        **_rates(bio_s, wall_s, events),
        "samples": samples,
        "bio_s": bio_s,
        "wall_s": wall_s,
        "wall_s_runs": walls,
        "load_average_1min": load,
        "setup_s": setup_s,
        "synaptic_events": events,
        "spikes": int(total_spikes if total_spikes is not None else recording.spike_counts.sum()),
        "recorded_spikes": int(recording.spike_counts.sum()),
        "input_events": int(netlist.in_time.size),
        "lost_events": {"input": lost_input, "output": sum(lost["output"].values()), "unattributed": lost["unattributed"]},
        "peak_rss_bytes": rss,
        "options": options or {},
        "info": {k: v for k, v in recording.hardware.info.items() if isinstance(v, (int, float, str))},
    }
    if profile:
        out["profile"] = _profile(lambda: hal.run(experiment, b), samples, len(wiring.neurons), experiment.duration_ms,
                                  recording.hardware.info.get("dt_ms"))
    return out


def _profile(call, samples: int, neurons: int, duration_ms: float, dt_ms: float | None, top: int = 15) -> dict:
    """cProfile of one more run: the top entries by cumulative time, and the kernel's share if found."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    profiler.enable()
    call()
    profiler.disable()
    wall = time.perf_counter() - t0
    stats = pstats.Stats(profiler)
    rows = []
    kernel_s = None
    for (path, line, func), (cc, nc, tt, ct, _) in stats.stats.items():
        where = f"{os.path.relpath(path) if path.startswith(os.getcwd()) else path}:{line}({func})"
        rows.append({"function": where, "cumulative_s": ct, "own_s": tt, "calls": nc})
        if func == "simulate" and path.replace(os.sep, "/").endswith("emulator/kernel.py"):
            kernel_s = ct
    rows.sort(key=lambda r: -r["cumulative_s"])
    out: dict[str, Any] = {"wall_s": wall, "top_cumulative": rows[:top], "top_own": sorted(rows, key=lambda r: -r["own_s"])[:top]}
    if kernel_s is not None and dt_ms:
        updates = samples * neurons * round(duration_ms / dt_ms)
        threads = min(os.cpu_count() or 1, samples, 8)
        out.update(kernel_s=kernel_s, kernel_share=kernel_s / wall, neuron_updates=updates,
                   kernel_ns_per_neuron_update_wall=kernel_s * 1e9 / updates,
                   kernel_ns_per_neuron_update_core=kernel_s * threads * 1e9 / updates,
                   kernel_bio_s_per_wall_s=samples * duration_ms * 1e-3 / kernel_s, kernel_threads=threads)
    return out


def _bio_network(samples: int, seed: int) -> dict:
    """The paper network and its input as the reference backend sees them, in biological units."""
    import numpy as np

    from hal.analog.domains import PAPER_DOMAINS as d
    from hal.netlist import build_netlist
    from hal.netlist.bio import L1_DELAY_HW_S, bio_parameters
    from hal.netlist.wiring import extract_wiring

    net, experiment = _paper_setup(samples, seed)
    wiring = extract_wiring(experiment.config)
    request = experiment.request()
    netlist = build_netlist(wiring, request.playback, request.n_samples, request.duration, request.seed)
    params = bio_parameters(wiring.parameters, d)  # as the reference backend sees the network
    return {
        "wiring": wiring,
        "netlist": netlist,
        "params": {k: np.asarray(v, dtype=float) for k, v in params.items()},
        "n_neurons": len(wiring.neurons),
        "n_sources": netlist.n_sources,
        "pre": netlist.pre,
        "post": netlist.post,
        "weight_ns": netlist.conductance_ns / d.speedup,
        "excitatory": netlist.excitatory,
        "delay_ms": float(d.hw_s_to_ms(L1_DELAY_HW_S)),
        "in_sample": netlist.in_sample,
        "in_time_ms": d.ticks_to_ms(netlist.in_time),
        "in_source": netlist.in_source,
        "samples": samples,
        "duration_ms": float(experiment.duration_ms),
    }


def _replicated(b: dict):
    """Connections of ``samples`` independent copies: global source index, global target neuron index."""
    import numpy as np

    n, s, m = b["n_neurons"], b["n_sources"], b["samples"]
    copy = np.repeat(np.arange(m), b["pre"].size)
    pre = np.tile(b["pre"], m)
    post = np.tile(b["post"], m) + copy * n
    from_source = pre < s
    pre_global = np.where(from_source, copy * s + pre, copy * n + (pre - s))
    return from_source, pre_global, post, np.tile(b["weight_ns"], m), np.tile(b["excitatory"], m)


def _timed(run, repeat: int) -> dict:
    """Best of ``repeat`` calls of ``run() -> (time the build ended, spike counts)``; build and simulation times of that call."""
    runs, load = [], [os.getloadavg()[0]]
    for _ in range(repeat):
        t0 = time.perf_counter()
        t1, counts = run()
        t2 = time.perf_counter()
        runs.append((t2 - t0, t1 - t0, t2 - t1, counts))
        load.append(os.getloadavg()[0])
    best = min(runs, key=lambda r: r[0])
    return {"wall_s": best[0], "build_s": best[1], "simulate_s": best[2], "counts": best[3], "walls": [r[0] for r in runs], "load": load}


def _simulator_result(name: str, b: dict, timed: dict, extra: dict) -> dict:
    import numpy as np

    counts, wall_s, build_s, sim_s = timed["counts"], timed["wall_s"], timed["build_s"], timed["simulate_s"]
    spikes = np.asarray(counts, dtype=np.int64).reshape(b["samples"], b["n_neurons"]).sum(axis=0)
    events = _synaptic_events(b["wiring"], b["netlist"], spikes)
    bio_s = b["samples"] * b["duration_ms"] * 1e-3
    return {
        **_rates(bio_s, wall_s, events),
        "samples": b["samples"],
        "bio_s": bio_s,
        "wall_s": wall_s,
        "wall_s_runs": timed["walls"],
        "load_average_1min": timed["load"],
        "build_s": build_s,
        "simulate_s": sim_s,
        "simulate_bio_s_per_wall_s": bio_s / sim_s,
        "synaptic_events": events,
        "spikes": int(spikes.sum()),
        "input_events": int(b["in_source"].size),
        "peak_rss_bytes": _peak_rss_bytes(),
        **extra,
    }


def _scenario_nest(samples: int, seed: int, dt_ms: float, threads: int, repeat: int = 1) -> dict:
    """NEST ``iaf_cond_exp``: ``samples`` copies of the network in one simulation."""
    import numpy as np

    nest = importlib.import_module("nest")
    try:
        nest.verbosity = nest.VerbosityLevel.ERROR
    except AttributeError:  # NEST < 3.9
        nest.set_verbosity("M_ERROR")
    b = _bio_network(samples, seed)

    def build(b):
        nest.ResetKernel()
        nest.SetKernelStatus({"resolution": dt_ms, "local_num_threads": threads, "rng_seed": seed + 1})
        n, s, m = b["n_neurons"], b["n_sources"], b["samples"]
        generators = nest.Create("spike_generator", s * m, params={"allow_offgrid_times": True})
        key = b["in_sample"] * s + b["in_source"]
        order = np.lexsort((b["in_time_ms"], key))
        # A spike in the first step cannot be emitted at t = 0; it leaves at the end of the first step.
        times = np.maximum(b["in_time_ms"][order], dt_ms)
        bounds = np.searchsorted(key[order], np.arange(s * m + 1))
        generators.set([{"spike_times": times[bounds[i]:bounds[i + 1]].tolist()} for i in range(s * m)])
        p = b["params"]
        names = {"c_m_pf": "C_m", "g_l_ns": "g_L", "e_l_mv": "E_L", "v_th_mv": "V_th", "v_reset_mv": "V_reset", "e_rev_e_mv": "E_ex",
                 "e_rev_i_mv": "E_in", "tau_syn_e_ms": "tau_syn_ex", "tau_syn_i_ms": "tau_syn_in", "t_ref_ms": "t_ref"}
        neurons = nest.Create("iaf_cond_exp", n * m)
        neurons.set({nest_name: np.tile(p[ours], m).tolist() for ours, nest_name in names.items()} | {"V_m": np.tile(p["e_l_mv"], m).tolist()})
        from_source, pre, post, w, exc = _replicated(b)
        gen_ids = np.array(generators.tolist())
        nrn_ids = np.array(neurons.tolist())
        pre_ids = np.where(from_source, gen_ids[np.where(from_source, pre, 0)], nrn_ids[np.where(from_source, 0, pre)])
        # iaf_cond_exp: a negative weight is an inhibitory conductance jump.
        nest.Connect(pre_ids, nrn_ids[post], conn_spec="one_to_one",
                     syn_spec={"weight": np.where(exc, w, -w), "delay": np.full(w.size, b["delay_ms"])})
        recorder = nest.Create("spike_recorder")
        nest.Connect(neurons, recorder)
        return neurons, recorder

    warm = _bio_network(1, seed)
    build(warm)
    nest.Simulate(10.0)  # first use: NEST's own initialisation

    def run():
        neurons, recorder = build(b)
        t1 = time.perf_counter()
        nest.Simulate(b["duration_ms"])
        senders = np.asarray(recorder.get("events")["senders"], dtype=np.int64) - neurons.tolist()[0]
        return t1, np.bincount(senders, minlength=b["n_neurons"] * b["samples"])

    version = getattr(nest, "__version__", None) or str(nest.version())
    return _simulator_result("nest", b, _timed(run, repeat),
                             {"version": version, "model": "iaf_cond_exp", "resolution_ms": dt_ms, "threads": threads,
                              "input_times": f"rounded up to the {dt_ms} ms grid (allow_offgrid_times)"})


def _scenario_brian2(samples: int, seed: int, dt_ms: float, target: str, repeat: int = 1) -> dict:
    """Brian2 (runtime device, ``target`` code generation): ``samples`` copies of the network in one simulation."""
    import numpy as np

    b2 = importlib.import_module("brian2")
    b2.prefs.codegen.target = target
    b2.prefs.logging.console_log_level = "ERROR"
    b = _bio_network(samples, seed)
    eqs = """
    dv/dt = (g_l * (e_l - v) + ge * (e_e - v) + gi * (e_i - v)) / c_m : volt (unless refractory)
    dge/dt = -ge / tau_e : siemens
    dgi/dt = -gi / tau_i : siemens
    c_m : farad (constant)
    g_l : siemens (constant)
    e_l : volt (constant)
    e_e : volt (constant)
    e_i : volt (constant)
    v_th : volt (constant)
    v_reset : volt (constant)
    tau_e : second (constant)
    tau_i : second (constant)
    t_ref : second (constant)
    """

    def build(b):
        b2.start_scope()
        b2.defaultclock.dt = dt_ms * b2.ms
        n, s, m = b["n_neurons"], b["n_sources"], b["samples"]
        group = b2.NeuronGroup(n * m, eqs, threshold="v >= v_th", reset="v = v_reset", refractory="t_ref",
                               method="exponential_euler", name="neurons")
        p = b["params"]
        t = lambda key: np.tile(p[key], m)  # noqa: E731
        group.c_m = t("c_m_pf") * b2.pF
        group.g_l = t("g_l_ns") * b2.nS
        group.e_l = t("e_l_mv") * b2.mV
        group.e_e = t("e_rev_e_mv") * b2.mV
        group.e_i = t("e_rev_i_mv") * b2.mV
        group.v_th = t("v_th_mv") * b2.mV
        group.v_reset = t("v_reset_mv") * b2.mV
        group.tau_e = t("tau_syn_e_ms") * b2.ms
        group.tau_i = t("tau_syn_i_ms") * b2.ms
        group.t_ref = t("t_ref_ms") * b2.ms
        group.v = t("e_l_mv") * b2.mV
        # A SpikeGeneratorGroup allows one spike per index and time step: a source's second spike
        # in one step goes to a copy of the source with the same synapses (same effect, no input lost).
        key = b["in_sample"] * s + b["in_source"]
        step = np.floor(b["in_time_ms"] / dt_ms).astype(np.int64)
        order = np.lexsort((step, key))
        key, step, times = key[order], step[order], b["in_time_ms"][order]
        same = np.r_[False, (key[1:] == key[:-1]) & (step[1:] == step[:-1])]
        run_start = np.maximum.accumulate(np.where(~same, np.arange(key.size), 0))
        copy = np.arange(key.size) - run_start
        copies = int(copy.max()) + 1 if copy.size else 1
        inputs = b2.SpikeGeneratorGroup(s * m * copies, copy * s * m + key, times * b2.ms, name="inputs")
        from_source, pre, post, w, exc = _replicated(b)
        objects = [group, inputs]
        for excitatory in (True, False):
            target_var = "ge" if excitatory else "gi"
            sel = from_source & (exc == excitatory)
            if sel.any():
                syn = b2.Synapses(inputs, group, "w : siemens", on_pre=f"{target_var}_post += w", delay=b["delay_ms"] * b2.ms)
                syn.connect(i=(np.arange(copies)[:, None] * s * m + pre[sel]).ravel(), j=np.tile(post[sel], copies))
                syn.w = np.tile(w[sel], copies) * b2.nS
                objects.append(syn)
            sel = ~from_source & (exc == excitatory)
            if sel.any():
                syn = b2.Synapses(group, group, "w : siemens", on_pre=f"{target_var}_post += w", delay=b["delay_ms"] * b2.ms)
                syn.connect(i=pre[sel], j=post[sel])
                syn.w = w[sel] * b2.nS
                objects.append(syn)
        monitor = b2.SpikeMonitor(group, record=False)
        objects.append(monitor)
        return b2.Network(*objects), monitor, copies

    warm = _bio_network(1, seed)
    network, _, _ = build(warm)
    network.run(10 * b2.ms)  # code generation and compilation happen here, once
    copies = 1

    def run():
        nonlocal copies
        network, monitor, copies = build(b)
        t1 = time.perf_counter()
        network.run(b["duration_ms"] * b2.ms)
        return t1, np.asarray(monitor.count)

    timed = _timed(run, repeat)
    return _simulator_result("brian2", b, timed,
                             {"version": b2.__version__, "device": "runtime", "codegen_target": target, "method": "exponential_euler",
                              "dt_ms": dt_ms, "threads": 1, "input_copies": copies})


def _scenario_full(n_hicanns: int, bio_s: float, seed: int, backend: str) -> dict:
    """Full HICANN(s) with background input: build the configuration, run it once, time both."""
    import numpy as np

    import hal
    from hal.netlist import build_netlist
    from hal.netlist.wiring import extract_wiring

    load = [os.getloadavg()[0]]
    t0 = time.perf_counter()
    config = full_wafer(n_hicanns, seed=seed)
    t1 = time.perf_counter()
    experiment = hal.Experiment(config, bio_s * 1e3, seed=seed)
    b = hal.get_backend(backend)
    recording = hal.run(experiment, b)
    t2 = time.perf_counter()
    rss = _peak_rss_bytes()
    load.append(os.getloadavg()[0])
    info = dict(recording.hardware.info)
    lost = recording.lost_events
    # Counting (after the timed part): the netlist's fan-out of the background events.
    wiring = extract_wiring(config)
    request = experiment.request()
    netlist = build_netlist(wiring, request.playback, request.n_samples, request.duration, request.seed)
    sources, neurons = _fan_out(netlist)
    events = int(sources[netlist.in_source].sum()) + int(np.dot(_recorded_spikes(wiring, recording), neurons))
    out = {
        "bio_s": bio_s,
        "wall_s": t2 - t0,
        "build_s": t1 - t0,
        "run_s": t2 - t1,
        "peak_rss_bytes": rss,
        "load_average_1min": load,
        **_rates(bio_s, t2 - t0, events),
        "synaptic_events": events,
        "hicanns": n_hicanns,
        "neurons": len(wiring.neurons),
        "synapses": len(wiring.synapses),
        "background_generators": len(wiring.background),
        "background_events": int(netlist.in_time.size),
        "input_rate_per_synapse_hz": MAXHW_RATE_HZ,
        "spikes": int(info.get("spikes", recording.spike_counts.sum())),
        "mean_rate_hz": int(info.get("spikes", recording.spike_counts.sum())) / max(1, len(wiring.neurons)) / bio_s,
        "recorded_spikes": int(recording.spike_counts.sum()),
        "lost_events": {"input": sum(lost["input"].values()), "output": sum(lost["output"].values()), "unattributed": lost["unattributed"]},
        "backend": backend,
    }
    return out


_SCENARIOS = {
    "backend": _scenario_backend,
    "nest": _scenario_nest,
    "brian2": _scenario_brian2,
    "full": _scenario_full,
}


def _worker(spec_path: str, out_path: str) -> int:
    """Run one scenario (``python -m hal_plugins.bench.bench --worker SPEC OUT``) and write its JSON result."""
    from hal.logging import configure

    configure(level="warning")
    with open(spec_path) as f:
        spec = json.load(f)
    result = _SCENARIOS[spec.pop("scenario")](**spec)
    with open(out_path, "w") as f:
        json.dump(result, f)
    return 0


def _in_subprocess(name: str, timeout_s: float, env: dict[str, str] | None = None, **spec) -> dict:
    from hal.errors import BackendError

    with tempfile.TemporaryDirectory(prefix="hal-bench-") as tmp:
        spec_path, out_path = os.path.join(tmp, "spec.json"), os.path.join(tmp, "out.json")
        with open(spec_path, "w") as f:
            json.dump(spec, f)
        t0 = time.perf_counter()
        try:
            done = subprocess.run([sys.executable, "-m", "hal_plugins.bench.bench", "--worker", spec_path, out_path],
                                  capture_output=True, text=True, timeout=timeout_s, env={**os.environ, **(env or {})})
        except subprocess.TimeoutExpired:
            raise BackendError(f"benchmark {name}: no result after {timeout_s:.0f} s") from None
        if done.returncode != 0 or not os.path.exists(out_path):
            tail = (done.stderr or done.stdout).strip().splitlines()[-12:]
            raise BackendError(f"benchmark {name}: worker exited with status {done.returncode}:\n" + "\n".join(tail))
        with open(out_path) as f:
            result = json.load(f)
    log.info("bench_scenario_finished", scenario=name, process_s=round(time.perf_counter() - t0, 2))
    return result


def _backend_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """``"name"`` or ``"name:key=value,key=value"`` (values as JSON where they parse) -> (name, options)."""
    from hal.errors import ConfigError

    name, _, rest = spec.partition(":")
    options: dict[str, Any] = {}
    for item in filter(None, rest.split(",")):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"bench backend {spec!r}: option {item!r} is not KEY=VALUE (e.g. emulator:dtype=float32)")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return name, options


def _importable(module: str) -> tuple[bool, str | None]:
    """Whether ``module`` imports in a fresh interpreter (a broken install says why)."""
    if importlib.util.find_spec(module) is None:
        return False, "not installed (pip install 'wafer-hal[bench]')"
    done = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        return False, lines[-1] if lines else f"import {module} failed"
    return True, None


# -- the whole benchmark --------------------------------------------------------------------------


def _machine() -> dict:
    import numpy as np

    model = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = None
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        pass
    from hal import __version__

    return {"cpu": model, "machine": platform.machine(), "cores": os.cpu_count(), "memory_bytes": memory,
            "python": platform.python_version(), "numpy": np.__version__, "hal": __version__, "platform": platform.platform()}


def run_benchmarks(
    *,
    quick: bool = False,
    samples: int | None = None,
    reference_samples: int | None = None,
    simulator_samples: int | None = None,
    backends: tuple[str, ...] = ("emulator", "noisy", "reference"),
    simulators: tuple[str, ...] = ("nest", "brian2"),
    skip_hicann: bool = False,
    skip_wafer: bool = False,
    wafer_hicanns: int | None = None,
    wafer_bio_s: float | None = None,
    hicann_bio_s: float | None = None,
    simulator_dt_ms: float = 0.05,
    brian2_target: str = "cython",
    repeat: int | None = None,
    profile: bool = False,
    seed: int = 0,
    timeout_s: float = 1800.0,
) -> dict:
    """Run the benchmark (see the module docstring) and return its results as a JSON-ready dict.

    ``quick`` shrinks every size (for tests: seconds, not minutes); explicit
    sizes override either preset. Simulators that are not importable are
    reported as ``None`` (with the reason under ``paper_network.unavailable``).
    """
    from hal.errors import ConfigError

    preset = dict(_QUICK if quick else _FULL)
    for key, value in (("samples", samples), ("reference_samples", reference_samples), ("simulator_samples", simulator_samples),
                       ("wafer_hicanns", wafer_hicanns), ("wafer_bio_s", wafer_bio_s), ("hicann_bio_s", hicann_bio_s), ("repeat", repeat)):
        if value is not None:
            preset[key] = value
    for key in ("samples", "reference_samples", "simulator_samples", "repeat"):
        if not isinstance(preset[key], int) or isinstance(preset[key], bool) or preset[key] < 1:
            raise ConfigError(f"bench {key}: {preset[key]!r} out of range; valid an integer >= 1")
    if not 1 <= preset["wafer_hicanns"] <= 384:
        raise ConfigError(f"bench wafer_hicanns: {preset['wafer_hicanns']!r} out of range; valid 1..384")
    for key in ("wafer_bio_s", "hicann_bio_s"):
        if not preset[key] > 0:
            raise ConfigError(f"bench {key}: {preset[key]!r} out of range; valid > 0 s")
    unknown = set(simulators) - {"nest", "brian2"}
    if unknown:
        raise ConfigError(f"bench simulators: {sorted(unknown)} unknown; known: brian2, nest")

    started = time.perf_counter()
    load_start = os.getloadavg()
    batch = preset["samples"]
    paper: dict[str, Any] = {
        "network": {
            "neurons": 135, "layers": [100, 15, 15, 5], "circuits_per_neuron": 2,
            "circuits_note": "4 circuits per neuron would need 270 denmem columns; one HICANN has 256, so the single-HICANN builder uses 2",
            "synapses": 100 + 2 * (100 * 15 + 15 * 15 + 15 * 5), "sources": 100,
            "input_rate_hz_total": PAPER_TOTAL_RATE_HZ, "sample_ms": PAPER_SAMPLE_MS, "stimulus_ms": PAPER_STIMULUS_MS,
            "batch": batch, "seed": seed,
        },
        "unavailable": {},
    }
    for spec in backends:
        name, options = _backend_spec(spec)
        n = preset["reference_samples"] if name == "reference" else batch
        paper[spec] = _in_subprocess(f"paper_network/{spec}", timeout_s, scenario="backend", backend=name, options=options,
                                     samples=min(n, batch), seed=seed, profile=profile and spec == "emulator", repeat=preset["repeat"])
    if "emulator" in paper:
        paper["network"]["synapses_realised"] = paper["emulator"]["info"].get("synapses")
    threads = os.cpu_count() or 1
    for name in ("nest", "brian2"):
        paper[name] = None
        if name not in simulators:
            paper["unavailable"][name] = "not requested"
            continue
        ok, why = _importable(name)
        if not ok:
            paper["unavailable"][name] = why
            continue
        n = min(preset["simulator_samples"], batch)
        if name == "nest":
            # Passive OpenMP waiting: with spinning barriers, NEST's 2 threads slowed down 4-7x whenever
            # anything else wants a core (measured on the 2-core machine, docs/benchmarks.md).
            policy = os.environ.get("OMP_WAIT_POLICY", "PASSIVE")
            paper[name] = _in_subprocess("paper_network/nest", timeout_s, env={"OMP_WAIT_POLICY": policy}, scenario="nest", samples=n,
                                         seed=seed, dt_ms=simulator_dt_ms, threads=threads, repeat=preset["repeat"])
            paper[name]["omp_wait_policy"] = policy
        else:
            paper[name] = _in_subprocess("paper_network/brian2", timeout_s, scenario="brian2", samples=n, seed=seed, dt_ms=simulator_dt_ms,
                                         target=brian2_target, repeat=preset["repeat"])
    emulator = (paper.get("emulator") or {}).get("bio_s_per_wall_s")
    paper["speedup"] = {
        f"emulator_vs_{other}": (emulator / paper[other]["bio_s_per_wall_s"]) if emulator and paper.get(other) else None
        for other in ("reference", "nest", "brian2")
    }

    result: dict[str, Any] = {"paper_network": paper, "hicann": None, "wafer": None}
    if not skip_hicann:
        result["hicann"] = _in_subprocess("hicann", timeout_s, scenario="full", n_hicanns=1, bio_s=preset["hicann_bio_s"], seed=seed,
                                          backend="emulator")
    if not skip_wafer:
        result["wafer"] = _in_subprocess("wafer", timeout_s, scenario="full", n_hicanns=preset["wafer_hicanns"], bio_s=preset["wafer_bio_s"],
                                         seed=seed, backend="emulator")
    total = time.perf_counter() - started
    result["total_wall_s"] = total
    result["quick"] = quick
    result["machine"] = {**_machine(), "load_average_start": load_start, "load_average_end": os.getloadavg()}
    result["settings"] = {**preset, "simulator_dt_ms": simulator_dt_ms, "brian2_target": brian2_target, "seed": seed,
                          "backends": list(backends), "simulators": list(simulators)}
    result["targets"] = _targets(result)
    return result


def _targets(result: dict) -> dict:
    paper = result["paper_network"]
    out: dict[str, Any] = {}
    emulator = paper.get("emulator")
    if emulator:
        value = emulator["bio_s_per_wall_s"]
        out["emulator_bio_s_per_wall_s"] = {"target": TARGETS["emulator_bio_s_per_wall_s"], "measured": value,
                                            "met": value >= TARGETS["emulator_bio_s_per_wall_s"]}
    for other in ("nest", "brian2"):
        ratio = paper["speedup"].get(f"emulator_vs_{other}")
        if ratio is not None:
            out[f"emulator_vs_{other}"] = {"target": TARGETS["emulator_vs_simulators"], "measured": ratio,
                                           "met": ratio >= TARGETS["emulator_vs_simulators"]}
    wafer = result.get("wafer")
    if wafer and wafer.get("hicanns") == 384:
        out["wafer_wall_s"] = {"target": TARGETS["wafer_wall_s"], "measured": wafer["wall_s"], "met": wafer["wall_s"] < TARGETS["wafer_wall_s"]}
        out["wafer_peak_rss_bytes"] = {"target": TARGETS["wafer_peak_rss_bytes"], "measured": wafer["peak_rss_bytes"],
                                       "met": wafer["peak_rss_bytes"] < TARGETS["wafer_peak_rss_bytes"]}
    out["total_wall_s"] = {"target": TARGETS["total_wall_s"], "measured": result["total_wall_s"],
                           "met": result["total_wall_s"] < TARGETS["total_wall_s"]}
    return out


# -- command line -----------------------------------------------------------------------------------


def configure(p: argparse.ArgumentParser):
    """Add the ``bench`` options to ``p`` (``hal bench``'s parser, or a standalone one); return the handler."""
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--out", help="also write the JSON results to this file")
    p.add_argument("--quick", action="store_true", help="tiny sizes (seconds): checks the code path, measures nothing useful")
    p.add_argument("--samples", type=int, help="paper-network batch for emulator and noisy (default 1200; quick 6)")
    p.add_argument("--reference-samples", type=int, help="samples of the batch run on the reference backend (default 60)")
    p.add_argument("--simulator-samples", type=int, help="samples of the batch run on NEST and Brian2 (default 60)")
    p.add_argument("--backend", action="append", dest="backends", metavar="NAME[:KEY=VALUE,...]",
                   help="hal backend to time on the paper network, with options if any, e.g. emulator:dtype=float32 "
                        "(repeatable; default emulator, noisy, reference)")
    p.add_argument("--simulator", action="append", dest="simulators", choices=("nest", "brian2"),
                   help="reference simulator to time (repeatable; default both, when installed)")
    p.add_argument("--no-simulators", action="store_true", help="skip NEST and Brian2")
    p.add_argument("--skip-hicann", action="store_true", help="skip the full-HICANN scenario")
    p.add_argument("--skip-wafer", action="store_true", help="skip the full-wafer scenario")
    p.add_argument("--wafer-hicanns", type=int, help="HICANNs in the wafer scenario (default 384)")
    p.add_argument("--wafer-bio-s", type=float, help="biological seconds of the wafer scenario (default 0.1)")
    p.add_argument("--hicann-bio-s", type=float, help="biological seconds of the full-HICANN scenario (default 1.0)")
    p.add_argument("--repeat", type=int, help="timed runs per scenario on the paper network, best reported (default 2; quick 1)")
    p.add_argument("--profile", action="store_true", help="profile one more emulator batch (cProfile top entries, kernel time)")
    p.add_argument("--seed", type=int, default=0)
    return _cmd_bench


def _cmd_bench(args: argparse.Namespace) -> int:
    result = run_benchmarks(
        quick=args.quick, samples=args.samples, reference_samples=args.reference_samples, simulator_samples=args.simulator_samples,
        backends=tuple(args.backends or ("emulator", "noisy", "reference")),
        simulators=() if args.no_simulators else tuple(args.simulators or ("nest", "brian2")),
        skip_hicann=args.skip_hicann, skip_wafer=args.skip_wafer, wafer_hicanns=args.wafer_hicanns, wafer_bio_s=args.wafer_bio_s,
        hicann_bio_s=args.hicann_bio_s, repeat=args.repeat, profile=args.profile, seed=args.seed,
    )
    text = json.dumps(result, indent=2, sort_keys=True)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    print(text if args.json else summary(result))
    return 0


def _fmt_bytes(n: int | None) -> str:
    return "-" if n is None else f"{n / 2**20:,.0f} MiB"


def summary(result: dict) -> str:
    """A readable table of the results."""
    paper = result["paper_network"]
    backends = [k for k in paper if k not in ("network", "unavailable", "speedup", "nest", "brian2")]
    w = max(10, *(len(k) for k in backends))
    lines = [f"paper network (batch {paper['network']['batch']}, 1 s per sample):",
             f"  {'':<{w}} {'samples':>8} {'bio-s/wall-s':>13} {'syn. events/s':>14} {'wall s':>8} {'peak RSS':>10}"]
    for name in (*backends, "nest", "brian2"):
        r = paper.get(name)
        if r is None:
            why = paper.get("unavailable", {}).get(name)
            if why:
                lines.append(f"  {name:<{w}} {'-':>8} {'-':>13} {'-':>14} {'-':>8} {'-':>10}  ({why})")
            continue
        lines.append(f"  {name:<{w}} {r['samples']:>8} {r['bio_s_per_wall_s']:>13,.1f} {r['synaptic_events_per_s']:>14,.0f} "
                     f"{r['wall_s']:>8.2f} {_fmt_bytes(r.get('peak_rss_bytes')):>10}")
    for name in ("hicann", "wafer"):
        r = result.get(name)
        if r:
            lines.append(f"{name}: {r['hicanns']} HICANN(s), {r['neurons']:,} neurons, {r['synapses']:,} synapses, {r['bio_s']} s bio: "
                         f"wall {r['wall_s']:.1f} s (build {r['build_s']:.1f}, run {r['run_s']:.1f}), peak RSS {_fmt_bytes(r['peak_rss_bytes'])}, "
                         f"{r['synaptic_events_per_s']:,.0f} syn. events/s")
    lines.append("targets:")
    for key, t in result["targets"].items():
        lines.append(f"  {key:<28} {'met' if t['met'] else 'MISSED':<7} measured {t['measured']:,.4g} (target {t['target']:,.4g})")
    lines.append(f"total {result['total_wall_s']:.1f} s on {result['machine']['cores']} cores ({result['machine']['cpu']})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``python -m hal_plugins.bench.bench [options]`` (the same options as ``hal bench``)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker"]:
        return _worker(argv[1], argv[2])
    from hal.errors import HalError
    from hal.logging import configure

    parser = argparse.ArgumentParser(prog="hal bench", description=DESCRIPTION)
    handler = configure(parser)
    args = parser.parse_args(argv)
    configure(level="info")
    try:
        return handler(args)
    except HalError as exc:
        print(f"hal bench: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
