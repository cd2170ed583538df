"""Floating-gate (FG) parameter storage of a HICANN: which parameter lives in which cell.

Each HICANN has 4 FG blocks of 24 rows x 129 columns of 10-bit DAC cells.
Column 0 of a block holds the parameters shared by the block's neurons; columns
1..128 hold one denmem each. The row of a parameter differs between left and
right blocks. Source: halbe ``hal/HICANN/FGBlock.h`` (HARDWARE_FACTS.md, section 4).
"""

from __future__ import annotations

import enum
from types import MappingProxyType

import attrs
import numpy as np

from hal import coordinates as C

__all__ = [
    "FG_BLOCKS",
    "FG_ROWS",
    "FG_COLUMNS",
    "FG_DAC_MAX",
    "FG_MAX_VOLTAGE_MV",
    "FG_MAX_CURRENT_NA",
    "Kind",
    "FGParameter",
    "NEURON_PARAMETERS",
    "SHARED_PARAMETERS",
    "fg_reset_cells",
    "SYNAPSE_ROW_FG_BLOCK",
]

FG_BLOCKS = 4
FG_ROWS = 24
FG_COLUMNS = 129
FG_DAC_MAX = 1023
# Ideal full scale of the DAC (calibtic NeuronCalibration.cpp: 1.8 V, 2500 nA).
FG_MAX_VOLTAGE_MV = 1800.0
FG_MAX_CURRENT_NA = 2500.0


class Kind(str, enum.Enum):
    VOLTAGE = "V"
    CURRENT = "I"


@attrs.frozen
class FGParameter:
    """One FG parameter: its row in left (x=0) and right (x=1) blocks and its reset DAC value."""

    name: str
    row_left: int
    row_right: int
    default: int
    kind: Kind
    doc: str

    def row(self, block_x: int) -> int:
        return self.row_left if block_x == 0 else self.row_right


def _table(rows):
    return MappingProxyType({r[0]: FGParameter(r[0], r[1], r[2], r[3], Kind(r[4]), r[5]) for r in rows})


# name, row in left blocks, row in right blocks, default DAC, V/I, meaning
NEURON_PARAMETERS = _table(
    [
        ("E_l", 6, 16, 300, "V", "leak reversal potential"),
        ("E_syni", 18, 2, 100, "V", "inhibitory reversal potential"),
        ("E_synx", 16, 0, 570, "V", "excitatory reversal potential"),
        ("V_t", 12, 14, 500, "V", "spike threshold"),
        ("V_exp", 20, 4, 400, "V", "exponential term reference"),
        ("V_syntci", 10, 8, 800, "V", "inhibitory synaptic time constant"),
        ("V_syntcx", 14, 12, 800, "V", "excitatory synaptic time constant"),
        ("V_syni", 8, 10, 511, "V", "inhibitory synaptic line zero (technical)"),
        ("V_synx", 22, 6, 511, "V", "excitatory synaptic line zero (technical)"),
        ("V_convoffi", 4, 18, 1023, "V", "inhibitory synaptic input offset (HICANNv4)"),
        ("V_convoffx", 2, 20, 1023, "V", "excitatory synaptic input offset (HICANNv4)"),
        ("I_gl", 11, 21, 200, "I", "leak conductance"),
        ("I_pl", 13, 9, 511, "I", "refractory period (tau_ref ~ 1/I_pl)"),
        ("I_gladapt", 9, 11, 100, "I", "adaptation coupling a"),
        ("I_radapt", 15, 23, 511, "I", "adaptation time constant tau_w"),
        ("I_fire", 7, 19, 511, "I", "spike-triggered adaptation b"),
        ("I_rexp", 23, 13, 511, "I", "exponential slope Delta_T"),
        ("I_bexp", 1, 15, 1023, "I", "exponential OTA bias"),
        ("I_convi", 3, 1, 1023, "I", "maximum inhibitory synaptic conductance"),
        ("I_convx", 17, 3, 1023, "I", "maximum excitatory synaptic conductance"),
        ("I_intbbi", 21, 7, 511, "I", "inhibitory synaptic integrator bias"),
        ("I_intbbx", 19, 5, 511, "I", "excitatory synaptic integrator bias"),
        ("I_spikeamp", 5, 17, 1023, "I", "spike comparator bias"),
    ]
)

# Shared parameters sit in column 0. Where left and right blocks hold different
# parameters in one row, the other side's row is -1 (absent there).
SHARED_PARAMETERS = _table(
    [
        ("V_reset", 0, 0, 300, "V", "reset potential, shared by the even (left) or odd (right) denmems of a half"),
        ("int_op_bias", 1, 1, 1023, "I", "internal OTA bias"),
        ("V_dllres", 2, 2, 200, "V", "DLL reset voltage; lower for slower PLL clocks"),
        ("V_bout", 3, -1, 1023, "I", "output buffer bias (left blocks)"),
        ("V_bexp", -1, 3, 1023, "I", "exponential bias (right blocks)"),
        ("V_fac", 4, 4, 0, "V", "STP facilitation"),
        ("I_breset", 5, 5, 1023, "I", "reset bias"),
        ("V_dep", 6, 6, 0, "V", "STP depression"),
        ("I_bstim", 7, 7, 1023, "I", "current stimulus bias"),
        ("V_thigh", 8, 8, 0, "V", "STDP high threshold"),
        ("V_gmax3", 9, 9, 1000, "I", "synaptic gmax reference 3"),
        ("V_tlow", 10, 10, 0, "V", "STDP low threshold"),
        ("V_gmax0", 11, 11, 1000, "I", "synaptic gmax reference 0"),
        ("V_clra", 12, -1, 0, "V", "STDP acausal clear (left blocks)"),
        ("V_clrc", -1, 12, 0, "V", "STDP causal clear (right blocks)"),
        ("V_gmax1", 13, 13, 1000, "I", "synaptic gmax reference 1"),
        ("V_stdf", 14, 14, 0, "V", "STDF reference"),
        ("V_gmax2", 15, 15, 1000, "I", "synaptic gmax reference 2"),
        ("V_m", 16, 16, 0, "V", "STDP"),
        ("V_bstdf", 17, 17, 0, "V", "STDF bias"),
        ("V_dtc", 19, 19, 0, "V", "STDP time constant"),
        ("V_br", 21, 21, 0, "V", "STDP bias"),
        ("V_ccas", 23, 23, 800, "V", "L1 input amplifier"),
    ]
)


def fg_reset_cells() -> np.ndarray:
    """The (4, 24, 129) array of DAC values after reset: every parameter at its default."""
    cells = np.zeros((FG_BLOCKS, FG_ROWS, FG_COLUMNS), dtype=np.uint16)
    for block in range(FG_BLOCKS):
        x = block % 2
        for p in NEURON_PARAMETERS.values():
            cells[block, p.row(x), 1:] = p.default
        for p in SHARED_PARAMETERS.values():
            if p.row(x) >= 0:
                cells[block, p.row(x), 0] = p.default
    return cells


def _synapse_row_fg_block() -> np.ndarray:
    rows = np.array([C.SynapseRowOnHICANN(r).to_driver().quadrant for r in range(448)], dtype=np.int64)
    rows.setflags(write=False)
    return rows


#: FG block enum (``2 * half + side``: 0 top-left .. 3 bottom-right) whose shared ``V_gmax*``
#: a synapse row uses, per row 0..447: the quadrant of the row's driver (left edge 0, right 1;
#: top array 0, bottom 1). Read-only.
SYNAPSE_ROW_FG_BLOCK = _synapse_row_fg_block()
