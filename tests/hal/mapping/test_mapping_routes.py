"""Routes beyond the eastward bus: westward, longer than three hops, between HICANN rows.

Every test reads the realised synapses back from the registers (:func:`hal.netlist.wiring.extract_wiring`,
what every backend reads) and compares them with what the mapping says it realised.
"""

from __future__ import annotations

import attrs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hal
from hal import coordinates as C
from hal.errors import ConfigError
from hal.hardware.hicann import RepeaterMode
from hal.logging import capture_events
from hal.mapping import MappingOptions, map_network
from hal.network import Network, Population, Projection, SourcePopulation
from hal.netlist.wiring import l1_lines
from hal.testing.readback import expected_edges, realised_edges

H = C.HICANNOnWafer.from_xy


def _check(network, options):
    config, result = map_network(network, options=options)
    assert realised_edges(config, result) == expected_edges(network, result)
    return config, result


def _chain(a: int, b: int, *, back: bool = False, weight: int = 9) -> Network:
    projections = [Projection("s", "a", connector="one_to_one", weight_bits=15), Projection("a", "b", weight_bits=weight)]
    if back:
        projections.append(Projection("b", "a", "inhibitory", weight_bits=3))
    return Network([Population("a", a), Population("b", b)], [SourcePopulation("s", a)], projections)


def _repeaters(config, flag: str) -> list:
    out = []
    for h, chip in config.hicanns():
        table = chip.h_repeaters if flag in ("towards_west", "towards_east") else chip.v_repeaters
        on = table.column(flag).astype(bool) & (table.column("mode") != RepeaterMode.IDLE)
        out.extend((h, int(r)) for r in np.flatnonzero(on))
    return out


def test_backward_projection_runs_west():
    net = _chain(40, 30, back=True)
    config, result = _check(net, MappingOptions())
    assert result.synapses_lost == 0 and result.synapses == 40 + 1200 + 1200
    a_chips = {h for h, _ in result.placement["a"]}
    b_chips = {h for h, _ in result.placement["b"]}
    assert max(h.x for h in a_chips) < max(h.x for h in b_chips)
    assert _repeaters(config, "towards_west"), "b -> a must leave b's HICANN westwards"


def test_long_projection_switches_to_an_odd_line():
    # a on the first HICANN, four full HICANNs of other neurons, b on the sixth: a's bus would run
    # into a sending line on the fourth hop.
    chain = tuple(H(x, 7) for x in range(12, 18))
    pops = [Population("a", 16)] + [Population(f"f{i}", 128) for i in range(4)] + [Population("b", 16)]
    net = Network(pops, [SourcePopulation("s", 16)],
                  [Projection("s", "a", connector="one_to_one", weight_bits=15), Projection("a", "b", weight_bits=4)])
    config, result = _check(net, MappingOptions(hicanns=chain, max_neurons_per_hicann=128))
    assert {h for h, _ in result.placement["b"]} == {chain[5]}
    assert result.synapses_lost == 0 and result.synapses == 16 + 256
    odd = [(h, line) for h, chip in config.hicanns() for line in range(1, 64, 2) if chip.crossbar_switches[line].any()]
    assert odd, "the bus must change to an odd line through a vertical line"


def test_projection_to_another_row_goes_west_then_south():
    options = MappingOptions(hicanns=(H(14, 7), H(12, 8)))
    config, result = _check(_chain(20, 20), options)
    assert result.synapses_lost == 0 and result.synapses == 20 + 400
    assert _repeaters(config, "towards_south") and _repeaters(config, "towards_west")


def test_projection_to_another_row_goes_south_then_west_around_a_disabled_hicann():
    options = MappingOptions(hicanns=(H(14, 7), H(12, 8)), disabled_hicanns=frozenset({H(13, 7).enum}))
    config, result = _check(_chain(20, 20, back=True), options)
    assert result.synapses_lost == 0
    assert not config.has_hicann(H(13, 7))
    # a -> b: south at x = 14, then west along row 8; b -> a: back the other way.
    assert _repeaters(config, "towards_south") and _repeaters(config, "towards_north")


def test_unreachable_targets_are_reported_not_hidden():
    # Every way the greedy router knows from (14, 7) to (12, 8) -- direct, vertical first, a detour
    # through the next row -- is blocked; the negotiated router goes further round.
    dead = {H(13, 7).enum, H(13, 8).enum, H(14, 8).enum, H(12, 7).enum}
    options = MappingOptions(hicanns=(H(14, 7), H(12, 8)), disabled_hicanns=frozenset(dead), allow_loss=True, router="greedy")
    config, result = _check(_chain(20, 20), options)
    assert result.synapses_lost == 400 and result.lost_reasons == {"unreachable bus": 400}
    config, result = _check(_chain(20, 20), attrs.evolve(options, router="negotiated"))
    assert result.synapses_lost == 0
    assert not {h.enum for h, _ in config.hicanns()} & dead


def _blocked_row() -> tuple[Network, MappingOptions]:
    """a on (12, 7), b on (14, 7), and both lines a's bus could take on (13, 7) -- its line and the partner -- broken."""
    net = _chain(10, 10, weight=5)
    options = MappingOptions(hicanns=(H(12, 7), H(14, 7)))
    config, _ = map_network(net, options=options)
    middle = H(13, 7).enum
    lines = {line for e, kind, line in set().union(*l1_lines(config).values()) if e == middle and kind == "H"}
    assert len(lines) == 1
    line = lines.pop()
    return net, attrs.evolve(options, disabled_hlines=frozenset({(middle, line), (middle, line ^ 1)}))


def test_a_bus_blocked_in_its_row_detours_through_the_next_row():
    net, options = _blocked_row()
    config, result = _check(net, options)
    assert result.synapses_lost == 0 and result.synapses == 10 + 100
    reached = set().union(*l1_lines(config).values())
    assert not reached & {(e, "H", line) for e, line in options.disabled_hlines}
    assert {C.HICANNOnWafer(e).y for e, _, _ in reached} - {7}, "the detour leaves row 7"
    assert _repeaters(config, "towards_north") or _repeaters(config, "towards_south")


def test_a_detour_that_does_not_get_through_leaves_nothing_behind():
    net, options = _blocked_row()
    # Row 6 and row 8 are closed at x = 14: every detour gets one chip along and is rolled back.
    options = attrs.evolve(options, allow_loss=True, disabled_hicanns=frozenset({H(14, 6).enum, H(14, 8).enum}), router="greedy")
    config, result = _check(net, options)
    assert result.lost_reasons == {"unreachable bus": 100}
    assert {h.y for h, _ in config.hicanns()} == {7}
    assert not _repeaters(config, "towards_north") and not _repeaters(config, "towards_south")


@pytest.mark.parametrize("backend", ["reference", "emulator"])
def test_backends_see_the_routed_synapses(backend):
    net = _chain(8, 8, weight=15)
    options = MappingOptions(hicanns=(H(14, 7), H(12, 8)), disabled_hicanns=frozenset({H(13, 7).enum}))
    config, result = map_network(net, options=options)
    exp = hal.Experiment(config, 300.0, [hal.PoissonInput(result.source_address["s"], np.full((1, 8), 150.0))])
    rec = hal.run(exp, hal.get_backend(backend, **({"mismatch": "none"} if backend == "emulator" else {})))
    counts = rec.spike_counts[0]
    b_fired = [counts[rec.column(h, den[0])] for h, den in result.placement["b"]]
    assert min(b_fired) > 0, "b is reached only through the routed bus (south, then west)"


@settings(max_examples=10, deadline=None)
@given(sizes=st.lists(st.integers(1, 30), min_size=2, max_size=4), seed=st.integers(0, 10_000))
def test_random_networks_over_two_rows_read_back_exactly(sizes, seed):
    rng = np.random.default_rng(seed)
    names = [f"p{i}" for i in range(len(sizes))]
    projections = [Projection("s", names[0], connector="one_to_one", weight_bits=15)]
    seen = set()
    for _ in range(4):
        a, b = rng.integers(0, len(sizes), 2)
        receptor = "excitatory" if rng.random() < 0.6 else "inhibitory"
        if (a, b, receptor) in seen:
            continue  # two projections on one synapse are refused (test_duplicate_synapses_are_refused)
        seen.add((a, b, receptor))
        n = int(rng.integers(1, sizes[a] * sizes[b] + 1))
        pairs = {(int(rng.integers(0, sizes[a])), int(rng.integers(0, sizes[b]))) for _ in range(n)}
        projections.append(Projection(names[a], names[b], receptor, "list",
                                      pairs=tuple(sorted(pairs)), weight_bits=int(rng.integers(1, 16))))
    net = Network([Population(n, s) for n, s in zip(names, sizes)], [SourcePopulation("s", sizes[0])], projections)
    chips = [H(x, y) for y in (7, 8) for x in range(13, 17)]
    order = [chips[i] for i in rng.permutation(len(chips))]
    config, result = _check(net, MappingOptions(hicanns=tuple(order), allow_loss=True, source_rate_hz=1.0,
                                                max_neurons_per_hicann=int(rng.integers(20, 48))))
    assert set(result.lost_reasons) <= {"unreachable bus", "no synapse driver"}


def test_duplicate_synapses_are_refused():
    net = Network([Population("a", 3), Population("b", 3)], [],
                  [Projection("a", "b", weight_bits=3), Projection("a", "b", connector="one_to_one", weight_bits=5)])
    with pytest.raises(ConfigError, match=r"two edges share one synapse.*projections\[0\] a->b \(excitatory\), projections\[1\] a->b"):
        map_network(net)


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
    _check(net, MappingOptions(hicanns=C.HICANNOnWafer.all(), allow_loss=True, source_rate_hz=1.0))


def test_the_detour_budget_bounds_the_tries_and_says_so():
    net, options = _blocked_row()
    with capture_events() as events:
        config, result = _check(net, attrs.evolve(options, allow_loss=True, detour_budget=0, router="greedy"))
    assert result.lost_reasons == {"unreachable bus": 100}
    assert {h.y for h, _ in config.hicanns()} == {7}  # no detour was tried
    warned = [e for e in events if e["event"] == "detour_budget_exhausted"]
    assert len(warned) == 1 and warned[0]["budget"] == 0 and warned[0]["buses_not_tried"] == 1 and warned[0]["log_level"] == "warning"
    with pytest.raises(ConfigError, match=r"MappingOptions.detour_budget: -1 not valid; valid integers >= 0"):
        MappingOptions(detour_budget=-1)
