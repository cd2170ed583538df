"""The hardware model: HICANN and FPGA registers, floating-gate layout, wafer configuration."""

from hal.hardware.fpga import FPGAConfig
from hal.hardware.hicann import HICANNConfig
from hal.hardware.wafer import WaferConfig, wafer_counts

__all__ = ["HICANNConfig", "FPGAConfig", "WaferConfig", "wafer_counts"]
