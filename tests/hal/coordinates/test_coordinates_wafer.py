"""Tests for hal.coordinates.wafer: the ragged HICANN and reticle grids, FPGAs, links and neighbours.

Expected numbers come from /work/shared/HARDWARE_FACTS.md section 1 and halco's lookup tables.
"""

from __future__ import annotations

import collections

import pytest

from hal.coordinates import (
    DNCOnWafer,
    FPGAOnWafer,
    HICANNOnDNC,
    HICANNOnWafer,
    HighspeedLinkOnDNC,
    ReticleOnWafer,
)
from hal.errors import CoordinateError

# ---------------------------------------------------------------------------
# Wafer layout, reticles, FPGAs
# ---------------------------------------------------------------------------

HICANN_ROWS = {
    0: (12, 23), 1: (12, 23), 2: (8, 27), 3: (8, 27), 4: (4, 31), 5: (4, 31),
    6: (0, 35), 7: (0, 35), 8: (0, 35), 9: (0, 35), 10: (4, 31), 11: (4, 31),
    12: (8, 27), 13: (8, 27), 14: (12, 23), 15: (12, 23),
}  # fmt: skip
FIRST_ENUM_OF_ROW = {0: 0, 1: 12, 2: 24, 3: 44, 4: 64, 5: 92, 6: 120, 7: 156, 8: 192,
                     9: 228, 10: 264, 11: 292, 12: 320, 13: 340, 14: 360, 15: 372}  # fmt: skip


def test_hicann_layout_per_row():
    by_row = collections.defaultdict(list)
    for h in HICANNOnWafer.all():
        by_row[h.y].append(h)
    assert sorted(by_row) == list(range(16))
    for y, (lo, hi) in HICANN_ROWS.items():
        row = by_row[y]
        assert [h.x for h in row] == list(range(lo, hi + 1))
        assert row[0].enum == FIRST_ENUM_OF_ROW[y]
        assert HICANNOnWafer.from_xy(lo, y) == row[0]
        for bad_x in (lo - 1, hi + 1):
            with pytest.raises(CoordinateError):
                HICANNOnWafer.from_xy(bad_x, y)
    for h in HICANNOnWafer.all():
        assert HICANNOnWafer.from_xy(h.x, h.y) == h


def test_reticle_layout_per_row():
    assert ReticleOnWafer is DNCOnWafer
    counts = collections.Counter(d.y for d in DNCOnWafer.all())
    assert [counts[y] for y in range(8)] == [3, 5, 7, 9, 9, 7, 5, 3]
    assert DNCOnWafer.from_enum(0) == DNCOnWafer(3, 0)
    assert DNCOnWafer.from_enum(47) == DNCOnWafer(5, 7)
    assert [d.x for d in DNCOnWafer.all() if d.y == 1] == [2, 3, 4, 5, 6]
    assert [d.x for d in DNCOnWafer.all() if d.y == 5] == [1, 2, 3, 4, 5, 6, 7]


def test_dnc_fpga_table_is_a_permutation_with_known_examples():
    fpgas = [d.to_fpga().value for d in DNCOnWafer.all()]
    assert sorted(fpgas) == list(range(48))
    assert DNCOnWafer(3, 0).to_fpga() == FPGAOnWafer(12)
    assert FPGAOnWafer(0).to_dnc() == DNCOnWafer(6, 3)
    assert FPGAOnWafer(47).to_reticle() == DNCOnWafer(6, 4)
    for f in FPGAOnWafer.all():
        assert f.to_dnc().to_fpga() == f


def test_master_fpga():
    assert FPGAOnWafer.MASTER == FPGAOnWafer(12)
    assert [f.value for f in FPGAOnWafer.all() if f.is_master] == [12]


def test_every_fpga_serves_eight_hicanns_and_all_are_covered_once():
    seen = collections.Counter()
    for f in FPGAOnWafer.all():
        hicanns = f.hicanns()
        assert len(hicanns) == 8
        assert all(h.to_fpga() == f for h in hicanns)
        seen.update(hicanns)
    assert set(seen) == set(HICANNOnWafer.all())
    assert set(seen.values()) == {1}


def _xy_block(hicanns):
    return sorted({h.x for h in hicanns}), sorted({h.y for h in hicanns})


def test_fpga_examples_from_the_facts_sheet():
    assert _xy_block(FPGAOnWafer(0).hicanns()) == ([24, 25, 26, 27], [6, 7])
    fpga = DNCOnWafer(3, 0).to_fpga()
    assert fpga == FPGAOnWafer(12)
    assert _xy_block(fpga.hicanns()) == ([12, 13, 14, 15], [0, 1])


def test_hicann_dnc_consistency():
    for h in HICANNOnWafer.all():
        dnc, on_dnc = h.to_dnc(), h.to_hicann_on_dnc()
        assert h.to_reticle() == dnc == DNCOnWafer(h.x // 4, h.y // 2)
        assert on_dnc == HICANNOnDNC(h.x % 4, h.y % 2)
        assert on_dnc.to_hicann_on_wafer(dnc) == h
        assert h.to_highspeed_link() == HighspeedLinkOnDNC(2 * on_dnc.x + on_dnc.y)
        assert h.to_fpga() == dnc.to_fpga()
    for d in DNCOnWafer.all():
        hicanns = d.hicanns()
        assert [h.to_hicann_on_dnc() for h in hicanns] == list(HICANNOnDNC.all())
        assert [h.to_highspeed_link().value for h in hicanns] == list(range(8))


def test_hicann_on_dnc_enum_is_the_link_number():
    for link in HighspeedLinkOnDNC.all():
        on_dnc = link.to_hicann_on_dnc()
        assert on_dnc.enum == link.value
        assert on_dnc.to_highspeed_link() == link
    assert HICANNOnDNC(1, 1).enum == 3


def test_neighbours():
    h = HICANNOnWafer.from_xy(12, 0)
    assert h.north() is None and h.west() is None
    assert h.east() == HICANNOnWafer.from_xy(13, 0)
    assert h.south() == HICANNOnWafer.from_xy(12, 1)
    assert HICANNOnWafer.from_xy(35, 9).east() is None
    assert HICANNOnWafer.from_xy(0, 6).north() is None  # row 5 starts at x 4
    n_with = collections.Counter()
    for h in HICANNOnWafer.all():
        for go, back, name in (("east", "west", "e"), ("west", "east", "w"),
                               ("north", "south", "n"), ("south", "north", "s")):  # fmt: skip
            other = getattr(h, go)()
            if other is not None:
                n_with[name] += 1
                assert getattr(other, back)() == h
                assert abs(other.x - h.x) + abs(other.y - h.y) == 1
    # horizontal links: 384 HICANNs - 16 row ends; vertical: the overlap of
    # each pair of adjacent rows is the narrower row (rows are nested)
    widths = [hi - lo + 1 for lo, hi in HICANN_ROWS.values()]
    assert n_with["e"] == n_with["w"] == 384 - 16
    assert n_with["n"] == n_with["s"] == sum(min(a, b) for a, b in zip(widths, widths[1:])) == 348
