"""Coordinates of the BrainScaleS-1 wafer and its HICANN chips.

Every coordinate is a small frozen value: hashable, ordered by its linear
index, and validated when it is built. Names follow the ``XOnY`` convention of
the BrainScaleS software (``NeuronOnHICANN`` is a neuron relative to one
HICANN), conversions are ``to_<thing>()`` methods, and every enumerable type
offers

* ``size`` -- the number of instances (class attribute),
* ``all()`` -- every instance, in enum order (cached),
* ``enum`` -- the linear index of an instance, ``0 .. size - 1``,
* ``from_enum(i)`` -- the inverse of ``enum`` (validated).

Invalid values raise :class:`hal.errors.CoordinateError`, whose message names
the type, the field, the value and what is valid, for example
``NeuronOnHICANN.x: 270 out of range; valid 0..255``. Values are never
wrapped or clamped.

Sources
-------
The geometry, the lookup tables and the L1 connectivity formulas follow the
public ``electronicvisions/halco`` repository (``include/halco/hicann/v2/*.h``,
``src/halco/hicann/v2/{hicann,l1,synapse,neuron,lookup_tables}.cpp``); the
numbers are restated here as data, see ``/work/shared/HARDWARE_FACTS.md``
sections 1-5. Where this module deliberately differs from halco (an enum
order, a numbering) the class docstring says so.

Ordering is by ``enum`` for every type (not by field tuple, which is what
``attrs`` ``order=True`` would give), so that ``sorted(T.all()) == T.all()``
holds even for types such as ``NeuronOnHICANN`` whose enum is column-minor.
"""

from __future__ import annotations

from typing import ClassVar, TypeVar

import attrs

from hal._validators import in_range, integral
from hal.errors import CoordinateError

__all__ = [
    "InputAddress",
    # wafer level
    "Wafer",
    "DNCOnWafer",
    "ReticleOnWafer",
    "HICANNOnWafer",
    "HICANNOnDNC",
    "HighspeedLinkOnDNC",
    "FPGAOnWafer",
    # neurons and floating gates
    "NeuronOnHICANN",
    "QuadOnHICANN",
    "NeuronBlockOnHICANN",
    "FGBlockOnHICANN",
    "FGRowOnFGBlock",
    "FGCellOnFGBlock",
    # synapses
    "SynapseDriverOnHICANN",
    "SynapseRowOnHICANN",
    "SynapseColumnOnHICANN",
    "SynapseOnHICANN",
    "SynapticInputOnNeuron",
    # L1 routing
    "HLineOnHICANN",
    "VLineOnHICANN",
    "HRepeaterOnHICANN",
    "VRepeaterOnHICANN",
    "RepeaterBlockOnHICANN",
    "CrossbarSwitchOnHICANN",
    "SynapseSwitchOnHICANN",
    "SendingRepeaterOnHICANN",
    "MergerOnHICANN",
    "DNCMergerOnHICANN",
    "GbitLinkOnHICANN",
    "BackgroundGeneratorOnHICANN",
    "AnalogOnHICANN",
    "L1Address",
]

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

    Same wording as :func:`hal._validators.in_range`, so that errors from
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


# ---------------------------------------------------------------------------
# Wafer level
# ---------------------------------------------------------------------------


@attrs.frozen(order=True, repr=False)
class Wafer:
    """A wafer module, identified by its id.

    The id is only a name (the lab and production systems use ids such as 3,
    20..39), so there is no ``all()`` or enum.

    Parameters
    ----------
    id : int
        0..65535.
    """

    id: int = _ranged(0, 65535)

    def __repr__(self) -> str:
        return f"Wafer({self.id!r})"


@attrs.frozen(repr=False)
class DNCOnWafer(_Coordinate):
    """A reticle (= DNC, the digital network chip of one reticle) on the wafer.

    48 reticles on a ragged 9 x 8 grid: rows y = 0..7 hold 3, 5, 7, 9, 9, 7,
    5, 3 reticles (row 0 spans x 3..5, row 1 x 2..6, row 2 x 1..7, rows 3 and
    4 x 0..8, then mirrored). The enum is row-major over existing cells.
    Each reticle holds 2 x 4 HICANNs and is served by one FPGA.

    Parameters
    ----------
    x : int
        Column 0..8; must exist in row ``y``.
    y : int
        Row 0..7.
    """

    size: ClassVar[int] = 48

    x: int = _ranged(0, 8)
    y: int = _ranged(0, 7)

    def __attrs_post_init__(self) -> None:
        lo, hi = _DNC_ROWS[self.y]
        if not lo <= self.x <= hi:
            raise CoordinateError("DNCOnWafer", "x", self.x, f"{lo}..{hi} (for y={self.y})")

    @property
    def enum(self) -> int:
        """Row-major linear index 0..47 over existing reticles."""
        return _DNC_ENUM[(self.x, self.y)]

    @classmethod
    def _from_enum(cls, enum: int) -> DNCOnWafer:
        return cls(*_DNC_XY[enum])

    def to_fpga(self) -> FPGAOnWafer:
        """The FPGA serving this reticle (halco ``reticle_fpga_grid_bss``)."""
        return FPGAOnWafer(_DNC_TO_FPGA[self.enum])

    def hicanns(self) -> tuple[HICANNOnWafer, ...]:
        """The 8 HICANNs of this reticle, in ``HICANNOnDNC`` enum (= link) order."""
        return tuple(h.to_hicann_on_wafer(self) for h in HICANNOnDNC.all())


#: Reticle and DNC are the same thing on BrainScaleS-1; both names are in use.
ReticleOnWafer = DNCOnWafer


@attrs.frozen(repr=False)
class HICANNOnWafer(_Coordinate):
    """A HICANN chip on the wafer.

    384 HICANNs on a ragged 36 x 16 grid (see ``HARDWARE_FACTS.md`` section 1):
    rows 0-1 span x 12..23, rows 2-3 x 8..27, rows 4-5 x 4..31, rows 6-9
    x 0..35, then mirrored. The enum is row-major over existing cells, as in
    halco. Compass moves: east = x + 1, west = x - 1, north = y - 1,
    south = y + 1.

    Parameters
    ----------
    enum : int
        Linear index 0..383. Use :meth:`from_xy` to build from grid
        coordinates.
    """

    size: ClassVar[int] = 384

    enum: int = _ranged(0, 383)

    @classmethod
    def _from_enum(cls, enum: int) -> HICANNOnWafer:
        return cls(enum)

    @classmethod
    def from_xy(cls, x: int, y: int) -> HICANNOnWafer:
        """Build from grid position ``(x, y)``.

        Raises
        ------
        CoordinateError
            If ``y`` is not in 0..15, or no HICANN exists at ``x`` in that row
            (the message gives the valid x range for the row).
        """
        y = _check_index("HICANNOnWafer", "y", y, 0, 15)
        lo, hi = _HICANN_ROWS[y]
        x = _check_index("HICANNOnWafer", "x", x, lo, hi, f" (for y={y})")
        return cls(_HICANN_ENUM[(x, y)])

    @property
    def x(self) -> int:
        """Grid column 0..35."""
        return _HICANN_XY[self.enum][0]

    @property
    def y(self) -> int:
        """Grid row 0..15."""
        return _HICANN_XY[self.enum][1]

    def to_dnc(self) -> DNCOnWafer:
        """The reticle holding this HICANN: ``(x // 4, y // 2)``."""
        x, y = _HICANN_XY[self.enum]
        return DNCOnWafer(x // 4, y // 2)

    to_reticle = to_dnc

    def to_hicann_on_dnc(self) -> HICANNOnDNC:
        """Position inside the reticle: ``(x % 4, y % 2)``."""
        x, y = _HICANN_XY[self.enum]
        return HICANNOnDNC(x % 4, y % 2)

    def to_fpga(self) -> FPGAOnWafer:
        """The FPGA serving this HICANN's reticle."""
        return self.to_dnc().to_fpga()

    def to_highspeed_link(self) -> HighspeedLinkOnDNC:
        """The DNC highspeed link of this HICANN: ``2 * x + y`` of ``HICANNOnDNC``."""
        return self.to_hicann_on_dnc().to_highspeed_link()

    def _move(self, dx: int, dy: int) -> HICANNOnWafer | None:
        x, y = _HICANN_XY[self.enum]
        enum = _HICANN_ENUM.get((x + dx, y + dy))
        return None if enum is None else HICANNOnWafer(enum)

    def east(self) -> HICANNOnWafer | None:
        """Neighbour at x + 1, or None at the wafer edge."""
        return self._move(1, 0)

    def west(self) -> HICANNOnWafer | None:
        """Neighbour at x - 1, or None at the wafer edge."""
        return self._move(-1, 0)

    def north(self) -> HICANNOnWafer | None:
        """Neighbour at y - 1, or None at the wafer edge."""
        return self._move(0, -1)

    def south(self) -> HICANNOnWafer | None:
        """Neighbour at y + 1, or None at the wafer edge."""
        return self._move(0, 1)


@attrs.frozen(repr=False)
class HICANNOnDNC(_Coordinate):
    """A HICANN's position inside its reticle (4 columns x 2 rows).

    The enum is ``2 * x + y``, the highspeed-link number. (halco's own
    ``HICANNOnDNC`` enum is row-major ``4 * y + x``; we use the link order so
    that enum, link and ``DNCOnWafer.hicanns()`` order agree.)

    Parameters
    ----------
    x : int
        0..3.
    y : int
        0..1.
    """

    size: ClassVar[int] = 8

    x: int = _ranged(0, 3)
    y: int = _ranged(0, 1)

    @property
    def enum(self) -> int:
        """``2 * x + y`` (0..7), equal to the highspeed link."""
        return 2 * self.x + self.y

    @classmethod
    def _from_enum(cls, enum: int) -> HICANNOnDNC:
        return cls(enum // 2, enum % 2)

    def to_highspeed_link(self) -> HighspeedLinkOnDNC:
        """The DNC link serving this HICANN: ``2 * x + y``."""
        return HighspeedLinkOnDNC(self.enum)

    def to_hicann_on_wafer(self, dnc: DNCOnWafer) -> HICANNOnWafer:
        """This position inside reticle ``dnc``."""
        return HICANNOnWafer.from_xy(4 * dnc.x + self.x, 2 * dnc.y + self.y)


@attrs.frozen(repr=False)
class HighspeedLinkOnDNC(_Scalar):
    """One of the 8 DNC <-> HICANN highspeed links of a reticle (0..7)."""

    size: ClassVar[int] = 8

    value: int = _ranged(0, 7)

    def to_hicann_on_dnc(self) -> HICANNOnDNC:
        """The HICANN on this link: ``x = link // 2``, ``y = link % 2``."""
        return HICANNOnDNC(self.value // 2, self.value % 2)


@attrs.frozen(repr=False)
class FPGAOnWafer(_Scalar):
    """One of the 48 FPGAs of a production wafer (one per reticle).

    The reticle <-> FPGA assignment is a fixed permutation (halco
    ``reticle_fpga_grid_bss``). FPGA 12 is the master that distributes the
    global start signal; it is also available as ``FPGAOnWafer.MASTER``.
    """

    size: ClassVar[int] = 48
    MASTER: ClassVar[FPGAOnWafer]

    value: int = _ranged(0, 47)

    @property
    def is_master(self) -> bool:
        """True for the master FPGA (12)."""
        return self.value == _MASTER_FPGA

    def to_dnc(self) -> DNCOnWafer:
        """The reticle this FPGA serves."""
        return DNCOnWafer.from_enum(_FPGA_TO_DNC[self.value])

    to_reticle = to_dnc

    def hicanns(self) -> tuple[HICANNOnWafer, ...]:
        """The 8 HICANNs this FPGA serves, in ``HICANNOnDNC`` enum order."""
        return self.to_dnc().hicanns()


FPGAOnWafer.MASTER = FPGAOnWafer(_MASTER_FPGA)

# ---------------------------------------------------------------------------
# Neurons and floating gates
# ---------------------------------------------------------------------------


@attrs.frozen(repr=False)
class NeuronOnHICANN(_Coordinate):
    """A denmem (neuron circuit) on a HICANN: 256 columns x 2 rows.

    Row ``y = 0`` is the top half (below the top synapse array), ``y = 1``
    the bottom half. The enum is ``256 * y + x``.

    Parameters
    ----------
    x : int
        Column 0..255.
    y : int
        0 (top) or 1 (bottom).
    """

    size: ClassVar[int] = 512

    x: int = _ranged(0, 255)
    y: int = _ranged(0, 1)

    @property
    def enum(self) -> int:
        """``256 * y + x`` (0..511)."""
        return 256 * self.y + self.x

    @classmethod
    def _from_enum(cls, enum: int) -> NeuronOnHICANN:
        return cls(enum % 256, enum // 256)

    @property
    def column(self) -> int:
        """The column, same as ``x``."""
        return self.x

    @property
    def half(self) -> str:
        """``"top"`` for y = 0, ``"bottom"`` for y = 1."""
        return _HALVES[self.y]

    @property
    def is_top(self) -> bool:
        """True in the top half."""
        return self.y == 0

    def to_quad(self) -> QuadOnHICANN:
        """The 2 x 2 neuron quad: ``x // 2``."""
        return QuadOnHICANN(self.x // 2)

    def to_neuron_block(self) -> NeuronBlockOnHICANN:
        """The 32-column neuron block (and merger-tree input): ``x // 32``."""
        return NeuronBlockOnHICANN(self.x // 32)

    def to_fg_block(self) -> FGBlockOnHICANN:
        """The FG block holding this neuron's individual parameters.

        Block enum = ``enum // 128``: 0 top-left, 1 top-right, 2 bottom-left,
        3 bottom-right (halco ``toNeuronFGBlock``).
        """
        return FGBlockOnHICANN.from_enum(self.enum // 128)

    def fg_column(self) -> int:
        """Column of this neuron in its FG block: ``enum % 128 + 1`` (1..128).

        Column 0 of every block holds the shared parameters, hence the + 1.
        """
        return self.enum % 128 + 1

    def to_shared_fg_block(self) -> FGBlockOnHICANN:
        """The FG block whose column 0 holds this neuron's shared parameters.

        ``FGBlockOnHICANN(x % 2, y)``: V_reset and I_breset are shared by the
        even (left blocks) or odd (right blocks) denmems of one half (halco
        ``toSharedFGBlockOnHICANN``). Note this differs from
        :meth:`to_fg_block`, which splits by column range instead of parity.
        """
        return FGBlockOnHICANN(self.x % 2, self.y)

    def to_synapse_column(self) -> SynapseColumnOnHICANN:
        """The synapse column feeding this neuron (same column index)."""
        return SynapseColumnOnHICANN(self.x)


@attrs.frozen(repr=False)
class QuadOnHICANN(_Scalar):
    """A neuron quad (2 columns x 2 rows of denmems), 0..127."""

    size: ClassVar[int] = 128

    value: int = _ranged(0, 127)

    def neurons(self) -> tuple[NeuronOnHICANN, ...]:
        """The 4 denmems ``x in (2q, 2q + 1)`` x ``y in (0, 1)``, in enum order."""
        x = 2 * self.value
        return (
            NeuronOnHICANN(x, 0),
            NeuronOnHICANN(x + 1, 0),
            NeuronOnHICANN(x, 1),
            NeuronOnHICANN(x + 1, 1),
        )

    def to_neuron_block(self) -> NeuronBlockOnHICANN:
        """The neuron block holding this quad: ``q // 16``."""
        return NeuronBlockOnHICANN(self.value // 16)


@attrs.frozen(repr=False)
class NeuronBlockOnHICANN(_Scalar):
    """A neuron block of 32 columns x 2 rows = 64 denmems, 0..7.

    Block ``b`` feeds merger-tree input ``b`` and has background generator
    ``b``.
    """

    size: ClassVar[int] = 8

    value: int = _ranged(0, 7)

    def neurons(self) -> tuple[NeuronOnHICANN, ...]:
        """The 64 denmems of this block, in ``NeuronOnHICANN`` enum order."""
        x0 = 32 * self.value
        return tuple(NeuronOnHICANN(x0 + dx, y) for y in (0, 1) for dx in range(32))

    def to_background_generator(self) -> BackgroundGeneratorOnHICANN:
        """The background generator with the same index."""
        return BackgroundGeneratorOnHICANN(self.value)


@attrs.frozen(repr=False)
class FGBlockOnHICANN(_Coordinate):
    """One of the 4 floating-gate parameter blocks (2 x 2).

    ``x`` is the side (0 left, 1 right), ``y`` the half (0 top, 1 bottom).
    The enum is ``2 * y + x``: 0 top-left, 1 top-right, 2 bottom-left,
    3 bottom-right (halco default grid order). Each block has 24 rows x 129
    columns; column 0 holds shared parameters, columns 1..128 one denmem each.
    """

    size: ClassVar[int] = 4

    x: int = _ranged(0, 1)
    y: int = _ranged(0, 1)

    @property
    def enum(self) -> int:
        """``2 * y + x`` (0..3)."""
        return 2 * self.y + self.x

    @classmethod
    def _from_enum(cls, enum: int) -> FGBlockOnHICANN:
        return cls(enum % 2, enum // 2)

    @property
    def side(self) -> str:
        """``"left"`` or ``"right"``."""
        return _SIDES[self.x]

    @property
    def half(self) -> str:
        """``"top"`` or ``"bottom"``."""
        return _HALVES[self.y]

    def neurons(self) -> tuple[NeuronOnHICANN, ...]:
        """The 128 denmems whose individual parameters live here, by FG column 1..128."""
        x0 = 128 * self.x
        return tuple(NeuronOnHICANN(x0 + i, self.y) for i in range(128))


@attrs.frozen(repr=False)
class FGRowOnFGBlock(_Scalar):
    """A row (parameter slot) of a floating-gate block, 0..23."""

    size: ClassVar[int] = 24

    value: int = _ranged(0, 23)


@attrs.frozen(repr=False)
class FGCellOnFGBlock(_Coordinate):
    """A floating-gate cell: row 0..23, column 0..128.

    Column 0 holds the shared parameters; columns 1..128 belong to denmems
    (see :meth:`NeuronOnHICANN.fg_column`). The enum is ``129 * row + column``
    (halco grid order, rows major).
    """

    size: ClassVar[int] = 24 * 129

    row: int = _ranged(0, 23)
    column: int = _ranged(0, 128)

    @property
    def enum(self) -> int:
        """``129 * row + column`` (0..3095)."""
        return 129 * self.row + self.column

    @classmethod
    def _from_enum(cls, enum: int) -> FGCellOnFGBlock:
        return cls(enum // 129, enum % 129)

    @property
    def is_shared(self) -> bool:
        """True in column 0, the shared-parameter column."""
        return self.column == 0

    def to_row(self) -> FGRowOnFGBlock:
        """The row of this cell."""
        return FGRowOnFGBlock(self.row)


# ---------------------------------------------------------------------------
# Synapses
# ---------------------------------------------------------------------------


@attrs.frozen(repr=False)
class SynapseDriverOnHICANN(_Scalar):
    """A synapse driver, identified by its line 0..223 (top to bottom).

    Lines 0..111 feed the top synapse array, 112..223 the bottom one; driver
    ``d`` drives synapse rows ``2d`` and ``2d + 1``. The drivers sit
    alternately at the left and right edge of the arrays, 56 per quadrant.
    Which parity is on which side follows halco (``SynapseDriverOnHICANN::
    to_x``, confirmed by its spot checks ``(0, right)``, ``(1, left)``,
    ``(112, left)``, ``(113, right)``): in the top array even lines are on the
    right and odd lines on the left; in the bottom array it is the other way
    round. The parity flips so that each quadrant keeps 56 drivers.
    """

    size: ClassVar[int] = 224

    value: int = _ranged(0, 223)

    @property
    def is_top(self) -> bool:
        """True for drivers of the top array (lines 0..111)."""
        return self.value < 112

    @property
    def array(self) -> str:
        """``"top"`` or ``"bottom"`` synapse array."""
        return "top" if self.value < 112 else "bottom"

    @property
    def side(self) -> str:
        """``"left"`` or ``"right"`` edge (halco parity rule, see class doc)."""
        # halco: side index = (line + is_top) % 2, with left = 0, right = 1
        return _SIDES[(self.value + (self.value < 112)) % 2]

    @property
    def quadrant(self) -> int:
        """Quadrant 0..3 = ``2 * array + side``: 0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right.

        Same order as halco ``QuadrantOnHICANN``.
        """
        return 2 * (self.value >= 112) + (self.value + (self.value < 112)) % 2

    @property
    def index_in_quadrant(self) -> int:
        """Index 0..55 of this driver within its quadrant, top to bottom."""
        return (self.value // 2) % 56

    def rows(self) -> tuple[SynapseRowOnHICANN, SynapseRowOnHICANN]:
        """The two synapse rows ``2d`` and ``2d + 1`` this driver drives."""
        return SynapseRowOnHICANN(2 * self.value), SynapseRowOnHICANN(2 * self.value + 1)

    def to_sending_repeater(self) -> SendingRepeaterOnHICANN:
        """The sending repeater of the same HICANN that can reach this driver (halco)."""
        half_line = (self.value // 2) % 8
        return SendingRepeaterOnHICANN(7 - half_line if self.value < 112 else half_line)


@attrs.frozen(repr=False)
class SynapseRowOnHICANN(_Scalar):
    """A synapse row 0..447: rows 0..223 form the top array, 224..447 the bottom."""

    size: ClassVar[int] = 448

    value: int = _ranged(0, 447)

    @property
    def is_top(self) -> bool:
        """True in the top array."""
        return self.value < 224

    @property
    def array(self) -> str:
        """``"top"`` or ``"bottom"``."""
        return "top" if self.value < 224 else "bottom"

    @property
    def row_on_array(self) -> int:
        """Row index 0..223 within its array."""
        return self.value % 224

    @property
    def row_on_driver(self) -> int:
        """Which of its driver's two rows this is (0 or 1)."""
        return self.value % 2

    def to_driver(self) -> SynapseDriverOnHICANN:
        """The driver of this row: ``row // 2``."""
        return SynapseDriverOnHICANN(self.value // 2)


@attrs.frozen(repr=False)
class SynapseColumnOnHICANN(_Scalar):
    """A synapse column 0..255 (one per neuron column)."""

    size: ClassVar[int] = 256

    value: int = _ranged(0, 255)


@attrs.frozen(repr=False)
class SynapseOnHICANN(_Coordinate):
    """A synapse: row 0..447 x column 0..255 (114,688 per HICANN).

    Parameters
    ----------
    row : int or SynapseRowOnHICANN
        Stored as an int.
    column : int or SynapseColumnOnHICANN
        Stored as an int.

    The enum is ``256 * row + column``.
    """

    size: ClassVar[int] = 448 * 256

    row: int = _ranged_or(SynapseRowOnHICANN, 0, 447)
    column: int = _ranged_or(SynapseColumnOnHICANN, 0, 255)

    @property
    def enum(self) -> int:
        """``256 * row + column``."""
        return 256 * self.row + self.column

    @classmethod
    def _from_enum(cls, enum: int) -> SynapseOnHICANN:
        return cls(enum // 256, enum % 256)

    def to_row(self) -> SynapseRowOnHICANN:
        """The synapse row."""
        return SynapseRowOnHICANN(self.row)

    def to_column(self) -> SynapseColumnOnHICANN:
        """The synapse column."""
        return SynapseColumnOnHICANN(self.column)

    def to_driver(self) -> SynapseDriverOnHICANN:
        """The driver of this synapse's row."""
        return SynapseDriverOnHICANN(self.row // 2)

    def to_neuron(self) -> NeuronOnHICANN:
        """The denmem this synapse feeds: same column, top array -> y 0, bottom -> y 1."""
        return NeuronOnHICANN(self.column, int(self.row >= 224))


@attrs.frozen(repr=False)
class SynapticInputOnNeuron(_Scalar):
    """One of the 2 synaptic inputs of a denmem (0 or 1).

    The polarity is a software convention (the row config chooses which input
    a synapse row drives). We follow halco's defaults (``default_inh{0}``,
    ``default_exc{1}``): input 0 is inhibitory, input 1 excitatory, available
    as ``SynapticInputOnNeuron.INHIBITORY`` and ``.EXCITATORY``.
    """

    size: ClassVar[int] = 2
    INHIBITORY: ClassVar[SynapticInputOnNeuron]
    EXCITATORY: ClassVar[SynapticInputOnNeuron]

    value: int = _ranged(0, 1)

    @property
    def is_excitatory(self) -> bool:
        """True for input 1 (default convention)."""
        return self.value == 1

    @property
    def is_inhibitory(self) -> bool:
        """True for input 0 (default convention)."""
        return self.value == 0

    @property
    def kind(self) -> str:
        """``"inhibitory"`` or ``"excitatory"`` (default convention)."""
        return "excitatory" if self.value == 1 else "inhibitory"


SynapticInputOnNeuron.INHIBITORY = SynapticInputOnNeuron(0)
SynapticInputOnNeuron.EXCITATORY = SynapticInputOnNeuron(1)

# ---------------------------------------------------------------------------
# L1 routing
# ---------------------------------------------------------------------------


@attrs.frozen(repr=False)
class HLineOnHICANN(_Scalar):
    """A horizontal L1 bus line, 0..63.

    Line ``i`` continues on the eastern neighbour as line ``(i + 2) % 64``
    (halco ``HLineOnHICANN::east``); :meth:`west` is the inverse.
    """

    size: ClassVar[int] = 64

    value: int = _ranged(0, 63)

    def east(self) -> HLineOnHICANN:
        """The line this one continues as on the eastern HICANN: ``(i + 2) % 64``."""
        return HLineOnHICANN((self.value + 2) % 64)

    def west(self) -> HLineOnHICANN:
        """The line this one continues as on the western HICANN: ``(i - 2) % 64``."""
        return HLineOnHICANN((self.value - 2) % 64)

    def crossbar_vlines(self) -> tuple[VLineOnHICANN, ...]:
        """The 8 VLines this line can be switched to: 4 left, then 4 right.

        halco ``HLineOnHICANN::toVLineOnHICANN``: left ``31 - i // 2 + 32 k``,
        right ``128 + i // 2 + 32 k`` for ``k = 0..3``. Lines ``2j`` and
        ``2j + 1`` share the same VLines.
        """
        h = self.value // 2
        left = tuple(VLineOnHICANN(31 - h + 32 * k) for k in range(4))
        right = tuple(VLineOnHICANN(128 + h + 32 * k) for k in range(4))
        return left + right

    def to_repeater(self) -> HRepeaterOnHICANN:
        """The horizontal repeater of this line on this HICANN."""
        return HRepeaterOnHICANN(self.value)


@attrs.frozen(repr=False)
class VLineOnHICANN(_Scalar):
    """A vertical L1 bus line, 0..255: 0..127 on the left, 128..255 on the right.

    Going north or south a line shifts by 2 within its half (halco
    ``VLineOnHICANN::north/south``). On the left half, line ``v`` continues
    on the northern neighbour as ``(v + 2) % 128``; on the right half as
    ``128 + (v - 128 - 2) % 128``. South is the inverse. So the shift
    direction is mirrored between the halves.
    """

    size: ClassVar[int] = 256

    value: int = _ranged(0, 255)

    @property
    def side(self) -> str:
        """``"left"`` (0..127) or ``"right"`` (128..255)."""
        return "left" if self.value < 128 else "right"

    def north(self) -> VLineOnHICANN:
        """The line this one continues as on the northern HICANN."""
        v = self.value
        if v < 128:
            return VLineOnHICANN((v + 2) % 128)
        return VLineOnHICANN(128 + (v - 128 - 2) % 128)

    def south(self) -> VLineOnHICANN:
        """The line this one continues as on the southern HICANN."""
        v = self.value
        if v < 128:
            return VLineOnHICANN((v - 2) % 128)
        return VLineOnHICANN(128 + (v - 128 + 2) % 128)

    def crossbar_hlines(self) -> tuple[HLineOnHICANN, HLineOnHICANN]:
        """The 2 HLines this line can be switched to (halco ``toHLineOnHICANN``).

        Left: ``2 * ((63 - v) % 32)`` and the next; right: ``2 * (v % 32)``
        and the next.
        """
        v = self.value
        base = 2 * ((63 - v) % 32) if v < 128 else 2 * (v % 32)
        return HLineOnHICANN(base), HLineOnHICANN(base + 1)

    def synapse_switch_rows(self) -> tuple[int, ...]:
        """The 28 synapse-switch rows this line reaches: 14 top, then 14 bottom, ascending.

        halco ``SynapseSwitchOnHICANN::column``: with
        ``o = 2 * ((v % 32) // 4)`` (left) or ``14 - 2 * ((v % 32) // 4)``
        (right), the top rows are ``16 j + o`` and ``16 j + o + 1`` and the
        bottom rows ``126 + 16 j - o`` and ``127 + 16 j - o``, ``j = 0..6``.
        """
        return _synapse_switch_rows(self.value)

    def to_repeater(self) -> VRepeaterOnHICANN:
        """The vertical repeater of this line on this HICANN."""
        return VRepeaterOnHICANN(self.value)


def _synapse_switch_offset(vline: int) -> int:
    offset = 2 * ((vline % 32) // 4)
    return offset if vline < 128 else 14 - offset


def _synapse_switch_rows(vline: int) -> tuple[int, ...]:
    o = _synapse_switch_offset(vline)
    top = tuple(16 * j + o + d for j in range(7) for d in (0, 1))
    bottom = tuple(126 + 16 * j - o + d for j in range(7) for d in (0, 1))
    return top + bottom


def _synapse_switch_exists(row: int, vline: int) -> bool:
    # halco SynapseSwitchOnHICANN::exists: groups of 4 VLines repeat every 32;
    # row pairs repeat every 16; the pattern is mirrored in the top-right and
    # bottom-left quadrants.
    x_mod = (vline % 32) // 4
    y_mod = (row % 16) // 2
    if (vline < 128) ^ (row >= 112):
        return y_mod == x_mod
    return 7 - y_mod == x_mod


@attrs.frozen(repr=False)
class HRepeaterOnHICANN(_Scalar):
    """The horizontal repeater of HLine ``value`` (0..63).

    Even lines have their repeater at the left border, odd lines at the right
    (halco). The repeaters of HLines 6, 14, ..., 62 are the sending repeaters.
    Enum equals the line, as in halco.
    """

    size: ClassVar[int] = 64

    value: int = _ranged(0, 63)

    @property
    def side(self) -> str:
        """``"left"`` for even lines, ``"right"`` for odd lines."""
        return _SIDES[self.value % 2]

    @property
    def is_sending(self) -> bool:
        """True for the 8 sending repeaters (lines ``8n + 6``)."""
        return self.value % 8 == 6

    def to_hline(self) -> HLineOnHICANN:
        """The line this repeater drives."""
        return HLineOnHICANN(self.value)

    def to_repeater_block(self) -> RepeaterBlockOnHICANN:
        """The centre repeater block of its side."""
        return RepeaterBlockOnHICANN(self.value % 2, 1)

    def to_sending_repeater(self) -> SendingRepeaterOnHICANN:
        """The sending-repeater index of this repeater.

        Raises
        ------
        CoordinateError
            If this is not a sending repeater (line not ``8n + 6``).
        """
        if not self.is_sending:
            valid = "6, 14, 22, 30, 38, 46, 54, 62 (sending repeaters)"
            raise CoordinateError("HRepeaterOnHICANN", "value", self.value, valid)
        return SendingRepeaterOnHICANN((self.value - 6) // 8)


@attrs.frozen(repr=False)
class VRepeaterOnHICANN(_Scalar):
    """The vertical repeater of VLine ``value`` (0..255).

    halco: "On the left side of the HICANN even vertical lanes connect to
    bottom repeaters and odd lanes to top repeaters. On the right side even
    vertical lanes connect to top and odd to bottom repeaters."

    Our enum equals the VLine number (like ``HRepeaterOnHICANN``). halco's
    ``VRepeaterOnHICANN`` enum instead lists the 128 top repeaters first and
    then the 128 bottom ones.
    """

    size: ClassVar[int] = 256

    value: int = _ranged(0, 255)

    @property
    def side(self) -> str:
        """``"left"`` or ``"right"``, the side of its VLine."""
        return "left" if self.value < 128 else "right"

    @property
    def is_top(self) -> bool:
        """True if the repeater sits at the top edge (see class doc)."""
        odd = self.value % 2 == 1
        return odd if self.value < 128 else not odd

    @property
    def position(self) -> str:
        """``"top"`` or ``"bottom"`` edge."""
        return "top" if self.is_top else "bottom"

    def to_vline(self) -> VLineOnHICANN:
        """The line this repeater drives."""
        return VLineOnHICANN(self.value)

    def to_repeater_block(self) -> RepeaterBlockOnHICANN:
        """The top (y = 0) or bottom (y = 2) repeater block of its side."""
        return RepeaterBlockOnHICANN(int(self.value >= 128), 0 if self.is_top else 2)


@attrs.frozen(repr=False)
class RepeaterBlockOnHICANN(_Coordinate):
    """One of the 6 repeater blocks: ``x`` side (0 left, 1 right), ``y`` 0 top, 1 centre, 2 bottom.

    The enum is ``2 * y + x`` (halco; the old order top-left, top-right,
    centre-left, centre-right, bottom-left, bottom-right). Centre blocks hold
    the horizontal repeaters, top and bottom blocks the vertical ones.
    """

    size: ClassVar[int] = 6

    x: int = _ranged(0, 1)
    y: int = _ranged(0, 2)

    @property
    def enum(self) -> int:
        """``2 * y + x`` (0..5)."""
        return 2 * self.y + self.x

    @classmethod
    def _from_enum(cls, enum: int) -> RepeaterBlockOnHICANN:
        return cls(enum % 2, enum // 2)

    @property
    def side(self) -> str:
        """``"left"`` or ``"right"``."""
        return _SIDES[self.x]

    @property
    def position(self) -> str:
        """``"top"``, ``"center"`` or ``"bottom"``."""
        return ("top", "center", "bottom")[self.y]

    def hrepeaters(self) -> tuple[HRepeaterOnHICANN, ...]:
        """The 32 horizontal repeaters of a centre block (empty for top/bottom blocks)."""
        if self.y != 1:
            return ()
        return tuple(r for r in HRepeaterOnHICANN.all() if r.value % 2 == self.x)

    def vrepeaters(self) -> tuple[VRepeaterOnHICANN, ...]:
        """The 64 vertical repeaters of a top/bottom block (empty for centre blocks)."""
        if self.y == 1:
            return ()
        return tuple(r for r in VRepeaterOnHICANN.all() if r.to_repeater_block() == self)


@attrs.frozen(repr=False)
class CrossbarSwitchOnHICANN(_Coordinate):
    """A crossbar switch connecting an HLine to a VLine.

    Only 512 of the 64 x 256 crossings have a switch: each HLine reaches 4
    VLines per side (:meth:`HLineOnHICANN.crossbar_vlines`). The enum is
    ``8 * hline + vline // 32`` (halco ``CrossbarSwitchOnHICANN::to_enum``),
    i.e. per HLine the 4 left switches, then the 4 right ones.

    Parameters
    ----------
    hline : int or HLineOnHICANN
        0..63.
    vline : int or VLineOnHICANN
        0..255; must be one of the 8 VLines of ``hline``.
    """

    size: ClassVar[int] = 512

    hline: int = _ranged_or(HLineOnHICANN, 0, 63)
    vline: int = _ranged_or(VLineOnHICANN, 0, 255)

    def __attrs_post_init__(self) -> None:
        valid = [v.value for v in HLineOnHICANN(self.hline).crossbar_vlines()]
        if self.vline not in valid:
            text = ", ".join(map(str, valid))
            raise CoordinateError(
                "CrossbarSwitchOnHICANN", "vline", self.vline, f"{text} (for hline={self.hline})"
            )

    @property
    def enum(self) -> int:
        """``8 * hline + vline // 32`` (0..511)."""
        return 8 * self.hline + self.vline // 32

    @classmethod
    def _from_enum(cls, enum: int) -> CrossbarSwitchOnHICANN:
        hline, k = divmod(enum, 8)
        h = hline // 2
        vline = 31 - h + 32 * k if k < 4 else 128 + h + 32 * (k - 4)
        return cls(hline, vline)

    @property
    def side(self) -> str:
        """``"left"`` or ``"right"``, the crossbar half (side of the VLine)."""
        return "left" if self.vline < 128 else "right"

    def to_hline(self) -> HLineOnHICANN:
        """The HLine of this switch."""
        return HLineOnHICANN(self.hline)

    def to_vline(self) -> VLineOnHICANN:
        """The VLine of this switch."""
        return VLineOnHICANN(self.vline)


@attrs.frozen(repr=False)
class SynapseSwitchOnHICANN(_Coordinate):
    """A switch connecting a VLine to a synapse-driver switch row.

    7,168 switches = 224 switch rows x 32 (16 per side). Switch row ``r`` on
    one side feeds synapse-driver line ``r`` of that side, which is either a
    driver of this HICANN or, where the driver of line ``r`` sits on the other
    edge, the facing driver of the neighbouring HICANN (see
    :attr:`driver_location`). Each VLine reaches 14 rows of the top half
    (rows 0..111) and 14 of the bottom half (rows 112..223), see
    :meth:`VLineOnHICANN.synapse_switch_rows`; the pattern is halco's
    ``SynapseSwitchOnHICANN::exists``.

    The enum is ``32 * switch_row + 4 * (vline // 32) + vline % 4`` (halco
    ``to_enum``).

    Parameters
    ----------
    switch_row : int
        0..223.
    vline : int or VLineOnHICANN
        0..255; must reach ``switch_row``.
    """

    size: ClassVar[int] = 224 * 32

    switch_row: int = _ranged(0, 223)
    vline: int = _ranged_or(VLineOnHICANN, 0, 255)

    def __attrs_post_init__(self) -> None:
        if not _synapse_switch_exists(self.switch_row, self.vline):
            valid = [v for v in range(256) if _synapse_switch_exists(self.switch_row, v)]
            raise CoordinateError(
                "SynapseSwitchOnHICANN",
                "vline",
                self.vline,
                f"{_ranges_text(valid)} (for switch_row={self.switch_row})",
            )

    @property
    def enum(self) -> int:
        """``32 * switch_row + 4 * (vline // 32) + vline % 4`` (0..7167)."""
        return 32 * self.switch_row + 4 * (self.vline // 32) + self.vline % 4

    @classmethod
    def _from_enum(cls, enum: int) -> SynapseSwitchOnHICANN:
        # halco SynapseSwitchOnHICANN::to_x
        row, dense = divmod(enum, 32)
        x = (dense // 4) * 32 + dense % 4
        offset = ((row // 2) % 8) * 4
        if (dense < 16) ^ (row >= 112):
            return cls(row, x + offset)
        return cls(row, x + 28 - offset)

    @property
    def side(self) -> str:
        """``"left"`` or ``"right"``, the side of the VLine and switch row."""
        return "left" if self.vline < 128 else "right"

    @property
    def array(self) -> str:
        """``"top"`` (rows 0..111) or ``"bottom"`` (rows 112..223)."""
        return "top" if self.switch_row < 112 else "bottom"

    def to_vline(self) -> VLineOnHICANN:
        """The VLine of this switch."""
        return VLineOnHICANN(self.vline)

    def to_synapse_driver(self) -> SynapseDriverOnHICANN:
        """The driver of line ``switch_row``; may be on a neighbour, see :attr:`driver_location`."""
        return SynapseDriverOnHICANN(self.switch_row)

    @property
    def driver_location(self) -> str:
        """Where the fed driver is: ``"local"``, or ``"west"``/``"east"`` neighbour HICANN.

        halco ``SynapseSwitchRowOnWafer::toSynapseDriverOnWafer``: if the
        driver of this line is on the other edge, the left switch row feeds
        the (right-edge) driver of the western neighbour, the right switch
        row that of the eastern neighbour.
        """
        if SynapseDriverOnHICANN(self.switch_row).side == self.side:
            return "local"
        return "west" if self.side == "left" else "east"


@attrs.frozen(repr=False)
class SendingRepeaterOnHICANN(_Scalar):
    """A sending repeater 0..7, on HLine ``8n + 6`` (6, 14, ..., 62).

    DNC merger ``m`` drives sending repeater ``7 - m`` (halco l1.cpp), so
    sending repeater 0 (HLine 6) is fed by DNC merger 7.
    """

    size: ClassVar[int] = 8

    value: int = _ranged(0, 7)

    def to_hline(self) -> HLineOnHICANN:
        """HLine ``8n + 6``."""
        return HLineOnHICANN(8 * self.value + 6)

    def to_hrepeater(self) -> HRepeaterOnHICANN:
        """The horizontal repeater on that line (left border, lines are even)."""
        return HRepeaterOnHICANN(8 * self.value + 6)

    def to_repeater_block(self) -> RepeaterBlockOnHICANN:
        """The centre-left repeater block."""
        return RepeaterBlockOnHICANN(0, 1)

    def to_dnc_merger(self) -> DNCMergerOnHICANN:
        """DNC merger ``7 - n``."""
        return DNCMergerOnHICANN(7 - self.value)

    def to_gbit_link(self) -> GbitLinkOnHICANN:
        """Gbit link ``7 - n`` (equal to the DNC merger)."""
        return GbitLinkOnHICANN(7 - self.value)


_MERGER_COUNTS = (8, 4, 2, 1)
_MERGER_OFFSETS = (0, 8, 12, 14)


@attrs.frozen(repr=False)
class MergerOnHICANN(_Coordinate):
    """A merger of the neuron-event merger tree: 15 in 4 levels (8, 4, 2, 1).

    Level 0 is next to the neuron blocks (halco ``Merger0OnHICANN`` to
    ``Merger3OnHICANN``). The enum runs over the levels in order:
    ``offset(level) + index`` with offsets 0, 8, 12, 14.

    Parameters
    ----------
    level : int
        0..3.
    index : int
        ``0 .. 8 >> level - 1``.
    """

    size: ClassVar[int] = 15

    level: int = _ranged(0, 3)
    index: int = _ranged(0, 7)

    def __attrs_post_init__(self) -> None:
        count = _MERGER_COUNTS[self.level]
        if self.index >= count:
            raise CoordinateError(
                "MergerOnHICANN", "index", self.index, f"0..{count - 1} (for level={self.level})"
            )

    @property
    def enum(self) -> int:
        """``offset(level) + index`` (0..14)."""
        return _MERGER_OFFSETS[self.level] + self.index

    @classmethod
    def _from_enum(cls, enum: int) -> MergerOnHICANN:
        level = max(lv for lv, off in enumerate(_MERGER_OFFSETS) if off <= enum)
        return cls(level, enum - _MERGER_OFFSETS[level])


@attrs.frozen(repr=False)
class DNCMergerOnHICANN(_Scalar):
    """One of the 8 DNC mergers (0..7); merger ``m`` serves Gbit link ``m``."""

    size: ClassVar[int] = 8

    value: int = _ranged(0, 7)

    def to_sending_repeater(self) -> SendingRepeaterOnHICANN:
        """Sending repeater ``7 - m`` (halco l1.cpp)."""
        return SendingRepeaterOnHICANN(7 - self.value)

    def to_gbit_link(self) -> GbitLinkOnHICANN:
        """The Gbit link with the same index."""
        return GbitLinkOnHICANN(self.value)


@attrs.frozen(repr=False)
class GbitLinkOnHICANN(_Scalar):
    """One of the 8 Gbit links of a HICANN (0..7), equal to the DNC merger index."""

    size: ClassVar[int] = 8

    value: int = _ranged(0, 7)

    def to_dnc_merger(self) -> DNCMergerOnHICANN:
        """The DNC merger with the same index."""
        return DNCMergerOnHICANN(self.value)


@attrs.frozen(repr=False)
class BackgroundGeneratorOnHICANN(_Scalar):
    """One of the 8 background generators (0..7), one per neuron block."""

    size: ClassVar[int] = 8

    value: int = _ranged(0, 7)

    def to_neuron_block(self) -> NeuronBlockOnHICANN:
        """The neuron block with the same index."""
        return NeuronBlockOnHICANN(self.value)


@attrs.frozen(repr=False)
class AnalogOnHICANN(_Scalar):
    """One of the 2 analog outputs (0..1); shared by all HICANNs of a reticle."""

    size: ClassVar[int] = 2

    value: int = _ranged(0, 1)


@attrs.frozen(repr=False)
class L1Address(_Scalar):
    """A 6-bit L1 event address (0..63).

    The 2 most significant bits select the driver decoder, the 4 least
    significant the synapse decoder (halbe ``L1Address``).
    """

    size: ClassVar[int] = 64

    value: int = _ranged(0, 63)

    @property
    def driver_decoder(self) -> int:
        """Bits 5..4 (0..3), matched by the synapse row's driver decoder."""
        return self.value >> 4

    @property
    def synapse_decoder(self) -> int:
        """Bits 3..0 (0..15), matched by each synapse's decoder."""
        return self.value & 0xF

    @classmethod
    def from_decoders(cls, driver: int, synapse: int) -> L1Address:
        """Build from a 2-bit driver and a 4-bit synapse decoder value.

        Raises
        ------
        CoordinateError
            ``L1Address.driver_decoder`` / ``L1Address.synapse_decoder`` if a
            part is not in 0..3 / 0..15.
        """
        driver = _check_index("L1Address", "driver_decoder", driver, 0, 3)
        synapse = _check_index("L1Address", "synapse_decoder", synapse, 0, 15)
        return cls((driver << 4) | synapse)


from hal.coordinates.input import InputAddress  # noqa: E402  (needs HICANNOnWafer above)
