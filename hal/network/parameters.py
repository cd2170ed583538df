"""Neuron parameters in biological units and their nominal translation to floating-gate values.

This is the translation for the ideal chip (through :func:`hal.analog.transfer.nominal_inverse`);
calibrated translation per circuit comes with the calibration database.
"""

from __future__ import annotations

import attrs

from hal.validators import finite, positive
from hal.errors import ConfigError

__all__ = ["LIFParameters", "SCHMITT2017"]

_voltage = finite(what="voltage", unit="mV")
_time_constant = positive(what="time", unit="ms")


@attrs.frozen
class LIFParameters:
    """Conductance-based LIF neuron with exponential synapses, biological units."""

    e_rev_i_mv: float = attrs.field(default=-80.0, validator=_voltage)
    v_reset_mv: float = attrs.field(default=-64.0, validator=_voltage)
    e_l_mv: float = attrs.field(default=-40.0, validator=_voltage)
    v_th_mv: float = attrs.field(default=-37.5, validator=_voltage)
    e_rev_e_mv: float = attrs.field(default=0.0, validator=_voltage)
    tau_syn_e_ms: float = attrs.field(default=5.0, validator=_time_constant)
    tau_syn_i_ms: float = attrs.field(default=5.0, validator=_time_constant)
    tau_m_ms: float = attrs.field(default=20.0, validator=_time_constant)
    t_ref_ms: float | None = attrs.field(default=None, validator=attrs.validators.optional(_time_constant))  # None: as short as the chip allows

    def __attrs_post_init__(self):
        if self.v_reset_mv >= self.v_th_mv:
            raise ConfigError(f"LIFParameters: v_reset_mv {self.v_reset_mv} must lie below v_th_mv {self.v_th_mv}")


#: Table II of Schmitt et al. 2017 (the refractory period "as small as possible").
SCHMITT2017 = LIFParameters()
