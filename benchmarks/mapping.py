"""Benchmark: map the paper network, then update all its weights (the in-the-loop path).

Run: python benchmarks/mapping.py
Prints wall and CPU time (``time.process_time``; on a shared machine the wall time is mostly waiting).
"""

from __future__ import annotations

import time

import numpy as np

import hal
from hal.mapping import map_network
from hal.network import paper_network_description


def main() -> None:
    net = paper_network_description(seed=0)
    t0, c0 = time.perf_counter(), time.process_time()
    config, result = map_network(net)
    t1, c1 = time.perf_counter(), time.process_time()
    configurator, sink = hal.Configurator(), hal.RegisterImageSink()
    configurator.apply(config, sink, verify="skip")
    rng = np.random.default_rng(1)
    times, cpu = [], []
    for _ in range(20):
        start, start_cpu = time.perf_counter(), time.process_time()
        for j, proj in enumerate(net.projections):
            n = result.synapse_location[j][1].size
            result.set_weights(config, j, rng.integers(0, 16, n))
        stream = configurator.apply(config, sink, verify="skip")
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    print(f"map paper network: {(t1 - t0) * 1e3:.0f} ms wall, {(c1 - c0) * 1e3:.0f} ms CPU; {result.synapses} synapses, "
          f"{result.synapses_lost} lost, {len(result.hicanns_used)} HICANNs, {len(result.fpgas_used)} FPGA(s)")
    print(f"update all weights and write them: median {np.median(times) * 1e3:.1f} ms wall ({np.median(cpu) * 1e3:.1f} ms CPU), "
          f"max {max(times) * 1e3:.1f} ms ({stream.word_count} words, registers {sorted(stream.registers())})")


if __name__ == "__main__":
    main()
