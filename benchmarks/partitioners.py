"""Benchmark: the partition placement's bisection -- hal's spectral one against METIS and Kernighan-Lin.

Issue 17 asks for connectivity-aware placement with a well-kept partitioning library or hal's
own, chosen by measurement. ``placement="partition"`` (:mod:`hal.mapping.partition`) splits the
network's units recursively along the Fiedler vector (numpy only). This benchmark replaces that
one step -- the order in which a set of units is cut into two -- by METIS's 2-way partition
(``pymetis``) or networkx's Kernighan-Lin bisection, keeps everything else (units, HICANN halves,
capacities, terminal propagation, the router), maps a wafer network of
``benchmarks/mapping_wafer.py`` and reports synapses realised against the bound, the edge cut of
the top-level split, and the time. Neither library is a dependency of hal: install them to run
this (``pip install pymetis networkx``).

Run: python benchmarks/partitioners.py random [--methods spectral metis kl]
Prints one JSON line per method.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from mapping_wafer import NETWORKS  # noqa: E402  (the benchmark's own networks, not copied)

from hal import coordinates as C  # noqa: E402
from hal.mapping import MappingOptions, map_network  # noqa: E402
from hal.mapping import partition  # noqa: E402

SPECTRAL = partition._fiedler_order


def _oriented(members: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Two parts as one order: the part with the lower mean unit index first (the network's order), each ascending."""
    second = ~first
    if first.any() and second.any() and members[first].mean() > members[second].mean():
        first, second = second, first
    return np.concatenate([np.sort(members[first]), np.sort(members[second])])


def metis_order(a: np.ndarray, members: np.ndarray) -> np.ndarray:
    import pymetis

    if members.size <= 2:
        return members
    sub = a[np.ix_(members, members)]
    positive = sub[sub > 0]
    scale = 1000.0 / positive.max() if positive.size else 1.0
    weights = np.maximum(np.rint(sub * scale), (sub > 0).astype(float)).astype(np.int64)  # METIS takes integer weights
    np.fill_diagonal(weights, 0)
    xadj, adjncy, eweights = [0], [], []
    for row in weights:
        nbrs = np.flatnonzero(row)
        adjncy.extend(nbrs.tolist())
        eweights.extend(row[nbrs].tolist())
        xadj.append(len(adjncy))
    _, parts = pymetis.part_graph(2, xadj=xadj, adjncy=adjncy, eweights=eweights)
    return _oriented(members, np.asarray(parts) == 0)


def kl_order(a: np.ndarray, members: np.ndarray) -> np.ndarray:
    import networkx as nx
    from networkx.algorithms.community import kernighan_lin_bisection

    if members.size <= 2:
        return members
    sub = a[np.ix_(members, members)]
    graph = nx.Graph()
    graph.add_nodes_from(range(members.size))
    i, j = np.nonzero(np.triu(sub, 1))
    graph.add_weighted_edges_from(zip(i.tolist(), j.tolist(), sub[i, j].tolist()))
    left, _ = kernighan_lin_bisection(graph, weight="weight", seed=0)
    first = np.zeros(members.size, dtype=bool)
    first[list(left)] = True
    return _oriented(members, first)


METHODS = {"spectral": SPECTRAL, "metis": metis_order, "kl": kl_order}


def run(network: str, method: str) -> dict:
    net = NETWORKS[network]()
    cuts, seconds = [], [0.0]
    order = METHODS[method]

    def timed(a, members):
        start = time.process_time()
        ordered = order(a, members)
        seconds[0] += time.process_time() - start
        if not cuts:  # the top-level split: edge weight across the middle of the order
            half = ordered.size // 2
            cuts.append(float(a[np.ix_(ordered[:half], ordered[half:])].sum()))
        return ordered

    partition._fiedler_order = timed
    try:
        options = MappingOptions(hicanns=C.HICANNOnWafer.all(), allow_loss=True, source_rate_hz=1.0, placement="partition")
        cpu = time.process_time()
        _, result = map_network(net, options=options)
        cpu = time.process_time() - cpu
    finally:
        partition._fiedler_order = SPECTRAL
    return {"network": network, "method": method, "realised": result.synapses, "bound": result.bound.bound,
            "of_bound": round(result.synapses / result.bound.bound, 4), "lost_reasons": result.lost_reasons,
            "top_cut": round(cuts[0], 1) if cuts else None, "bisection_cpu_s": round(seconds[0], 2), "map_cpu_s": round(cpu, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("network", choices=sorted(NETWORKS))
    parser.add_argument("--methods", nargs="+", choices=sorted(METHODS), default=["spectral", "metis", "kl"])
    args = parser.parse_args()
    for method in args.methods:
        print(json.dumps(run(args.network, method)), flush=True)


if __name__ == "__main__":
    main()
