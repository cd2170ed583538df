"""Synapse coordinates: drivers, rows, columns, synapses, synaptic inputs and the VLine -> driver switches.

Imports :mod:`hal.coordinates.l1` (a driver's sending repeater, the switches'
VLines) and :mod:`hal.coordinates.neurons` (the denmem a synapse feeds, and
:class:`SynapseColumnOnHICANN`, which is defined there and re-exported here).
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from hal.coordinates._base import (
    _SIDES,
    _Coordinate,
    _ranged,
    _ranged_or,
    _ranges_text,
    _Scalar,
)
from hal.coordinates.l1 import (
    SendingRepeaterOnHICANN,
    VLineOnHICANN,
    _synapse_switch_exists,
)
from hal.coordinates.neurons import NeuronOnHICANN, SynapseColumnOnHICANN
from hal.errors import CoordinateError

__all__ = [
    "SynapseDriverOnHICANN",
    "SynapseRowOnHICANN",
    "SynapseColumnOnHICANN",
    "SynapseOnHICANN",
    "SynapticInputOnNeuron",
    "SynapseSwitchOnHICANN",
]


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
