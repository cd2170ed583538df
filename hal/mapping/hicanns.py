"""Sets of HICANNs a mapping may use (:attr:`MappingOptions.hicanns`): the whole wafer, a rectangle, reticles.

The compact placement takes HICANNs in the order given, so the order is part of the set:
:func:`wafer_order` starts with the 12 HICANNs of the default chain (row 7, x 12..23) --
a network that fits them maps exactly as with the default options -- and goes on along row
7, then to the rows outward from it (8, 6, 9, 5, ...), each west to east. A rectangle and
reticles are ordered row by row, west to east.
"""

from __future__ import annotations

from collections.abc import Iterable

from hal import coordinates as C
from hal.errors import ConfigError, CoordinateError

__all__ = ["DEFAULT_CHAIN", "wafer_order", "rectangle", "on_reticles", "GRID_X", "GRID_Y"]

#: The default of :attr:`MappingOptions.hicanns`: row 7, x 12..23.
DEFAULT_CHAIN = tuple(C.HICANNOnWafer.from_xy(x, 7) for x in range(12, 24))
#: Grid columns and rows of the wafer (not every cell holds a HICANN: the wafer is round).
GRID_X = (0, 35)
GRID_Y = (0, 15)


def _row_major(hicanns: Iterable[C.HICANNOnWafer]) -> tuple[C.HICANNOnWafer, ...]:
    return tuple(sorted(set(hicanns), key=lambda h: (h.y, h.x)))


def wafer_order() -> tuple[C.HICANNOnWafer, ...]:
    """All 384 HICANNs: the default chain first, then the rest of row 7 eastward and westward, then rows outward."""
    rows: dict[int, list] = {}
    for h in C.HICANNOnWafer.all():
        rows.setdefault(h.y, []).append(h)
    first = set(DEFAULT_CHAIN)
    row7 = sorted(rows[7], key=lambda h: h.x)
    order = list(DEFAULT_CHAIN) + [h for h in row7 if h.x > DEFAULT_CHAIN[-1].x] + [h for h in row7 if h not in first and h.x < DEFAULT_CHAIN[0].x]
    for d in range(1, 16):
        for y in (7 + d, 7 - d):
            order.extend(sorted(rows.get(y, ()), key=lambda h: h.x))
    return tuple(order)


def rectangle(x0: int, y0: int, x1: int, y1: int) -> tuple[C.HICANNOnWafer, ...]:
    """The HICANNs with ``x0 <= x <= x1`` and ``y0 <= y <= y1`` (grid cells without a HICANN are left out)."""
    for name, value, (lo, hi) in (("x0", x0, GRID_X), ("x1", x1, GRID_X), ("y0", y0, GRID_Y), ("y1", y1, GRID_Y)):
        if not lo <= value <= hi:
            raise CoordinateError("HICANN rectangle", name, value, f"{lo}..{hi}")
    if x1 < x0 or y1 < y0:
        raise ConfigError(f"HICANN rectangle x {x0}..{x1}, y {y0}..{y1}: empty; valid x0 <= x1 and y0 <= y1")
    found = _row_major(h for h in C.HICANNOnWafer.all() if x0 <= h.x <= x1 and y0 <= h.y <= y1)
    if not found:
        raise ConfigError(f"HICANN rectangle x {x0}..{x1}, y {y0}..{y1}: no HICANN there (the wafer is round); "
                          f"valid: a rectangle that meets the wafer, e.g. rows 6..9 span x 0..35, rows 0..1 x 12..23")
    return found


def on_reticles(reticles: Iterable[int]) -> tuple[C.HICANNOnWafer, ...]:
    """The 8 HICANNs of each reticle (:class:`~hal.coordinates.DNCOnWafer` enum 0..47), row by row."""
    out = []
    for r in reticles:
        if not 0 <= r < C.DNCOnWafer.size:
            raise CoordinateError("ReticleOnWafer", "enum", r, f"0..{C.DNCOnWafer.size - 1}")
        out.extend(C.DNCOnWafer.all()[r].hicanns())
    return _row_major(out)
