"""Which DNC merger each neuron block sends through: one of its own, or one shared through the merger tree.

Without :attr:`~hal.mapping.options.MappingOptions.merge_blocks`, block ``j`` sends through DNC
merger ``j`` (one bus per block, 16 of its 64 addresses used by 4-circuit neurons). With it, the
blocks of a HICANN share DNC mergers in the groups the tree offers (halbe's presets,
``hal/HICANN/MergerTree.cpp``, :mod:`hal.hardware.recipes` for the topology), coarsest first:

* all eight blocks onto DNC merger 3;
* else blocks 0-3 onto DNC merger 3 and blocks 4-7 onto DNC merger 5, each half on its own;
* else pairs: 0-1 onto 1, 2-3 onto 3, 4-5 onto 5, 6-7 onto 6;
* else each block onto its own.

A group is taken when its neurons fit the channel's 63 addresses (address 0 is the background's),
their summed expected rate -- ``source_rate_hz`` per neuron, the mapper's only rate estimate --
fits the link budget (``input_budget_hz``: 80 % of a HICANN link's 17.8 MHz, the capacity of the
FPGA link model, through which every recorded spike of the HICANN passes), and the channel's
sending line and repeater are not on the defect list. A region with one used block keeps that
block's own channel, so that a HICANN with scattered blocks maps as without merging. The DNC
mergers a group does not use carry FPGA input or nothing: the freed sending lines are free for
other buses.
"""

from __future__ import annotations

import functools
from collections import Counter
from typing import TYPE_CHECKING

from hal.mapping.state import ADDRESSES, sending_line_broken

if TYPE_CHECKING:
    from hal.mapping.state import ChipState, MappingState

__all__ = ["assign_channels", "merge_groups"]

#: Regions of the tree, coarsest first: (channel, blocks, the regions it splits into).
_PAIRS = ((1, (0, 1)), (3, (2, 3)), (5, (4, 5)), (6, (6, 7)))
_HALVES = ((3, (0, 1, 2, 3), _PAIRS[:2]), (5, (4, 5, 6, 7), _PAIRS[2:]))


def merge_groups(counts: dict[int, int], fits) -> dict[int, tuple[int, ...]]:
    """Channel -> the used blocks it carries, for ``counts`` (block -> neurons placed, > 0 for a used block).

    ``fits(channel, neurons)`` says whether ``neurons`` may share DNC merger ``channel``.
    """
    used = {b for b, n in counts.items() if n > 0}

    def take(channel: int, blocks: tuple[int, ...]) -> dict[int, tuple[int, ...]] | None:
        group = tuple(b for b in blocks if b in used)
        if len(group) <= 1:
            return {group[0]: group} if group else {}
        return {channel: group} if fits(channel, sum(counts[b] for b in group)) else None

    def pair(channel: int, blocks: tuple[int, ...]) -> dict[int, tuple[int, ...]]:
        return take(channel, blocks) or {b: (b,) for b in blocks if b in used}

    def half(channel: int, blocks: tuple[int, ...], pairs) -> dict[int, tuple[int, ...]]:
        found = take(channel, blocks)
        if found is not None:
            return found
        out: dict[int, tuple[int, ...]] = {}
        for c, p in pairs:
            out.update(pair(c, p))
        return out

    whole = take(3, tuple(range(8)))
    if whole is not None:
        return whole
    out: dict[int, tuple[int, ...]] = {}
    for channel, blocks, pairs in _HALVES:
        out.update(half(channel, blocks, pairs))
    return out


def assign_channels(state: MappingState) -> None:
    """Set ``channel_of`` (neuron block -> DNC merger) of every HICANN with neurons (see the module docstring)."""
    counts: dict = {}
    for placed in state.placement.values():
        for h, denmems in placed:
            counts.setdefault(h, Counter())[denmems[0].x // 32] += 1
    options = state.options
    for h, per_block in counts.items():
        chip: ChipState = state.chips[h]
        if not options.merge_blocks:
            chip.channel_of = {b: b for b in per_block}
            continue
        fits = functools.partial(_fits, options, h.enum)
        chip.channel_of = {b: channel for channel, group in merge_groups(dict(per_block), fits).items() for b in group}


def _fits(options, hicann: int, channel: int, neurons: int) -> bool:
    """Whether ``neurons`` may share DNC merger ``channel`` of HICANN ``hicann`` (enum): addresses, link budget, sending line."""
    return (neurons <= len(ADDRESSES) and neurons * options.source_rate_hz <= options.input_budget_hz
            and not sending_line_broken(hicann, channel, options))
