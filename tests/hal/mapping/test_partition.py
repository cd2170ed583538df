"""Connectivity-aware placement (placement="partition", hal/mapping/partition.py)."""

from __future__ import annotations

import numpy as np
import pytest

from hal import coordinates as C
from hal.configuration.io import config_to_dict
from hal.mapping import MappingOptions, map_network
from hal.mapping.hicanns import rectangle
from hal.network import Network, Population, Projection, SourcePopulation, paper_network_description
from hal.testing.readback import expected_edges, realised_edges

H = C.HICANNOnWafer.from_xy


def _chain(n_pops: int, size: int, fan: int, window: int, seed: int = 1) -> Network:
    rng = np.random.default_rng(seed)
    pops = [Population(f"p{i}", size) for i in range(n_pops)]
    projs = [Projection("src", "p0", connector="one_to_one", weight_bits=15)]
    for i in range(1, n_pops):
        post = np.repeat(np.arange(size), fan)
        pre = np.clip(post + rng.integers(-window, window + 1, size * fan), 0, size - 1)
        pairs = np.unique(np.stack([pre, post], 1), axis=0)
        projs.append(Projection(f"p{i - 1}", f"p{i}", connector="list", pairs=tuple(map(tuple, pairs.tolist())), weight_bits=7))
    return Network(pops, [SourcePopulation("src", size)], projs)


def _mean_distance(net: Network, result) -> float:
    """Mean Manhattan distance (HICANNs) between the pre and post neuron of every neuron-to-neuron synapse."""
    total, count = 0, 0
    for proj in net.projections:
        if net.is_source(proj.pre):
            continue
        pre, post = proj.edges(net.size(proj.pre), net.size(proj.post))
        a = [result.placement[proj.pre][i][0] for i in pre.tolist()]
        b = [result.placement[proj.post][i][0] for i in post.tolist()]
        total += sum(abs(x.x - y.x) + abs(x.y - y.y) for x, y in zip(a, b))
        count += len(a)
    return total / count


def test_partition_keeps_talking_populations_together():
    # Two pairs of populations, each pair densely connected, no synapse between the pairs: on a row of four
    # HICANNs each pair gets two neighbouring HICANNs to itself (compact placement would interleave them).
    pops = [Population(n, 128) for n in ("a", "c", "b", "d")]
    projs = [Projection("a", "b", connector="one_to_one", weight_bits=5), Projection("b", "a", connector="one_to_one", weight_bits=5),
             Projection("c", "d", connector="one_to_one", weight_bits=5), Projection("d", "c", connector="one_to_one", weight_bits=5)]
    net = Network(pops, [], projs)
    config, result = map_network(net, options=MappingOptions(hicanns=tuple(H(x, 7) for x in range(12, 16)), placement="partition"))
    side = {name: {h.x < 14 for h, _ in result.placement[name]} for name in "abcd"}
    assert all(len(s) == 1 for s in side.values())
    assert side["a"] == side["b"] != side["c"] == side["d"]
    assert result.synapses_lost == 0 and realised_edges(config, result) == expected_edges(net, result)


@pytest.mark.slow  # two mappings of 1,280 neurons and their read-back: ~10 s
def test_partition_shortens_the_synapses_of_a_local_chain_and_loses_nothing_silently():
    net = _chain(5, 256, 4, 24)
    hicanns = rectangle(10, 6, 17, 8)
    mapped = {}
    for placement in ("compact", "partition"):
        options = MappingOptions(hicanns=hicanns, placement=placement, allow_loss=True, source_rate_hz=1.0)
        config, result = map_network(net, options=options)
        assert result.synapses + result.synapses_lost == result.bound.synapses
        assert sum(result.lost_reasons.values()) == result.synapses_lost
        assert realised_edges(config, result) == expected_edges(net, result)
        mapped[placement] = (config, result)
    assert _mean_distance(net, mapped["partition"][1]) < 0.5 * _mean_distance(net, mapped["compact"][1])
    assert mapped["partition"][1].synapses >= mapped["compact"][1].synapses


def test_partition_is_deterministic_and_honours_defects_and_the_input_budget():
    net = paper_network_description(seed=0)
    h = H(12, 7)
    broken = frozenset((h.enum, C.NeuronOnHICANN(x=x, y=y).enum) for x in range(0, 64) for y in (0, 1))
    options = MappingOptions(placement="partition", disabled_circuits=broken)
    first = map_network(net, options=options)
    second = map_network(net, options=options)
    manifest, arrays = config_to_dict(first[0])
    manifest2, arrays2 = config_to_dict(second[0])
    assert manifest == manifest2 and all(np.array_equal(arrays[k], arrays2[k]) for k in arrays)
    result = first[1]
    assert result.synapses == 3700 and result.synapses_lost == 0
    used = {(hicann, d.enum) for placed in result.placement.values() for hicann, denmems in placed for d in denmems}
    assert not {(hh.enum, d) for hh, d in used} & broken
    assert all(load <= options.input_budget_hz for load in result.input_load_hz.values())
    assert realised_edges(first[0], result) == expected_edges(net, result)
