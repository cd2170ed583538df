"""Benchmark: map the paper network, then update all its weights (the in-the-loop path).

Run: python benchmarks/mapping.py
"""

from __future__ import annotations

import time

import numpy as np

import hal
from hal.mapping import map_network
from hal.network import paper_network_description


def main() -> None:
    net = paper_network_description(seed=0)
    t0 = time.perf_counter()
    config, result = map_network(net)
    t1 = time.perf_counter()
    configurator, sink = hal.Configurator(), hal.RegisterImageSink()
    configurator.apply(config, sink, verify="skip")
    rng = np.random.default_rng(1)
    times = []
    for _ in range(20):
        start = time.perf_counter()
        for j, proj in enumerate(net.projections):
            n = result.synapse_location[j][1].size
            result.set_weights(config, j, rng.integers(0, 16, n))
        stream = configurator.apply(config, sink, verify="skip")
        times.append(time.perf_counter() - start)
    print(f"map paper network: {(t1 - t0) * 1e3:.0f} ms; {result.synapses} synapses, {result.synapses_lost} lost, "
          f"{len(result.hicanns_used)} HICANNs, {len(result.fpgas_used)} FPGA(s)")
    print(f"update all weights and write them: median {np.median(times) * 1e3:.1f} ms, max {max(times) * 1e3:.1f} ms "
          f"({stream.word_count} words, registers {sorted(stream.registers())})")


if __name__ == "__main__":
    main()
