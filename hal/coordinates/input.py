"""Where FPGA events enter the wafer."""

from __future__ import annotations

import attrs
import numpy as np

from hal.coordinates.wafer import HICANNOnWafer
from hal.errors import ConfigError

__all__ = ["InputAddress"]


@attrs.frozen(order=True)
class InputAddress:
    """Where FPGA events enter the wafer: a HICANN, its channel (0..7) and an L1 address (0..63)."""

    hicann: HICANNOnWafer = attrs.field()
    channel: int = attrs.field()
    address: int = attrs.field()

    @hicann.validator
    def _h(self, attribute, value):
        if not isinstance(value, HICANNOnWafer):
            raise ConfigError(f"InputAddress.hicann: {value!r} is not a HICANNOnWafer")

    @channel.validator
    def _c(self, attribute, value):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or not 0 <= value <= 7:
            raise ConfigError(f"InputAddress.channel: {value!r} out of range; valid 0..7")

    @address.validator
    def _a(self, attribute, value):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or not 0 <= value <= 63:
            raise ConfigError(f"InputAddress.address: {value!r} out of range; valid 0..63")
