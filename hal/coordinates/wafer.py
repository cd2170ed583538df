"""Wafer-level coordinates: the wafer, its reticles (DNCs), HICANNs, highspeed links and FPGAs."""

from __future__ import annotations

from typing import ClassVar

import attrs

from hal.coordinates._base import (
    _DNC_ENUM,
    _DNC_ROWS,
    _DNC_TO_FPGA,
    _DNC_XY,
    _FPGA_TO_DNC,
    _HICANN_ENUM,
    _HICANN_ROWS,
    _HICANN_XY,
    _MASTER_FPGA,
    _check_index,
    _Coordinate,
    _ranged,
    _Scalar,
)
from hal.errors import CoordinateError

__all__ = [
    "Wafer",
    "DNCOnWafer",
    "ReticleOnWafer",
    "HICANNOnWafer",
    "HICANNOnDNC",
    "HighspeedLinkOnDNC",
    "FPGAOnWafer",
]


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
