"""Typed views over a chip's register image.

A chip configuration stores one word array per register (the register image);
these views give typed access on top. :class:`RegisterTable` indexes the
instances of a value register by coordinate or by integer and hands out frozen
value objects; column access reads or writes one field for many instances at once.
"""

from __future__ import annotations

import operator
from typing import Any, Generic, TypeVar

import attrs
import numpy as np

from hal.errors import CoordinateError, FieldOverflowError
from hal.registers import Register, RegisterValue

__all__ = ["RegisterTable", "index_of"]

V = TypeVar("V", bound=RegisterValue)


def index_of(key: Any, size: int, what: str) -> int:
    """Resolve a coordinate (anything with ``.enum``) or an int to an index ``0..size-1``."""
    if hasattr(key, "enum"):
        idx = key.enum
    else:
        if isinstance(key, bool):
            raise CoordinateError(what, "index", key, f"an integer 0..{size - 1} or a coordinate")
        try:
            idx = operator.index(key)
        except TypeError:
            raise CoordinateError(what, "index", key, f"an integer 0..{size - 1} or a coordinate") from None
    if not 0 <= idx < size:
        raise CoordinateError(what, "index", idx, f"0..{size - 1}")
    return idx


class RegisterTable(Generic[V]):
    """The ``count`` instances of one value register inside a chip's register image."""

    def __init__(self, image: dict[str, np.ndarray], value_class: type[V], index_name: str):
        self._image = image
        self._cls = value_class
        self._index_name = index_name

    @property
    def register(self) -> Register:
        return self._cls.REGISTER

    @property
    def _words(self) -> np.ndarray:
        return self._image[self.register.name]

    def __len__(self) -> int:
        return self.register.count

    def _idx(self, key: Any) -> int:
        return index_of(key, self.register.count, self._index_name)

    def __getitem__(self, key: Any) -> V:
        return self._cls.from_word(self._words[self._idx(key)])

    def __setitem__(self, key: Any, value: V) -> None:
        if not isinstance(value, self._cls):
            raise FieldOverflowError(self.register.name, "<value>", value, f"a {self._cls.__name__}")
        self._words[self._idx(key)] = value.to_word()

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def update(self, key: Any, **changes: Any) -> V:
        """Change some fields of one instance; returns the new value."""
        value = attrs.evolve(self[key], **changes)
        self[key] = value
        return value

    @property
    def value(self) -> V:
        """The single instance of a register with count 1."""
        return self[0]

    @value.setter
    def value(self, value: V) -> None:
        self[0] = value

    def column(self, field: str) -> np.ndarray:
        """One field of every instance, as a new array."""
        return self.register.unpack_field(self._words, field)

    def set_column(self, field: str, values: Any, index: Any = None) -> None:
        """Write one field for many instances (all, or those selected by ``index``)."""
        sel = slice(None) if index is None else self._selection(index)
        current = self._words[sel]
        reg = self.register

        def where(i: int) -> str:
            chosen = np.arange(reg.count)[sel]
            return f"{self._index_name} {int(np.atleast_1d(chosen)[i])}" if np.size(chosen) > i else ""

        checked = reg.check_field(field, np.broadcast_to(values, np.shape(current)), where)
        self._words[sel] = reg.pack({field: checked}, base=current)

    def _selection(self, index: Any) -> np.ndarray:
        items = index if isinstance(index, (list, tuple, np.ndarray, range)) else [index]
        return np.array([self._idx(k) for k in items], dtype=np.intp)
