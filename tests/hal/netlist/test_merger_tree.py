"""The merger tree as the wiring reads it: which blocks reach which DNC merger, for any configured tree.

The topology is halco's (``Merger{0..3}OnHICANN::inputs()``) with marocco's DNC merger inputs;
halbe's presets (``hal/HICANN/MergerTree.{h,cpp}``) document where they send the blocks, and
the reading must agree with them.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hal import coordinates as C
from hal.backend.events import HardwareEvents
from hal.errors import ConfigError
from hal.hardware.hicann import HICANNConfig, MergerMode
from hal.hardware.recipes import (
    ChannelSource,
    configure_channel,
    enable_highspeed_link,
    feed_driver,
    tree_blocks,
)
from hal.hardware.wafer import WaferConfig
from hal.mapping.drivers import drivers_reachable_from_line
from hal.netlist.build import build_netlist
from hal.netlist.l1 import Origin
from hal.netlist.merger_tree import tree_inputs
from hal.netlist.wiring import extract_wiring

L, R, M = MergerMode.LEFT_ONLY, MergerMode.RIGHT_ONLY, MergerMode.MERGE
HICANN = C.HICANNOnWafer(100)

#: halbe's presets for levels 1..3 (L0_0..L0_3, L1_0, L1_1, L2_0) and where its comments say the blocks go.
PRESETS = {
    "one_on_one": ((R, R, R, L, R, L, L), {0: (0,), 1: (1,), 2: (2,), 3: (3,), 4: (4,), 5: (5,), 6: (6,), 7: (7,)}),
    "two_on_one": ((M, M, M, M, R, L, L), {1: (0, 1), 3: (2, 3), 5: (4, 5), 6: (6, 7)}),
    "four_on_one": ((M, M, M, M, M, M, L), {3: (0, 1, 2, 3), 5: (4, 5, 6, 7)}),
    "eight_on_one": ((M, M, M, M, M, M, M), {3: tuple(range(8))}),
}


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_halbe_presets_send_the_blocks_where_halbe_says(name):
    upper, expected = PRESETS[name]
    inputs = tree_inputs([R] * 8 + list(upper))  # level 0: neuron blocks only
    for channel, blocks in expected.items():
        assert inputs[channel] == (blocks, ()), (name, channel)


def test_background_generators_follow_the_same_tree():
    inputs = tree_inputs([M] * 8 + [M] * 7)
    assert inputs[3] == (tuple(range(8)), tuple(range(8)))
    assert inputs[6] == ((6, 7), (6, 7))
    assert tree_inputs([L] * 8 + [M] * 7)[5] == ((), (4, 5, 6, 7))


def test_hals_register_reset_is_halbes_default_tree():
    """Mergers 8..14 reset to halbe's default tree: block j reaches DNC merger j, so configurations that never
    touch the upper levels (all saved before the tree was read) read as they did. With every merger at the
    field reset (RIGHT_ONLY) DNC mergers 3, 5, 6 would carry block 7."""
    assert tree_inputs(HICANNConfig().mergers.column("mode")) == tuple(((j,), ()) for j in range(8))
    assert [tree_inputs([R] * 15)[j][0] for j in range(8)] == [(0,), (1,), (2,), (7,), (4,), (7,), (7,), (7,)]


def _chip_with_a_neuron_per_block() -> tuple[WaferConfig, HICANNConfig, dict[int, C.NeuronOnHICANN]]:
    config = WaferConfig(C.Wafer(0))
    enable_highspeed_link(config, HICANN)
    chip = config.hicann(HICANN)
    firing = {b: C.NeuronOnHICANN(x=32 * b + 5, y=0) for b in range(8)}
    for b, n in firing.items():
        chip.neurons.update(n, activate_firing=True, enable_spl1_output=True, l1_address=b + 1)
    return config, chip, firing


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_a_configured_group_arrives_on_its_dnc_merger_and_nowhere_else(data):
    channel = data.draw(st.integers(0, 7), label="channel")
    reach = list(tree_blocks(channel))
    group = data.draw(st.sets(st.sampled_from(reach), min_size=1), label="blocks")
    config, chip, firing = _chip_with_a_neuron_per_block()
    configure_channel(chip, C.DNCMergerOnHICANN(channel), ChannelSource.NEURON_BLOCK, record=True, blocks=group)
    wiring = extract_wiring(config, synapses=False)
    index = wiring.neuron_index()
    for b, n in firing.items():
        k = index[(HICANN, n)]
        if b in group:
            assert wiring.origins[wiring.neuron_origin[k]] == Origin(HICANN, channel)
            assert wiring.recorded[k]
        else:
            assert wiring.neuron_origin[k] == -1 and not wiring.recorded[k]
    assert wiring.fanout == ()
    # The trace names the channel the group shares and each neuron's own address.
    keys = wiring.trace_key_to_neurons()
    assert sorted(keys) == sorted((HICANN.enum, channel, b + 1) for b in group)


@settings(max_examples=10, deadline=None)
@given(channel=st.integers(0, 7))
def test_one_block_per_channel_reads_as_before(channel):
    """The configuration every mapping wrote before the tree was followed: block j onto DNC merger j."""
    config, chip, firing = _chip_with_a_neuron_per_block()
    configure_channel(chip, C.DNCMergerOnHICANN(channel), ChannelSource.NEURON_BLOCK, record=True)
    wiring = extract_wiring(config, synapses=False)
    assert [wiring.origins[o] for o in wiring.neuron_origin if o >= 0] == [Origin(HICANN, channel)]
    assert wiring.neuron_origin[wiring.neuron_index()[(HICANN, firing[channel])]] >= 0


@pytest.mark.parametrize("channel, blocks", [(0, (1,)), (1, (0, 2)), (6, (5,)), (5, (3, 4)), (2, ())])
def test_blocks_the_tree_cannot_bring_to_a_channel_are_refused(channel, blocks):
    chip = HICANNConfig()
    before = {k: v.copy() for k, v in chip.image.items()}
    reach = tree_blocks(channel)
    span = f"{reach.start}" if len(reach) == 1 else f"{reach.start}..{reach.stop - 1}"
    message = f"neuron blocks {list(blocks)} cannot reach DNCMergerOnHICANN({channel}) through the merger tree; " \
              f"valid: a non-empty subset of blocks {span}"
    with pytest.raises(ConfigError, match=re.escape(message)):
        configure_channel(chip, C.DNCMergerOnHICANN(channel), ChannelSource.NEURON_BLOCK, record=True, blocks=blocks)
    assert all(np.array_equal(chip.image[k], before[k]) for k in before), "nothing written"


def test_fpga_channel_takes_no_blocks():
    chip = HICANNConfig()
    with pytest.raises(ConfigError, match=re.escape("DNCMergerOnHICANN(4) carries FPGA input; blocks=(4,) not valid (valid: None)")):
        configure_channel(chip, C.DNCMergerOnHICANN(4), ChannelSource.FPGA, record=False, blocks=(4,))
    assert chip.is_reset()


def test_a_block_on_two_dnc_mergers_sends_into_both_buses(hand_wired):
    """Neuron A (block 0) on DNC merger 0 and, through merger (1, 0), on DNC merger 1: synapses on both buses fire."""
    w = hand_wired
    chip = w.chip
    line = configure_channel(chip, C.DNCMergerOnHICANN(1), ChannelSource.NEURON_BLOCK, record=False, blocks=(0,))
    assert chip.mergers[C.MergerOnHICANN(1, 0).enum].mode == MergerMode.LEFT_ONLY
    used = {int(d) for d in np.flatnonzero(chip.synapse_drivers.column("enable"))}
    d, v = next((d, v) for d, v in drivers_reachable_from_line(line.value) if d < 112 and d not in used)
    feed_driver(chip, C.SynapseDriverOnHICANN(d), C.VLineOnHICANN(v), hline=line)
    row = C.SynapseDriverOnHICANN(d).rows()[0].value
    chip.synapse_rows.update(C.SynapseRowOnHICANN(row), decoder_even=w.a_address >> 4, decoder_odd=w.a_address >> 4,
                             sel_gmax=0, gmax_div_excitatory=w.div_exc, input_excitatory=True)
    chip.set_decoders(w.a_address & 15, rows=row, columns=w.b.x)
    chip.set_weights(11, rows=row, columns=w.b.x)
    wiring = extract_wiring(w.config)
    index = wiring.neuron_index()
    a, b = index[(HICANN, w.a)], index[(HICANN, w.b)]
    assert wiring.origins[wiring.neuron_origin[a]] == Origin(HICANN, 0)
    assert [(k, wiring.origins[o]) for k, o in wiring.fanout] == [(a, Origin(HICANN, 1))]
    net = build_netlist(wiring, HardwareEvents.empty(), n_samples=1, duration_ticks=100)
    from_a = (net.pre == net.n_sources + a) & (net.post == b)
    assert sorted(net.synapse_row[from_a].tolist()) == sorted([w.row_rec, row])
    ratio = net.conductance_ns[from_a & (net.synapse_row == row)] / net.conductance_ns[from_a & (net.synapse_row == w.row_rec)]
    np.testing.assert_allclose(ratio, 11 / 6)
