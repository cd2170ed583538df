"""The negotiated-congestion router (hal/mapping/negotiated.py, ``MappingOptions.router="negotiated"``).

Every mapping here is read back from the registers (:func:`hal.netlist.wiring.extract_wiring`, what
every backend reads) and compared with what the mapping says it realised; no L1 line may carry
two origins' events, and every synapse is realised or counted lost with its reason.
"""

from __future__ import annotations

import attrs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hal import coordinates as C
from hal.errors import ConfigError
from hal.logging import capture_events
from hal.mapping import MappingOptions, map_network
from hal.mapping.l1 import L1Line, L1Occupancy
from hal.mapping.negotiated import _LATER_EXPANSIONS, _Net, _Router, _search_free, line_of, node_of
from hal.netlist.wiring import l1_lines
from hal.hardware.wafer import WaferConfig
from hal.network import (
    Network,
    Population,
    Projection,
    SourcePopulation,
    paper_network_description,
)
from hal.testing.readback import expected_edges, realised_edges

H = C.HICANNOnWafer.from_xy


def _check(network, options):
    """Map, read back, and check that no line carries two origins and that no synapse vanished."""
    config, result = map_network(network, options=options)
    assert realised_edges(config, result) == expected_edges(network, result)
    reached = list(l1_lines(config).values())
    assert sum(len(r) for r in reached) == len(set().union(*reached)), "an L1 line carries two origins"
    assert result.synapses + result.synapses_lost == result.bound.synapses  # the network's synapses, each counted once
    assert sum(result.lost_reasons.values()) == result.synapses_lost
    return config, result


def _through_a_gap(broken: tuple[int, ...] = (), **kwargs) -> tuple[Network, MappingOptions]:
    """a on (12, 7) and c on (12, 9) project to b on (14, 7); column 13 is dead except (13, 6), where ``broken`` lines are broken.

    A bus keeps one pair of horizontal lines per chip (a hop east moves it by one pair, a hop north or
    south by two; the crossbar joins a pair to its own vertical lines only), so a's second neuron
    block (sending line 54) and c's first (sending line 62) can cross (13, 6) only on lines 52 and
    53. The backbone router reaches nothing (its row is closed at x = 13); every bus needs the gap.
    """
    net = Network([Population("a", 32), Population("c", 32), Population("b", 32)], [SourcePopulation("s", 32)],
                  [Projection("s", "a", connector="one_to_one", weight_bits=15), Projection("a", "b", weight_bits=6),
                   Projection("c", "b", weight_bits=6)])
    gap = H(13, 6).enum
    wall = frozenset(H(13, y).enum for y in range(16) if y != 6)
    options = MappingOptions(hicanns=(H(12, 7), H(12, 9), H(14, 7)), max_neurons_per_hicann=32, router="negotiated", allow_loss=True,
                             disabled_hicanns=wall, disabled_hlines=frozenset((gap, k) for k in broken), **kwargs)
    return net, options


def test_buses_through_a_gap_all_get_through():
    net, options = _through_a_gap()
    with capture_events() as events:
        config, result = _check(net, options)
    assert result.synapses_lost == 0 and result.synapses == 32 + 2 * 32 * 32
    finished = [e for e in events if e["event"] == "negotiated_routing_finished"]
    assert len(finished) == 1 and finished[0]["buses"] == 4 and finished[0]["reached"] == 4 and finished[0]["lines_overused"] == 0
    used = {line for e, kind, line in set().union(*l1_lines(config).values()) if e == H(13, 6).enum and kind == "H"}
    assert {52, 53} <= used


def test_congestion_that_cannot_be_resolved_keeps_one_bus_and_counts_the_other_lost():
    net, options = _through_a_gap((52,), route_iterations=3)
    with capture_events() as events:
        _, result = _check(net, options)
    # Of the two blocks that need line 53 on (13, 6), one reaches b (16 x 32 synapses); the other's are lost.
    assert result.synapses == 32 + 2 * 32 * 32 - 16 * 32 and result.lost_reasons == {"unreachable bus": 16 * 32}
    finished = [e for e in events if e["event"] == "negotiated_routing_finished"]
    assert finished[0]["iterations"] == 3 and finished[0]["lines_overused"] > 0 and finished[0]["reached"] == 3
    assert not [e for e in events if e["event"] == "negotiated_routing_time_limit"]


def test_the_time_limit_stops_negotiation_and_says_so():
    net, options = _through_a_gap((52,), route_iterations=50, route_seconds=1e-9, detour_budget=0)
    with capture_events() as events:
        config, result = _check(net, options)
    # Out of time before the first bus (and no detours allowed): the four buses to b keep what the
    # backbone router gave them (nothing beyond their own chips), all lost and counted.
    assert result.synapses == 32 and result.lost_reasons == {"unreachable bus": 2 * 32 * 32}
    limit = [e for e in events if e["event"] == "negotiated_routing_time_limit"]
    assert len(limit) == 1 and limit[0]["log_level"] == "warning" and limit[0]["iterations"] == 1 and limit[0]["buses_not_visited"] == limit[0]["buses"]
    assert not config.has_hicann(H(13, 6))


def test_the_work_limit_stops_negotiation_the_same_way_on_every_machine():
    net, options = _through_a_gap((52,), route_iterations=50, route_work=0, detour_budget=0)
    with capture_events() as events:
        config, result = _check(net, options)
    # No line may be settled: as with the time limit, the buses keep what the backbone router gave them.
    assert result.synapses == 32 and result.lost_reasons == {"unreachable bus": 2 * 32 * 32}
    limit = [e for e in events if e["event"] == "negotiated_routing_work_limit"]
    assert len(limit) == 1 and limit[0]["log_level"] == "warning" and limit[0]["route_work"] == 0
    assert limit[0]["lines_settled"] == 0 and limit[0]["buses_not_visited"] == limit[0]["buses"]
    assert not [e for e in events if e["event"] == "negotiated_routing_time_limit"]
    # A limit reached part-way (after the first bus's searches) is the same on every run.
    partial = attrs.evolve(options, route_work=1)
    with capture_events() as events:
        first, _ = map_network(net, options=partial)
    limit = [e for e in events if e["event"] == "negotiated_routing_work_limit"]
    assert len(limit) == 1 and 0 < limit[0]["buses_not_visited"] < limit[0]["buses"] and limit[0]["lines_settled"] >= 1
    assert map_network(net, options=partial)[0] == first


def test_what_negotiation_leaves_is_tried_by_detours():
    net, options = _through_a_gap((52,), route_seconds=1e-9)
    _, result = _check(net, options)
    # The backbone router's detours (through row 6) get three of the four buses through the gap; the
    # fourth needs the line the third took.
    assert result.synapses == 32 + 3 * 16 * 32 and result.lost_reasons == {"unreachable bus": 16 * 32}


def test_a_network_the_backbone_routes_maps_the_same_with_either_router():
    net = paper_network_description(seed=0)
    greedy, _ = map_network(net)
    negotiated, result = map_network(net, options=MappingOptions(router="negotiated"))
    assert result.synapses_lost == 0 and negotiated == greedy


def test_same_seed_same_registers():
    net, options = _through_a_gap((52,), route_iterations=2)
    first, _ = map_network(net, options=options)
    again, _ = map_network(net, options=options)
    assert first == again


def test_nodes_and_lines_correspond():
    for line in (L1Line.horizontal(H(12, 7), 0), L1Line.horizontal(H(23, 15), 63), L1Line.vertical(H(0, 6), 0),
                 L1Line.vertical(H(35, 9), 255)):
        assert line_of(node_of(line)) == line


@pytest.mark.parametrize(("field", "value", "message"), [
    ("router", "pathfinder", r"MappingOptions.router: 'pathfinder' not valid; valid greedy, negotiated"),
    ("route_iterations", 0, r"MappingOptions.route_iterations: 0 not valid; valid integers >= 1"),
    ("route_iterations", True, r"MappingOptions.route_iterations: True not valid; valid integers >= 1"),
    ("route_work", -1, r"MappingOptions.route_work: -1 not valid; valid integers >= 0 \(lines settled\)"),
    ("route_work", 1.5e6, r"MappingOptions.route_work: 1500000.0 not valid; valid integers >= 0 \(lines settled\)"),
    ("route_work", False, r"MappingOptions.route_work: False not valid; valid integers >= 0 \(lines settled\)"),
    ("route_seconds", -1.0, r"MappingOptions.route_seconds: -1.0 not valid; valid finite numbers > 0"),
    ("route_seconds", float("nan"), r"MappingOptions.route_seconds: nan not valid; valid finite numbers > 0"),
    ("route_seconds", "10", r"MappingOptions.route_seconds: '10' not valid; valid finite numbers > 0"),
])
def test_bad_router_options_are_refused(field, value, message):
    with pytest.raises(ConfigError, match=message):
        MappingOptions(**{field: value})


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), free=st.floats(0.2, 0.9), n_targets=st.integers(1, 12))
def test_a_target_outside_the_region_a_search_ran_out_in_is_dropped_without_changing_any_result(seed, free, n_targets):
    """Legalisation skips the searches of targets a bus can no longer reach: the branches found are those of a search each."""
    rng = np.random.default_rng(seed)
    window = [H(x, y).enum for x in range(10, 15) for y in range(5, 9)]
    router = _Router(L1Occupancy(WaferConfig(C.Wafer(0)), MappingOptions()), [])
    router.blocked[:] = b"\x01" * len(router.blocked)  # a saturated wafer: only some lines of a window of 5 x 4 chips free
    for chip in window:
        for k in np.flatnonzero(rng.random(320) < free).tolist():
            router.blocked[chip * 320 + k] = 0
    root = window[int(rng.integers(len(window)))] * 320 + int(rng.integers(64))
    router.blocked[root] = 1
    targets = [int(t) for t in rng.choice(window + [H(20, 3).enum, H(25, 12).enum], n_targets)]
    net = _Net(("o", 0), root, targets, targets, {root})

    def legalise(shortcut: bool) -> tuple[list, int]:
        blocked, regions, tree, kept = bytearray(router.blocked), {}, {root}, []
        router.blocked, saved = blocked, router.blocked
        for target in targets:
            found = _search_free(router, regions, net, tree, target) if shortcut else router.search(tree, target, _LATER_EXPANSIONS)
            kept.append(found)
            if found is not None:
                for n in found[1]:
                    blocked[n] = 1
                tree.update(found[1])
        router.blocked = saved
        return kept, router.work

    plain, work = legalise(False)
    shortcut, both = legalise(True)
    assert shortcut == plain
    assert both - work <= work  # the shortcut never settles more lines


@settings(max_examples=8, deadline=None)
@given(sizes=st.lists(st.integers(8, 40), min_size=2, max_size=4), seed=st.integers(0, 10_000), broken=st.integers(0, 40))
def test_random_congested_networks_no_conflict_no_silent_loss(sizes, seed, broken):
    rng = np.random.default_rng(seed)
    names = [f"p{i}" for i in range(len(sizes))]
    projections = [Projection("s", names[0], connector="one_to_one", weight_bits=15)]
    for a, b in {tuple(int(v) for v in rng.integers(0, len(sizes), 2)) for _ in range(4)}:
        n = int(rng.integers(1, sizes[a] * sizes[b] + 1))
        pairs = {(int(rng.integers(0, sizes[a])), int(rng.integers(0, sizes[b]))) for _ in range(n)}
        projections.append(Projection(names[a], names[b], "excitatory", "list", pairs=tuple(sorted(pairs)),
                                      weight_bits=int(rng.integers(1, 16))))
    net = Network([Population(n, s) for n, s in zip(names, sizes)], [SourcePopulation("s", sizes[0])], projections)
    chips = [H(x, y) for y in (7, 8) for x in range(12, 16)]
    # Broken horizontal lines on the chips between them make the backbone fail and the buses compete.
    lines = frozenset((chips[int(rng.integers(0, len(chips)))].enum, int(rng.integers(0, 64))) for _ in range(broken * 8))
    options = MappingOptions(hicanns=tuple(chips[i] for i in rng.permutation(len(chips))), allow_loss=True, source_rate_hz=1.0,
                             max_neurons_per_hicann=int(rng.integers(16, 48)), router="negotiated", seed=seed, disabled_hlines=lines)
    _, result = _check(net, options)
    assert set(result.lost_reasons) <= {"unreachable bus", "no synapse driver"}


@pytest.mark.slow
def test_full_wafer_random_network_reads_back_exactly():
    rng = np.random.default_rng(0)
    size, fan = 256, 10
    pops = [Population(f"p{i}", size) for i in range(40)]
    projections = [Projection("s", "p0", connector="one_to_one", weight_bits=15)]
    for i in range(1, 40):
        pairs = np.unique(np.stack([rng.integers(0, size, size * fan), np.repeat(np.arange(size), fan)], 1), axis=0)
        projections.append(Projection(f"p{i - 1}", f"p{i}", connector="list", pairs=tuple(map(tuple, pairs.tolist())), weight_bits=7))
    net = Network(pops, [SourcePopulation("s", size)], projections)
    _, result = _check(net, MappingOptions(hicanns=C.HICANNOnWafer.all(), allow_loss=True, source_rate_hz=1.0, router="negotiated",
                                           placement="partition"))
    assert set(result.lost_reasons) <= {"unreachable bus", "no synapse driver"}
