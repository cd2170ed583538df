"""Reading the merger tree: which neuron blocks and background generators reach each DNC merger.

The tree is the one :mod:`hal.hardware.recipes` writes (halco/marocco topology, see there):
level-0 merger ``i`` selects background generator ``i`` (left), neuron block ``i`` (right) or
both; merger ``(l, i)`` selects ``(l - 1, 2i)`` (left), ``(l - 1, 2i + 1)`` (right) or both; DNC
merger ``j``'s tree input is the output of ``DNC_TREE_INPUT[j]``. A merger's output feeds its
parent and, for the mergers named in ``DNC_TREE_INPUT``, a DNC merger too, so one block's events
can arrive at several DNC mergers (each that passes its tree input sends them on).

This is the tree's routing only: the ``slow`` bits and the mergers' arbitration (an event that
meets another waits a clock) are not modelled; where rates matter, the link model's capacity
applies per channel (:mod:`hal.mapping.merger` keeps merged channels within it).
"""

from __future__ import annotations

from collections.abc import Sequence

from hal.hardware.hicann import MergerMode
from hal.hardware.recipes import DNC_TREE_INPUT

__all__ = ["TreeInput", "tree_inputs"]

#: What reaches one DNC merger's tree input: (neuron blocks, background generators), ascending.
TreeInput = tuple[tuple[int, ...], tuple[int, ...]]

_OFFSETS = (0, 8, 12, 14)  # MergerOnHICANN enum of (level, 0)
_LEFT = (MergerMode.LEFT_ONLY, MergerMode.MERGE)
_RIGHT = (MergerMode.RIGHT_ONLY, MergerMode.MERGE)


def tree_inputs(modes: Sequence[int]) -> tuple[TreeInput, ...]:
    """Per DNC merger 0..7: the neuron blocks and background generators its tree input carries.

    ``modes`` are the 15 merger modes in :class:`~hal.coordinates.MergerOnHICANN` enum order
    (``HICANNConfig.mergers.column("mode")``).
    """
    # Level 0: (blocks, generators) each merger passes on.
    out = {}
    for i in range(8):
        mode = modes[i]
        out[(0, i)] = (frozenset((i,)) if mode in _RIGHT else frozenset(), frozenset((i,)) if mode in _LEFT else frozenset())
    for level in (1, 2, 3):
        for i in range(8 >> level):
            mode = modes[_OFFSETS[level] + i]
            left, right = out[(level - 1, 2 * i)], out[(level - 1, 2 * i + 1)]
            parts = ([left] if mode in _LEFT else []) + ([right] if mode in _RIGHT else [])
            out[(level, i)] = (frozenset().union(*(p[0] for p in parts)), frozenset().union(*(p[1] for p in parts)))
    return tuple((tuple(sorted(out[node][0])), tuple(sorted(out[node][1]))) for node in DNC_TREE_INPUT)
