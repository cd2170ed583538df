"""Benchmark: build, plan, save and load a full-wafer configuration with every synapse set.

Run: python benchmarks/wafer_config.py [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
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


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true")
    result = measure()
    if parser.parse_args().json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:>24}: {value / 2**20:.1f} MiB" if key.endswith("bytes") else f"{key:>24}: {value:.3f}" if isinstance(value, float) else f"{key:>24}: {value}")
