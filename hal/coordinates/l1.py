"""L1 routing coordinates: bus lines, repeaters, crossbar switches, the merger tree and links.

Also the 6-bit :class:`L1Address` and the analog outputs. The switches from
VLines onto the synapse drivers (:class:`~hal.coordinates.SynapseSwitchOnHICANN`)
live in :mod:`hal.coordinates.synapses`, next to the drivers they feed; their
connectivity pattern (``_synapse_switch_rows``/``_synapse_switch_exists``) is
defined here because :meth:`VLineOnHICANN.synapse_switch_rows` needs it.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from hal.coordinates._base import (
    _SIDES,
    _check_index,
    _Coordinate,
    _ranged,
    _ranged_or,
    _Scalar,
)
from hal.errors import CoordinateError

__all__ = [
    "HLineOnHICANN",
    "VLineOnHICANN",
    "HRepeaterOnHICANN",
    "VRepeaterOnHICANN",
    "RepeaterBlockOnHICANN",
    "CrossbarSwitchOnHICANN",
    "SendingRepeaterOnHICANN",
    "MergerOnHICANN",
    "DNCMergerOnHICANN",
    "GbitLinkOnHICANN",
    "AnalogOnHICANN",
    "L1Address",
]


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
