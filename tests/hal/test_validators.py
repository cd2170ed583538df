"""hal.validators: one set of attrs validators, messages naming class, field, value and what is valid."""

from __future__ import annotations

import json
import math
import re

import attrs
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hal.validators import MAX_JSON_DEPTH, at_least, finite, in_range, parse_json, positive, shown, strict_converter, structure_errors
from hal.analog.domains import Domains
from hal.errors import ConfigError, ConfigValueError, CoordinateError
from hal.network import LIFParameters, Population, SourcePopulation


@attrs.frozen
class Thing:
    offset_mv: float = attrs.field(default=0.0, validator=finite(what="voltage", unit="mV"))
    gain: float = attrs.field(default=1.0, validator=positive())
    tau_ms: float = attrs.field(default=1.0, validator=positive(what="time", unit="ms"))
    count: int = attrs.field(default=1, validator=at_least(1))
    slot: int = attrs.field(default=0, validator=in_range(0, 7, error=ConfigValueError))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(offset_mv=math.nan), "Thing.offset_mv: nan out of range; valid a finite voltage in mV"),
        (dict(offset_mv=math.inf), "Thing.offset_mv: inf out of range; valid a finite voltage in mV"),
        (dict(offset_mv="1"), "Thing.offset_mv: '1' out of range; valid a finite voltage in mV"),
        (dict(gain=0), "Thing.gain: 0 out of range; valid a finite number > 0"),
        (dict(gain=-math.inf), "Thing.gain: -inf out of range; valid a finite number > 0"),
        (dict(gain=math.inf), "Thing.gain: inf out of range; valid a finite number > 0"),
        (dict(tau_ms=-1.0), "Thing.tau_ms: -1.0 out of range; valid a finite time > 0 ms"),
        (dict(tau_ms=True), "Thing.tau_ms: True out of range; valid a finite time > 0 ms"),
        (dict(count=0), "Thing.count: 0 out of range; valid an integer >= 1"),
        (dict(count=2.0), "Thing.count: 2.0 out of range; valid an integer >= 1"),
        (dict(count=True), "Thing.count: True out of range; valid an integer >= 1"),
        (dict(slot=8), "Thing.slot: 8 out of range; valid 0..7"),
        (dict(slot="a"), "Thing.slot: 'a' out of range; valid an integer 0..7"),
    ],
)
def test_messages_name_class_field_value_and_what_is_valid(kwargs, message):
    with pytest.raises(ConfigValueError, match=f"^{re.escape(message)}$") as info:
        Thing(**kwargs)
    (field, value), = kwargs.items()
    err = info.value
    assert isinstance(err, ConfigError) and isinstance(err, ValueError)
    assert (err.owner, err.field) == ("Thing", field)
    assert err.value is value
    assert message.endswith(f"valid {err.valid}")


def test_valid_values_pass_unchanged():
    t = Thing(offset_mv=-1e300, gain=1e-300, tau_ms=3, count=10**6, slot=7)
    assert (t.offset_mv, t.gain, t.tau_ms, t.count, t.slot) == (-1e300, 1e-300, 3, 10**6, 7)
    assert type(t.tau_ms) is int  # validators never convert


def test_numpy_scalars_are_left_to_converters():
    """Only Python numbers pass, so what is stored serialises as it was given (no silent numpy types)."""
    with pytest.raises(ConfigValueError):
        Thing(gain=np.float32(1.0))
    with pytest.raises(ConfigValueError):
        Thing(count=np.int64(1))


def test_in_range_raises_coordinate_error_by_default():
    @attrs.frozen
    class Slot:
        index: int = attrs.field(validator=in_range(0, 3))

    with pytest.raises(CoordinateError, match=r"^Slot.index: 4 out of range; valid 0..3$"):
        Slot(4)


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: LIFParameters(tau_m_ms=-1.0), "LIFParameters.tau_m_ms: -1.0 out of range; valid a finite time > 0 ms"),
        (lambda: LIFParameters(tau_syn_e_ms=math.nan), "LIFParameters.tau_syn_e_ms: nan out of range; valid a finite time > 0 ms"),
        (lambda: LIFParameters(e_l_mv=math.inf), "LIFParameters.e_l_mv: inf out of range; valid a finite voltage in mV"),
        (lambda: LIFParameters(v_th_mv="x"), "LIFParameters.v_th_mv: 'x' out of range; valid a finite voltage in mV"),
        (lambda: Domains(speedup=-1), "Domains.speedup: -1 out of range; valid a finite number > 0"),
        (lambda: Domains(alpha=0.0), "Domains.alpha: 0.0 out of range; valid a finite number > 0"),
        (lambda: Domains(shift_mv=math.nan), "Domains.shift_mv: nan out of range; valid a finite voltage in mV"),
        (lambda: Population("p", 0), "Population.size: 0 out of range; valid 1..196608"),
        (lambda: SourcePopulation("s", True), "SourcePopulation.size: True out of range; valid an integer 1..196608"),
    ],
)
def test_hal_classes_use_the_shared_validators(build, message):
    with pytest.raises(ConfigValueError, match=f"^{re.escape(message)}$"):
        build()


# -- reading files: bounded JSON, structuring without coercion ------------------------------------

# Strings full of what could fool a scan: brackets, quotes and backslashes.
_TRICKY = st.text(alphabet='[]{}"\\ab\n', max_size=8)
_TREES = st.recursive(st.none() | st.booleans() | st.integers() | _TRICKY,
                      lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TRICKY, inner, max_size=3), max_leaves=25)


def _depth(value) -> int:
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    return 0


@given(tree=_TREES, indent=st.sampled_from([None, 1]))
def test_the_depth_scan_agrees_with_the_parser(tree, indent):
    text = json.dumps(tree, indent=indent).encode()
    limit = _depth(tree)
    assert parse_json(text, max_depth=limit) == tree
    if limit:
        with pytest.raises(ValueError, match=f"nested {limit} levels deep; hal reads JSON nested at most {limit - 1} levels"):
            parse_json(text, max_depth=limit - 1)


def test_deep_or_non_standard_json_is_refused_with_a_value_error():
    with pytest.raises(ValueError, match=f"nested 100000 levels deep; hal reads JSON nested at most {MAX_JSON_DEPTH} levels"):
        parse_json(b"[" * 100_000 + b"]" * 100_000)
    for text, message in ((b"[NaN]", "NaN is not a JSON number"), (b"[-Infinity]", "-Infinity is not a JSON number"),
                          (b"[1e999]", "1e999 is too large for a float"), (b"\xff", "not UTF-8 text"),
                          (b"1" * 5000, "Exceeds the limit"), (b'["a\\"]]]]]]"', "Expecting ',' delimiter")):
        with pytest.raises(ValueError, match=re.escape(message)):
            parse_json(text)


@attrs.frozen
class Inner:
    count: int = attrs.field(default=1, validator=at_least(1))
    note: str | None = None


@attrs.frozen
class Outer:
    items: tuple[Inner, ...]
    gain: float = attrs.field(default=1.0, validator=positive())


@pytest.mark.parametrize(("data", "messages"), [
    ({"items": [{"count": 3.7}], "gain": 1.0}, ["items[0].count: 3.7 is not an integer"]),
    ({"items": [{"count": True}], "gain": 1.0}, ["items[0].count: True is not an integer"]),
    ({"items": [{"count": 0}], "gain": "2"}, ["items[0].count: 0 out of range; valid an integer >= 1", "gain: '2' is not a finite number"]),
    ({"items": [{"count": 1, "colour": 2}], "gain": 1.0}, ["items[0]: unknown key(s) colour; valid keys: count, note"]),
    ({"items": [{}], "gain": 1.0}, ["items[0]: missing key(s) count; required: count"]),
    ({"items": [{"count": 1}]}, ["missing key(s) gain; required: items, gain"]),
    ({"items": {"count": 1}, "gain": 1.0}, ["items: expected a list, got dict {'count': 1}"]),
    ({"items": [], "gain": -1}, ["gain: -1 out of range; valid a finite number > 0"]),
])
def test_the_strict_converter_refuses_and_names_the_place(data, messages):
    with pytest.raises(Exception) as info:
        strict_converter().structure(data, Outer)
    assert structure_errors(info.value) == messages


def test_the_strict_converter_reads_what_is_valid_and_leaves_none_optional():
    assert strict_converter().structure({"items": [{"count": 2}], "gain": 3}, Outer) == Outer((Inner(2),), 3)


def test_shown_values_keep_messages_short():
    assert repr(shown(list(range(1000)))).endswith("...]") and len(repr(shown(list(range(1000))))) < 60
    assert shown(3.5) == 3.5 and shown(None) is None
