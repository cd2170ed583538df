"""Hardware recipes: the register settings that several parts of hal need for one hardware step.

Each recipe takes typed coordinates and writes registers of a :class:`HICANNConfig` (or, for
the FPGA link, a :class:`WaferConfig`); it decides nothing else. The mapper, the calibration
harness and the benchmark build their configurations from these, so that one hardware fact is
written down once.

* :func:`configure_channel` -- the way of events from neuron blocks, background generators or
  the FPGA through DNC merger ``j`` and Gbit channel ``j`` onto the sending repeater's L1 line;
  neuron blocks go through the merger tree (:data:`DNC_TREE_INPUT`, :func:`tree_modes`), several
  of them onto one channel where the tree allows it.
* :func:`feed_driver` -- an L1 line onto a synapse driver: crossbar switch (from a horizontal
  line), synapse switch, driver enabled with local input; :func:`feed_drivers` does the same for
  many drivers of one chip with one write per register.
* :func:`enable_highspeed_link` -- the FPGA's high-speed link to a HICANN.

Sources: HARDWARE_FACTS.md, section 5 (merger tree, DNC mergers, sending repeaters), and
marocco ``routing/Configuration.cpp`` for the modes.

The merger tree (halco ``Merger0OnHICANN`` .. ``Merger3OnHICANN``, ``inputs()``): level-0 merger
``i`` has background generator ``i`` on its left input and neuron block ``i`` on its right; merger
``(l, i)`` of level ``l >= 1`` has ``(l - 1, 2i)`` on its left and ``(l - 1, 2i + 1)`` on its right.
DNC merger ``j`` takes the tree from the output of :data:`DNC_TREE_INPUT` ``[j]`` (marocco
``placement/MergerTreeGraph.cpp``; the ESS's ``spl1_merger.cpp`` wires the same in the HICANN
document's mirrored numbering). A merger's output feeds its parent and, where it is one of
these, its DNC merger. halbe's presets (``hal/HICANN/MergerTree.cpp``) agree: its one-on-one
tree sends block ``j`` to DNC merger ``j``, and its eight-on-one tree all blocks to DNC merger 3.

Not modelled here, or not as halbe has it: the ``slow`` bits are not written (marocco sets them on
a DNC merger that merges; the reading has no timing model of the tree); hal's DNC merger has the
tree on its *left* input and the Gbit channel on its right, where marocco's graph and the ESS put
the tree on the right -- a naming of hal's register model, kept so that existing configurations
read as before.
"""

from __future__ import annotations

import enum
import functools

import numpy as np

from hal import coordinates as C
from hal.errors import ConfigError
from hal.hardware.hicann import GbitDirection, HICANNConfig, MergerMode, RepeaterMode
from hal.hardware.wafer import WaferConfig

__all__ = ["DNC_TREE_INPUT", "ChannelSource", "configure_channel", "enable_highspeed_link", "feed_driver", "feed_drivers",
           "tree_blocks",
           "tree_modes"]

#: The merger whose output is DNC merger ``j``'s tree input, as (level, index) (marocco MergerTreeGraph.cpp).
DNC_TREE_INPUT = ((0, 0), (1, 0), (0, 2), (3, 0), (0, 4), (2, 1), (1, 3), (0, 7))


class ChannelSource(enum.Enum):
    """What feeds DNC merger ``j`` (and through it sending repeater ``j``).

    Level-0 merger ``j`` has background generator ``j`` on its left input and neuron block
    ``j`` on its right; DNC merger ``j`` takes the merger tree on its left input and the
    FPGA's Gbit channel ``j`` on its right.
    """

    #: Neuron block ``j`` alone (level-0 merger RIGHT_ONLY, DNC merger LEFT_ONLY).
    NEURON_BLOCK = "neuron_block"
    #: Background generator ``j`` alone (level-0 merger LEFT_ONLY, DNC merger LEFT_ONLY).
    BACKGROUND = "background"
    #: Background generator ``j`` and neuron block ``j`` merged (level-0 merger MERGE, DNC merger LEFT_ONLY).
    NEURON_BLOCK_AND_BACKGROUND = "neuron_block_and_background"
    #: Events played back by the FPGA on Gbit channel ``j`` (DNC merger RIGHT_ONLY, channel towards the HICANN).
    FPGA = "fpga"


_LEVEL0_MODE = {
    ChannelSource.NEURON_BLOCK: MergerMode.RIGHT_ONLY,
    ChannelSource.BACKGROUND: MergerMode.LEFT_ONLY,
    ChannelSource.NEURON_BLOCK_AND_BACKGROUND: MergerMode.MERGE,
}


def tree_blocks(channel: int) -> range:
    """The neuron blocks whose events the merger tree can bring to DNC merger ``channel``: those under its tree input."""
    level, index = DNC_TREE_INPUT[channel]
    return range(index << level, (index + 1) << level)


def tree_modes(channel: int, blocks) -> dict[C.MergerOnHICANN, MergerMode]:
    """The modes of the mergers of levels 1..3 that take ``blocks`` (and nothing else) to DNC merger ``channel``.

    Each merger on the way from a block to the channel's tree input passes the side that holds
    blocks of the group (LEFT_ONLY, RIGHT_ONLY) or both (MERGE). ``blocks`` must lie under the
    channel's tree input (:func:`tree_blocks`); level-0 mergers are not included.
    """
    top_level = DNC_TREE_INPUT[channel][0]
    modes = {}
    for level in range(1, top_level + 1):
        for index in {b >> level for b in blocks}:
            left = any((b >> (level - 1)) == 2 * index for b in blocks)
            right = any((b >> (level - 1)) == 2 * index + 1 for b in blocks)
            modes[C.MergerOnHICANN(level, index)] = (MergerMode.MERGE if left and right
                                                     else MergerMode.LEFT_ONLY if left else MergerMode.RIGHT_ONLY)
    return modes


def _check_blocks(channel: C.DNCMergerOnHICANN, blocks) -> tuple[int, ...]:
    reach = tree_blocks(channel.value)
    span = f"{reach.start}" if len(reach) == 1 else f"{reach.start}..{reach.stop - 1}"
    try:
        group = tuple(sorted({int(b) for b in blocks}))
    except (TypeError, ValueError):
        raise ConfigError(f"configure_channel: blocks {blocks!r} are not neuron block numbers; valid for {channel!r}: "
                          f"a non-empty subset of blocks {span}") from None
    if not group or any(b not in reach for b in group):
        raise ConfigError(f"configure_channel: neuron blocks {list(group)} cannot reach {channel!r} through the merger tree; "
                          f"valid: a non-empty subset of blocks {span}")
    return group


def configure_channel(chip: HICANNConfig, channel: C.DNCMergerOnHICANN, source: ChannelSource, *,
                      record: bool, blocks=None) -> C.HLineOnHICANN:
    """Route ``source`` through DNC merger ``channel`` onto its sending repeater's L1 line.

    Writes the level-0 mergers of ``blocks`` (default: the block of the channel's index) and the
    mergers of levels 1..3 on their way to the channel (:func:`tree_modes`; not for
    :attr:`ChannelSource.FPGA`), the DNC merger, Gbit channel ``channel`` and the sending repeater
    (mode OUTPUT). ``record`` sends the merger's events to the FPGA as well (Gbit channel towards
    the DNC); with the FPGA as the source the channel points towards the HICANN and ``record``
    must be False. Returns the horizontal line the sending repeater drives.

    Several blocks on one channel share its 64 addresses: the caller gives their neurons distinct
    addresses. Mergers of levels 1..3 are shared between channels: a later call for another
    channel whose way crosses this one's rewrites them (:func:`tree_blocks` says which blocks
    each channel's way collects).

    Raises
    ------
    ConfigError
        ``source`` is not a :class:`ChannelSource`, ``record`` is asked of an FPGA channel, or
        ``blocks`` cannot reach ``channel`` through the tree.
    """
    if not isinstance(channel, C.DNCMergerOnHICANN):
        raise ConfigError(f"configure_channel: channel {channel!r} is not a DNCMergerOnHICANN; valid DNCMergerOnHICANN(0..7)")
    if not isinstance(source, ChannelSource):
        known = ", ".join(s.name for s in ChannelSource)
        raise ConfigError(f"configure_channel: source {source!r} unknown; known: {known}")
    j = channel.value
    if source is ChannelSource.FPGA:
        if blocks is not None:
            raise ConfigError(f"configure_channel: {channel!r} carries FPGA input; blocks={blocks!r} not valid (valid: None)")
        if record:
            raise ConfigError(f"configure_channel: {channel!r} carries FPGA input (Gbit channel {j} towards the HICANN); "
                              f"it cannot also record (valid: record=False)")
        chip.gbit_links.update(j, direction=GbitDirection.TO_HICANN)
        chip.dnc_mergers.update(j, mode=MergerMode.RIGHT_ONLY)
    else:
        group = _check_blocks(channel, (j,) if blocks is None else blocks)
        for b in group:
            chip.mergers.update(b, mode=_LEVEL0_MODE[source])
        for merger, mode in tree_modes(j, group).items():
            chip.mergers.update(merger.enum, mode=mode)
        chip.dnc_mergers.update(j, mode=MergerMode.LEFT_ONLY)
        chip.gbit_links.update(j, direction=GbitDirection.TO_DNC if record else GbitDirection.OFF)
    sending = channel.to_sending_repeater()
    chip.h_repeaters.update(sending.to_hrepeater(), mode=RepeaterMode.OUTPUT)
    return sending.to_hline()


def feed_driver(chip: HICANNConfig, driver: C.SynapseDriverOnHICANN, vline: C.VLineOnHICANN, *,
                hline: C.HLineOnHICANN | None = None) -> None:
    """Feed synapse ``driver`` from vertical line ``vline`` (joined to ``hline`` first, if given).

    Closes the crossbar switch (``hline``, ``vline``) when ``hline`` is given, the synapse
    switch (``driver``, ``vline``), and enables the driver with local input (``locin``).
    An invalid pair raises :class:`~hal.errors.CoordinateError` from the switch coordinates.
    """
    if hline is not None:
        chip.set_crossbar_switch(C.CrossbarSwitchOnHICANN(hline=hline.value, vline=vline.value), True)
    chip.set_synapse_switch(C.SynapseSwitchOnHICANN(switch_row=driver.value, vline=vline.value), True)
    chip.synapse_drivers.update(driver.value, enable=True, locin=True)


def feed_drivers(chip: HICANNConfig, feeds) -> None:
    """:func:`feed_driver` for each (driver, vline, hline or None) of ``feeds``, one write per register.

    The registers end as after calling :func:`feed_driver` for each in turn; a mapped wafer has
    ~10^5 of them, and each single write unpacks and packs a whole switch register.
    """
    crossbar, synapse, drivers = [], [], []
    for driver, vline, hline in feeds:
        if hline is not None:
            crossbar.append(_crossbar_bit(hline.value, vline.value))
        synapse.append(_synapse_bit(driver.value, vline.value))
        drivers.append(driver.value)
    for pairs, write in ((crossbar, chip.set_crossbar_switches), (synapse, chip.set_synapse_switches)):
        if pairs:
            rows, bits = zip(*pairs)
            write(1, index=(np.array(rows), np.array(bits)))
    if drivers:
        chip.synapse_drivers.set_column("enable", True, index=drivers)
        chip.synapse_drivers.set_column("locin", True, index=drivers)


# Cached: a wafer's mapping asks for the same few thousand switches ~10^5 times. An invalid pair
# raises CoordinateError each time (functools.cache keeps no exceptions).
@functools.cache
def _crossbar_bit(hline: int, vline: int) -> tuple[int, int]:
    """(row, bit) of crossbar switch (hline, vline) in :attr:`HICANNConfig.crossbar_switches`."""
    return divmod(C.CrossbarSwitchOnHICANN(hline=hline, vline=vline).enum, 8)


@functools.cache
def _synapse_bit(switch_row: int, vline: int) -> tuple[int, int]:
    """(row, bit) of synapse switch (switch_row, vline) in :attr:`HICANNConfig.synapse_switches`."""
    return divmod(C.SynapseSwitchOnHICANN(switch_row=switch_row, vline=vline).enum, 32)


def enable_highspeed_link(config: WaferConfig, hicann: C.HICANNOnWafer) -> None:
    """Enable the high-speed link of ``hicann``'s FPGA that serves it (input playback and spike recording)."""
    config.fpga(hicann.to_fpga()).links.update(hicann.to_highspeed_link(), enable=True)
