"""attrs validators that raise the project's typed errors.

Every validator names the class, the field, the value and what is valid, in the form
``LIFParameters.tau_m_ms: -1.0 out of range; valid a finite time > 0 ms``.

``error`` picks the exception: any class called as ``error(owner, field, value, valid)``,
such as :class:`~hal.errors.ConfigValueError` (a :class:`~hal.errors.ConfigError`, the
default for configuration objects) or :class:`~hal.errors.CoordinateError` (the default of
:func:`in_range`, for coordinates and register values).

Numbers are Python ``int`` or ``float``; ``bool`` is never a number here, and numpy scalars
are for converters to normalise first (:func:`integral`). An ``int`` too large for a float is
not a finite number.

The same rules hold where files are read: :func:`strict_converter` builds a cattrs converter
that never coerces (3.7 is not an integer, ``"1"`` is not a number, a missing key is not
filled with a default), :func:`structure_errors` turns its errors into ``path: message``
lines that keep the validators' own words, and :func:`parse_json` reads JSON with its nesting
depth bounded before the parser recurses.
"""

from __future__ import annotations

import json
import math
import operator
import reprlib
import sys
import types
import typing
from collections.abc import Callable
from typing import Any

import attrs
import cattrs
import numpy as np
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError, IterableValidationError

from hal.errors import ConfigValueError, CoordinateError, FieldOverflowError, HalError

__all__ = [
    "ErrorFactory", "in_range", "integral", "finite", "positive", "at_least", "one_of", "instance_of", "is_finite_number",
    "MAX_JSON_DEPTH", "parse_json", "strict_converter", "structure_errors", "Shown", "shown",
]

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


def is_finite_number(value: object) -> bool:
    """A Python ``int`` or ``float`` (not ``bool``) that is finite as a float (no NaN, no infinity)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(value, int):  # math.isfinite would overflow on a huge int
        return abs(value) <= sys.float_info.max
    return math.isfinite(value)


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
        if not is_finite_number(value):
            raise error(type(instance).__name__, attribute.name, value, valid)

    return validate


def positive(*, what: str = "number", unit: str = "", error: ErrorFactory = ConfigValueError):
    """Validator: a finite ``int`` or ``float`` ``> 0``.

    ``positive(what="time", unit="ms")`` says "valid a finite time > 0 ms".
    """
    valid = _quantity(what, unit, " > 0")

    def validate(instance, attribute, value):
        if not (is_finite_number(value) and value > 0):
            raise error(type(instance).__name__, attribute.name, value, valid)

    return validate


class Shown:
    """A value as error messages show it: its repr shortened (long lists end in ``...``).

    Validators keep this as the error's ``value`` where the value itself could be huge.
    """

    def __init__(self, value: object):
        self.value = value
        self._text = reprlib.repr(value)

    def __repr__(self) -> str:
        return self._text


def shown(value: object) -> object:
    """``value`` itself if its repr is short anyway (numbers, None), else :class:`Shown`."""
    return value if value is None or isinstance(value, (bool, int, float)) else Shown(value)


def one_of(choices: tuple[str, ...], *, error: ErrorFactory = ConfigValueError):
    """Validator: one of the strings ``choices`` (the message lists them)."""
    valid = "one of " + ", ".join(choices)

    def validate(instance, attribute, value):
        if not isinstance(value, str) or value not in choices:
            raise error(type(instance).__name__, attribute.name, value, valid)

    return validate


def instance_of(cls: type | tuple[type, ...], *, what: str = "", error: ErrorFactory = ConfigValueError):
    """Validator: an instance of ``cls`` (``what`` words it, else the class names)."""
    classes = cls if isinstance(cls, tuple) else (cls,)
    valid = what or "a " + " or ".join(c.__name__ for c in classes)

    def validate(instance, attribute, value):
        if not isinstance(value, classes):
            raise error(type(instance).__name__, attribute.name, value, valid)

    return validate


# -- reading files: JSON with bounded nesting, structuring without coercion ----------------------

#: The deepest nesting of arrays and objects a hal JSON file may have. hal's own files nest at
#: most 8 levels (an experiment's manifest down to one register field); the bound keeps a
#: hostile file from exhausting the parser's recursion.
MAX_JSON_DEPTH = 32

_CHUNK = 1 << 24


def _json_depth(data: bytes) -> int:
    """The deepest nesting of ``[`` and ``{`` outside string literals (exact for valid JSON).

    Vectorised, in chunks, because it runs on every manifest before the parser. Escaped
    backslashes, then escaped quotes are dropped first (``bytes.replace`` pairs backslashes
    from the left, as JSON does), so that every remaining quote starts or ends a string; a
    bracket counts when an even number of quotes precedes it. Where this scan and a parser
    could disagree (a backslash outside a string, a raw control character inside one), the
    parser stops there with an error.
    """
    data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    depth = deepest = 0
    in_string = 0
    for start in range(0, len(data), _CHUNK):
        a = np.frombuffer(data, dtype=np.uint8, count=min(_CHUNK, len(data) - start), offset=start)
        quotes = np.flatnonzero(a == ord('"'))
        opens = (a == ord("[")) | (a == ord("{"))
        brackets = np.flatnonzero(opens | (a == ord("]")) | (a == ord("}")))
        brackets = brackets[(np.searchsorted(quotes, brackets) + in_string) % 2 == 0]
        if brackets.size:
            running = depth + np.cumsum(np.where(opens[brackets], 1, -1))
            deepest = max(deepest, int(running.max()))
            depth = int(running[-1])
        in_string = (in_string + quotes.size) % 2
    return deepest


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is too large for a float")
    return value


def parse_json(data: bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse UTF-8 JSON ``data``; any problem is a ``ValueError`` whose message says what.

    Refused before parsing: nesting deeper than ``max_depth``. Refused while parsing: what
    is not strict JSON, including ``NaN`` and ``Infinity`` (which Python's json would read)
    and numbers too large for a float (``1e999``, which it would read as infinity).
    Callers wrap the ``ValueError`` in the error their file format raises.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text ({exc})") from None
    depth = _json_depth(data)
    if depth > max_depth:
        raise ValueError(f"nested {depth} levels deep; hal reads JSON nested at most {max_depth} levels")
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except RecursionError:  # cannot happen below the depth bound; kept as a last line
        raise ValueError(f"nested too deeply; hal reads JSON nested at most {max_depth} levels") from None
    except ValueError as exc:  # JSONDecodeError, and Python's limit on the digits of an int
        raise ValueError(str(exc)) from None


def _structure_int(value: Any, _: type) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{value!r} is not an integer")
    return value


def _structure_float(value: Any, _: type) -> float:
    if not is_finite_number(value):
        raise ValueError(f"{value!r} is not a finite number")
    return value


def _structure_str(value: Any, _: type) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a string")
    return value


def _structure_bool(value: Any, _: type) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{value!r} is not true/false")
    return value


def _is_sequence_type(tp: Any) -> bool:
    return typing.get_origin(tp) in (tuple, list)


def _expects_sequence(tp: Any) -> tuple[bool, bool]:
    """(the type is a tuple/list, None is also allowed) for ``tuple[...]`` and ``tuple[...] | None``."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        rest = [a for a in args if a is not type(None)]
        return len(rest) == 1 and _is_sequence_type(rest[0]), type(None) in args
    return _is_sequence_type(tp), False


def _required(a: attrs.Attribute) -> bool:
    # A field whose default is None may be left out (None invents nothing); any other default
    # would be a value the file did not state.
    return a.init and (a.default is attrs.NOTHING or a.default is not None)


def _strict_class_hook(converter: cattrs.Converter, cl: type):
    generated = cattrs.gen.make_dict_structure_fn(cl, converter, _cattrs_forbid_extra_keys=True)
    fields = [a for a in attrs.fields(cl) if a.init]
    keys = [a.alias or a.name for a in fields]
    required = [a.alias or a.name for a in fields if _required(a)]
    sequences = {a.alias or a.name: _expects_sequence(a.type) for a in fields}

    def structure(value: Any, _: type):
        if not isinstance(value, dict):
            raise ValueError(f"expected an object with keys {', '.join(keys)}; got {type(value).__name__} {str(value)[:40]}")
        missing = [k for k in required if k not in value]
        if missing:
            raise ValueError(f"missing key(s) {', '.join(missing)}; required: {', '.join(required)}")
        for key, (is_sequence, optional) in sequences.items():
            v = value.get(key)
            if is_sequence and key in value and not isinstance(v, (list, tuple)) and not (optional and v is None):
                raise ValueError(f"{key}: expected a list, got {type(v).__name__} {str(v)[:40]}")
        return generated(value, cl)

    return structure


def strict_converter() -> cattrs.Converter:
    """A private cattrs converter that refuses what it would otherwise coerce.

    - ``int``: only integers (3.7, 3.0, ``"3"`` and ``true`` are refused);
    - ``float``: only finite numbers (no strings, booleans, NaN or infinity);
    - ``str`` and ``bool``: only strings and ``true``/``false``;
    - attrs classes: an object (dict) whose keys are exactly the class's fields; every field is
      required unless its default is ``None``; a field typed as a tuple or list needs a list.

    Converters built on it add their own hooks (numpy arrays, enums) and may relax a rule
    explicitly (the wafer configuration reads 0/1 as a bit).
    """
    conv = cattrs.Converter(forbid_extra_keys=True)
    conv.register_structure_hook(int, _structure_int)
    conv.register_structure_hook(float, _structure_float)
    conv.register_structure_hook(str, _structure_str)
    conv.register_structure_hook(bool, _structure_bool)
    conv.register_structure_hook_factory(attrs.has, lambda cl: _strict_class_hook(conv, cl))
    return conv


def _at(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _leaf(exc: BaseException, path: str) -> str:
    prefix = f"{path}: " if path else ""
    if isinstance(exc, (ConfigValueError, CoordinateError)):
        # Raised by a validator of the class built at ``path``: name the field by its path.
        return f"{_at(path, exc.field)}: {exc.value!r} out of range; valid {exc.valid}"
    if isinstance(exc, FieldOverflowError):
        where = f" at {exc.where}" if exc.where else ""
        return f"{_at(path, exc.field)}{where}: {exc.value!r} does not fit; valid {exc.valid}"
    if isinstance(exc, ForbiddenExtraKeysError):
        valid = ", ".join(a.alias or a.name for a in attrs.fields(exc.cl) if a.init)
        return f"{prefix}unknown key(s) {', '.join(sorted(exc.extra_fields))}; valid keys: {valid}"
    if isinstance(exc, KeyError):
        return f"{prefix}missing key {exc.args[0] if exc.args else ''}".rstrip()
    if isinstance(exc, (HalError, ValueError, TypeError)):
        return f"{prefix}{exc}"
    return f"{prefix}{type(exc).__name__}: {exc}"


def structure_errors(exc: BaseException, path: str = "") -> list[str]:
    """Every problem inside a cattrs structuring error, as ``"path: message"`` lines.

    The path names the place in the file (``populations[1].size``); the message is the
    innermost error's own: a validator's "out of range; valid ...", a hook's "3.7 is not an
    integer", or the unknown keys with the valid ones.
    """
    if isinstance(exc, IterableValidationError):
        with_notes, without = exc.group_exceptions()
        out = []
        for inner, note in with_notes:
            index = note.index if isinstance(note.index, int) else repr(note.index)
            out += structure_errors(inner, f"{path}[{index}]")
        return out + [m for inner in without for m in structure_errors(inner, path)]
    if isinstance(exc, ClassValidationError):
        with_notes, without = exc.group_exceptions()
        out = []
        for inner, note in with_notes:
            out += structure_errors(inner, _at(path, note.name))
        return out + [m for inner in without for m in structure_errors(inner, path)]
    return [_leaf(exc, path)]
