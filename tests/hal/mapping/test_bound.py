"""The resource bound (hal/mapping/bound.py): optimal per HICANN, never below what a mapping realises."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hal import coordinates as C
from hal.mapping import MappingOptions, map_network
from hal.mapping.bound import chip_bound, chip_bound_of_edges, slots_per_row
from hal.network import Network, Population, Projection, SourcePopulation, paper_network_description
from hal.testing.readback import expected_edges, realised_edges


def _best_rows(kinds: dict, rows: int, slots: int) -> int:
    """Brute force: the most edges ``rows`` rows of one origin hold (each row: up to ``slots`` addresses of one kind)."""
    best = 0
    names = list(kinds)
    for split in itertools.product(range(rows + 1), repeat=len(names)):
        if sum(split) > rows:
            continue
        best = max(best, sum(sum(sorted(kinds[k], reverse=True)[:r * slots]) for k, r in zip(names, split)))
    return best


def _brute_force(needs: dict, drivers: int, slots: int) -> int:
    """Every split of the drivers among the origins; a driver gives its origin two rows."""
    per_origin = []
    for counts in needs.values():
        kinds: dict = {}
        for (_, exc, div), n in counts.items():
            kinds.setdefault((exc, div), []).append(n)
        per_origin.append(kinds)
    best = 0
    for split in itertools.product(range(drivers + 1), repeat=len(per_origin)):
        if sum(split) <= drivers:
            best = max(best, sum(_best_rows(k, 2 * d, slots) for k, d in zip(per_origin, split)))
    return best


_need = st.tuples(st.integers(1, 63), st.booleans(), st.sampled_from([1, 2]))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.dictionaries(_need, st.integers(1, 9), min_size=1, max_size=5), min_size=1, max_size=3),
       st.integers(0, 3), st.sampled_from([1, 2, 4]))
def test_chip_bound_is_the_optimum_of_a_brute_force_search(origins, drivers, slots):
    needs = {i: Counter(counts) for i, counts in enumerate(origins)}
    assert chip_bound(needs, drivers, slots) == _brute_force(needs, drivers, slots)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(_need, min_size=1, max_size=25), min_size=1, max_size=6), st.integers(0, 10), st.sampled_from([1, 2, 4, 8, 16]))
def test_the_bound_from_edge_arrays_equals_chip_bound(origins, drivers, slots):
    # synapse_bound computes each HICANN's bound with numpy from one row per edge (repeats are edges to other posts)
    needs = {i: Counter(edges) for i, edges in enumerate(origins)}
    origin = np.repeat(np.arange(len(origins)), [len(edges) for edges in origins])
    edges = np.array([need for edges in origins for need in edges], dtype=np.int64)
    assert chip_bound_of_edges(origin, edges, drivers, slots) == chip_bound(needs, drivers, slots)


def test_slots_per_row_follow_the_columns_per_half():
    assert [slots_per_row(k) for k in (1, 2, 4, 8, 16, 32, 64)] == [1, 1, 2, 4, 8, 16, 16]


def test_paper_network_realises_its_whole_bound():
    _, result = map_network(paper_network_description(seed=0))
    assert result.bound.to_dict() == {"synapses": 3700, "bound": 3700, "realised": 3700, "realised_of_bound": 1.0, "limited": {}}


def test_the_bound_counts_what_drivers_cannot_hold():
    # 60 sources -> 2 neurons of 2 circuits (one address per row), both signs: 120 rows, each reaching both
    # neurons, on a HICANN with 20 usable drivers (40 rows).
    h = C.HICANNOnWafer.from_xy(12, 7)
    net = Network([Population("n", 2)], [SourcePopulation("s", 60)],
                  [Projection("s", "n", connector="all_to_all", weight_bits=5),
                   Projection("s", "n", receptor="inhibitory", connector="all_to_all", weight_bits=5)])
    disabled = frozenset((h.enum, d) for d in range(224) if d not in range(0, 40, 2))
    options = MappingOptions(hicanns=(h,), circuits_per_neuron=2, allow_loss=True, disabled_drivers=disabled, source_rate_hz=1.0)
    config, result = map_network(net, options=options)
    bound = result.bound
    # 20 drivers = 40 rows, one (source, sign) each, each row reaching both neurons: at most 80 of 240 synapses.
    assert (bound.synapses, bound.bound) == (240, 80) and bound.limited == {"synapse drivers and rows": 160}
    assert bound.realised == result.synapses <= bound.bound
    assert realised_edges(config, result) == expected_edges(net, result)


@st.composite
def _networks(draw):
    sizes = draw(st.lists(st.integers(1, 80), min_size=1, max_size=3))
    pops = [Population(f"p{i}", n) for i, n in enumerate(sizes)]
    sources = [SourcePopulation("s", draw(st.integers(1, 60)))]
    names = {p.name: p.size for p in pops} | {"s": sources[0].size}
    projections = []
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    for j in range(draw(st.integers(1, 4))):
        pre = draw(st.sampled_from(sorted(names)))
        post = draw(st.sampled_from([p.name for p in pops]))
        pairs = sorted({(int(a), int(b)) for a, b in zip(rng.integers(0, names[pre], 60), rng.integers(0, names[post], 60))})
        projections.append(Projection(pre, post, receptor="excitatory" if j % 2 == 0 else "inhibitory", connector="list",
                                      pairs=tuple(pairs), weight_bits=rng.integers(1, 16, len(pairs))))
    return Network(pops, sources, projections)


@settings(max_examples=12, deadline=None)
@given(_networks(), st.sampled_from([2, 4]), st.integers(1, 3), st.sampled_from(["compact", "partition"]))
def test_random_networks_lose_nothing_silently_and_stay_within_the_bound(net, circuits, n_hicanns, placement):
    hicanns = tuple(C.HICANNOnWafer.from_xy(12 + i, 7) for i in range(n_hicanns)) + (C.HICANNOnWafer.from_xy(12, 8),)
    options = MappingOptions(hicanns=hicanns, circuits_per_neuron=circuits, allow_loss=True, source_rate_hz=1.0, placement=placement,
                             disabled_drivers=frozenset((hicanns[0].enum, d) for d in range(0, 224, 3)))
    try:
        config, result = map_network(net, options=options)
    except Exception as error:  # two projections on one synapse is refused, with its message
        assert "share one synapse" in str(error)
        return
    n = sum(len(p.pairs) for p in net.projections)
    assert result.synapses + result.synapses_lost == n == result.bound.synapses
    assert sum(result.lost_reasons.values()) == result.synapses_lost  # every loss has a reason
    assert result.synapses <= result.bound.bound
    assert sum(int(result.realised(j).sum()) for j in range(len(net.projections))) == result.synapses
    assert realised_edges(config, result) == expected_edges(net, result)  # no route conflicts: every synapse reads back
