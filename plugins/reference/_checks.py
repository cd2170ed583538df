"""Array converters and checks shared by the reference integrator's data types and arguments.

Converters only normalise losslessly (to a read-only float64, int64 or bool copy) and
otherwise hand the value on unchanged, so that the check reports what it got. Messages
have the form ``Class.field[i]: value out of range; valid ...``.
"""

from __future__ import annotations

import numpy as np

from hal.errors import ConfigError

__all__ = ["check_array", "check_range", "to_bool_array", "to_float_array", "to_int_array"]


def _readonly(arr: np.ndarray) -> np.ndarray:
    arr.setflags(write=False)
    return arr


def to_float_array(value: object) -> object:
    """Converter: anything array-like of real numbers -> read-only float64 copy (lossless)."""
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        return value  # the validator reports what it got
    if np.asarray(value).dtype.kind not in "iuf":
        return value
    return _readonly(arr)


def to_int_array(value: object) -> object:
    """Converter: integer array-like -> read-only int64 copy; floats are not rounded."""
    arr = np.asarray(value)
    if arr.size == 0:
        return _readonly(np.zeros(arr.shape, dtype=np.int64))
    if arr.dtype.kind in "iu":
        return _readonly(arr.astype(np.int64))
    return value


def to_bool_array(value: object) -> object:
    """Converter: boolean array-like -> read-only bool copy; numbers are not reinterpreted."""
    arr = np.asarray(value)
    if arr.size == 0:
        return _readonly(np.zeros(arr.shape, dtype=bool))
    if arr.dtype.kind == "b":
        return _readonly(arr.astype(bool))
    return value


def _describe(value: object) -> str:
    if isinstance(value, np.ndarray):
        return f"dtype {value.dtype}"
    if isinstance(value, (list, tuple)):
        try:
            return f"{type(value).__name__} of {np.asarray(value).dtype}"
        except (TypeError, ValueError):
            pass
    return type(value).__name__


def check_array(owner: str, name: str, value: object, kind: str) -> np.ndarray:
    """``value`` if it is a 1-d array of ``kind`` (``"f"``: finite float64, ``"i"``: int64, ``"b"``: bool).

    Raises
    ------
    ConfigError
        Naming ``owner.name``, what it got and what is valid.
    """
    expected = {"f": "real numbers (float64)", "i": "integers (int64)", "b": "booleans"}[kind]
    if not isinstance(value, np.ndarray) or value.dtype.kind != kind:
        raise ConfigError(f"{owner}.{name}: got {_describe(value)}; valid: a 1-d array of {expected}")
    if value.ndim != 1:
        raise ConfigError(f"{owner}.{name}: shape {value.shape}; valid: a 1-d array")
    if kind == "f":
        bad = np.flatnonzero(~np.isfinite(value))
        if bad.size:
            i = int(bad[0])
            raise ConfigError(f"{owner}.{name}[{i}]: {value[i].item()!r} is not finite; valid: finite numbers")
    return value


def check_range(owner: str, name: str, value: np.ndarray, bad: np.ndarray, valid: str) -> None:
    """Raise :class:`ConfigError` naming the first entry of ``value`` where ``bad`` is true (and how many more)."""
    idx = np.flatnonzero(bad)
    if idx.size:
        i = int(idx[0])
        more = f" (and {idx.size - 1} more)" if idx.size > 1 else ""
        raise ConfigError(f"{owner}.{name}[{i}]: {value[i].item()!r} out of range; valid {valid}{more}")
