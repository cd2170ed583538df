"""The one place where biological and hardware units are converted.

* time: ``t_hw = t_bio / speedup`` (speed-up 10^4 by default);
* voltage: ``V_hw[mV] = alpha * V_bio[mV] + shift`` (Schmitt et al. 2017: alpha = 20,
  shift = 1800 mV, so the -40 mV resting potential sits at 1 V on the chip);
* conductance: what matters for the dynamics is g/C, so with the capacitances of
  both domains given, ``g_bio = g_hw * (C_bio / C_hw) / speedup`` (marocco's
  weight scale, ``speedup * C_hw / C_bio``, is the inverse);
* FPGA timestamps count the 250 MHz DNC clock: one tick is 4 ns hardware time,
  0.04 ms biological time.
"""

from __future__ import annotations

import attrs
import numpy as np

from hal.validators import finite, positive

__all__ = ["Domains", "PAPER_DOMAINS", "TICK_HW_S", "TICKS_PER_HW_SECOND"]

#: One FPGA timestamp tick: the 250 MHz DNC/systime clock.
TICK_HW_S = 4e-9
TICKS_PER_HW_SECOND = 250_000_000


@attrs.frozen
class Domains:
    """Conversion rules between the biological and the hardware domain."""

    speedup: float = attrs.field(default=1e4, validator=positive())
    alpha: float = attrs.field(default=20.0, validator=positive())
    shift_mv: float = attrs.field(default=1800.0, validator=finite(what="voltage", unit="mV"))

    # -- time ------------------------------------------------------------------------------

    def ms_to_hw_s(self, t_bio_ms):
        return np.asarray(t_bio_ms, dtype=float) * 1e-3 / self.speedup

    def hw_s_to_ms(self, t_hw_s):
        return np.asarray(t_hw_s, dtype=float) * self.speedup * 1e3

    def ms_to_ticks(self, t_bio_ms) -> np.ndarray:
        """Biological milliseconds -> FPGA timestamp ticks (rounded to the nearest tick)."""
        return np.rint(self.ms_to_hw_s(t_bio_ms) / TICK_HW_S).astype(np.int64)

    def ticks_to_ms(self, ticks) -> np.ndarray:
        return self.hw_s_to_ms(np.asarray(ticks, dtype=float) * TICK_HW_S)

    @property
    def tick_ms(self) -> float:
        """One timestamp tick in biological milliseconds."""
        return float(self.ticks_to_ms(1))

    # -- voltage -------------------------------------------------------------------------------

    def mv_to_hw_mv(self, v_bio_mv):
        return np.asarray(v_bio_mv, dtype=float) * self.alpha + self.shift_mv

    def hw_mv_to_mv(self, v_hw_mv):
        return (np.asarray(v_hw_mv, dtype=float) - self.shift_mv) / self.alpha

    def voltage_difference_to_bio(self, dv_hw_mv):
        """A voltage *difference* (e.g. a PSP height) has no offset."""
        return np.asarray(dv_hw_mv, dtype=float) / self.alpha

    # -- conductance / time constants ------------------------------------------------------------

    def conductance_to_bio(self, g_hw_ns, c_hw_pf, c_bio_nf):
        """Hardware conductance (nS, on capacitance ``c_hw_pf``) -> biological nS on ``c_bio_nf``."""
        return np.asarray(g_hw_ns, dtype=float) * (np.asarray(c_bio_nf, dtype=float) * 1e3 / np.asarray(c_hw_pf, dtype=float)) / self.speedup

    def conductance_to_hw(self, g_bio_ns, c_hw_pf, c_bio_nf):
        return np.asarray(g_bio_ns, dtype=float) * self.speedup * np.asarray(c_hw_pf, dtype=float) / (np.asarray(c_bio_nf, dtype=float) * 1e3)

    def tau_to_hw_us(self, tau_bio_ms):
        return np.asarray(tau_bio_ms, dtype=float) * 1e3 / self.speedup

    def tau_to_bio_ms(self, tau_hw_us):
        return np.asarray(tau_hw_us, dtype=float) * self.speedup * 1e-3


#: The conversion used by Schmitt et al. 2017.
PAPER_DOMAINS = Domains()
