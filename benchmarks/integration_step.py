"""How the emulator's integration step changes spike counts on the paper network (and run time).

Run: python benchmarks/integration_step.py [SAMPLES]
Random signed 4-bit weights, digits images, no mismatch and lossless links, so that only the
step differs; dt = 0.01 ms is the yardstick.
"""
import sys
import time

import numpy as np

from hal.logging import configure

configure(level="warning")
import hal  # noqa: E402
from hal_trainers.conversion import SpikingNetwork  # noqa: E402
from hal_trainers.datasets import load_dataset  # noqa: E402

n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
rng = np.random.default_rng(0)
weights = [rng.integers(-15, 16, size=s) for s in [(15, 100), (15, 15), (5, 15)]]
x = load_dataset("digits", None).x_train[:n]
counts = {}
for dt in (0.01, 0.05, 0.1, 0.2):
    chip = hal.get_backend("emulator", wafer=100, mismatch="none", links="lossless", dt_ms=dt)
    net = SpikingNetwork(chip, weights, wafer=100, seed=0)
    started = time.perf_counter()
    rates = net.run(x)
    wall = time.perf_counter() - started
    counts[dt] = np.concatenate([rates[k] for k in ("input", "hidden1", "hidden2", "label")], axis=1) * 0.9
    print(f"dt {dt} ms: {wall:.2f} s for {n} samples, {counts[dt].sum():.0f} spikes")
for dt in (0.05, 0.1, 0.2):
    d = counts[dt] - counts[0.01]
    print(f"dt {dt} ms vs 0.01 ms: mean |difference| {np.abs(d).mean():.4f} spikes per neuron and sample, "
          f"largest {np.abs(d).max():.0f}, total {d.sum() / counts[0.01].sum():+.4%}")
