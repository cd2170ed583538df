"""Benchmark: map wafer-size networks; synapses realised, lost by reason, the bound, time, peak memory, L1 use.

Networks (all of 4-circuit neurons, on all 384 HICANNs, ``allow_loss``):

* ``random``: 46 populations of 1,024 neurons in a chain, each neuron drawing 20 random inputs
  from the previous population (~0.91 M synapses), 1,024 sources on the first;
* ``local``: the same with each neuron's inputs drawn within +-64 of its own index (~0.84 M);
* ``synfire``: a synfire chain with feed-forward inhibition, 190 links of 80 E + 20 I neurons
  (the size of BrainScaleS-1's 2020 record, which used 230 HICANNs), ~1.44 M synapses;
* ``microcircuit``: the Potjans-Diesmann (2014) cortical microcircuit's structure -- 8
  populations L2/3, L4, L5, L6 excitatory and inhibitory in its proportions, its connection
  probabilities and thalamic input to L4 and L6 -- scaled to 40,000 neurons (81 % of the
  wafer's 49,152; the thalamus-fed L4 and L6 take HICANNs that keep FPGA channels free for
  their sources, 96 neurons each, so 44,000 do not fit) and a mean in-degree of 20 (full scale: 77,169 neurons, ~3,900 inputs each; the
  pathways keep their ratios).

Run: python benchmarks/mapping_wafer.py local --placement partition [--router negotiated] [--merge-blocks] [--png docs/figures/mapping_wafer_local.png]
Prints one JSON line per network: realised, lost by reason, bound, map time (wall and CPU, s), peak RSS (MiB).
``--check`` reads every realised synapse back from the registers (slow).
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np

from hal import coordinates as C
from hal.mapping import PLACEMENTS, MappingOptions, map_network
from hal.mapping.options import ROUTERS
from hal.netlist.wiring import l1_lines
from hal.network import Network, Population, Projection, SourcePopulation

#: Potjans & Diesmann (2014), Table 5: populations, full-scale sizes, connection probabilities (row: target, column: source).
PD_NAMES = ("L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I")
PD_SIZES = (20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948)
PD_P = np.array([
    [0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0],
    [0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0],
    [0.0077, 0.0059, 0.0497, 0.1350, 0.0067, 0.0003, 0.0453, 0.0],
    [0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0],
    [0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0],
    [0.0548, 0.0269, 0.0257, 0.0022, 0.0600, 0.3158, 0.0086, 0.0],
    [0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252],
    [0.0364, 0.0010, 0.0034, 0.0005, 0.0277, 0.0080, 0.0658, 0.1443],
])
#: thalamus (902 neurons at full scale) -> L4E, L4I, L6E, L6I
PD_THALAMUS = {"L4E": 0.0983, "L4I": 0.0619, "L6E": 0.0512, "L6I": 0.0196}


def chain_network(n_pops: int = 46, size: int = 1024, fan: int = 20, window: int = 0, seed: int = 0) -> Network:
    """Populations in a chain, ``fan`` inputs per neuron from the previous one (within +-``window``, 0: anywhere)."""
    rng = np.random.default_rng(seed)
    pops = [Population(f"p{i}", size) for i in range(n_pops)]
    projs = [Projection("src", "p0", connector="one_to_one", weight_bits=15)]
    for i in range(1, n_pops):
        post = np.repeat(np.arange(size), fan)
        pre = rng.integers(0, size, size * fan) if window == 0 else np.clip(post + rng.integers(-window, window + 1, size * fan), 0, size - 1)
        pairs = np.unique(np.stack([pre, post], 1), axis=0)
        projs.append(Projection(f"p{i - 1}", f"p{i}", connector="list", pairs=tuple(map(tuple, pairs.tolist())),
                                weight_bits=rng.integers(1, 16, len(pairs))))
    return Network(pops, [SourcePopulation("src", size)], projs)


def microcircuit(neurons: int = 40_000, in_degree: float = 20.0, thalamus: int = 512, seed: int = 0) -> Network:
    """The Potjans-Diesmann structure with ``neurons`` in all and a mean in-degree of ``in_degree`` (module docstring)."""
    rng = np.random.default_rng(seed)
    scale = neurons / sum(PD_SIZES)
    sizes = [max(1, round(n * scale)) for n in PD_SIZES]
    # expected synapses per pathway at full scale, scaled to the wanted total
    full = PD_P * np.outer(PD_SIZES, PD_SIZES)
    th_full = {t: p * 902 * PD_SIZES[PD_NAMES.index(t)] for t, p in PD_THALAMUS.items()}
    factor = in_degree * sum(sizes) / (full.sum() + sum(th_full.values()))
    pops = [Population(n, s) for n, s in zip(PD_NAMES, sizes)]
    projs = []

    def draw(pre_name, n_pre, post_name, n_post, count, receptor):
        count = round(count)
        if count == 0:
            return
        pairs = np.unique(np.stack([rng.integers(0, n_pre, count), rng.integers(0, n_post, count)], 1), axis=0)
        projs.append(Projection(pre_name, post_name, receptor=receptor, connector="list", pairs=tuple(map(tuple, pairs.tolist())),
                                weight_bits=rng.integers(1, 16, len(pairs))))

    for i, target in enumerate(PD_NAMES):
        for j, source in enumerate(PD_NAMES):
            draw(source, sizes[j], target, sizes[i], full[i, j] * factor, "excitatory" if source.endswith("E") else "inhibitory")
    for target, count in th_full.items():
        draw("thalamus", thalamus, target, sizes[PD_NAMES.index(target)], count * factor, "excitatory")
    return Network(pops, [SourcePopulation("thalamus", thalamus)], projs)


def synfire(links: int = 190, excitatory: int = 80, inhibitory: int = 20, fan_in: int = 60, seed: int = 0) -> Network:
    """A synfire chain with feed-forward inhibition (the 2020 wafer record: 190 links of 100 neurons, ~1.4 M synapses).

    Link ``i`` has ``excitatory`` E and ``inhibitory`` I neurons; every E and I neuron of link ``i + 1`` draws
    ``fan_in`` inputs from the E neurons of link ``i``, and the I neurons of each link inhibit all its E neurons.
    A source population of ``excitatory`` stimulates link 0 like an E population.
    """
    rng = np.random.default_rng(seed)
    pops, projs = [], []

    def fan(pre_name, n_pre, post_name, n_post, receptor, k):
        pre = np.concatenate([rng.choice(n_pre, k, replace=False) for _ in range(n_post)])
        pairs = np.stack([pre, np.repeat(np.arange(n_post), k)], 1)
        projs.append(Projection(pre_name, post_name, receptor=receptor, connector="list", pairs=tuple(map(tuple, pairs.tolist())),
                                weight_bits=15))

    for i in range(links):
        pops += [Population(f"E{i}", excitatory), Population(f"I{i}", inhibitory)]
        pre = "stimulus" if i == 0 else f"E{i - 1}"
        fan(pre, excitatory, f"E{i}", excitatory, "excitatory", fan_in)
        fan(pre, excitatory, f"I{i}", inhibitory, "excitatory", fan_in)
        fan(f"I{i}", inhibitory, f"E{i}", excitatory, "inhibitory", inhibitory)
    return Network(pops, [SourcePopulation("stimulus", excitatory)], projs)


NETWORKS = {
    "random": lambda: chain_network(window=0),
    "local": lambda: chain_network(window=64),
    "microcircuit": microcircuit,
    "synfire": synfire,
}


def l1_use(config) -> dict[int, tuple[int, int]]:
    """Per HICANN (enum): horizontal and vertical lines that carry events, read from the registers."""
    lines: dict[int, set] = {}
    for nodes in l1_lines(config).values():
        for h, kind, line in nodes:
            lines.setdefault(h, set()).add((kind, line))
    return {h: (sum(k == "H" for k, _ in s), sum(k == "V" for k, _ in s)) for h, s in lines.items()}


def plot_l1(use: dict, title: str, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = np.full((16, 36), np.nan)
    for h in C.HICANNOnWafer.all():
        grid[h.y, h.x] = 0.0
    for h, (horizontal, _) in use.items():
        hicann = C.HICANNOnWafer(h)
        grid[hicann.y, hicann.x] = horizontal
    fig, ax = plt.subplots(figsize=(9, 4.4))
    image = ax.imshow(grid, cmap="viridis", vmin=0, vmax=64)
    fig.colorbar(image, ax=ax, label="horizontal L1 lines in use (of 64)")
    ax.set_xlabel("HICANN x")
    ax.set_ylabel("HICANN y")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("network", choices=sorted(NETWORKS))
    parser.add_argument("--placement", choices=PLACEMENTS, default="partition")
    parser.add_argument("--router", choices=ROUTERS, default="negotiated",
                        help="what routes the buses the backbone router leaves unreached (MappingOptions.router)")
    parser.add_argument("--merge-blocks", action="store_true", help="neuron blocks share DNC mergers (MappingOptions.merge_blocks)")
    parser.add_argument("--png", help="write a picture of the L1 use over the wafer here")
    parser.add_argument("--check", action="store_true", help="read every realised synapse back from the registers")
    args = parser.parse_args()
    net = NETWORKS[args.network]()
    options = MappingOptions(hicanns=C.HICANNOnWafer.all(), allow_loss=True, source_rate_hz=1.0, placement=args.placement,
                             router=args.router, merge_blocks=args.merge_blocks)
    start, cpu = time.perf_counter(), time.process_time()
    config, result = map_network(net, options=options)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    use = l1_use(config)
    report = {
        "network": args.network, "placement": args.placement, "router": args.router, "merge_blocks": args.merge_blocks,
        "neurons": net.n_neurons,
        **result.bound.to_dict(), "lost": result.synapses_lost, "lost_reasons": result.lost_reasons,
        "hicanns": len(result.hicanns_used), "map_s": round(seconds, 1),
        "map_cpu_s": round(cpu, 1),  # the wall time on a shared machine is mostly waiting
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "mean_horizontal_lines": round(float(np.mean([u[0] for u in use.values()])), 1) if use else 0.0,
        "hicanns_with_l1": len(use),
    }
    if args.check:
        from hal.testing.readback import expected_edges, realised_edges

        report["reads_back"] = realised_edges(config, result) == expected_edges(net, result)
    print(json.dumps(report))
    if args.png:
        plot_l1(use, f"{args.network} network, placement {args.placement}: {result.synapses:,} of {result.bound.synapses:,} "
                     f"synapses realised", args.png)


if __name__ == "__main__":
    main()
