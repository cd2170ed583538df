"""Tests for hal.coordinates: enumeration, validation and the hardware facts they encode.

Expected numbers come from /work/shared/HARDWARE_FACTS.md sections 1-5 and from
spot checks in electronicvisions/halco (test/hicann/v2/L1.cpp, Synapse.cpp).
"""

from __future__ import annotations

import collections
import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import hal.coordinates as C
from hal.coordinates import (
    AnalogOnHICANN,
    BackgroundGeneratorOnHICANN,
    CrossbarSwitchOnHICANN,
    DNCMergerOnHICANN,
    DNCOnWafer,
    FGBlockOnHICANN,
    FGCellOnFGBlock,
    FGRowOnFGBlock,
    FPGAOnWafer,
    GbitLinkOnHICANN,
    HICANNOnDNC,
    HICANNOnWafer,
    HighspeedLinkOnDNC,
    HLineOnHICANN,
    HRepeaterOnHICANN,
    L1Address,
    MergerOnHICANN,
    NeuronBlockOnHICANN,
    NeuronOnHICANN,
    QuadOnHICANN,
    RepeaterBlockOnHICANN,
    ReticleOnWafer,
    SendingRepeaterOnHICANN,
    SynapseColumnOnHICANN,
    SynapseDriverOnHICANN,
    SynapseOnHICANN,
    SynapseRowOnHICANN,
    SynapseSwitchOnHICANN,
    SynapticInputOnNeuron,
    VLineOnHICANN,
    VRepeaterOnHICANN,
    Wafer,
)
from hal.errors import CoordinateError

ENUMERABLE = [
    getattr(C, name)
    for name in C.__all__
    if name not in ("Wafer", "ReticleOnWafer", "InputAddress")
]

EXPECTED_SIZES = {
    DNCOnWafer: 48,
    HICANNOnWafer: 384,
    HICANNOnDNC: 8,
    HighspeedLinkOnDNC: 8,
    FPGAOnWafer: 48,
    NeuronOnHICANN: 512,
    QuadOnHICANN: 128,
    NeuronBlockOnHICANN: 8,
    FGBlockOnHICANN: 4,
    FGRowOnFGBlock: 24,
    FGCellOnFGBlock: 24 * 129,
    SynapseDriverOnHICANN: 224,
    SynapseRowOnHICANN: 448,
    SynapseColumnOnHICANN: 256,
    SynapseOnHICANN: 114_688,
    SynapticInputOnNeuron: 2,
    HLineOnHICANN: 64,
    VLineOnHICANN: 256,
    HRepeaterOnHICANN: 64,
    VRepeaterOnHICANN: 256,
    RepeaterBlockOnHICANN: 6,
    CrossbarSwitchOnHICANN: 512,
    SynapseSwitchOnHICANN: 7168,
    SendingRepeaterOnHICANN: 8,
    MergerOnHICANN: 15,
    DNCMergerOnHICANN: 8,
    GbitLinkOnHICANN: 8,
    BackgroundGeneratorOnHICANN: 8,
    AnalogOnHICANN: 2,
    L1Address: 64,
}


def ids(cls):
    return cls.__name__


# ---------------------------------------------------------------------------
# Generic properties of every enumerable coordinate
# ---------------------------------------------------------------------------


def test_every_public_type_has_an_expected_size():
    assert set(ENUMERABLE) == set(EXPECTED_SIZES)


@pytest.mark.parametrize("cls", ENUMERABLE, ids=ids)
def test_all_is_complete_sorted_unique_and_round_trips(cls):
    everything = cls.all()
    assert isinstance(everything, tuple)
    assert cls.size == EXPECTED_SIZES[cls] == len(everything)
    assert list(everything) == sorted(everything)
    assert len(set(everything)) == cls.size
    assert [c.enum for c in everything] == list(range(cls.size))
    assert everything[0] < everything[-1] or cls.size == 1
    # from_enum round trip; for the one huge type a stride keeps the test fast
    step = 97 if cls.size > 10_000 else 1
    for c in everything[::step]:
        assert cls.from_enum(c.enum) == c
        assert type(c.enum) is int
    assert cls.from_enum(cls.size - 1) == everything[-1]


@pytest.mark.parametrize("cls", ENUMERABLE, ids=ids)
def test_all_is_cached(cls):
    assert cls.all() is cls.all()


@pytest.mark.parametrize("cls", ENUMERABLE, ids=ids)
def test_from_enum_rejects_out_of_range_and_wrong_types(cls):
    name = cls.__name__
    with pytest.raises(CoordinateError) as info:
        cls.from_enum(cls.size)
    assert str(info.value) == f"{name}.enum: {cls.size} out of range; valid 0..{cls.size - 1}"
    assert (info.value.coordinate, info.value.field, info.value.value) == (name, "enum", cls.size)
    for bad in (-1, 1.0, "0", None, True):
        with pytest.raises(CoordinateError, match=rf"^{name}\.enum: "):
            cls.from_enum(bad)


@pytest.mark.parametrize("cls", ENUMERABLE, ids=ids)
def test_frozen_hashable_picklable_and_repr(cls):
    first, last = cls.all()[0], cls.all()[-1]
    assert hash(first) == hash(cls.from_enum(0))
    assert {first: 1}[cls.from_enum(0)] == 1
    with pytest.raises(AttributeError):  # attrs FrozenInstanceError subclasses AttributeError
        first.enum = 3  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(last)) == last
    text = repr(last)
    assert text.startswith(f"{cls.__name__}(") and text.endswith(")")
    assert "\n" not in text


@pytest.mark.parametrize("cls", ENUMERABLE, ids=ids)
def test_ordering_is_by_enum_and_refuses_other_types(cls):
    a, b = cls.all()[0], cls.all()[-1]
    if cls.size > 1:
        assert a < b and a <= b and b > a and b >= a and not b < a
    other = Wafer(0)
    with pytest.raises(TypeError):
        _ = a < other  # noqa: B015
    assert a != other


@given(st.integers(min_value=0, max_value=114_687))
def test_synapse_from_enum_round_trip(e):
    s = SynapseOnHICANN.from_enum(e)
    assert s.enum == e
    assert SynapseOnHICANN(s.row, s.column) == s


# ---------------------------------------------------------------------------
# Validation messages
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: NeuronOnHICANN(270, 0), "NeuronOnHICANN.x: 270 out of range; valid 0..255"),
        (lambda: NeuronOnHICANN(3, 2), "NeuronOnHICANN.y: 2 out of range; valid 0..1"),
        (lambda: NeuronOnHICANN(True, 0), "NeuronOnHICANN.x: True out of range; valid an integer 0..255"),
        (lambda: QuadOnHICANN(1.5), "QuadOnHICANN.value: 1.5 out of range; valid an integer 0..127"),
        (lambda: HICANNOnWafer(384), "HICANNOnWafer.enum: 384 out of range; valid 0..383"),
        (lambda: HICANNOnWafer(-1), "HICANNOnWafer.enum: -1 out of range; valid 0..383"),
        (lambda: HICANNOnWafer.from_xy(0, 0), "HICANNOnWafer.x: 0 out of range; valid 12..23 (for y=0)"),
        (lambda: HICANNOnWafer.from_xy(3, 16), "HICANNOnWafer.y: 16 out of range; valid 0..15"),
        (lambda: DNCOnWafer(0, 0), "DNCOnWafer.x: 0 out of range; valid 3..5 (for y=0)"),
        (lambda: DNCOnWafer(9, 3), "DNCOnWafer.x: 9 out of range; valid 0..8"),
        (lambda: Wafer(65536), "Wafer.id: 65536 out of range; valid 0..65535"),
        (lambda: MergerOnHICANN(2, 2), "MergerOnHICANN.index: 2 out of range; valid 0..1 (for level=2)"),
        (
            lambda: CrossbarSwitchOnHICANN(42, 11),
            "CrossbarSwitchOnHICANN.vline: 11 out of range; "
            "valid 10, 42, 74, 106, 149, 181, 213, 245 (for hline=42)",
        ),
        (
            lambda: SynapseSwitchOnHICANN(0, 4),
            "SynapseSwitchOnHICANN.vline: 4 out of range; valid 0..3, 32..35, 64..67, 96..99, "
            "156..159, 188..191, 220..223, 252..255 (for switch_row=0)",
        ),
        (lambda: L1Address.from_decoders(4, 0), "L1Address.driver_decoder: 4 out of range; valid 0..3"),
        (lambda: L1Address.from_decoders(0, 16), "L1Address.synapse_decoder: 16 out of range; valid 0..15"),
        (lambda: SynapseOnHICANN(448, 0), "SynapseOnHICANN.row: 448 out of range; valid 0..447"),
    ],
)
def test_error_messages(build, message):
    with pytest.raises(CoordinateError) as info:
        build()
    assert str(info.value) == message
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("bad", [1.0, "3", None, True, False, 2**70, -5])
def test_wrong_types_and_values_are_rejected(bad):
    with pytest.raises(CoordinateError, match=r"^NeuronOnHICANN\.x: "):
        NeuronOnHICANN(bad, 0)


def test_numpy_integers_are_accepted_losslessly():
    n = NeuronOnHICANN(np.int64(5), np.uint8(1))
    assert n == NeuronOnHICANN(5, 1)
    assert type(n.x) is int and type(n.y) is int
    assert HICANNOnWafer.from_enum(np.int32(7)) == HICANNOnWafer(7)


def test_other_coordinate_types_are_not_silently_unwrapped():
    assert SynapseOnHICANN(SynapseRowOnHICANN(3), SynapseColumnOnHICANN(7)) == SynapseOnHICANN(3, 7)
    assert CrossbarSwitchOnHICANN(HLineOnHICANN(42), VLineOnHICANN(10)) == CrossbarSwitchOnHICANN(42, 10)
    with pytest.raises(CoordinateError):
        SynapseOnHICANN(NeuronBlockOnHICANN(1), 0)


@given(st.integers().filter(lambda v: not 0 <= v <= 255))
def test_neuron_x_out_of_range_property(x):
    with pytest.raises(CoordinateError) as info:
        NeuronOnHICANN(x, 0)
    assert (info.value.field, info.value.value, info.value.valid) == ("x", x, "0..255")


def test_repr_forms():
    assert repr(HICANNOnWafer(123)) == "HICANNOnWafer(123)"
    assert repr(NeuronOnHICANN(3, 1)) == "NeuronOnHICANN(x=3, y=1)"
    assert repr(Wafer(33)) == "Wafer(33)"
    assert repr(SynapseOnHICANN(3, 7)) == "SynapseOnHICANN(row=3, column=7)"


def test_wafer_is_a_plain_ordered_identifier():
    assert Wafer(3) < Wafer(20)
    assert len({Wafer(3), Wafer(3)}) == 1
    assert not hasattr(Wafer, "all")


# ---------------------------------------------------------------------------
# Wafer layout, reticles, FPGAs
# ---------------------------------------------------------------------------

HICANN_ROWS = {
    0: (12, 23), 1: (12, 23), 2: (8, 27), 3: (8, 27), 4: (4, 31), 5: (4, 31),
    6: (0, 35), 7: (0, 35), 8: (0, 35), 9: (0, 35), 10: (4, 31), 11: (4, 31),
    12: (8, 27), 13: (8, 27), 14: (12, 23), 15: (12, 23),
}  # fmt: skip
FIRST_ENUM_OF_ROW = {0: 0, 1: 12, 2: 24, 3: 44, 4: 64, 5: 92, 6: 120, 7: 156, 8: 192,
                     9: 228, 10: 264, 11: 292, 12: 320, 13: 340, 14: 360, 15: 372}  # fmt: skip


def test_hicann_layout_per_row():
    by_row = collections.defaultdict(list)
    for h in HICANNOnWafer.all():
        by_row[h.y].append(h)
    assert sorted(by_row) == list(range(16))
    for y, (lo, hi) in HICANN_ROWS.items():
        row = by_row[y]
        assert [h.x for h in row] == list(range(lo, hi + 1))
        assert row[0].enum == FIRST_ENUM_OF_ROW[y]
        assert HICANNOnWafer.from_xy(lo, y) == row[0]
        for bad_x in (lo - 1, hi + 1):
            with pytest.raises(CoordinateError):
                HICANNOnWafer.from_xy(bad_x, y)
    for h in HICANNOnWafer.all():
        assert HICANNOnWafer.from_xy(h.x, h.y) == h


def test_reticle_layout_per_row():
    assert ReticleOnWafer is DNCOnWafer
    counts = collections.Counter(d.y for d in DNCOnWafer.all())
    assert [counts[y] for y in range(8)] == [3, 5, 7, 9, 9, 7, 5, 3]
    assert DNCOnWafer.from_enum(0) == DNCOnWafer(3, 0)
    assert DNCOnWafer.from_enum(47) == DNCOnWafer(5, 7)
    assert [d.x for d in DNCOnWafer.all() if d.y == 1] == [2, 3, 4, 5, 6]
    assert [d.x for d in DNCOnWafer.all() if d.y == 5] == [1, 2, 3, 4, 5, 6, 7]


def test_dnc_fpga_table_is_a_permutation_with_known_examples():
    fpgas = [d.to_fpga().value for d in DNCOnWafer.all()]
    assert sorted(fpgas) == list(range(48))
    assert DNCOnWafer(3, 0).to_fpga() == FPGAOnWafer(12)
    assert FPGAOnWafer(0).to_dnc() == DNCOnWafer(6, 3)
    assert FPGAOnWafer(47).to_reticle() == DNCOnWafer(6, 4)
    for f in FPGAOnWafer.all():
        assert f.to_dnc().to_fpga() == f


def test_master_fpga():
    assert FPGAOnWafer.MASTER == FPGAOnWafer(12)
    assert [f.value for f in FPGAOnWafer.all() if f.is_master] == [12]


def test_every_fpga_serves_eight_hicanns_and_all_are_covered_once():
    seen = collections.Counter()
    for f in FPGAOnWafer.all():
        hicanns = f.hicanns()
        assert len(hicanns) == 8
        assert all(h.to_fpga() == f for h in hicanns)
        seen.update(hicanns)
    assert set(seen) == set(HICANNOnWafer.all())
    assert set(seen.values()) == {1}


def _xy_block(hicanns):
    return sorted({h.x for h in hicanns}), sorted({h.y for h in hicanns})


def test_fpga_examples_from_the_facts_sheet():
    assert _xy_block(FPGAOnWafer(0).hicanns()) == ([24, 25, 26, 27], [6, 7])
    fpga = DNCOnWafer(3, 0).to_fpga()
    assert fpga == FPGAOnWafer(12)
    assert _xy_block(fpga.hicanns()) == ([12, 13, 14, 15], [0, 1])


def test_hicann_dnc_consistency():
    for h in HICANNOnWafer.all():
        dnc, on_dnc = h.to_dnc(), h.to_hicann_on_dnc()
        assert h.to_reticle() == dnc == DNCOnWafer(h.x // 4, h.y // 2)
        assert on_dnc == HICANNOnDNC(h.x % 4, h.y % 2)
        assert on_dnc.to_hicann_on_wafer(dnc) == h
        assert h.to_highspeed_link() == HighspeedLinkOnDNC(2 * on_dnc.x + on_dnc.y)
        assert h.to_fpga() == dnc.to_fpga()
    for d in DNCOnWafer.all():
        hicanns = d.hicanns()
        assert [h.to_hicann_on_dnc() for h in hicanns] == list(HICANNOnDNC.all())
        assert [h.to_highspeed_link().value for h in hicanns] == list(range(8))


def test_hicann_on_dnc_enum_is_the_link_number():
    for link in HighspeedLinkOnDNC.all():
        on_dnc = link.to_hicann_on_dnc()
        assert on_dnc.enum == link.value
        assert on_dnc.to_highspeed_link() == link
    assert HICANNOnDNC(1, 1).enum == 3


def test_neighbours():
    h = HICANNOnWafer.from_xy(12, 0)
    assert h.north() is None and h.west() is None
    assert h.east() == HICANNOnWafer.from_xy(13, 0)
    assert h.south() == HICANNOnWafer.from_xy(12, 1)
    assert HICANNOnWafer.from_xy(35, 9).east() is None
    assert HICANNOnWafer.from_xy(0, 6).north() is None  # row 5 starts at x 4
    n_with = collections.Counter()
    for h in HICANNOnWafer.all():
        for go, back, name in (("east", "west", "e"), ("west", "east", "w"),
                               ("north", "south", "n"), ("south", "north", "s")):  # fmt: skip
            other = getattr(h, go)()
            if other is not None:
                n_with[name] += 1
                assert getattr(other, back)() == h
                assert abs(other.x - h.x) + abs(other.y - h.y) == 1
    # horizontal links: 384 HICANNs - 16 row ends; vertical: the overlap of
    # each pair of adjacent rows is the narrower row (rows are nested)
    widths = [hi - lo + 1 for lo, hi in HICANN_ROWS.values()]
    assert n_with["e"] == n_with["w"] == 384 - 16
    assert n_with["n"] == n_with["s"] == sum(min(a, b) for a, b in zip(widths, widths[1:])) == 348


# ---------------------------------------------------------------------------
# Neurons and floating gates
# ---------------------------------------------------------------------------


def test_neuron_basics():
    n = NeuronOnHICANN(3, 1)
    assert n.enum == 259 and n.column == 3 and n.half == "bottom" and not n.is_top
    assert NeuronOnHICANN(0, 0).half == "top" and NeuronOnHICANN(0, 0).is_top
    assert n.to_quad() == QuadOnHICANN(1)
    assert NeuronOnHICANN(255, 0).to_neuron_block() == NeuronBlockOnHICANN(7)
    assert n.to_synapse_column() == SynapseColumnOnHICANN(3)


def test_quads_and_blocks_partition_the_neurons():
    assert sorted(n for q in QuadOnHICANN.all() for n in q.neurons()) == list(NeuronOnHICANN.all())
    for q in QuadOnHICANN.all():
        assert all(n.to_quad() == q for n in q.neurons())
        assert q.to_neuron_block() == q.neurons()[0].to_neuron_block()
    blocks = [b.neurons() for b in NeuronBlockOnHICANN.all()]
    assert all(len(b) == 64 for b in blocks)
    assert sorted(n for b in blocks for n in b) == list(NeuronOnHICANN.all())
    for b in NeuronBlockOnHICANN.all():
        assert all(n.to_neuron_block() == b for n in b.neurons())
        assert b.to_background_generator().to_neuron_block() == b


def test_fg_block_enum_order():
    assert [(b.x, b.y) for b in FGBlockOnHICANN.all()] == [(0, 0), (1, 0), (0, 1), (1, 1)]
    assert [(b.side, b.half) for b in FGBlockOnHICANN.all()] == [
        ("left", "top"), ("right", "top"), ("left", "bottom"), ("right", "bottom")]  # fmt: skip


def test_neuron_to_fg_block_and_column_is_a_partition():
    used = collections.Counter()
    for n in NeuronOnHICANN.all():
        block = n.to_fg_block()
        assert block.enum == n.enum // 128
        assert 1 <= n.fg_column() <= 128
        used[(block, n.fg_column())] += 1
    assert len(used) == 4 * 128 and set(used.values()) == {1}
    assert NeuronOnHICANN(0, 0).to_fg_block() == FGBlockOnHICANN(0, 0)
    assert NeuronOnHICANN(128, 0).to_fg_block() == FGBlockOnHICANN(1, 0)
    assert NeuronOnHICANN(127, 1).to_fg_block() == FGBlockOnHICANN(0, 1)
    assert NeuronOnHICANN(255, 1).fg_column() == 128
    for b in FGBlockOnHICANN.all():
        assert [n.fg_column() for n in b.neurons()] == list(range(1, 129))
        assert all(n.to_fg_block() == b for n in b.neurons())


def test_shared_fg_block_by_parity_and_half():
    counts = collections.Counter(n.to_shared_fg_block() for n in NeuronOnHICANN.all())
    assert counts == {b: 128 for b in FGBlockOnHICANN.all()}
    assert NeuronOnHICANN(4, 0).to_shared_fg_block() == FGBlockOnHICANN(0, 0)
    assert NeuronOnHICANN(5, 1).to_shared_fg_block() == FGBlockOnHICANN(1, 1)


def test_fg_cells():
    assert FGCellOnFGBlock(0, 0).is_shared and not FGCellOnFGBlock(0, 1).is_shared
    assert FGCellOnFGBlock(23, 128).enum == FGCellOnFGBlock.size - 1
    assert FGCellOnFGBlock(5, 7).to_row() == FGRowOnFGBlock(5)


# ---------------------------------------------------------------------------
# Synapses
# ---------------------------------------------------------------------------


def test_synapse_driver_rows_round_trip():
    rows = []
    for d in SynapseDriverOnHICANN.all():
        r0, r1 = d.rows()
        assert (r0.value, r1.value) == (2 * d.value, 2 * d.value + 1)
        assert r0.to_driver() == d == r1.to_driver()
        assert r0.array == r1.array == d.array
        rows += [r0, r1]
    assert rows == list(SynapseRowOnHICANN.all())


def test_synapse_driver_sides_and_quadrants_follow_halco():
    # halco test/hicann/v2/Synapse.cpp spot checks
    assert SynapseDriverOnHICANN(0).side == "right"
    assert SynapseDriverOnHICANN(1).side == "left"
    assert SynapseDriverOnHICANN(112).side == "left"
    assert SynapseDriverOnHICANN(113).side == "right"
    assert SynapseDriverOnHICANN(112).quadrant == 2  # bottom-left
    assert SynapseDriverOnHICANN(1).index_in_quadrant == 0
    assert SynapseDriverOnHICANN(111).index_in_quadrant == 55
    assert SynapseDriverOnHICANN(223).index_in_quadrant == 55
    per_quadrant = collections.Counter(d.quadrant for d in SynapseDriverOnHICANN.all())
    assert per_quadrant == {0: 56, 1: 56, 2: 56, 3: 56}
    for d in SynapseDriverOnHICANN.all():
        assert d.quadrant == 2 * (d.array == "bottom") + (d.side == "right")
    # lines alternate sides within each array
    for a, b in zip(SynapseDriverOnHICANN.all()[:111], SynapseDriverOnHICANN.all()[1:112]):
        assert a.side != b.side


def test_synapse_driver_to_sending_repeater():
    assert SynapseDriverOnHICANN(0).to_sending_repeater() == SendingRepeaterOnHICANN(7)
    assert SynapseDriverOnHICANN(112).to_sending_repeater() == SendingRepeaterOnHICANN(0)


def test_synapse_rows():
    r = SynapseRowOnHICANN(230)
    assert not r.is_top and r.array == "bottom" and r.row_on_array == 6
    assert r.to_driver() == SynapseDriverOnHICANN(115)
    assert SynapseRowOnHICANN(223).is_top and SynapseRowOnHICANN(223).row_on_array == 223


@given(st.integers(0, 447), st.integers(0, 255))
def test_synapse_round_trips(row, column):
    s = SynapseOnHICANN(row, column)
    assert s.enum == 256 * row + column
    assert s.to_row() == SynapseRowOnHICANN(row)
    assert s.to_column() == SynapseColumnOnHICANN(column)
    assert s.to_driver() == SynapseRowOnHICANN(row).to_driver()
    assert s.to_neuron() == NeuronOnHICANN(column, 0 if row < 224 else 1)
    assert s.to_neuron().to_synapse_column() == s.to_column()


def test_synapse_to_neuron_examples_from_halco():
    # driver 1 (left, top) row 2 -> top neuron; driver 131 row 262 -> bottom neuron
    assert SynapseOnHICANN(2, 15).to_neuron() == NeuronOnHICANN(15, 0)
    assert SynapseOnHICANN(262, 42).to_neuron() == NeuronOnHICANN(42, 1)


def test_synaptic_input_polarity_constants():
    assert SynapticInputOnNeuron.INHIBITORY == SynapticInputOnNeuron(0)
    assert SynapticInputOnNeuron.EXCITATORY == SynapticInputOnNeuron(1)
    assert SynapticInputOnNeuron.EXCITATORY.is_excitatory
    assert SynapticInputOnNeuron.INHIBITORY.is_inhibitory
    assert [i.kind for i in SynapticInputOnNeuron.all()] == ["inhibitory", "excitatory"]


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
