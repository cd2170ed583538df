"""attrs validators that raise the project's typed errors.

Every validator names the class, the field, the value and what is valid, in the form
``LIFParameters.tau_m_ms: -1.0 out of range; valid a finite time > 0 ms``.

``error`` picks the exception: any class called as ``error(owner, field, value, valid)``,
such as :class:`~hal.errors.ConfigValueError` (a :class:`~hal.errors.ConfigError`, the
default for configuration objects) or :class:`~hal.errors.CoordinateError` (the default of
:func:`in_range`, for coordinates and register values).

Numbers are Python ``int`` or ``float``; ``bool`` is never a number here, and numpy scalars
are for converters to normalise first (:func:`integral`).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable

from hal.errors import ConfigValueError, CoordinateError

__all__ = ["ErrorFactory", "in_range", "integral", "finite", "positive", "at_least"]

#: Builds the exception a validator raises: ``error(owner, field, value, valid)``.
ErrorFactory = Callable[[str, str, object, str], Exception]


def _is_integral(value: object) -> bool:
    # bool is an int subclass but never a valid index or register value here.
    if isinstance(value, bool):
        return False
    try:
        operator.index(value)
    except TypeError:
        return False
    return True


def _is_finite_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def integral(value: object) -> int:
    """attrs converter: accept ints and numpy integers losslessly; leave the rest for validation."""
    if _is_integral(value):
        return operator.index(value)
    return value  # the validator reports the wrong type


def in_range(lo: int, hi: int, *, error: ErrorFactory = CoordinateError):
    """Validator: an integer in ``lo..hi`` (inclusive), else ``error`` (:class:`CoordinateError`)."""

    def validate(instance, attribute, value):
        name = type(instance).__name__
        if not _is_integral(value):
            raise error(name, attribute.name, value, f"an integer {lo}..{hi}")
        if not lo <= value <= hi:
            raise error(name, attribute.name, value, f"{lo}..{hi}")

    return validate


def at_least(lo: int, *, error: ErrorFactory = ConfigValueError):
    """Validator: a Python ``int`` (not ``bool``) ``>= lo``, e.g. ``at_least(1)`` for sizes and counts."""

    def validate(instance, attribute, value):
        if not isinstance(value, int) or isinstance(value, bool) or value < lo:
            raise error(type(instance).__name__, attribute.name, value, f"an integer >= {lo}")

    return validate


def _quantity(what: str, unit: str, bound: str = "") -> str:
    if not unit:
        return f"a finite {what}{bound}"
    return f"a finite {what}{bound} {unit}" if bound else f"a finite {what} in {unit}"


def finite(*, what: str = "number", unit: str = "", error: ErrorFactory = ConfigValueError):
    """Validator: a finite ``int`` or ``float`` (no NaN, no infinity, not ``bool``).

    ``what`` and ``unit`` only word the message: ``finite(what="voltage", unit="mV")`` says
    "valid a finite voltage in mV".
    """
    valid = _quantity(what, unit)

    def validate(instance, attribute, value):
        if not _is_finite_number(value):
            raise error(type(instance).__name__, attribute.name, value, valid)

    return validate


def positive(*, what: str = "number", unit: str = "", error: ErrorFactory = ConfigValueError):
    """Validator: a finite ``int`` or ``float`` ``> 0``.

    ``positive(what="time", unit="ms")`` says "valid a finite time > 0 ms".
    """
    valid = _quantity(what, unit, " > 0")

    def validate(instance, attribute, value):
        if not (_is_finite_number(value) and value > 0):
            raise error(type(instance).__name__, attribute.name, value, valid)

    return validate
