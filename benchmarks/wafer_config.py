"""Benchmark: build, plan, save and load a full-wafer configuration with every synapse set.

Run: python benchmarks/wafer_config.py [--json]

With ``--maxhw [N]``: instead, run the first N HICANNs (default all 384) configured as ``hal
bench``'s MaxHW scenario (:func:`hal_plugins.bench.networks.full_wafer`: every synapse at 40 Hz)
for 0.1 s biological time through :func:`hal.run` on the emulator at dt 0.1 ms, and report wall
time and peak RSS after each phase (issue 16, item 4: the full wafer in < 60 s and < 4 GB).
Run it alone: the peak RSS is the process's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import tempfile
import time
import tracemalloc

import numpy as np

import hal
from hal import coordinates as C


def measure() -> dict:
    rng = np.random.default_rng(0)
    weights = rng.integers(0, 16, size=(448, 256), dtype=np.uint8)
    tracemalloc.start()
    t0 = time.perf_counter()
    config = hal.WaferConfig(C.Wafer(1))
    for hicann in C.HICANNOnWafer.all():
        chip = config.hicann(hicann)
        chip.set_weights(weights)
        chip.set_decoders(weights)
        chip.set_neuron_parameter("E_l", rng.integers(0, 1024, size=512))
    t1 = time.perf_counter()
    build_peak = tracemalloc.get_traced_memory()[1]
    configurator = hal.Configurator()
    sink = hal.RegisterImageSink()
    stream = configurator.apply(config, sink, verify="skip")
    t2 = time.perf_counter()
    config.hicann(C.HICANNOnWafer(0)).set_weights(1, rows=slice(0, 8))
    update = configurator.plan(config)
    t3 = time.perf_counter()
    apply_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "wafer.hal")
        t4 = time.perf_counter()
        hal.save_config(config, path)
        t5 = time.perf_counter()
        loaded = hal.load_config(path)
        t6 = time.perf_counter()
        size = os.path.getsize(path)
    assert loaded == config
    return {
        "build_s": t1 - t0,
        "build_peak_bytes": build_peak,
        "config_bytes": config.nbytes(),
        "first_apply_s": t2 - t1,
        "first_apply_words": stream.word_count,
        "weights_update_plan_s": t3 - t2,
        "weights_update_words": update.word_count,
        "apply_peak_bytes": apply_peak,
        "save_s": t5 - t4,
        "load_s": t6 - t5,
        "file_bytes": size,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    }


def _peak_rss_bytes() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024  # Linux: KiB


def measure_maxhw_run(n_hicanns: int, bio_s: float = 0.1, dt_ms: float = 0.1) -> dict:
    """The MaxHW wafer (its first ``n_hicanns``) run once on the emulator: wall time and peak RSS by phase."""
    from hal_plugins.bench.networks import full_wafer

    load = [os.getloadavg()[0]]
    t0 = time.perf_counter()
    config = full_wafer(n_hicanns, seed=0)
    t1 = time.perf_counter()
    config_peak = _peak_rss_bytes()
    recording = hal.run(hal.Experiment(config, bio_s * 1e3, seed=0), hal.get_backend("emulator", dt_ms=dt_ms))
    t2 = time.perf_counter()
    load.append(os.getloadavg()[0])
    return {
        "hicanns": n_hicanns,
        "bio_s": bio_s,
        "dt_ms": dt_ms,
        "wall_s": t2 - t0,
        "config_s": t1 - t0,
        "run_s": t2 - t1,
        "config_peak_rss_bytes": config_peak,
        "peak_rss_bytes": _peak_rss_bytes(),
        "synapses": recording.hardware.info.get("synapses"),
        "spikes": int(recording.hardware.info.get("spikes", 0)),
        "load_average_1min": load,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--maxhw", type=int, nargs="?", const=384, metavar="N_HICANNS",
                        help="run the MaxHW wafer (first N HICANNs, default 384) on the emulator instead")
    args = parser.parse_args()
    if args.maxhw is not None and not 1 <= args.maxhw <= 384:
        parser.error(f"--maxhw: {args.maxhw} HICANNs out of range; valid 1..384")
    result = measure() if args.maxhw is None else measure_maxhw_run(args.maxhw)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:>24}: {value / 2**20:.1f} MiB" if key.endswith("bytes") else f"{key:>24}: {value:.3f}" if isinstance(value, float) else f"{key:>24}: {value}")
