"""Nominal (ideal) transfer functions: floating-gate DAC value -> hardware-domain parameter.

These describe the ideal chip: every circuit behaves exactly like this. The
reference backend uses them as they are; the emulator adds each circuit's fixed
deviation; calibration measures the real (emulated) curves and inverts them,
with :func:`nominal_inverse` as the calibration of the ideal chip.

Scales and ranges follow the public BrainScaleS-1 software (HARDWARE_FACTS.md
sections 4 and 8): voltages are ``DAC * 1.8 V / 1023``; currents are
``DAC * 2.5 uA / 1023``; the time-constant curves are fitted to calibtic's
default transformation domains (tau_syn 1.51 -> 0.13 us over DAC 226..1022,
tau_ref ~ 1/I_pl with 1.73 us at DAC 10). Where no public number exists (the
gain from I_gl to the leak conductance, from V_gmax to the synaptic conductance)
the constant below is this project's choice, picked so that calibtic's tau_m
domain (0.54..48 us with the big capacitance, NORMAL speed) is reachable; it is
marked "model".
"""

from __future__ import annotations

import attrs
import numpy as np

from hal.errors import CalibrationError, UnknownNameError
from hal.hardware.floating_gates import FG_DAC_MAX, FG_MAX_CURRENT_NA, FG_MAX_VOLTAGE_MV

__all__ = [
    "C_BIG_PF",
    "C_SMALL_PF",
    "GL_DIVIDERS",
    "K_GL_NS_PER_NA",
    "K_SYN_NS_PER_NA",
    "Transfer",
    "NOMINAL",
    "nominal",
    "nominal_inverse",
    "dac_to_voltage_mv",
    "dac_to_current_na",
    "synaptic_unit_conductance_ns",
]

# Membrane capacitance per denmem (calibtic / sthal).
C_BIG_PF = 2.16456
C_SMALL_PF = 0.1642
# Current divider of I_gl per speed setting (sthal): FAST 1, NORMAL 3, SLOW 27.
GL_DIVIDERS = {"fast": 1.0, "normal": 3.0, "slow": 27.0}
# model: leak conductance per nA of I_gl before the divider. With the big
# capacitance and NORMAL speed, DAC 1023 gives tau_m = 0.54 us (calibtic's lower
# bound) and DAC 11 gives 48 us (its upper bound).
K_GL_NS_PER_NA = 4.8
# model: synaptic conductance per nA of V_gmax for weight 1 and divisor 1.
K_SYN_NS_PER_NA = 0.06

_TAU_SYN_DAC = (226.0, 1022.0)
_TAU_SYN_US = (1.51, 0.13)
_TAU_REF_US_TIMES_DAC = 17.3  # tau_ref = 17.3 us / I_pl  (1.73 us at DAC 10)


def dac_to_voltage_mv(dac):
    return np.asarray(dac, dtype=float) * FG_MAX_VOLTAGE_MV / FG_DAC_MAX


def dac_to_current_na(dac):
    return np.asarray(dac, dtype=float) * FG_MAX_CURRENT_NA / FG_DAC_MAX


def _tau_syn_us(dac):
    (d0, d1), (t0, t1) = _TAU_SYN_DAC, _TAU_SYN_US
    return t0 * np.exp((np.asarray(dac, dtype=float) - d0) / (d1 - d0) * np.log(t1 / t0))


def _tau_syn_inverse(tau_us):
    (d0, d1), (t0, t1) = _TAU_SYN_DAC, _TAU_SYN_US
    return d0 + (d1 - d0) * np.log(np.asarray(tau_us, dtype=float) / t0) / np.log(t1 / t0)


def _tau_ref_us(dac):
    dac = np.asarray(dac, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(dac > 0, _TAU_REF_US_TIMES_DAC / np.maximum(dac, 1e-300), np.inf)


def _log_linear(d0, d1, y0, y1):
    """A curve that is linear in log(y) between (d0, y0) and (d1, y1)."""

    def forward(dac):
        return y0 * np.exp((np.asarray(dac, dtype=float) - d0) / (d1 - d0) * np.log(y1 / y0))

    def inverse(y):
        return d0 + (d1 - d0) * np.log(np.asarray(y, dtype=float) / y0) / np.log(y1 / y0)

    return forward, inverse


# AdEx terms over calibtic's default domains (HARDWARE_FACTS.md section 8); model curves.
_TAU_W = _log_linear(76.0, 1023.0, 35.4, 2.93)  # us, I_radapt (larger current, faster)
_A_NS = _log_linear(1.0, 1023.0, 2.5, 4960.0)  # nS, I_gladapt
_B_NA = _log_linear(1.0, 1023.0, 0.03, 69.0)  # nA, I_fire
_DELTA_T = _log_linear(1.0, 1023.0, 1.21, 13.5)  # mV, I_rexp


def _zero_at_zero(curve):
    forward, inverse = curve

    def f(dac):
        dac = np.asarray(dac, dtype=float)
        return np.where(dac > 0, forward(np.maximum(dac, 1)), 0.0)

    return f, inverse


def _g_l_ns(dac, divider=GL_DIVIDERS["normal"]):
    return dac_to_current_na(dac) * K_GL_NS_PER_NA / divider


def synaptic_unit_conductance_ns(v_gmax_dac, gmax_div):
    """Conductance of weight 1 on a row: ``K_SYN * I(V_gmax) / gmax_div`` (0 when the divisor is 0)."""
    div = np.asarray(gmax_div, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(div > 0, dac_to_current_na(v_gmax_dac) * K_SYN_NS_PER_NA / np.where(div > 0, div, 1), 0.0)


@attrs.frozen
class Transfer:
    """A nominal transfer function of one FG parameter.

    ``domain`` is the DAC range in which the function is trusted (calibtic's
    default transformation domain where known); ``unit`` is the hardware unit of
    the result.
    """

    parameter: str
    fg_parameter: str
    unit: str
    domain: tuple[int, int]
    forward: object = attrs.field(repr=False)
    inverse: object = attrs.field(repr=False)

    def __call__(self, dac):
        return self.forward(dac)


def _voltage(parameter: str, fg_name: str) -> Transfer:
    return Transfer(parameter, fg_name, "mV", (0, FG_DAC_MAX), dac_to_voltage_mv, lambda v: np.asarray(v, dtype=float) * FG_DAC_MAX / FG_MAX_VOLTAGE_MV)


NOMINAL: dict[str, Transfer] = {
    t.parameter: t
    for t in (
        _voltage("e_l_mv", "E_l"),
        _voltage("v_th_mv", "V_t"),
        _voltage("v_reset_mv", "V_reset"),
        _voltage("e_rev_e_mv", "E_synx"),
        _voltage("e_rev_i_mv", "E_syni"),
        Transfer("g_l_ns", "I_gl", "nS (NORMAL speed)", (11, FG_DAC_MAX), _g_l_ns, lambda g: np.asarray(g, dtype=float) * GL_DIVIDERS["normal"] / K_GL_NS_PER_NA * FG_DAC_MAX / FG_MAX_CURRENT_NA),
        Transfer("tau_syn_e_us", "V_syntcx", "us", (226, 1022), _tau_syn_us, _tau_syn_inverse),
        Transfer("tau_syn_i_us", "V_syntci", "us", (226, 1022), _tau_syn_us, _tau_syn_inverse),
        Transfer("t_ref_us", "I_pl", "us", (10, FG_DAC_MAX), _tau_ref_us, lambda t: _TAU_REF_US_TIMES_DAC / np.asarray(t, dtype=float)),
        Transfer("tau_w_us", "I_radapt", "us", (76, FG_DAC_MAX), *_TAU_W),
        Transfer("a_ns", "I_gladapt", "nS (0 = off)", (1, FG_DAC_MAX), *_zero_at_zero(_A_NS)),
        Transfer("b_na", "I_fire", "nA (0 = off)", (1, FG_DAC_MAX), *_zero_at_zero(_B_NA)),
        Transfer("delta_t_mv", "I_rexp", "mV", (1, FG_DAC_MAX), *_DELTA_T),
        _voltage("v_exp_mv", "V_exp"),
    )
}


def nominal(parameter: str) -> Transfer:
    try:
        return NOMINAL[parameter]
    except KeyError:
        raise UnknownNameError("transfer function", parameter, NOMINAL) from None


def nominal_inverse(parameter: str, value, *, clip: bool = False) -> np.ndarray:
    """DAC value(s) that give ``value`` on the ideal chip (rounded to the nearest DAC step).

    Raises :class:`CalibrationError` if a value needs a DAC outside the
    function's domain, unless ``clip`` is set.
    """
    t = nominal(parameter)
    raw = np.asarray(t.inverse(value), dtype=float)
    lo, hi = t.domain
    bad = ~np.isfinite(raw) | (raw < lo - 0.5) | (raw > hi + 0.5)
    if np.any(bad) and not clip:
        v = np.asarray(value, dtype=float).ravel()[int(np.flatnonzero(bad.ravel())[0])] if np.ndim(value) else float(value)
        reach = sorted(float(t.forward(d)) for d in (lo, hi))
        raise CalibrationError(
            f"{parameter}: {v!r} {t.unit} is outside what the nominal chip reaches "
            f"({reach[0]:.4g}..{reach[1]:.4g} {t.unit}, DAC {lo}..{hi}); pass clip=True to clip"
        )
    return np.clip(np.rint(np.nan_to_num(raw, nan=lo, posinf=hi, neginf=lo)), lo, hi).astype(np.int64)
