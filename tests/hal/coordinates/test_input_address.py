"""Tests for hal.coordinates.input: where FPGA events enter the wafer."""

from __future__ import annotations

import numpy as np
import pytest

from hal.coordinates import HICANNOnWafer, InputAddress
from hal.errors import ConfigError


def test_valid_addresses_are_ordered_and_hashable():
    a = InputAddress(HICANNOnWafer(1), 0, 63)
    b = InputAddress(HICANNOnWafer(1), 7, 0)
    assert a < b
    assert len({a, b, InputAddress(HICANNOnWafer(1), 0, 63)}) == 2


def test_numpy_integers_are_accepted():
    addr = InputAddress(HICANNOnWafer(2), np.int64(3), np.uint8(5))
    assert (addr.channel, addr.address) == (3, 5)


@pytest.mark.parametrize(
    ("channel", "address", "message"),
    [
        (8, 0, "InputAddress.channel: 8 out of range; valid 0..7"),
        (-1, 0, "InputAddress.channel: -1 out of range; valid 0..7"),
        (True, 0, "InputAddress.channel: True out of range; valid 0..7"),
        (1.0, 0, "InputAddress.channel: 1.0 out of range; valid 0..7"),
        (0, 64, "InputAddress.address: 64 out of range; valid 0..63"),
        (0, -1, "InputAddress.address: -1 out of range; valid 0..63"),
        (0, "3", "InputAddress.address: '3' out of range; valid 0..63"),
    ],
)
def test_out_of_range_channel_or_address_names_field_value_and_range(channel, address, message):
    with pytest.raises(ConfigError) as excinfo:
        InputAddress(HICANNOnWafer(1), channel, address)
    assert str(excinfo.value) == message


def test_hicann_must_be_a_coordinate():
    with pytest.raises(ConfigError, match=r"InputAddress.hicann: 3 is not a HICANNOnWafer"):
        InputAddress(3, 0, 0)
