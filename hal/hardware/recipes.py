"""Hardware recipes: the register settings that several parts of hal need for one hardware step.

Each recipe takes typed coordinates and writes registers of a :class:`HICANNConfig` (or, for
the FPGA link, a :class:`WaferConfig`); it decides nothing else. The mapper, the calibration
harness and the benchmark build their configurations from these, so that one hardware fact is
written down once.

* :func:`configure_channel` -- the way of events from a neuron block, a background generator or
  the FPGA through DNC merger ``j`` and Gbit channel ``j`` onto the sending repeater's L1 line.
* :func:`feed_driver` -- an L1 line onto a synapse driver: crossbar switch (from a horizontal
  line), synapse switch, driver enabled with local input.
* :func:`enable_highspeed_link` -- the FPGA's high-speed link to a HICANN.

Sources: HARDWARE_FACTS.md, section 5 (merger tree, DNC mergers, sending repeaters), and
marocco ``routing/Configuration.cpp`` for the modes.
"""

from __future__ import annotations

import enum

from hal import coordinates as C
from hal.errors import ConfigError
from hal.hardware.hicann import GbitDirection, HICANNConfig, MergerMode, RepeaterMode
from hal.hardware.wafer import WaferConfig

__all__ = ["ChannelSource", "configure_channel", "feed_driver", "enable_highspeed_link"]


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


def configure_channel(chip: HICANNConfig, channel: C.DNCMergerOnHICANN, source: ChannelSource, *,
                      record: bool) -> C.HLineOnHICANN:
    """Route ``source`` through DNC merger ``channel`` onto its sending repeater's L1 line.

    Writes the level-0 merger of the same index (not for :attr:`ChannelSource.FPGA`), the DNC
    merger, Gbit channel ``channel`` and the sending repeater (mode OUTPUT). ``record`` sends the
    merger's events to the FPGA as well (Gbit channel towards the DNC); with the FPGA as the
    source the channel points towards the HICANN and ``record`` must be False. Returns the
    horizontal line the sending repeater drives.

    Raises
    ------
    ConfigError
        ``source`` is not a :class:`ChannelSource`, or ``record`` is asked of an FPGA channel.
    """
    if not isinstance(channel, C.DNCMergerOnHICANN):
        raise ConfigError(f"configure_channel: channel {channel!r} is not a DNCMergerOnHICANN; valid DNCMergerOnHICANN(0..7)")
    if not isinstance(source, ChannelSource):
        known = ", ".join(s.name for s in ChannelSource)
        raise ConfigError(f"configure_channel: source {source!r} unknown; known: {known}")
    j = channel.value
    if source is ChannelSource.FPGA:
        if record:
            raise ConfigError(f"configure_channel: {channel!r} carries FPGA input (Gbit channel {j} towards the HICANN); "
                              f"it cannot also record (valid: record=False)")
        chip.gbit_links.update(j, direction=GbitDirection.TO_HICANN)
        chip.dnc_mergers.update(j, mode=MergerMode.RIGHT_ONLY)
    else:
        chip.mergers.update(j, mode=_LEVEL0_MODE[source])
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


def enable_highspeed_link(config: WaferConfig, hicann: C.HICANNOnWafer) -> None:
    """Enable the high-speed link of ``hicann``'s FPGA that serves it (input playback and spike recording)."""
    config.fpga(hicann.to_fpga()).links.update(hicann.to_highspeed_link(), enable=True)
