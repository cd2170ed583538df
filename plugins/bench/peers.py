"""The peer simulators: NEST (``iaf_cond_exp``) and Brian2 on the paper network.

Both get the network as the reference backend sees it (:func:`bio_network`:
:func:`hal.netlist.wiring.extract_wiring` and :func:`hal.netlist.build_netlist` of the mapped
paper network, converted to biological units exactly as ``plugins/reference/backend.py`` does)
and the same input spikes; every sample is a separate copy of the network in one simulation
(as the emulator's batch). NEST and Brian2 are imported only through
:func:`importlib.import_module`, inside the worker process that runs them.
"""

from __future__ import annotations

import importlib
import os
import time

from hal_plugins.bench.counting import peak_rss_bytes, rates, synaptic_events
from hal_plugins.bench.networks import full_wafer, paper_experiment, paper_network, wiring_and_netlist

__all__ = ["bio_network", "replicated", "scenario_brian2", "scenario_nest"]

# NEST iaf_cond_exp parameter names of the reference backend's biological parameters.
_NEST_NAMES = {"c_m_pf": "C_m", "g_l_ns": "g_L", "e_l_mv": "E_L", "v_th_mv": "V_th", "v_reset_mv": "V_reset", "e_rev_e_mv": "E_ex",
               "e_rev_i_mv": "E_in", "tau_syn_e_ms": "tau_syn_ex", "tau_syn_i_ms": "tau_syn_in", "t_ref_ms": "t_ref"}

# Brian2: the conductance-based LIF neuron of the reference backend.
_BRIAN2_EQUATIONS = """
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

# Brian2 neuron variable, unit name, and our parameter key.
_BRIAN2_PARAMETERS = (("c_m", "pF", "c_m_pf"), ("g_l", "nS", "g_l_ns"), ("e_l", "mV", "e_l_mv"), ("e_e", "mV", "e_rev_e_mv"),
                      ("e_i", "mV", "e_rev_i_mv"), ("v_th", "mV", "v_th_mv"), ("v_reset", "mV", "v_reset_mv"),
                      ("tau_e", "ms", "tau_syn_e_ms"), ("tau_i", "ms", "tau_syn_i_ms"), ("t_ref", "ms", "t_ref_ms"),
                      ("v", "mV", "e_l_mv"))


def bio_network(samples: int, seed: int, hicanns: int = 0, bio_s: float = 1.0) -> dict:
    """The paper network (``hicanns`` 0) or ``hicanns`` full HICANNs with background input for ``bio_s``
    (one sample; :func:`hal_plugins.bench.networks.full_wafer`), with the input, as the reference
    backend sees them, in biological units."""
    import numpy as np

    import hal
    from hal.analog.domains import PAPER_DOMAINS as d
    from hal.netlist.bio import L1_DELAY_HW_S, bio_parameters

    if hicanns:
        samples = 1
        experiment = hal.Experiment(full_wafer(hicanns, seed=seed), bio_s * 1e3, seed=seed)
    else:
        experiment = paper_experiment(paper_network(seed), samples, seed)
    wiring, netlist = wiring_and_netlist(experiment)
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


def replicated(b: dict):
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


def _simulator_result(b: dict, timed: dict, extra: dict, count_samples: int | None = None) -> dict:
    """The JSON result of a peer; ``counts``: spikes per neuron of the first ``count_samples`` samples (all by default)."""
    import numpy as np

    counts, wall_s, build_s, sim_s = timed["counts"], timed["wall_s"], timed["build_s"], timed["simulate_s"]
    per_sample = np.asarray(counts, dtype=np.int64).reshape(b["samples"], b["n_neurons"])
    spikes = per_sample.sum(axis=0)
    counted = min(b["samples"], count_samples or b["samples"])
    events = synaptic_events(b["netlist"], spikes)
    bio_s = b["samples"] * b["duration_ms"] * 1e-3
    return {
        **rates(bio_s, wall_s, events),
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
        "peak_rss_bytes": peak_rss_bytes(),
        "counted_samples": counted,
        "counts": per_sample[:counted].sum(axis=0).tolist(),
        **extra,
    }


# -- NEST ------------------------------------------------------------------------------------------


def _nest_build(nest, b: dict, dt_ms: float, threads: int, seed: int):
    """A fresh NEST kernel with ``b``'s copies of the network: (neurons, spike recorder)."""
    import numpy as np

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
    neurons = nest.Create("iaf_cond_exp", n * m)
    neurons.set({nest_name: np.tile(p[ours], m).tolist() for ours, nest_name in _NEST_NAMES.items()} | {"V_m": np.tile(p["e_l_mv"], m).tolist()})
    from_source, pre, post, w, exc = replicated(b)
    gen_ids = np.array(generators.tolist())
    nrn_ids = np.array(neurons.tolist())
    pre_ids = np.where(from_source, gen_ids[np.where(from_source, pre, 0)], nrn_ids[np.where(from_source, 0, pre)])
    # iaf_cond_exp: a negative weight is an inhibitory conductance jump.
    nest.Connect(pre_ids, nrn_ids[post], conn_spec="one_to_one",
                 syn_spec={"weight": np.where(exc, w, -w), "delay": np.full(w.size, b["delay_ms"])})
    recorder = nest.Create("spike_recorder")
    nest.Connect(neurons, recorder)
    return neurons, recorder


def scenario_nest(samples: int, seed: int, dt_ms: float, threads: int, repeat: int = 1, count_samples: int | None = None,
                  hicanns: int = 0, bio_s: float = 1.0) -> dict:
    """NEST ``iaf_cond_exp``: ``samples`` copies of the network in one simulation (or ``hicanns`` full HICANNs, :func:`bio_network`)."""
    import numpy as np

    nest = importlib.import_module("nest")
    try:
        nest.verbosity = nest.VerbosityLevel.ERROR
    except AttributeError:  # NEST < 3.9
        nest.set_verbosity("M_ERROR")
    b = bio_network(samples, seed, hicanns, bio_s)
    _nest_build(nest, bio_network(1, seed), dt_ms, threads, seed)
    nest.Simulate(10.0)  # first use: NEST's own initialisation

    def run():
        neurons, recorder = _nest_build(nest, b, dt_ms, threads, seed)
        t1 = time.perf_counter()
        nest.Simulate(b["duration_ms"])
        senders = np.asarray(recorder.get("events")["senders"], dtype=np.int64) - neurons.tolist()[0]
        return t1, np.bincount(senders, minlength=b["n_neurons"] * b["samples"])

    version = getattr(nest, "__version__", None) or str(nest.version())
    return _simulator_result(b, _timed(run, repeat),
                             {"version": version, "model": "iaf_cond_exp", "resolution_ms": dt_ms, "threads": threads,
                              "input_times": f"rounded up to the {dt_ms} ms grid (allow_offgrid_times)"}, count_samples)


# -- Brian2 ----------------------------------------------------------------------------------------


def _brian2_neurons(b2, b: dict):
    """The ``samples`` copies of the neurons, parameters set."""
    import numpy as np

    m = b["samples"]
    group = b2.NeuronGroup(b["n_neurons"] * m, _BRIAN2_EQUATIONS, threshold="v >= v_th", reset="v = v_reset", refractory="t_ref",
                           method="exponential_euler", name="neurons")
    for variable, unit, key in _BRIAN2_PARAMETERS:
        setattr(group, variable, np.tile(b["params"][key], m) * getattr(b2, unit))
    return group


def _brian2_inputs(b2, b: dict, dt_ms: float):
    """The input spikes as a SpikeGeneratorGroup, and how many copies of each source it holds.

    A SpikeGeneratorGroup allows one spike per index and time step: a source's second spike in
    one step goes to a copy of the source with the same synapses (same effect, no input lost).
    """
    import numpy as np

    sm = b["n_sources"] * b["samples"]
    key = b["in_sample"] * b["n_sources"] + b["in_source"]
    step = np.floor(b["in_time_ms"] / dt_ms).astype(np.int64)
    order = np.lexsort((step, key))
    key, step, times = key[order], step[order], b["in_time_ms"][order]
    same = np.r_[False, (key[1:] == key[:-1]) & (step[1:] == step[:-1])]
    run_start = np.maximum.accumulate(np.where(~same, np.arange(key.size), 0))
    copy = np.arange(key.size) - run_start
    copies = int(copy.max()) + 1 if copy.size else 1
    return b2.SpikeGeneratorGroup(sm * copies, copy * sm + key, times * b2.ms, name="inputs"), copies


def _brian2_synapses(b2, b: dict, group, inputs, copies: int) -> list:
    """Input and recurrent synapses, one Synapses object per (source kind, sign)."""
    import numpy as np

    sm = b["n_sources"] * b["samples"]
    from_source, pre, post, w, exc = replicated(b)
    objects = []
    for excitatory in (True, False):
        on_pre = f"{'ge' if excitatory else 'gi'}_post += w"
        sel = from_source & (exc == excitatory)
        if sel.any():
            syn = b2.Synapses(inputs, group, "w : siemens", on_pre=on_pre, delay=b["delay_ms"] * b2.ms)
            syn.connect(i=(np.arange(copies)[:, None] * sm + pre[sel]).ravel(), j=np.tile(post[sel], copies))
            syn.w = np.tile(w[sel], copies) * b2.nS
            objects.append(syn)
        sel = ~from_source & (exc == excitatory)
        if sel.any():
            syn = b2.Synapses(group, group, "w : siemens", on_pre=on_pre, delay=b["delay_ms"] * b2.ms)
            syn.connect(i=pre[sel], j=post[sel])
            syn.w = w[sel] * b2.nS
            objects.append(syn)
    return objects


def _brian2_build(b2, b: dict, dt_ms: float):
    """A fresh Brian2 network with ``b``'s copies: (network, spike monitor, input copies)."""
    b2.start_scope()
    b2.defaultclock.dt = dt_ms * b2.ms
    group = _brian2_neurons(b2, b)
    inputs, copies = _brian2_inputs(b2, b, dt_ms)
    monitor = b2.SpikeMonitor(group, record=False)
    return b2.Network(group, inputs, *_brian2_synapses(b2, b, group, inputs, copies), monitor), monitor, copies


def scenario_brian2(samples: int, seed: int, dt_ms: float, target: str, repeat: int = 1, threads: int = 1,
                    count_samples: int | None = None, hicanns: int = 0, bio_s: float = 1.0) -> dict:
    """Brian2: ``samples`` copies of the network in one simulation.

    ``target`` ``"cpp_standalone"`` (Brian2's strongest configuration: one C++ program, OpenMP with
    ``threads``; compile time reported apart as ``compile_s``, the program's own simulation loop as
    ``simulate_s``, the whole program run as ``wall_s``), or a runtime code-generation target
    (``"cython"``, ``"numpy"``: one thread).
    """
    if target == "cpp_standalone":
        return _brian2_standalone(bio_network(samples, seed, hicanns, bio_s), dt_ms, repeat, threads, count_samples)
    import numpy as np

    b2 = importlib.import_module("brian2")
    b2.prefs.codegen.target = target
    b2.prefs.logging.console_log_level = "ERROR"
    b = bio_network(samples, seed, hicanns, bio_s)
    network, _, _ = _brian2_build(b2, bio_network(1, seed), dt_ms)
    network.run(10 * b2.ms)  # code generation and compilation happen here, once
    copies = 1

    def run():
        nonlocal copies
        network, monitor, copies = _brian2_build(b2, b, dt_ms)
        t1 = time.perf_counter()
        network.run(b["duration_ms"] * b2.ms)
        return t1, np.asarray(monitor.count)

    timed = _timed(run, repeat)
    return _simulator_result(b, timed,
                             {"version": b2.__version__, "device": "runtime", "codegen_target": target, "method": "exponential_euler",
                              "dt_ms": dt_ms, "threads": 1, "input_copies": copies}, count_samples)


def _brian2_standalone(b: dict, dt_ms: float, repeat: int, threads: int, count_samples: int | None) -> dict:
    """Brian2's C++ standalone device with OpenMP: generate and compile once, run the program ``repeat`` times."""
    import tempfile

    import numpy as np

    b2 = importlib.import_module("brian2")
    b2.prefs.logging.console_log_level = "ERROR"
    with tempfile.TemporaryDirectory(prefix="hal-bench-brian2-") as directory:
        b2.set_device("cpp_standalone", directory=directory, build_on_run=False)
        b2.prefs.devices.cpp_standalone.openmp_threads = threads
        t0 = time.perf_counter()
        network, monitor, copies = _brian2_build(b2, b, dt_ms)
        network.run(b["duration_ms"] * b2.ms)
        t1 = time.perf_counter()
        b2.device.build(directory=directory, compile=True, run=False, with_output=False)
        t2 = time.perf_counter()
        runs, load = [], [os.getloadavg()[0]]
        for _ in range(repeat):
            started = time.perf_counter()
            b2.device.run(directory=directory, with_output=False)
            runs.append((time.perf_counter() - started, float(b2.device._last_run_time)))
            load.append(os.getloadavg()[0])
        counts = np.asarray(monitor.count)
        b2.device.reinit()
        b2.set_device("runtime")
    best = min(runs)
    timed = {"wall_s": best[0], "build_s": t1 - t0, "simulate_s": best[1], "counts": counts, "walls": [r[0] for r in runs], "load": load}
    return _simulator_result(b, timed,
                             {"version": b2.__version__, "device": "cpp_standalone", "codegen_target": "cpp_standalone",
                              "method": "exponential_euler", "dt_ms": dt_ms, "threads": threads, "openmp_threads": threads,
                              "input_copies": copies, "compile_s": t2 - t1,
                              "timing": "wall_s: the compiled program's run (loading its arrays, the loop, writing results); "
                                        "simulate_s: its simulation loop; build_s: Python network set-up and code generation; "
                                        "compile_s: the C++ compiler"}, count_samples)
