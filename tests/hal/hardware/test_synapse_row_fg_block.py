"""The synapse row -> floating-gate block table (hal.hardware.floating_gates.SYNAPSE_ROW_FG_BLOCK)."""

from __future__ import annotations

import numpy as np
import pytest

from hal import coordinates as C
from hal.hardware.floating_gates import SYNAPSE_ROW_FG_BLOCK


def test_each_row_uses_the_fg_block_of_its_drivers_quadrant():
    expected = [C.SynapseRowOnHICANN(r).to_driver().quadrant for r in range(448)]
    assert SYNAPSE_ROW_FG_BLOCK.tolist() == expected


def test_halco_spot_checks_and_equal_quadrants():
    # halco: driver 0 right, 1 left (top array); 112 left, 113 right (bottom array).
    assert SYNAPSE_ROW_FG_BLOCK[[0, 1, 2, 3, 224, 225, 226, 227]].tolist() == [1, 1, 0, 0, 2, 2, 3, 3]
    assert np.bincount(SYNAPSE_ROW_FG_BLOCK).tolist() == [112, 112, 112, 112]


def test_table_is_read_only():
    with pytest.raises(ValueError):
        SYNAPSE_ROW_FG_BLOCK[0] = 3
