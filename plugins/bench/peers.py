"""The peer simulators: NEST (``iaf_cond_exp``) and Brian2 on the paper network.

Both get the network as the reference backend sees it (:func:`bio_network`:
:func:`hal.netlist.wiring.extract_wiring` and :func:`hal.netlist.build_netlist` of the mapped
paper network, converted to biological units exactly as ``plugins/reference/backend.py`` does)
and the same input spikes; every sample is a separate copy of the network in one simulation
(as the emulator's batch; NEST, whose rate per copy falls as the copies grow, in chunks of copies
under a time budget). How Brian2 is given the network was chosen by measurement
(:func:`brian2_model`, docs/benchmarks.md). NEST and Brian2 are imported only through
:func:`importlib.import_module`, inside the worker process that runs them.
"""

from __future__ import annotations

import importlib
import os
import time

from hal_plugins.bench.counting import fan_out, peak_rss_bytes, rates
from hal_plugins.bench.networks import full_wafer, paper_experiment, paper_network, wiring_and_netlist

__all__ = ["BRIAN2_COMPILE_ARGS", "BRIAN2_FORMS", "BRIAN2_PRECISIONS", "bio_network", "brian2_model", "replicated", "scenario_brian2", "scenario_nest"]

# NEST iaf_cond_exp parameter names of the reference backend's biological parameters.
_NEST_NAMES = {"c_m_pf": "C_m", "g_l_ns": "g_L", "e_l_mv": "E_L", "v_th_mv": "V_th", "v_reset_mv": "V_reset", "e_rev_e_mv": "E_ex",
               "e_rev_i_mv": "E_in", "tau_syn_e_ms": "tau_syn_ex", "tau_syn_i_ms": "tau_syn_in", "t_ref_ms": "t_ref"}

# Brian2: the conductance-based LIF neuron of the reference backend, as Brian2's equations (the
# "equations" form). The parameters are declared by :func:`brian2_model`: as constants in the code
# where all neurons share the value, per neuron otherwise.
_BRIAN2_EQUATIONS = """
dv/dt = (g_l * (e_l - v) + ge * (e_e - v) + gi * (e_i - v)) / c_m : volt (unless refractory)
dge/dt = -ge / tau_e : siemens
dgi/dt = -gi / tau_i : siemens
"""

# The same neuron in the "explicit" form: the state, and one step of the exponential Euler scheme
# Brian2 generates for the equations above (the conductances decay exactly; v moves exactly at the
# step's conductances; v is held while refractory), written out so that every loop-invariant factor
# -- dt included -- is a hoisted constant: in float32 Brian2 then calls the 8-wide float exp, where
# its own code multiplies by the double dt and calls the 4-wide double exp. The gate _open is a
# boolean, which Brian2 turns into a selection (int(...) would be an int64, whose conversion to
# float has no AVX2 instruction and keeps gcc from vectorising the loop).
_BRIAN2_STATE = """
v : volt
ge : siemens
gi : siemens
lastspike : second
"""
_BRIAN2_UPDATE = """
_open = not ((t - lastspike) < t_ref_open)
_ge = exp(-dt / tau_e) * ge
_gi = exp(-dt / tau_i) * gi
_BA_v = (e_l * g_l / c_m + (e_e / c_m * ge + e_i / c_m * gi)) / (-g_l / c_m - (1.0 / c_m * ge + 1.0 / c_m * gi))
_v = -_BA_v + (_BA_v + v) * exp(-dt * g_l / c_m - (dt / c_m * ge + dt / c_m * gi))
ge = _ge
gi = _gi
v = _open * _v + (1 - _open) * v
"""

#: How Brian2 is given the neuron (:func:`brian2_model`), and in which precision, by default.
BRIAN2_FORMS = ("explicit", "equations")
BRIAN2_PRECISIONS = ("float32", "float64")

# Brian2 neuron variable, unit name, and our parameter key.
_BRIAN2_PARAMETERS = (("c_m", "pF", "c_m_pf"), ("g_l", "nS", "g_l_ns"), ("e_l", "mV", "e_l_mv"), ("e_e", "mV", "e_rev_e_mv"),
                      ("e_i", "mV", "e_rev_i_mv"), ("v_th", "mV", "v_th_mv"), ("v_reset", "mV", "v_reset_mv"),
                      ("tau_e", "ms", "tau_syn_e_ms"), ("tau_i", "ms", "tau_syn_i_ms"), ("t_ref", "ms", "t_ref_ms"),
                      ("v", "mV", "e_l_mv"))

# Brian2's unit of each parameter's dimension, for per-neuron declarations.
_BRIAN2_DIMENSIONS = {"pF": "farad", "nS": "siemens", "mV": "volt", "ms": "second"}

# The C++ flags of Brian2's standalone device: its defaults less -fno-finite-math-only, which
# keeps gcc from calling glibc's vector exp (measured: without it the state update, 88 % of the
# program, is not vectorised at all). The model has no infinities or NaNs to protect.
BRIAN2_COMPILE_ARGS = ("-w", "-O3", "-ffast-math", "-march=native", "-std=c++11")


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
    sources, neurons = fan_out(b["netlist"])  # b's own input events: b may be a part of the netlist's batch
    events = int(sources[b["in_source"]].sum()) + int(np.dot(spikes, neurons))
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


def sample_range(b: dict, start: int, stop: int) -> dict:
    """``b`` (:func:`bio_network`) with only its samples ``start`` .. ``stop - 1``, numbered from 0."""
    sel = (b["in_sample"] >= start) & (b["in_sample"] < stop)
    return {**b, "samples": stop - start, "in_sample": b["in_sample"][sel] - start, "in_time_ms": b["in_time_ms"][sel],
            "in_source": b["in_source"][sel]}


def _nest_chunks(nest, b: dict, dt_ms: float, threads: int, seed: int, chunk: int, budget_s: float | None,
                 must_run: int = 0) -> tuple[int, dict]:
    """``b``'s samples ``chunk`` copies at a time, each chunk in a fresh kernel, until the next would end after ``budget_s``.

    Chunks bound the time where one probe could not: NEST's rate per copy falls as the copies
    grow (a 12-copy probe predicted 240 s for 926 copies, which took 678 s and 9 GB), but is the
    same for every chunk of one size, so the last chunk's time predicts the next one's. The
    chunks holding the first ``must_run`` samples (those compared with the reference) and at
    least one chunk always run. Returns the samples run and their timing (as :func:`_timed`).
    """
    import numpy as np

    n = b["n_neurons"]
    counts, build_s, simulate_s, last_s, load = [], 0.0, 0.0, 0.0, [os.getloadavg()[0]]
    started = time.perf_counter()
    for start in range(0, b["samples"], chunk):
        if counts and start >= must_run and budget_s is not None and time.perf_counter() - started + last_s > budget_s:
            break
        part = sample_range(b, start, min(start + chunk, b["samples"]))
        t0 = time.perf_counter()
        neurons, recorder = _nest_build(nest, part, dt_ms, threads, seed)
        t1 = time.perf_counter()
        nest.Simulate(part["duration_ms"])
        senders = np.asarray(recorder.get("events")["senders"], dtype=np.int64) - neurons.tolist()[0]
        counts.append(np.bincount(senders, minlength=n * part["samples"]))
        t2 = time.perf_counter()
        build_s, simulate_s, last_s = build_s + t1 - t0, simulate_s + t2 - t1, t2 - t0
        load.append(os.getloadavg()[0])
    wall_s = time.perf_counter() - started
    done = sum(c.size for c in counts) // n
    return done, {"wall_s": wall_s, "build_s": build_s, "simulate_s": simulate_s, "counts": np.concatenate(counts), "walls": [wall_s],
                  "load": load, "last_chunk_s": last_s}


def scenario_nest(samples: int, seed: int, dt_ms: float, threads: int, repeat: int = 1, count_samples: int | None = None,
                  hicanns: int = 0, bio_s: float = 1.0, chunk_samples: int | None = None, budget_s: float | None = None) -> dict:
    """NEST ``iaf_cond_exp``: ``samples`` copies of the network (or ``hicanns`` full HICANNs, :func:`bio_network`).

    All copies in one simulation (best of ``repeat``), or, with ``chunk_samples`` fewer than
    ``samples``, ``chunk_samples`` copies per simulation until ``budget_s`` (:func:`_nest_chunks`;
    the JSON's ``samples_cut`` says how many ran and why when not all did).
    """
    import numpy as np

    nest = importlib.import_module("nest")
    try:
        nest.verbosity = nest.VerbosityLevel.ERROR
    except AttributeError:  # NEST < 3.9
        nest.set_verbosity("M_ERROR")
    b = bio_network(samples, seed, hicanns, bio_s)
    _nest_build(nest, bio_network(1, seed), dt_ms, threads, seed)
    nest.Simulate(10.0)  # first use: NEST's own initialisation
    version = getattr(nest, "__version__", None) or str(nest.version())
    extra = {"version": version, "model": "iaf_cond_exp", "resolution_ms": dt_ms, "threads": threads,
             "input_times": f"rounded up to the {dt_ms} ms grid (allow_offgrid_times)", "samples_requested": b["samples"]}
    if chunk_samples is not None and chunk_samples < b["samples"]:
        done, timed = _nest_chunks(nest, b, dt_ms, threads, seed, chunk_samples, budget_s, must_run=count_samples or 0)
        extra.update(chunk_samples=chunk_samples, chunks=-(-done // chunk_samples), budget_s=budget_s)
        if done < b["samples"]:
            extra["samples_cut"] = {
                "reason": f"NEST ran {done} of {b['samples']} samples, {chunk_samples} copies per simulation, in {timed['wall_s']:.0f} s; "
                          f"the next chunk (the last took {timed['last_chunk_s']:.0f} s) would have ended after its budget of "
                          f"{budget_s:.0f} s (the chunks holding the {count_samples or 0} samples compared with the reference always run); "
                          f"all {b['samples']} would take about {timed['wall_s'] * b['samples'] / done:.0f} s",
                "budget_s": budget_s, "chunk_samples": chunk_samples, "samples_run": done}
        return _simulator_result(sample_range(b, 0, done), timed, extra, count_samples)

    def run():
        neurons, recorder = _nest_build(nest, b, dt_ms, threads, seed)
        t1 = time.perf_counter()
        nest.Simulate(b["duration_ms"])
        senders = np.asarray(recorder.get("events")["senders"], dtype=np.int64) - neurons.tolist()[0]
        return t1, np.bincount(senders, minlength=b["n_neurons"] * b["samples"])

    return _simulator_result(b, _timed(run, repeat), extra, count_samples)


# -- Brian2 ----------------------------------------------------------------------------------------


def brian2_model(params: dict, dt_ms: float, form: str = "explicit") -> dict:
    """How Brian2 is given the neuron: state, update, threshold, reset and refractoriness.

    The model is the reference's, exactly; only its form is chosen for speed (measured on the
    paper network's 1,200 copies, docs/benchmarks.md), each choice giving the same spikes:

    * a parameter all neurons share is a constant in the generated code (``constants``), so its
      terms (``exp(-dt/tau_e)``, ``g_l/c_m``, ...) are computed once per step instead of per
      neuron (the state update took 2.4x less time); a parameter that differs between neurons is
      a per-neuron ``(constant)`` variable (``per_neuron``);
    * refractoriness is Brian2's boolean form ``(t - lastspike) < t_ref_open`` with
      ``t_ref_open = (K - 0.5) dt``, ``K = floor(t_ref / dt + 0.001)`` steps: the same steps as
      Brian2's ``refractory=t_ref`` (which leaves refractoriness when
      ``timestep(t - lastspike) >= timestep(t_ref)``), but compared in doubles: the timestep's
      double -> int64 conversion has no AVX2 instruction and kept gcc from vectorising the
      whole state update;
    * ``form`` ``"equations"``: Brian2's equations (:data:`_BRIAN2_EQUATIONS`) integrated by its
      ``exponential_euler`` (``update`` None, ``refractory`` the condition above);
      ``"explicit"``: the state (:data:`_BRIAN2_STATE`) and the same scheme's step written out
      (``update``, run every step in the state updater's slot), refractoriness in the update
      (and in the threshold where some neuron's ``v_reset`` is not below its ``v_th``), ``lastspike``
      set by the reset (``refractory`` False). In float64 both forms give the same spikes; in
      float32 only the explicit one computes in float32.

    ``params``: per-neuron arrays under the reference's keys (:func:`bio_network`); values in
    the units of :data:`_BRIAN2_PARAMETERS` (``constants``: name -> (value, unit name);
    ``per_neuron``: name -> (array, unit name)).
    """
    import numpy as np

    from hal.errors import ConfigError

    if form not in BRIAN2_FORMS:
        raise ConfigError(f"Brian2 form: {form!r} unknown; known: {', '.join(BRIAN2_FORMS)}")
    constants, per_neuron = {}, {}
    for variable, unit, key in _BRIAN2_PARAMETERS:
        if variable in ("v", "t_ref"):
            continue  # v is the state; t_ref enters as t_ref_open
        values = np.asarray(params[key], dtype=float)
        if values.size and np.all(values == values[0]):
            constants[variable] = (float(values[0]), unit)
        else:
            per_neuron[variable] = (values, unit)
    steps = np.floor(np.asarray(params["t_ref_ms"], dtype=float) / dt_ms + 1e-3)
    t_ref_open = (steps - 0.5) * dt_ms
    if np.all(t_ref_open == t_ref_open[0]):
        constants["t_ref_open"] = (float(t_ref_open[0]), "ms")
    else:
        per_neuron["t_ref_open"] = (t_ref_open, "ms")
    declarations = [f"{name} : {_BRIAN2_DIMENSIONS[unit]} (constant)" for name, (_, unit) in per_neuron.items()]
    refractory = "(t - lastspike) < t_ref_open"
    if form == "equations":
        return {"form": form, "equations": "\n".join([_BRIAN2_EQUATIONS.strip(), *declarations]), "constants": constants,
                "per_neuron": per_neuron, "refractory": refractory, "threshold": "v >= v_th", "reset": "v = v_reset", "update": None}
    # A refractory neuron's v is held at v_reset: below v_th, it cannot cross, and the threshold need not
    # read lastspike (measured: that read doubled the threshold's cost, which runs on one thread).
    below = np.all(np.asarray(params["v_reset_mv"], dtype=float) < np.asarray(params["v_th_mv"], dtype=float))
    return {"form": form, "equations": "\n".join([_BRIAN2_STATE.strip(), *declarations]), "constants": constants,
            "per_neuron": per_neuron, "refractory": False, "threshold": "v >= v_th" if below else f"v >= v_th and not ({refractory})",
            "reset": "v = v_reset\nlastspike = t", "update": _BRIAN2_UPDATE.strip()}


def _brian2_neurons(b2, b: dict, dt_ms: float, form: str = "explicit"):
    """The ``samples`` copies of the neurons (:func:`brian2_model`), parameters set, ``v`` at rest."""
    import numpy as np

    m = b["samples"]
    model = brian2_model(b["params"], dt_ms, form)
    namespace = {name: value * getattr(b2, unit) for name, (value, unit) in model["constants"].items()}
    if form == "equations":
        group = b2.NeuronGroup(b["n_neurons"] * m, model["equations"], threshold=model["threshold"], reset=model["reset"],
                               refractory=model["refractory"], method="exponential_euler", namespace=namespace, name="neurons")
    else:
        # lastspike as Brian2 keeps it for refractoriness: in the clock's dtype, "long ago" at the start.
        group = b2.NeuronGroup(b["n_neurons"] * m, model["equations"], threshold=model["threshold"], reset=model["reset"],
                               namespace=namespace, name="neurons", dtype={"lastspike": np.float64})
        group.lastspike = -1e4 * b2.second
        group.run_regularly(model["update"], when="groups", order=1, name="neurons_update")
    for name, (values, unit) in model["per_neuron"].items():
        setattr(group, name, np.tile(values, m) * getattr(b2, unit))
    group.v = np.tile(b["params"]["e_l_mv"], m) * b2.mV
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
    """Input and recurrent synapses: one Synapses object per source kind, excitatory and inhibitory in it.

    One object with a weight per sign (the other 0: adding 0.0 changes no conductance) instead of
    one per sign: each Synapses object costs two OpenMP regions and a merge of the threads'
    queues every step, more than the second write per event (measured, docs/benchmarks.md).
    """
    import numpy as np

    sm = b["n_sources"] * b["samples"]
    from_source, pre, post, w, exc = replicated(b)
    objects = []
    for inputs_side in (True, False):
        sel = from_source == inputs_side
        if not sel.any():
            continue
        signs = [(g, name, mask) for g, name, mask in (("ge", "w_e", exc[sel]), ("gi", "w_i", ~exc[sel])) if mask.any()]
        model = "\n".join(f"{name} : siemens" for _, name, _ in signs)
        on_pre = "\n".join(f"{g}_post += {name}" for g, name, _ in signs)
        if inputs_side:
            syn = b2.Synapses(inputs, group, model, on_pre=on_pre, delay=b["delay_ms"] * b2.ms)
            syn.connect(i=(np.arange(copies)[:, None] * sm + pre[sel]).ravel(), j=np.tile(post[sel], copies))
            tile = copies
        else:
            syn = b2.Synapses(group, group, model, on_pre=on_pre, delay=b["delay_ms"] * b2.ms)
            syn.connect(i=pre[sel], j=post[sel])
            tile = 1
        for _, name, mask in signs:
            setattr(syn, name, np.tile(np.where(mask, w[sel], 0.0), tile) * b2.nS)
        objects.append(syn)
    return objects


def _brian2_build(b2, b: dict, dt_ms: float, form: str = "explicit"):
    """A fresh Brian2 network with ``b``'s copies: (network, spike monitor, input copies)."""
    b2.start_scope()
    b2.defaultclock.dt = dt_ms * b2.ms
    group = _brian2_neurons(b2, b, dt_ms, form)
    inputs, copies = _brian2_inputs(b2, b, dt_ms)
    monitor = b2.SpikeMonitor(group, record=False)
    return b2.Network(group, inputs, *_brian2_synapses(b2, b, group, inputs, copies), monitor), monitor, copies


def scenario_brian2(samples: int, seed: int, dt_ms: float, target: str, repeat: int = 1, threads: int = 1,
                    count_samples: int | None = None, hicanns: int = 0, bio_s: float = 1.0, form: str = "explicit",
                    precision: str = "float32") -> dict:
    """Brian2: ``samples`` copies of the network in one simulation.

    ``target`` ``"cpp_standalone"`` (Brian2's strongest configuration: one C++ program, OpenMP with
    ``threads``; compile time reported apart as ``compile_s``, the program's own simulation loop as
    ``simulate_s``, the whole program run as ``wall_s``), or a runtime code-generation target
    (``"cython"``, ``"numpy"``: one thread). ``form``: how the neuron is given (:func:`brian2_model`);
    ``precision``: Brian2's ``core.default_float_dtype`` (float32 by default: measured 30 % less
    CPU than float64 for the paper network's 1,200 copies, the agreement with the reference
    unchanged; docs/benchmarks.md).
    """
    import numpy as np

    from hal.errors import ConfigError

    if precision not in BRIAN2_PRECISIONS:
        raise ConfigError(f"Brian2 precision: {precision!r} unknown; known: {', '.join(BRIAN2_PRECISIONS)}")
    if form not in BRIAN2_FORMS:
        raise ConfigError(f"Brian2 form: {form!r} unknown; known: {', '.join(BRIAN2_FORMS)}")
    b2 = importlib.import_module("brian2")
    b2.prefs.logging.console_log_level = "ERROR"
    b2.prefs.core.default_float_dtype = getattr(np, precision)
    if target == "cpp_standalone":
        return _brian2_standalone(b2, bio_network(samples, seed, hicanns, bio_s), dt_ms, repeat, threads, count_samples, form, precision)
    b2.prefs.codegen.target = target
    b2.prefs.codegen.cpp.extra_compile_args_gcc = list(BRIAN2_COMPILE_ARGS)
    b = bio_network(samples, seed, hicanns, bio_s)
    network, _, _ = _brian2_build(b2, bio_network(1, seed), dt_ms, form)
    network.run(10 * b2.ms)  # code generation and compilation happen here, once
    copies = 1

    def run():
        nonlocal copies
        network, monitor, copies = _brian2_build(b2, b, dt_ms, form)
        t1 = time.perf_counter()
        network.run(b["duration_ms"] * b2.ms)
        return t1, np.asarray(monitor.count)

    timed = _timed(run, repeat)
    return _simulator_result(b, timed,
                             {"version": b2.__version__, "device": "runtime", "codegen_target": target,
                              **_brian2_layout(b, dt_ms, form, precision), "dt_ms": dt_ms, "threads": 1, "input_copies": copies},
                             count_samples)


def _brian2_layout(b: dict, dt_ms: float, form: str, precision: str) -> dict:
    """What the JSON says about how Brian2 was given the network (:func:`brian2_model`, :func:`_brian2_synapses`)."""
    model = brian2_model(b["params"], dt_ms, form)
    return {"method": "exponential_euler" + (" (written out)" if form == "explicit" else ""), "form": form, "precision": precision,
            "compile_args": list(BRIAN2_COMPILE_ARGS), "threshold": model["threshold"],
            "refractory": model["refractory"] or "v held in the update while (t - lastspike) < t_ref_open",
            "constant_parameters": sorted(model["constants"]), "per_neuron_parameters": sorted(model["per_neuron"]),
            "layout": "one NeuronGroup of all copies, one SpikeGeneratorGroup of all input events, one Synapses object "
                      "per source kind (inputs, neurons) with both signs, one SpikeMonitor (counts only), one run()"}


def _brian2_standalone(b2, b: dict, dt_ms: float, repeat: int, threads: int, count_samples: int | None, form: str,
                       precision: str) -> dict:
    """Brian2's C++ standalone device with OpenMP: generate and compile once, run the program ``repeat`` times."""
    import tempfile

    import numpy as np

    with tempfile.TemporaryDirectory(prefix="hal-bench-brian2-") as directory:
        b2.set_device("cpp_standalone", directory=directory, build_on_run=False)
        b2.prefs.devices.cpp_standalone.openmp_threads = threads
        b2.prefs.codegen.cpp.extra_compile_args_gcc = list(BRIAN2_COMPILE_ARGS)
        t0 = time.perf_counter()
        network, monitor, copies = _brian2_build(b2, b, dt_ms, form)
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
                              **_brian2_layout(b, dt_ms, form, precision), "dt_ms": dt_ms, "threads": threads, "openmp_threads": threads,
                              "input_copies": copies, "compile_s": t2 - t1,
                              "timing": "wall_s: the compiled program's run (loading its arrays, the loop, writing results); "
                                        "simulate_s: its simulation loop; build_s: Python network set-up and code generation; "
                                        "compile_s: the C++ compiler"}, count_samples)
