"""Neuron blocks sharing DNC mergers through the merger tree (``MappingOptions.merge_blocks``).

Every mapping here is read back from the registers (:func:`hal.netlist.wiring.extract_wiring`,
what every backend reads); the spike tests check on two backends that the spikes of neurons of
merged blocks reach exactly their targets, which they would not with a wrong address or bus.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hal
from hal import coordinates as C
from hal.errors import ConfigError
from hal.hardware.recipes import tree_blocks
from hal.mapping import MappingOptions, map_network
from hal.mapping.l1 import sending_line
from hal.mapping.merger import merge_groups
from hal.netlist.wiring import extract_wiring
from hal.network import (
    Network,
    Population,
    Projection,
    SourcePopulation,
    paper_network_description,
)
from hal.testing.readback import expected_edges, realised_edges

H = C.HICANNOnWafer.from_xy(18, 8)


def _channels(config, result) -> dict[tuple, int]:
    """(population, index) -> the DNC merger its spikes leave through, read from the registers."""
    wiring = extract_wiring(config, synapses=False)
    index = wiring.neuron_index()
    out = {}
    for pop, placed in result.placement.items():
        for i, (h, denmems) in enumerate(placed):
            out[(pop, i)] = wiring.origins[wiring.neuron_origin[index[(h, denmems[0])]]].channel
    return out


@settings(max_examples=60, deadline=None)
@given(counts=st.lists(st.integers(0, 16), min_size=8, max_size=8), cap=st.integers(1, 130))
def test_groups_cover_each_used_block_once_on_a_channel_that_reaches_it(counts, cap):
    per_block = dict(enumerate(counts))
    groups = merge_groups(per_block, lambda channel, neurons: neurons <= cap)
    used = sorted(b for b, n in per_block.items() if n)
    assert sorted(b for g in groups.values() for b in g) == used
    for channel, blocks in groups.items():
        assert set(blocks) <= set(tree_blocks(channel))
        if len(blocks) > 1:
            assert sum(per_block[b] for b in blocks) <= cap
        else:
            assert channel == blocks[0], "a block alone keeps its own channel"
    if used and sum(counts) <= cap:
        assert len(groups) == 1


def test_groups_coarsest_first():
    full = dict.fromkeys(range(8), 16)
    assert merge_groups(full, lambda c, n: n <= 128) == {3: tuple(range(8))}
    assert merge_groups(full, lambda c, n: n <= 64) == {3: (0, 1, 2, 3), 5: (4, 5, 6, 7)}
    assert merge_groups(full, lambda c, n: n <= 32) == {1: (0, 1), 3: (2, 3), 5: (4, 5), 6: (6, 7)}
    assert merge_groups(full, lambda c, n: n <= 16) == {b: (b,) for b in range(8)}
    # A channel that may not be used (a broken sending line): the next finer groups.
    assert merge_groups(full, lambda c, n: n <= 64 and c != 5) == {3: (0, 1, 2, 3), 4: (4,), 5: (5,), 6: (6, 7)}


def _pair_network() -> Network:
    return Network([Population("a", 40), Population("b", 40)], [SourcePopulation("s", 40)],
                   [Projection("s", "a", connector="one_to_one", weight_bits=15),
                    Projection("a", "b", connector="one_to_one", weight_bits=15)])


def test_merged_blocks_share_a_channel_with_distinct_addresses_and_read_back():
    net = _pair_network()
    config, result = map_network(net, options=MappingOptions(hicanns=(H,), merge_blocks=True))
    assert result.synapses == 80 and result.synapses_lost == 0
    assert realised_edges(config, result) == expected_edges(net, result)
    channel = _channels(config, result)
    block = {key: result.placement[key[0]][key[1]][1][0].x // 32 for key in channel}
    # 80 neurons of 16 per block on blocks 0..4: pairs 0-1 and 2-3 share DNC mergers 1 and 3, block 4 keeps its own.
    assert {block[k]: channel[k] for k in channel} == {0: 1, 1: 1, 2: 3, 3: 3, 4: 4}
    wiring = extract_wiring(config, synapses=False)
    for c in (1, 3):
        addresses = [n.address for n, o in zip(wiring.neurons, wiring.neuron_origin) if o >= 0 and wiring.origins[o].channel == c]
        assert len(addresses) == 32 and len(set(addresses)) == 32 and 0 not in addresses
    # The freed channels carry FPGA input; no neuron block sends through them.
    inputs = {wiring.origins[o].channel for o in wiring.input_origins}
    assert inputs and not inputs & {1, 3, 4}


@pytest.mark.needs_extension
@pytest.mark.parametrize("backend, kwargs", [("reference", {}), ("emulator", {"mismatch": "none"})])
def test_spikes_of_merged_blocks_reach_exactly_their_targets(backend, kwargs):
    """Sources drive a[3], a[20], a[35] (blocks 0, 1, 2); their spikes must excite b[3], b[20], b[35] and no other."""
    net = _pair_network()
    config, result = map_network(net, options=MappingOptions(hicanns=(H,), merge_blocks=True))
    driven = [3, 20, 35]
    rates = np.zeros((1, 40))
    rates[0, driven] = 200.0
    exp = hal.Experiment(config, 200.0, [hal.PoissonInput(result.source_address["s"], rates, stop_ms=180.0, seed=1)])
    rec = hal.run(exp, hal.get_backend(backend, **kwargs))
    counts = {pop: np.array([rec.spike_counts[0, rec.column(h, denmems[0])] for h, denmems in placed])
              for pop, placed in result.placement.items()}
    assert np.flatnonzero(counts["a"]).tolist() == driven
    assert np.flatnonzero(counts["b"]).tolist() == driven
    channel = _channels(config, result)
    # a[3] and a[20] (blocks 0 and 1) share DNC merger 1; a[35] and b[3] (block 2) share 3 with block 3.
    assert channel[("a", 3)] == channel[("a", 20)] == 1 and channel[("a", 35)] == channel[("b", 3)] == 3


def test_paper_network_merged_maps_every_synapse_on_fewer_channels():
    net = paper_network_description(seed=0)
    config0, plain = map_network(net, C.Wafer(3), MappingOptions())
    config, merged = map_network(net, C.Wafer(3), MappingOptions(merge_blocks=True))
    assert merged.synapses == plain.synapses == 3700 and merged.synapses_lost == 0
    assert merged.hicanns_used == plain.hicanns_used and merged.placement == plain.placement
    assert realised_edges(config, merged) == expected_edges(net, merged)
    def buses(cfg, res) -> set:
        return {(res.placement[p][i][0], c) for (p, i), c in _channels(cfg, res).items()}

    assert len(buses(config, merged)) < len(buses(config0, plain))
    # Without the option each block keeps its own DNC merger (what the mapper always did).
    assert all(c == plain.placement[p][i][1][0].x // 32 for (p, i), c in _channels(config0, plain).items())


def test_rate_budget_and_broken_sending_lines_limit_merging():
    # 100 Hz expected per neuron: 14 neurons fill the 1424 Hz link budget, so no two 16-neuron blocks share.
    unfed = Network([Population("a", 40), Population("b", 40)], [], [Projection("a", "b", connector="one_to_one", weight_bits=15)])
    config, result = map_network(unfed, options=MappingOptions(hicanns=(H,), merge_blocks=True, source_rate_hz=100.0))
    assert all(c == result.placement[p][i][1][0].x // 32 for (p, i), c in _channels(config, result).items())
    config, result = map_network(unfed, options=MappingOptions(hicanns=(H,), merge_blocks=True, source_rate_hz=40.0))
    assert len(set(_channels(config, result).values())) == 3, "at 40 Hz, 32 neurons (1280 Hz) share a channel"
    net = _pair_network()
    # DNC merger 1's sending line on the defect list: blocks 0 and 1 go to the next finer groups (their own).
    broken = MappingOptions(hicanns=(H,), merge_blocks=True, disabled_hlines=frozenset({(H.enum, sending_line(1))}))
    config, result = map_network(net, options=broken)
    channels = _channels(config, result)
    assert 1 not in set(channels.values()) and result.synapses_lost == 0
    assert realised_edges(config, result) == expected_edges(net, result)


def test_merge_blocks_must_be_a_bool():
    with pytest.raises(ConfigError, match=re.escape("MappingOptions.merge_blocks: 'yes' not valid; valid True or False")):
        MappingOptions(merge_blocks="yes")
