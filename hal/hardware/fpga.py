"""The FPGA that serves one reticle: playback, trace and link settings as registers."""

from __future__ import annotations

import attrs
import numpy as np

from hal.hardware._chip import ChipConfig
from hal.hardware._tables import RegisterTable
from hal.registers import RegisterFile, RegisterValue, bits, flag, register

__all__ = [
    "FPGAControlConfig",
    "HighspeedLinkConfig",
    "FPGABackgroundGeneratorConfig",
    "FPGA_REGISTERS",
    "FPGAConfig",
]


@register(name="fpga_control")
@attrs.frozen
class FPGAControlConfig(RegisterValue):
    """Playback and trace of the FPGA's pulse memory."""

    playback_enable: bool = flag(reset=True, doc="play back the stored input pulses")
    trace_enable: bool = flag(reset=True, doc="record the pulses coming from the wafer")
    drop_background_events: bool = flag(reset=True, doc="do not record L1-address-0 (background) events")
    fpga_hicann_delay: int = bits(10, reset=25, doc="pulses leave this many FPGA cycles (8 ns) before their timestamp")


@register(name="highspeed_link", count=8)
@attrs.frozen
class HighspeedLinkConfig(RegisterValue):
    """One of the 8 FPGA-HICANN links (one per HICANN of the reticle)."""

    enable: bool = flag(reset=False)


@register(name="fpga_background_generator", width=64)
@attrs.frozen
class FPGABackgroundGeneratorConfig(RegisterValue):
    """The FPGA's own background generator; serves one HICANN of its reticle."""

    enable: bool = flag()
    poisson: bool = flag(doc="Poisson instead of regular")
    seed: int = bits(24)
    period: int = bits(14, reset=500, doc="in FPGA cycles")
    first_address: int = bits(6)
    last_address: int = bits(6)
    channel_mask: int = bits(8, doc="which of the 8 HICANN channels receive events")
    hicann: int = bits(3, doc="HICANN of the reticle (HighspeedLinkOnDNC) that receives the events")


FPGA_REGISTERS = RegisterFile.build(
    "fpga", [FPGAControlConfig, HighspeedLinkConfig, FPGABackgroundGeneratorConfig], align=0x100
)

class FPGAConfig(ChipConfig):
    """Configuration of one FPGA: its register image with typed access on top."""

    register_file = FPGA_REGISTERS

    def __init__(self, image: dict[str, np.ndarray] | None = None):
        super().__init__(image)
        self.control = RegisterTable(self.image, FPGAControlConfig, "FPGA")
        self.links = RegisterTable(self.image, HighspeedLinkConfig, "HighspeedLinkOnDNC")
        self.background_generator = RegisterTable(self.image, FPGABackgroundGeneratorConfig, "FPGA")
