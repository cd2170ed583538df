"""Benchmark: map a random layered network the size of a full wafer (populations x size x fan-in from argv).

Run: python benchmarks/mapping_wafer.py 46 1024 20   (47,104 neurons of 4 circuits, ~0.9 M synapses)
     python benchmarks/mapping_wafer.py 46 1024 20 64   (local: inputs drawn within +-64 of the neuron's index)
"""
import time, sys, numpy as np
from hal import coordinates as C
from hal.network import Network, Population, Projection, SourcePopulation
from hal.mapping import map_network, MappingOptions
n_pops = int(sys.argv[1]); size = int(sys.argv[2]); fan = int(sys.argv[3])
window = int(sys.argv[4]) if len(sys.argv) > 4 else 0  # 0: inputs from anywhere in the previous population
rng = np.random.default_rng(0)
pops = [Population(f"p{i}", size) for i in range(n_pops)]
projs = [Projection("src", "p0", connector="one_to_one", weight_bits=15)]
for i in range(1, n_pops):
    post = np.repeat(np.arange(size), fan)
    pre = rng.integers(0, size, size * fan) if window == 0 else np.clip(post + rng.integers(-window, window + 1, size * fan), 0, size - 1)
    pairs = np.stack([pre, post], 1)
    pairs = np.unique(pairs, axis=0)
    projs.append(Projection(f"p{i-1}", f"p{i}", connector="list", pairs=tuple(map(tuple, pairs.tolist())), weight_bits=rng.integers(1, 16, len(pairs))))
t = time.time()
net = Network(pops, [SourcePopulation("src", size)], projs)
print("network", time.time() - t, "neurons", net.n_neurons, "edges", sum(len(p.pairs or ()) for p in projs))
t = time.time()
cfg, res = map_network(net, options=MappingOptions(hicanns=C.HICANNOnWafer.all(), allow_loss=True, source_rate_hz=1.0))
print("map", time.time() - t, res.synapses, res.synapses_lost, len(res.hicanns_used))
print("lost", res.lost_reasons)
lines = np.array([[r["l1_lines"], r["vertical_lines"], r["drivers"]] for r in res.resources.values()])
print("per HICANN (mean): horizontal lines %.1f of 64, vertical lines %.1f of 256, drivers %.1f of 224" % tuple(lines.mean(0)))
