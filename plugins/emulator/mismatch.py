"""The analog side of the emulated chip: fixed-pattern deviations of every circuit, drawn from the wafer's seed.

Every circuit's DAC -> parameter transfer function is the nominal one
(:mod:`hal.analog.transfer`) followed by a deviation fixed at manufacture:

* voltages (E_l, V_t, V_reset, E_synx, E_syni): ``V' = gain * V + offset``;
* leak conductance, synaptic time constants, refractory period: a log-normal
  gain (so tau_m = C/g_l spreads by about the same relative amount);
* membrane capacitance: a small log-normal gain;
* synapses: a log-normal gain per synapse driver's gmax and per synapse.

The deviations are drawn from ``numpy.random.default_rng([wafer, hicann,
stream])``: the same wafer is the same chip, bit for bit, whatever else is
configured. Trial-to-trial variation is not modelled here: it comes from a
perturbation (:mod:`hal_plugins.emulator.perturbation`; the noisy backend's model
is :mod:`hal_plugins.noisy.model`). Magnitudes are model choices (the public sources give no
pre-calibration spreads; HARDWARE_FACTS.md section 9): "a few tens of percent
on time constants" and a few tens of mV (hardware) on voltages, which
calibration must bring down to about the paper's Table II.
"""

from __future__ import annotations

from types import MappingProxyType

import attrs
import numpy as np

__all__ = ["MismatchModel", "UNCALIBRATED", "TABLE_II", "NONE", "TABLE_II_VOLTAGE_SPREAD_BIO_MV", "CircuitDeviations"]

_VOLTAGES = ("e_l_mv", "v_th_mv", "v_reset_mv", "e_rev_e_mv", "e_rev_i_mv")
_GAINS = ("g_l_ns", "tau_syn_e_us", "tau_syn_i_us", "t_ref_us", "c_pf")


@attrs.frozen
class MismatchModel:
    """Standard deviations of the fixed-pattern deviations (hardware domain)."""

    voltage_offset_mv: float = 30.0  # hardware mV (1.5 mV biological at alpha = 20)
    voltage_gain: float = 0.03
    g_l: float = 0.25
    tau_syn: float = 0.25
    t_ref: float = 0.25
    capacitance: float = 0.03
    gmax_driver: float = 0.15
    synapse: float = 0.10

    @property
    def is_zero(self) -> bool:
        return all(v == 0 for v in attrs.astuple(self))


#: The chip as manufactured (model magnitudes, see the module docstring).
UNCALIBRATED = MismatchModel()
#: What the paper reports after calibration (Table II), as a fixed pattern: for experiments that
#: want a calibrated chip without running the calibration. Voltages: relative spreads of the bio
#: values times |V_bio| times alpha; E_exc = 0 mV is given 0.5% of the 80 mV span to E_inh.
TABLE_II = MismatchModel(
    voltage_offset_mv=0.0, voltage_gain=0.0, g_l=0.10, tau_syn=0.10, t_ref=0.0, capacitance=0.0, gmax_driver=0.05, synapse=0.05,
)
NONE = MismatchModel(0, 0, 0, 0, 0, 0, 0, 0)

#: Table II's voltage spreads as absolute biological mV (relative variation x target value), per
#: per-denmem voltage parameter (read-only).
TABLE_II_VOLTAGE_SPREAD_BIO_MV = MappingProxyType({"e_rev_i_mv": 0.05 * 80, "v_reset_mv": 0.02 * 64, "e_l_mv": 0.10 * 40, "v_th_mv": 0.005 * 37.5, "e_rev_e_mv": 0.005 * 80})


@attrs.frozen(eq=False)
class CircuitDeviations:
    """Per-denmem deviations of one HICANN, and per-synapse / per-driver weight gains."""

    voltage_gain: dict
    voltage_offset_mv: dict
    gain: dict
    driver_gain: np.ndarray  # (224,)
    synapse_gain: np.ndarray  # (448, 256)

    @classmethod
    def draw(cls, model: MismatchModel, wafer: int, hicann: int, *, table_ii_voltages: bool = False, alpha: float = 20.0) -> CircuitDeviations:
        rng = np.random.default_rng([wafer, hicann, 0xC1C])
        n = 512
        # Draw every stream whatever the model, so that changing one magnitude leaves the others' pattern intact.
        z_gain = {k: rng.standard_normal(n) for k in _VOLTAGES}
        z_off = {k: rng.standard_normal(n) for k in _VOLTAGES}
        z = {k: rng.standard_normal(n) for k in _GAINS}
        z_driver = rng.standard_normal(224)
        z_syn = rng.standard_normal((448, 256))
        if table_ii_voltages:
            offsets = {k: z_off[k] * TABLE_II_VOLTAGE_SPREAD_BIO_MV[k] * alpha for k in _VOLTAGES}
        else:
            offsets = {k: z_off[k] * model.voltage_offset_mv for k in _VOLTAGES}
        sig = {"g_l_ns": model.g_l, "tau_syn_e_us": model.tau_syn, "tau_syn_i_us": model.tau_syn, "t_ref_us": model.t_ref, "c_pf": model.capacitance}
        return cls(
            voltage_gain={k: 1 + model.voltage_gain * z_gain[k] for k in _VOLTAGES},
            voltage_offset_mv=offsets,
            gain={k: np.exp(sig[k] * z[k] - sig[k] ** 2 / 2) for k in _GAINS},
            driver_gain=np.exp(model.gmax_driver * z_driver - model.gmax_driver**2 / 2),
            synapse_gain=np.exp(model.synapse * z_syn - model.synapse**2 / 2),
        )

    def apply(self, per_denmem: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Nominal per-denmem hardware values -> this chip's values."""
        out = dict(per_denmem)
        for k in _VOLTAGES:
            out[k] = per_denmem[k] * self.voltage_gain[k] + self.voltage_offset_mv[k]
        for k in _GAINS:
            out[k] = per_denmem[k] * self.gain[k]
        return out
