"""hal.mapping.l1: typed L1 line keys and the occupancy the global router works on."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hal import coordinates as C
from hal.hardware.hicann import RepeaterMode
from hal.hardware.wafer import WaferConfig
from hal.mapping import L1Line, MappingOptions
from hal.mapping.l1 import DEFECT, L1Occupancy
from hal.testing.networks import layered_network

_OPPOSITE = {"east": "west", "west": "east", "north": "south", "south": "north"}


@settings(max_examples=60, deadline=None)
@given(hicann=st.integers(0, 383).map(C.HICANNOnWafer), hline=st.integers(0, 63), vline=st.integers(0, 255),
       direction=st.sampled_from(["east", "west", "north", "south"]))
def test_a_hop_and_back_returns_to_the_same_line(hicann, hline, vline, direction):
    line = L1Line.horizontal(hicann, hline) if direction in ("east", "west") else L1Line.vertical(hicann, vline)
    there = line.towards(direction)
    if there is None:
        assert getattr(hicann, direction)() is None
        return
    assert there.hicann == getattr(hicann, direction)() and type(there.line) is type(line.line)
    assert there.towards(_OPPOSITE[direction]) == line


def test_keys_are_typed_hashable_and_checked():
    h = C.HICANNOnWafer(100)
    assert L1Line.horizontal(h, 3) == L1Line(h, C.HLineOnHICANN(3))
    assert L1Line.horizontal(h, 3) != L1Line.vertical(h, 3)
    assert len({L1Line.horizontal(h, 3), L1Line(h, C.HLineOnHICANN(3))}) == 1
    with pytest.raises(TypeError):
        L1Line(h, 3)


def test_defects_and_disabled_hicanns_are_never_free():
    h = C.HICANNOnWafer(100)
    options = MappingOptions(disabled_hlines=frozenset({(h.enum, 5)}), disabled_hicanns=frozenset({101}))
    l1 = L1Occupancy(WaferConfig(C.Wafer(0)), options)
    assert l1.owner[L1Line.horizontal(h, 5)] == DEFECT
    assert not l1.free(L1Line.horizontal(h, 5), "anyone")
    assert not l1.free(L1Line.horizontal(C.HICANNOnWafer(101), 6), "anyone")
    assert l1.free(L1Line.horizontal(h, 6), "anyone")
    assert l1.lines_of(h, C.HLineOnHICANN) == 0  # a defect is not a used line


def test_hop_sets_the_repeater_at_the_border_crossed():
    config = WaferConfig(C.Wafer(0))
    l1 = L1Occupancy(config, MappingOptions())
    h = C.HICANNOnWafer.from_xy(14, 7)
    origin = (h, 0)
    odd = L1Line.horizontal(h, 9)  # odd lines have their repeater at the east border
    l1.claim(odd, origin)
    there = l1.hop(odd, "east", origin)
    assert there == odd.towards("east") and l1.owner[there] == origin
    rep = config.hicann(h).h_repeaters[9]
    assert rep.mode == RepeaterMode.FORWARDING and rep.towards_east
    assert not l1.free(there, (h, 1)), "a line carries one origin"


def test_mapped_lines_are_counted_per_hicann():
    net = layered_network((4, 2), [np.full((2, 4), 5)])
    for h in net.mapping.hicanns_used:
        r = net.mapping.resources[h.enum]
        assert r["l1_lines"] >= 1
