"""Tests shared by every hal.coordinates type: enumeration, ordering, pickling and validation messages.

The facts of each part of the hardware are tested next to this file, one test
module per module of hal.coordinates (wafer, neurons, synapses, l1, input).
"""

from __future__ import annotations

import ast
import importlib
import pathlib
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
# Package layout: one public namespace over modules that import downwards only
# ---------------------------------------------------------------------------

#: The modules of hal.coordinates in import order: each may import only earlier ones.
MODULE_ORDER = ["_base", "wafer", "input", "l1", "neurons", "synapses"]


def test_package_re_exports_every_public_name_of_its_modules():
    exported = {}
    for name in MODULE_ORDER[1:]:
        module = importlib.import_module(f"hal.coordinates.{name}")
        for public in module.__all__:
            exported.setdefault(public, getattr(module, public))
    assert sorted(exported) == sorted(C.__all__)
    assert all(getattr(C, name) is obj for name, obj in exported.items())


def test_modules_import_only_earlier_modules_even_inside_functions():
    package = pathlib.Path(C.__file__).parent
    for position, name in enumerate(MODULE_ORDER):
        tree = ast.parse((package / f"{name}.py").read_text())
        imported = {
            node.module.split(".")[2]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("hal.coordinates.")
        }
        assert imported <= set(MODULE_ORDER[:position]), f"{name} imports {sorted(imported)}"
