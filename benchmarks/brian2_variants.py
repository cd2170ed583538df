"""Brian2 on the bench's paper network, one set-up change at a time (issue 16: Brian2's strongest set-up).

The default is exactly what ``hal bench`` gives Brian2 (:func:`hal_plugins.bench.peers._brian2_build`,
its compile flags, C++ standalone with OpenMP); each option changes one thing:

``--form equations|explicit``, ``--precision float64|float32|float32-state``
    How the neuron is given (:func:`hal_plugins.bench.peers.brian2_model`: Brian2's equations
    and ``exponential_euler``, or the same step written out) and
    ``prefs.core.default_float_dtype`` (every float of the program), or, with the equations,
    only the neurons' state ``v, ge, gi`` in float32 (``NeuronGroup(dtype=...)``; times,
    ``lastspike`` and weights stay double). The bench's set-up before issue 16's last round was
    ``--form equations --precision float64``.
``--delay folded|none``
    The bench's synapses carry one scalar delay (0.1 ms, one step at dt 0.1 ms). ``folded``: the
    input synapses without delay and the input spikes one step later (the same arrival step:
    the same spikes); ``none``: no delay anywhere (the recurrent synapses act one step earlier:
    different spikes).
``--threads N``, ``--compile-args "..."``, ``--monitor none``, ``--runs K`` (the run split into
K ``run()`` calls), ``--samples N`` (copies per program), ``--profile`` (Brian2's per-code-object
profile).
``--alternate DIR [DIR ...]``
    No new program: run the programs already generated with ``--keep DIR`` (possibly edited by
    hand and rebuilt with ``make``) one after another, ``--repeat`` rounds, so that they see the
    same load; per run the same figures as above, read from the program's ``results/``.

Each variant is generated, compiled and run in its own program; printed (and appended to
``--out`` as one JSON line): the program's wall time, Brian2's own loop time, the program's CPU
time (user + sys of the child process, the comparison that survives a shared machine), the load,
the spikes, whether the spike counts equal the baseline's (``--compare counts.npy`` of an earlier
``--save``), and the agreement of the first 60 samples with the reference backend (the bench's
band: neurons within 2 % or 1 spike; the reference's counts are computed once and cached).

Run (in the environment with Brian2, docs/benchmarks.md)::

    OMP_WAIT_POLICY=PASSIVE /tmp/benchenv/bin/python benchmarks/brian2_variants.py \
        --form equations --precision float64 --save /tmp/base.npy
    OMP_WAIT_POLICY=PASSIVE /tmp/benchenv/bin/python benchmarks/brian2_variants.py --compare /tmp/base.npy
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REFERENCE_SAMPLES = 60


def _reference_counts(seed: int, dt_ms: float, cache: Path) -> np.ndarray:
    """Spikes per neuron of the first 60 samples on the reference backend (the bench's agreement baseline)."""
    if cache.exists():
        return np.load(cache)
    from hal_plugins.bench.scenarios import scenario_backend

    r = scenario_backend("reference", REFERENCE_SAMPLES, seed, options={"dt_ms": dt_ms}, count_samples=REFERENCE_SAMPLES)
    counts = np.asarray(r["counts"], dtype=np.int64)
    np.save(cache, counts)
    return counts


def _agreement(counts: np.ndarray, reference: np.ndarray) -> dict:
    """As :func:`hal_plugins.bench.suite.agreement`: total relative difference, neurons within 2 % or 1 spike."""
    diff = np.abs(counts - reference)
    return {"total_relative": float((counts.sum() - reference.sum()) / reference.sum()),
            "within_2_percent": float(np.mean(diff <= np.maximum(0.02 * reference, 1.0)))}


def _build(b2, b: dict, dt_ms: float, args):
    """The bench's network (peers._brian2_build) with the one change ``args`` asks for."""
    from hal_plugins.bench import peers

    if args.precision != "float32-state" and args.delay == "scalar" and args.monitor == "count":
        return peers._brian2_build(b2, b, dt_ms, args.form)
    b2.start_scope()
    b2.defaultclock.dt = dt_ms * b2.ms
    if args.precision == "float32-state":
        group = _neurons_float32_state(b2, b, dt_ms)
    else:
        group = peers._brian2_neurons(b2, b, dt_ms, args.form)
    if args.delay == "scalar":
        inputs, copies = peers._brian2_inputs(b2, b, dt_ms)
        synapses = peers._brian2_synapses(b2, b, group, inputs, copies)
    else:
        # The inputs one step later (Brian2 bins a spike at int((t + 1e-3 dt) / dt)), their synapses without delay.
        step = np.floor(b["in_time_ms"] / dt_ms + 1e-3).astype(np.int64)
        shifted = {**b, "in_time_ms": (step + 1.5) * dt_ms}  # mid-step: no rounding at the bin edge
        inputs, copies = peers._brian2_inputs(b2, shifted, dt_ms)
        recurrent_delay = b["delay_ms"] if args.delay == "folded" else 0.0
        synapses = (peers._brian2_synapses(b2, {**_kind(b, True), "delay_ms": 0.0}, group, inputs, copies)
                    + peers._brian2_synapses(b2, {**_kind(b, False), "delay_ms": recurrent_delay}, group, inputs, copies))
    monitor = b2.SpikeMonitor(group, record=False) if args.monitor == "count" else None
    objects = [group, inputs, *synapses] + ([monitor] if monitor is not None else [])
    return b2.Network(*objects), monitor, copies


def _kind(b: dict, from_sources: bool) -> dict:
    """``b`` with only the synapses from the sources (``from_sources``) or only those between neurons."""
    keep = (b["pre"] < b["n_sources"]) == from_sources
    return {**b, **{key: b[key][keep] for key in ("pre", "post", "weight_ns", "excitatory")}}


def _neurons_float32_state(b2, b: dict, dt_ms: float):
    """peers._brian2_neurons (the equations) with ``v, ge, gi`` stored in float32."""
    from hal_plugins.bench import peers

    m = b["samples"]
    model = peers.brian2_model(b["params"], dt_ms, "equations")
    namespace = {name: value * getattr(b2, unit) for name, (value, unit) in model["constants"].items()}
    group = b2.NeuronGroup(b["n_neurons"] * m, model["equations"], threshold="v >= v_th", reset="v = v_reset",
                           refractory=model["refractory"], method="exponential_euler", namespace=namespace, name="neurons",
                           dtype={"v": np.float32, "ge": np.float32, "gi": np.float32})
    for name, (values, unit) in model["per_neuron"].items():
        setattr(group, name, np.tile(values, m) * getattr(b2, unit))
    group.v = np.tile(b["params"]["e_l_mv"], m) * b2.mV
    return group


def run_variant(args) -> dict:
    import brian2 as b2

    from hal_plugins.bench import peers

    b2.prefs.logging.console_log_level = "ERROR"
    b2.prefs.core.default_float_dtype = np.float32 if args.precision == "float32" else np.float64
    b = peers.bio_network(args.samples, args.seed)
    keep = args.keep is not None
    directory = args.keep or tempfile.mkdtemp(prefix="brian2-variant-")
    b2.set_device("cpp_standalone", directory=directory, build_on_run=False)
    b2.prefs.devices.cpp_standalone.openmp_threads = args.threads
    b2.prefs.codegen.cpp.extra_compile_args_gcc = args.compile_args.split()
    t0 = time.perf_counter()
    network, monitor, copies = _build(b2, b, args.dt_ms, args)
    for _ in range(args.runs):
        network.run(b["duration_ms"] / args.runs * b2.ms, profile=args.profile)
    t1 = time.perf_counter()
    b2.device.build(directory=directory, compile=True, run=False, with_output=False)
    t2 = time.perf_counter()
    runs = []
    for _ in range(args.repeat):
        load = os.getloadavg()[0]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        b2.device.run(directory=directory, with_output=False)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        runs.append({"wall_s": wall, "loop_s": float(b2.device._last_run_time), "cpu_s": cpu, "load_1min": load})
    bio_s = b["samples"] * b["duration_ms"] * 1e-3
    best = min(runs, key=lambda r: r["cpu_s"])
    out = {"variant": {k: v for k, v in vars(args).items() if k not in ("out", "save", "compare", "keep", "reference_cache")},
           "samples": b["samples"], "input_copies": copies, "build_s": t1 - t0, "compile_s": t2 - t1, "runs": runs,
           "bio_s_per_wall_s": bio_s / best["wall_s"], "bio_s_per_loop_s": bio_s / best["loop_s"],
           "bio_s_per_cpu_s": bio_s / best["cpu_s"]}
    if args.profile:
        out["profile"] = {name: float(t / b2.second) for name, t in network.profiling_info}
    if monitor is not None:
        counts = np.asarray(monitor.count, dtype=np.int64)
        out["spikes"] = int(counts.sum())
        if args.save:
            np.save(args.save, counts)
        if args.compare:
            base = np.load(args.compare)
            out["same_spikes_as"] = {"file": args.compare, "identical": bool(np.array_equal(base, counts)),
                                     "spikes_baseline": int(base.sum()), "neurons_differing": int(np.sum(base != counts))}
        if b["samples"] >= REFERENCE_SAMPLES:
            ref = _reference_counts(args.seed, args.dt_ms, Path(args.reference_cache))
            first = counts.reshape(b["samples"], b["n_neurons"])[:REFERENCE_SAMPLES].sum(axis=0)
            out["agreement_with_reference"] = _agreement(first, ref)
    b2.device.reinit()
    if not keep:
        import shutil

        shutil.rmtree(directory, ignore_errors=True)
    return out


def _run_program(directory: str) -> dict:
    """One run of the compiled program in ``directory``: wall, Brian2's loop time, the child's CPU time, the load."""
    import subprocess

    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(["./main"], cwd=directory, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    loop = float(Path(directory, "results", "last_run_info.txt").read_text().split()[0])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": wall, "loop_s": loop, "cpu_s": cpu, "load_1min": load}


def _program_counts(directory: str) -> np.ndarray:
    """The spike monitor's counts as the program in ``directory`` wrote them."""
    (path,) = Path(directory, "results").glob("_array_spikemonitor_count_*")
    return np.fromfile(path, dtype=np.int32).astype(np.int64)


def alternate(args) -> list[dict]:
    """The generated programs in ``args.alternate``, one after another, ``args.repeat`` rounds."""
    from hal_plugins.bench.peers import bio_network

    neurons = bio_network(1, args.seed)["n_neurons"]
    runs = {d: [] for d in args.alternate}
    for _ in range(args.repeat):
        for d in args.alternate:
            runs[d].append(_run_program(d))
    out = []
    for d in args.alternate:
        counts = _program_counts(d)
        best = min(runs[d], key=lambda r: r["cpu_s"])
        bio_s = counts.size / neurons * 1.0  # copies x 1 s of the paper network
        r = {"program": d, "runs": runs[d], "spikes": int(counts.sum()), "bio_s_per_cpu_s": bio_s / best["cpu_s"],
             "bio_s_per_loop_s": bio_s / best["loop_s"]}
        if args.compare:
            base = np.load(args.compare)
            r["same_spikes_as"] = {"file": args.compare, "identical": bool(np.array_equal(base, counts)),
                                   "neurons_differing": int(np.sum(base != counts))}
        if counts.size >= REFERENCE_SAMPLES * neurons and Path(args.reference_cache).exists():
            first = counts.reshape(-1, neurons)[:REFERENCE_SAMPLES].sum(axis=0)
            r["agreement_with_reference"] = _agreement(first, np.load(args.reference_cache))
        out.append(r)
    return out


def main(argv: list[str]) -> int:
    from hal_plugins.bench.peers import BRIAN2_COMPILE_ARGS, BRIAN2_FORMS, BRIAN2_PRECISIONS

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--samples", type=int, default=1200)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dt-ms", type=float, default=0.1)
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--compile-args", default=" ".join(BRIAN2_COMPILE_ARGS))
    p.add_argument("--form", choices=BRIAN2_FORMS, default=BRIAN2_FORMS[0])
    p.add_argument("--precision", choices=(*BRIAN2_PRECISIONS, "float32-state"), default=BRIAN2_PRECISIONS[0])
    p.add_argument("--delay", choices=("scalar", "folded", "none"), default="scalar")
    p.add_argument("--monitor", choices=("count", "none"), default="count")
    p.add_argument("--runs", type=int, default=1, help="split the run into this many run() calls")
    p.add_argument("--repeat", type=int, default=2, help="program runs; the one with least CPU is reported")
    p.add_argument("--profile", action="store_true")
    p.add_argument("--keep", help="generate the project in this directory and keep it")
    p.add_argument("--save", help="save the spike counts (.npy)")
    p.add_argument("--compare", help="compare the spike counts with these (.npy of --save)")
    p.add_argument("--reference-cache", default=os.path.join(tempfile.gettempdir(), "brian2_variants_reference.npy"))
    p.add_argument("--out", help="append the result as one JSON line")
    p.add_argument("--alternate", nargs="+", metavar="DIR", help="run these generated programs (--keep) one after another")
    args = p.parse_args(argv)
    results = alternate(args) if args.alternate else [run_variant(args)]
    for result in results:
        line = json.dumps(result)
        print(line)
        if args.out:
            with open(args.out, "a") as f:
                f.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
