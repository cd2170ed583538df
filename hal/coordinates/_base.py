"""Shared machinery of :mod:`hal.coordinates`: the halco tables and the coordinate base classes.

Private module. The public types live in :mod:`hal.coordinates.wafer`,
:mod:`~hal.coordinates.neurons`, :mod:`~hal.coordinates.synapses` and
:mod:`~hal.coordinates.l1`; import them from :mod:`hal.coordinates`.

The numbers of the wafer tables below follow the public
``electronicvisions/halco`` repository (``src/halco/hicann/v2/lookup_tables.cpp``,
``external.cpp``), restated here as data; see ``/work/shared/HARDWARE_FACTS.md``
section 1.
"""

from __future__ import annotations

from typing import ClassVar, TypeVar

import attrs

from hal.validators import in_range, integral
from hal.errors import CoordinateError

_C = TypeVar("_C", bound="_Coordinate")

# ---------------------------------------------------------------------------
# Hardware tables (numbers from halco, see the module docstring)
# ---------------------------------------------------------------------------

#: Valid HICANN x range (inclusive) for each wafer row y = 0..15
#: (halco lookup_tables.cpp ``HICANNOnWaferGrid``).
_HICANN_ROWS: tuple[tuple[int, int], ...] = (
    (12, 23), (12, 23),
    (8, 27), (8, 27),
    (4, 31), (4, 31),
    (0, 35), (0, 35), (0, 35), (0, 35),
    (4, 31), (4, 31),
    (8, 27), (8, 27),
    (12, 23), (12, 23),
)  # fmt: skip

#: Valid DNC (reticle) x range for each reticle row y = 0..7
#: (halco lookup_tables.cpp ``DNCOnWaferGrid``).
_DNC_ROWS: tuple[tuple[int, int], ...] = (
    (3, 5), (2, 6), (1, 7), (0, 8), (0, 8), (1, 7), (2, 6), (3, 5),
)  # fmt: skip

#: FPGA serving each reticle, indexed by ``DNCOnWafer.enum`` (row-major).
#: halco lookup_tables.cpp ``reticle_fpga_grid_bss`` (Kintex-7 production
#: wafers with 48 FPGAs; the two 12-FPGA lab wafers are not modelled).
_DNC_TO_FPGA: tuple[int, ...] = (
                12, 13, 11,
            16, 14, 15, 10,  9,
        20, 17, 19,  7,  6,  8,  3,
    22, 21, 23, 18,  5,  4,  0,  2,  1,
    25, 26, 24, 28, 43, 42, 47, 45, 46,
        27, 29, 30, 41, 40, 38, 44,
            31, 32, 39, 37, 36,
                33, 34, 35,
)  # fmt: skip

#: The FPGA that distributes the global start signal (halco external.cpp).
_MASTER_FPGA = 12


def _grid(
    rows: tuple[tuple[int, int], ...],
) -> tuple[tuple[tuple[int, int], ...], dict[tuple[int, int], int]]:
    """Row-major enumeration of the existing cells of a ragged grid."""
    cells = tuple((x, y) for y, (lo, hi) in enumerate(rows) for x in range(lo, hi + 1))
    return cells, {cell: i for i, cell in enumerate(cells)}


_HICANN_XY, _HICANN_ENUM = _grid(_HICANN_ROWS)
_DNC_XY, _DNC_ENUM = _grid(_DNC_ROWS)
_FPGA_TO_DNC: tuple[int, ...] = tuple(
    sorted(range(len(_DNC_TO_FPGA)), key=_DNC_TO_FPGA.__getitem__)
)

# ---------------------------------------------------------------------------
# Private helpers
# ---------------------------------------------------------------------------

# all() results per class; filled on first use. A race between threads only
# builds the same tuple twice, which is harmless.
_ALL_CACHE: dict[type, tuple] = {}


def _check_index(coordinate: str, field: str, value: object, lo: int, hi: int, note: str = "") -> int:
    """Return ``value`` as an int if it is an integer in ``lo..hi``, else raise.

    Same wording as :func:`hal.validators.in_range`, so that errors from
    constructors and from class methods such as ``from_enum`` look alike.
    ``note`` qualifies the range, e.g. ``" (for y=0)"``.
    """
    value = integral(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise CoordinateError(coordinate, field, value, f"an integer {lo}..{hi}{note}")
    if not lo <= value <= hi:
        raise CoordinateError(coordinate, field, value, f"{lo}..{hi}{note}")
    return value


def _ranged(lo: int, hi: int):
    """An attrs field holding an integer in ``lo..hi`` (numpy ints accepted)."""
    return attrs.field(converter=integral, validator=in_range(lo, hi))


def _ranged_or(coordinate_type: type, lo: int, hi: int):
    """Like :func:`_ranged`, but also accepts an instance of ``coordinate_type``.

    Lets ``SynapseOnHICANN(SynapseRowOnHICANN(3), 7)`` and
    ``SynapseOnHICANN(3, 7)`` mean the same. Only that exact type is unwrapped,
    so an unrelated coordinate is still rejected.
    """

    def convert(value):
        if type(value) is coordinate_type:
            return value.value
        return integral(value)

    return attrs.field(converter=convert, validator=in_range(lo, hi))


def _ranges_text(values: list[int] | tuple[int, ...]) -> str:
    """Compress sorted ints into ``"4..7, 36..39"`` for error messages."""
    parts: list[str] = []
    start = prev = values[0]
    for v in values[1:]:
        if v != prev + 1:
            parts.append(f"{start}..{prev}" if prev > start else f"{start}")
            start = v
        prev = v
    parts.append(f"{start}..{prev}" if prev > start else f"{start}")
    return ", ".join(parts)


_SIDES = ("left", "right")
_HALVES = ("top", "bottom")


class _Coordinate:
    """Shared behaviour: ``all()``, ``from_enum()``, enum ordering and repr.

    Subclasses are ``attrs`` frozen slotted classes that provide ``size``, an
    ``enum`` (field or property) and ``_from_enum(i)`` for a checked ``i``.
    """

    __slots__ = ()

    size: ClassVar[int]

    @classmethod
    def all(cls: type[_C]) -> tuple[_C, ...]:
        """Return every instance, in enum order.

        Returns
        -------
        tuple
            ``cls.size`` instances; ``all()[i].enum == i``. Built once per
            class and cached, since callers iterate it often.
        """
        cached = _ALL_CACHE.get(cls)
        if cached is None:
            cached = tuple(cls._from_enum(i) for i in range(cls.size))
            _ALL_CACHE[cls] = cached
        return cached

    @classmethod
    def from_enum(cls: type[_C], enum: int) -> _C:
        """Return the instance with linear index ``enum``.

        Raises
        ------
        CoordinateError
            If ``enum`` is not an integer in ``0 .. size - 1``.
        """
        return cls._from_enum(_check_index(cls.__name__, "enum", enum, 0, cls.size - 1))

    @classmethod
    def _from_enum(cls, enum: int):  # pragma: no cover - every subclass overrides
        raise TypeError(f"{cls.__name__} does not define _from_enum")

    # Ordering by enum. Only instances of the same class compare; anything
    # else gets NotImplemented, so mixing types raises TypeError.
    def __lt__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self.enum < other.enum

    def __le__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self.enum <= other.enum

    def __gt__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self.enum > other.enum

    def __ge__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self.enum >= other.enum

    def __repr__(self) -> str:
        names = [a.name for a in attrs.fields(type(self))]
        if len(names) == 1:
            return f"{type(self).__name__}({getattr(self, names[0])!r})"
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in names)
        return f"{type(self).__name__}({inner})"


class _Scalar(_Coordinate):
    """A coordinate that is a single integer ``value`` equal to its enum."""

    __slots__ = ()

    @property
    def enum(self) -> int:
        """Linear index; equals ``value``."""
        return self.value

    @classmethod
    def _from_enum(cls, enum: int):
        return cls(enum)
