"""hal.validators: one set of attrs validators, messages naming class, field, value and what is valid."""

from __future__ import annotations

import math
import re

import attrs
import numpy as np
import pytest

from hal.validators import at_least, finite, in_range, positive
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
