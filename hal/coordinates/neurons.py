"""Neuron and floating-gate coordinates: denmems, quads, neuron blocks, FG blocks, rows and cells.

Also :class:`BackgroundGeneratorOnHICANN` (one per neuron block, each converts
into the other) and :class:`SynapseColumnOnHICANN` (one per neuron column,
returned by :meth:`NeuronOnHICANN.to_synapse_column`). Both are defined here so
that the modules import in one direction only (``l1`` -> ``neurons`` ->
``synapses``); :mod:`hal.coordinates.synapses` re-exports the synapse column.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from hal.coordinates._base import _HALVES, _SIDES, _Coordinate, _ranged, _Scalar

__all__ = [
    "NeuronOnHICANN",
    "QuadOnHICANN",
    "NeuronBlockOnHICANN",
    "FGBlockOnHICANN",
    "FGRowOnFGBlock",
    "FGCellOnFGBlock",
    "BackgroundGeneratorOnHICANN",
    "SynapseColumnOnHICANN",
]


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


@attrs.frozen(repr=False)
class BackgroundGeneratorOnHICANN(_Scalar):
    """One of the 8 background generators (0..7), one per neuron block."""

    size: ClassVar[int] = 8

    value: int = _ranged(0, 7)

    def to_neuron_block(self) -> NeuronBlockOnHICANN:
        """The neuron block with the same index."""
        return NeuronBlockOnHICANN(self.value)


@attrs.frozen(repr=False)
class SynapseColumnOnHICANN(_Scalar):
    """A synapse column 0..255 (one per neuron column)."""

    size: ClassVar[int] = 256

    value: int = _ranged(0, 255)
