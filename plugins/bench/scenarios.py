"""The timed scenarios and the worker process each of them runs in.

* ``backend`` (:func:`scenario_backend`) -- one hal backend on the paper network: a 1-sample run
  that configures the backend, then the timed batch (best of ``repeat``), optionally profiled.
* ``full`` (:func:`scenario_full`) -- full HICANN(s) with background input: build the
  configuration, run it once, time both.
* ``nest`` / ``brian2`` -- the peer simulators (:mod:`hal_plugins.bench.peers`).

Each scenario runs in a fresh interpreter (:func:`in_subprocess`, which starts
``python -m hal_plugins.bench --worker SPEC OUT``), so that peak memory and library state of
one do not leak into another.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

from hal_plugins.bench.counting import fan_out, lost_summary, peak_rss_bytes, rates, recorded_spikes, synaptic_events
from hal_plugins.bench.networks import MAXHW_RATE_HZ, full_wafer, paper_experiment, paper_network, wiring_and_netlist

from hal.logging import get_logger

__all__ = ["SCENARIOS", "in_subprocess", "profile_run", "scenario_backend", "scenario_full", "worker"]

log = get_logger(__name__)

#: Scenario name -> "module:function" (imported in the worker only, so NEST and Brian2 load only there).
SCENARIOS = {
    "backend": "hal_plugins.bench.scenarios:scenario_backend",
    "full": "hal_plugins.bench.scenarios:scenario_full",
    "nest": "hal_plugins.bench.peers:scenario_nest",
    "brian2": "hal_plugins.bench.peers:scenario_brian2",
}


def _timed_runs(call, repeat: int) -> tuple[list[float], list[float], Any]:
    """``repeat`` calls of ``call()``: their wall times, the 1-minute load before and after each, the last result."""
    walls, load, result = [], [os.getloadavg()[0]], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = call()
        walls.append(time.perf_counter() - t0)
        load.append(os.getloadavg()[0])
    return walls, load, result


def scenario_backend(backend: str, samples: int, seed: int, profile: bool = False, repeat: int = 1, options: dict | None = None,
                     count_samples: int | None = None) -> dict:
    """One hal backend on the paper network: a configuring 1-sample run, then the timed batch (best of ``repeat``).

    ``counts``: spikes per wiring neuron of the batch's first ``count_samples`` samples (all by
    default), for the comparison with the reference (:func:`hal_plugins.bench.suite.agreement`).
    """
    import numpy as np

    import hal

    paper = paper_network(seed)
    experiment = paper_experiment(paper, samples, seed)
    b = hal.get_backend(backend, **(options or {}))
    t0 = time.perf_counter()
    hal.run(paper_experiment(paper, 1, seed), b)  # configures the backend (register writes, locking) once, as a training loop would
    setup_s = time.perf_counter() - t0
    walls, load, recording = _timed_runs(lambda: hal.run(experiment, b), repeat)
    wall_s = min(walls)
    rss = peak_rss_bytes()
    wiring, netlist = wiring_and_netlist(experiment)
    lost = lost_summary(recording)
    total_spikes = recording.hardware.info.get("spikes")
    events = synaptic_events(netlist, recorded_spikes(wiring, recording), lost["input"], total_spikes)
    bio_s = samples * experiment.duration_ms * 1e-3
    counted = min(samples, count_samples or samples)
    counts = np.zeros(len(wiring.neurons), dtype=np.int64)
    counts[np.flatnonzero(wiring.recorded)] = np.asarray(recording.spike_counts)[:counted].sum(axis=0)
    out = {
        **rates(bio_s, wall_s, events),
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
        "lost_events": lost,
        "peak_rss_bytes": rss,
        "options": options or {},
        "counted_samples": counted,
        "counts": counts.tolist(),
        "info": {k: v for k, v in recording.hardware.info.items() if isinstance(v, (int, float, str))},
    }
    if profile:
        out["profile"] = profile_run(lambda: hal.run(experiment, b), samples, len(wiring.neurons), experiment.duration_ms,
                                     recording.hardware.info.get("dt_ms"))
    return out


def profile_run(call, samples: int, neurons: int, duration_ms: float, dt_ms: float | None, top: int = 15) -> dict:
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


def scenario_full(n_hicanns: int, bio_s: float, seed: int, backend: str, options: dict | None = None) -> dict:
    """Full HICANN(s) with background input: build the configuration, run it once (``backend`` with ``options``), time both."""
    import numpy as np

    import hal

    load = [os.getloadavg()[0]]
    t0 = time.perf_counter()
    config = full_wafer(n_hicanns, seed=seed)
    t1 = time.perf_counter()
    experiment = hal.Experiment(config, bio_s * 1e3, seed=seed)
    recording = hal.run(experiment, hal.get_backend(backend, **(options or {})))
    t2 = time.perf_counter()
    rss = peak_rss_bytes()
    load.append(os.getloadavg()[0])
    info = dict(recording.hardware.info)
    # Counting (after the timed part): the netlist's fan-out of the background events.
    wiring, netlist = wiring_and_netlist(experiment)
    sources, neurons = fan_out(netlist)
    events = int(sources[netlist.in_source].sum()) + int(np.dot(recorded_spikes(wiring, recording), neurons))
    spikes = int(info.get("spikes", recording.spike_counts.sum()))
    return {
        "bio_s": bio_s,
        "wall_s": t2 - t0,
        "build_s": t1 - t0,
        "run_s": t2 - t1,
        "peak_rss_bytes": rss,
        "load_average_1min": load,
        **rates(bio_s, t2 - t0, events),
        "synaptic_events": events,
        "hicanns": n_hicanns,
        "neurons": len(wiring.neurons),
        "synapses": len(wiring.synapses),
        "background_generators": len(wiring.background),
        "background_events": int(netlist.in_time.size),
        "input_rate_per_synapse_hz": MAXHW_RATE_HZ,
        "spikes": spikes,
        "mean_rate_hz": spikes / max(1, len(wiring.neurons)) / bio_s,
        "recorded_spikes": int(recording.spike_counts.sum()),
        "lost_events": lost_summary(recording),
        "backend": backend,
        "options": options or {},
        "dt_ms": info.get("dt_ms"),
    }


def worker(spec_path: str, out_path: str) -> int:
    """Run one scenario (``python -m hal_plugins.bench --worker SPEC OUT``) and write its JSON result."""
    from hal.logging import configure as configure_logging

    configure_logging(level="warning")
    with open(spec_path) as f:
        spec = json.load(f)
    module, _, function = SCENARIOS[spec.pop("scenario")].partition(":")
    result = getattr(importlib.import_module(module), function)(**spec)
    with open(out_path, "w") as f:
        json.dump(result, f)
    return 0


def in_subprocess(name: str, timeout_s: float, env: dict[str, str] | None = None, **spec) -> dict:
    """Run scenario ``spec["scenario"]`` with the rest of ``spec`` as its arguments in a worker process; its result."""
    from hal.errors import BackendError

    with tempfile.TemporaryDirectory(prefix="hal-bench-") as tmp:
        spec_path, out_path = os.path.join(tmp, "spec.json"), os.path.join(tmp, "out.json")
        with open(spec_path, "w") as f:
            json.dump(spec, f)
        t0 = time.perf_counter()
        try:
            done = subprocess.run([sys.executable, "-m", "hal_plugins.bench", "--worker", spec_path, out_path],
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
