"""Neuron parameters in biological units and their nominal translation to floating-gate values.

This is the translation for the ideal chip (through :func:`hal.transfer.nominal_inverse`);
calibrated translation per circuit comes with the calibration database.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import numpy as np

from hal import coordinates as C
from hal.domains import PAPER_DOMAINS, Domains
from hal.errors import ConfigError
from hal.hardware.hicann import HICANNConfig
from hal.transfer import C_BIG_PF, C_SMALL_PF, nominal_inverse

__all__ = ["LIFParameters", "SCHMITT2017", "apply_nominal"]


def _finite(instance, attribute, value):
    if not (isinstance(value, (int, float)) and np.isfinite(value)):
        raise ConfigError(f"LIFParameters.{attribute.name}: {value!r} is not a finite number")


def _positive(instance, attribute, value):
    _finite(instance, attribute, value)
    if value <= 0:
        raise ConfigError(f"LIFParameters.{attribute.name}: {value!r} out of range; valid > 0")


@attrs.frozen
class LIFParameters:
    """Conductance-based LIF neuron with exponential synapses, biological units."""

    e_rev_i_mv: float = attrs.field(default=-80.0, validator=_finite)
    v_reset_mv: float = attrs.field(default=-64.0, validator=_finite)
    e_l_mv: float = attrs.field(default=-40.0, validator=_finite)
    v_th_mv: float = attrs.field(default=-37.5, validator=_finite)
    e_rev_e_mv: float = attrs.field(default=0.0, validator=_finite)
    tau_syn_e_ms: float = attrs.field(default=5.0, validator=_positive)
    tau_syn_i_ms: float = attrs.field(default=5.0, validator=_positive)
    tau_m_ms: float = attrs.field(default=20.0, validator=_positive)
    t_ref_ms: float | None = attrs.field(default=None)  # None: as short as the chip allows

    def __attrs_post_init__(self):
        if self.v_reset_mv >= self.v_th_mv:
            raise ConfigError(f"LIFParameters: v_reset_mv {self.v_reset_mv} must lie below v_th_mv {self.v_th_mv}")


#: Table II of Schmitt et al. 2017 (the refractory period "as small as possible").
SCHMITT2017 = LIFParameters()


def apply_nominal(chip: HICANNConfig, denmems: Sequence[C.NeuronOnHICANN], params: LIFParameters, domains: Domains = PAPER_DOMAINS) -> None:
    """Write the floating-gate values that give ``params`` on the ideal chip to ``denmems``.

    Adaptation and the exponential term are switched off (I_gladapt = I_fire =
    I_bexp = 0). V_reset is shared by 128 denmems (even or odd columns of one
    half): it is set for every shared block touched, which affects all denmems sharing it.
    """
    if not isinstance(params, LIFParameters):
        raise ConfigError(f"apply_nominal: expected LIFParameters, got {type(params).__name__}")
    neurons = list(denmems)
    hw = lambda v: float(domains.mv_to_hw_mv(v))  # noqa: E731
    dac = {
        "E_l": nominal_inverse("e_l_mv", hw(params.e_l_mv)),
        "V_t": nominal_inverse("v_th_mv", hw(params.v_th_mv)),
        "E_synx": nominal_inverse("e_rev_e_mv", hw(params.e_rev_e_mv)),
        "E_syni": nominal_inverse("e_rev_i_mv", hw(params.e_rev_i_mv)),
        "V_syntcx": nominal_inverse("tau_syn_e_us", float(domains.tau_to_hw_us(params.tau_syn_e_ms))),
        "V_syntci": nominal_inverse("tau_syn_i_us", float(domains.tau_to_hw_us(params.tau_syn_i_ms))),
        "I_pl": np.int64(1023) if params.t_ref_ms is None else nominal_inverse("t_ref_us", float(domains.tau_to_hw_us(params.t_ref_ms))),
        "I_gladapt": np.int64(0),
        "I_fire": np.int64(0),
        "I_bexp": np.int64(0),
    }
    cfg = chip.neuron_config.value
    tau_hw_us = float(domains.tau_to_hw_us(params.tau_m_ms))
    for name, value in dac.items():
        chip.set_neuron_parameter(name, value, neurons=neurons)
    # I_gl per denmem from its own capacitance: tau = C / g for every circuit, so also for the merged neuron.
    capacitance = np.array([C_BIG_PF if (cfg.bigcap_top if n.is_top else cfg.bigcap_bottom) else C_SMALL_PF for n in neurons])
    g = capacitance / (tau_hw_us * 1e-3)  # pF / ms = nS
    chip.set_neuron_parameter("I_gl", nominal_inverse("g_l_ns", g), neurons=neurons)
    reset = int(nominal_inverse("v_reset_mv", hw(params.v_reset_mv)))
    blocks = sorted({n.to_shared_fg_block().enum for n in neurons})
    chip.set_shared_parameter("V_reset", reset, blocks=blocks)
