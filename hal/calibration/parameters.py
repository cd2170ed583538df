"""The calibrated parameters: their floating-gate parameter, whether a block shares it, their unit.

One table, read by the translation (:mod:`hal.calibration`), by the checks a calibration set
passes before it is stored (:mod:`hal.calibration.checks`) and by the calibration routines.
"""

from __future__ import annotations

__all__ = ["PARAMETERS", "circuits_of"]

#: Calibrated parameters: name -> (FG parameter, shared per block?, hardware unit).
PARAMETERS = {
    "e_l_mv": ("E_l", False, "mV"),
    "v_th_mv": ("V_t", False, "mV"),
    "v_reset_mv": ("V_reset", True, "mV"),
    "e_rev_e_mv": ("E_synx", False, "mV"),
    "e_rev_i_mv": ("E_syni", False, "mV"),
    "tau_m_us": ("I_gl", False, "us"),
    "tau_syn_e_us": ("V_syntcx", False, "us"),
    "tau_syn_i_us": ("V_syntci", False, "us"),
    "t_ref_us": ("I_pl", False, "us"),
    # Synaptic strength of a quadrant: how far (per mille of the way to E_exc) one weight-15 event
    # moves a circuit's membrane with the leak off, set by the quadrant's V_gmax0.
    "gmax": ("V_gmax0", True, "per mille per event"),
}

#: circuits a transform covers: 512 denmems, or the 4 floating-gate blocks for shared parameters
_DENMEMS, _BLOCKS = 512, 4


def circuits_of(parameter: str) -> int:
    """How many circuits a transform of ``parameter`` covers (512 denmems or 4 shared FG blocks)."""
    return _BLOCKS if PARAMETERS[parameter][1] else _DENMEMS
