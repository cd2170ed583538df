"""attrs validators that raise the project's typed errors."""

from __future__ import annotations

import operator

from hal.errors import CoordinateError

__all__ = ["in_range", "integral"]


def _is_integral(value: object) -> bool:
    # bool is an int subclass but never a valid index or register value here.
    if isinstance(value, bool):
        return False
    try:
        operator.index(value)
    except TypeError:
        return False
    return True


def integral(value: object) -> int:
    """attrs converter: accept ints and numpy integers losslessly; leave the rest for validation."""
    if _is_integral(value):
        return operator.index(value)
    return value  # the validator reports the wrong type


def in_range(lo: int, hi: int):
    """Validator: an integer in ``lo..hi`` (inclusive), else :class:`CoordinateError`."""

    def validate(instance, attribute, value):
        name = type(instance).__name__
        if not _is_integral(value):
            raise CoordinateError(name, attribute.name, value, f"an integer {lo}..{hi}")
        if not lo <= value <= hi:
            raise CoordinateError(name, attribute.name, value, f"{lo}..{hi}")

    return validate
