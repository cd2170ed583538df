"""Tests for hal.coordinates.l1 (and the VLine -> driver synapse switches): lines, repeaters, switches, mergers, L1 addresses.

Expected numbers come from /work/shared/HARDWARE_FACTS.md and halco (test/hicann/v2/L1.cpp).
"""

from __future__ import annotations

import collections

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hal.coordinates import (
    AnalogOnHICANN,
    BackgroundGeneratorOnHICANN,
    CrossbarSwitchOnHICANN,
    DNCMergerOnHICANN,
    GbitLinkOnHICANN,
    HLineOnHICANN,
    HRepeaterOnHICANN,
    L1Address,
    MergerOnHICANN,
    NeuronBlockOnHICANN,
    RepeaterBlockOnHICANN,
    SendingRepeaterOnHICANN,
    SynapseSwitchOnHICANN,
    VLineOnHICANN,
    VRepeaterOnHICANN,
)
from hal.errors import CoordinateError

# ---------------------------------------------------------------------------
# L1 routing
# ---------------------------------------------------------------------------


def test_hline_shifts():
    # halco test/hicann/v2/L1.cpp "westwards" table: (eastern line, western line)
    for east_line, west_line in [(0, 62), (1, 63), (2, 0), (3, 1), (4, 2), (5, 3), (62, 60), (63, 61)]:
        assert HLineOnHICANN(west_line).east() == HLineOnHICANN(east_line)
        assert HLineOnHICANN(east_line).west() == HLineOnHICANN(west_line)
    for h in HLineOnHICANN.all():
        assert h.east().west() == h == h.west().east()
        assert h.east().value == (h.value + 2) % 64


def test_vline_shifts_and_sides():
    # halco test/hicann/v2/L1.cpp "downwards" table: (northern line, southern line)
    pairs = [(0, 126), (1, 127), (2, 0), (3, 1), (4, 2), (126, 124), (127, 125),
             (128, 130), (129, 131), (130, 132), (251, 253), (252, 254), (253, 255),
             (254, 128), (255, 129)]  # fmt: skip
    for north_line, south_line in pairs:
        assert VLineOnHICANN(north_line).south() == VLineOnHICANN(south_line)
        assert VLineOnHICANN(south_line).north() == VLineOnHICANN(north_line)
    for v in VLineOnHICANN.all():
        assert v.north().south() == v == v.south().north()
        assert v.north().side == v.side == v.south().side
    assert VLineOnHICANN(127).side == "left" and VLineOnHICANN(128).side == "right"


def test_crossbar_connectivity():
    assert [v.value for v in HLineOnHICANN(42).crossbar_vlines()] == [10, 42, 74, 106, 149, 181, 213, 245]
    assert [h.value for h in VLineOnHICANN(42).crossbar_hlines()] == [42, 43]
    assert [h.value for h in VLineOnHICANN(131).crossbar_hlines()] == [6, 7]
    switches = CrossbarSwitchOnHICANN.all()
    assert len(switches) == 512
    per_hline = collections.Counter((s.hline, s.side) for s in switches)
    assert set(per_hline.values()) == {4} and len(per_hline) == 128
    per_vline = collections.Counter(s.vline for s in switches)
    assert set(per_vline.values()) == {2} and len(per_vline) == 256
    for s in switches:
        assert s.to_vline() in s.to_hline().crossbar_vlines()
        assert s.to_hline() in s.to_vline().crossbar_hlines()
    # the same relation seen from both line types
    pairs_h = {(h.value, v.value) for h in HLineOnHICANN.all() for v in h.crossbar_vlines()}
    pairs_v = {(h.value, v.value) for v in VLineOnHICANN.all() for h in v.crossbar_hlines()}
    assert pairs_h == pairs_v == {(s.hline, s.vline) for s in switches}
    # halco: enumerating hline x side x switch gives the enum in order
    assert [s.enum for s in switches] == [8 * s.hline + s.vline // 32 for s in switches]


def test_synapse_switch_connectivity():
    switches = SynapseSwitchOnHICANN.all()
    assert len(switches) == 7168
    per_row = collections.Counter((s.switch_row, s.side) for s in switches)
    assert len(per_row) == 448 and set(per_row.values()) == {16}
    per_vline = collections.Counter((s.vline, s.array) for s in switches)
    assert len(per_vline) == 512 and set(per_vline.values()) == {14}
    from_lines = {(r, v.value) for v in VLineOnHICANN.all() for r in v.synapse_switch_rows()}
    assert from_lines == {(s.switch_row, s.vline) for s in switches}
    for v in VLineOnHICANN.all():
        rows = v.synapse_switch_rows()
        assert len(rows) == 28
        assert all(r < 112 for r in rows[:14]) and all(r >= 112 for r in rows[14:])


@pytest.mark.parametrize(
    ("vline", "half", "index", "row"),
    # halco test/hicann/v2/L1.cpp VLineOnHICANN.toSynapseSwitchRowOnHICANN
    [(13, 0, 0, 6), (13, 0, 5, 39), (13, 0, 9, 71), (13, 0, 13, 103), (83, 0, 0, 8),
     (13, 1, 0, 120), (13, 1, 7, 169), (13, 1, 10, 200), (13, 1, 13, 217),
     (141, 0, 0, 8), (141, 0, 7, 57), (141, 0, 10, 88), (141, 0, 13, 105),
     (217, 0, 0, 2), (217, 0, 1, 3), (141, 1, 0, 118), (141, 1, 7, 167),
     (141, 1, 10, 198), (141, 1, 13, 215)],
)  # fmt: skip
def test_synapse_switch_rows_match_halco_examples(vline, half, index, row):
    assert VLineOnHICANN(vline).synapse_switch_rows()[14 * half + index] == row


def test_synapse_switch_driver_location():
    # a switch row feeds the local driver of its line if that driver is on the
    # same side, otherwise the facing driver of the neighbour HICANN
    assert SynapseSwitchOnHICANN(0, 156).driver_location == "local"  # driver 0 is right
    assert SynapseSwitchOnHICANN(0, 0).driver_location == "west"
    assert SynapseSwitchOnHICANN(112, 28).driver_location == "local"  # driver 112 is left
    locations = collections.Counter(s.driver_location for s in SynapseSwitchOnHICANN.all())
    assert locations == {"local": 3584, "west": 1792, "east": 1792}


def test_repeaters():
    assert [r.side for r in HRepeaterOnHICANN.all()[:4]] == ["left", "right", "left", "right"]
    assert HRepeaterOnHICANN(0).to_repeater_block() == RepeaterBlockOnHICANN(0, 1)
    assert HRepeaterOnHICANN(15).to_repeater_block() == RepeaterBlockOnHICANN(1, 1)
    assert HLineOnHICANN(7).to_repeater().to_hline() == HLineOnHICANN(7)
    # halco VRepeaterOnHICANN spot checks
    assert VRepeaterOnHICANN(0).position == "bottom"
    assert VRepeaterOnHICANN(0).to_repeater_block() == RepeaterBlockOnHICANN(0, 2)
    assert VRepeaterOnHICANN(1).to_repeater_block() == RepeaterBlockOnHICANN(0, 0)
    assert VRepeaterOnHICANN(130).to_repeater_block() == RepeaterBlockOnHICANN(1, 0)
    assert VRepeaterOnHICANN(131).to_repeater_block() == RepeaterBlockOnHICANN(1, 2)
    assert VLineOnHICANN(42).to_repeater().to_vline() == VLineOnHICANN(42)
    per_block = collections.Counter(r.to_repeater_block() for r in VRepeaterOnHICANN.all())
    assert set(per_block.values()) == {64} and len(per_block) == 4
    for block in RepeaterBlockOnHICANN.all():
        n_h, n_v = len(block.hrepeaters()), len(block.vrepeaters())
        assert (n_h, n_v) == ((32, 0) if block.position == "center" else (0, 64))


def test_repeater_block_enum_is_backwards_compatible():
    # halco: top-left, top-right, center-left, center-right, bottom-left, bottom-right
    assert [(b.position, b.side) for b in RepeaterBlockOnHICANN.all()] == [
        ("top", "left"), ("top", "right"), ("center", "left"),
        ("center", "right"), ("bottom", "left"), ("bottom", "right")]  # fmt: skip


def test_sending_repeaters_and_dnc_mergers():
    assert [s.to_hline().value for s in SendingRepeaterOnHICANN.all()] == [6, 14, 22, 30, 38, 46, 54, 62]
    assert [r.value for r in HRepeaterOnHICANN.all() if r.is_sending] == [6, 14, 22, 30, 38, 46, 54, 62]
    for s in SendingRepeaterOnHICANN.all():
        assert s.to_dnc_merger().to_sending_repeater() == s
        assert s.to_dnc_merger().value == 7 - s.value
        assert s.to_gbit_link().to_dnc_merger() == s.to_dnc_merger()
        assert s.to_hrepeater().to_sending_repeater() == s
        assert s.to_hrepeater().to_repeater_block() == s.to_repeater_block() == RepeaterBlockOnHICANN(0, 1)
    assert DNCMergerOnHICANN(7).to_sending_repeater().to_hline() == HLineOnHICANN(6)
    assert DNCMergerOnHICANN(0).to_sending_repeater().to_hline() == HLineOnHICANN(62)
    with pytest.raises(CoordinateError):
        HRepeaterOnHICANN(5).to_sending_repeater()
    for g in GbitLinkOnHICANN.all():
        assert g.to_dnc_merger().to_gbit_link() == g


def test_merger_tree():
    levels = collections.Counter(m.level for m in MergerOnHICANN.all())
    assert levels == {0: 8, 1: 4, 2: 2, 3: 1}
    assert MergerOnHICANN(1, 0).enum == 8 and MergerOnHICANN(3, 0).enum == 14
    with pytest.raises(CoordinateError):
        MergerOnHICANN(3, 1)


@given(st.integers(0, 3), st.integers(0, 15))
def test_l1_address_decoders_round_trip(driver, synapse):
    a = L1Address.from_decoders(driver, synapse)
    assert (a.driver_decoder, a.synapse_decoder) == (driver, synapse)
    assert a.value == 16 * driver + synapse
    assert L1Address(a.value) == a


def test_l1_address_bits():
    assert L1Address(0b110101).driver_decoder == 0b11
    assert L1Address(0b110101).synapse_decoder == 0b0101


def test_analog_and_background_generators():
    assert [a.value for a in AnalogOnHICANN.all()] == [0, 1]
    assert BackgroundGeneratorOnHICANN(3).to_neuron_block() == NeuronBlockOnHICANN(3)
