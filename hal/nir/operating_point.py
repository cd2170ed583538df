"""Where a current-based NIR neuron sits on hal's conductance-based circuit: :class:`OperatingPoint`.

NIR's neurons (``LIF``, ``CubaLIF``, ``IF``, ``LI``, ``CubaLI``) are current-based and
dimensionless; hal's circuit is the conductance-based LIF of NEST's ``iaf_cond_exp``,

    C dV/dt = g_L (E_L - V) + g_e(t) (E_e - V) + g_i(t) (E_i - V),

with exponentially decaying conductances and biological units. The import maps one onto the
other around this operating point:

* **voltage**: a node's NIR membrane ``v`` becomes ``V = e_l_mv + (v - v_leak) * k`` mV with
  ``k = swing_mv / (v_threshold - v_leak)`` mV per NIR unit, so the leak potential sits at
  :attr:`e_l_mv` and the threshold :attr:`swing_mv` above it (``IF`` has no leak: its reset
  potential is the anchor; ``LI``/``CubaLI`` have no threshold: ``k`` is
  :attr:`readout_mv_per_unit`, and the circuit's threshold is set to ``e_rev_e_mv``, which the
  membrane only approaches);
* **time**: every NIR time constant (seconds) is multiplied by :attr:`time_scale` and written in
  biological ms (``tau_m_ms = time_scale * tau * 1000``); ``None`` picks the factor that makes the
  graph's shortest membrane time constant :data:`AUTO_TAU_M_MS`;
* **synaptic current**: a conductance ``g`` drives ``g (E_rev - V)``; the import linearises the
  driving force at ``V_op = e_l_mv + swing_mv / 2`` (the middle of the sub-threshold range), so a
  current ``I`` becomes ``g = I / (E_rev - V_op)`` with ``E_e`` = :attr:`e_rev_e_mv` for positive
  and ``E_i`` = :attr:`e_rev_i_mv` for negative weights. Away from ``V_op`` the current is off by
  ``(V_op - V) / (E_rev - V_op)``: at most ``swing_mv / 2 / (E_e - V_op)`` for excitation and
  ``swing_mv / 2 / (V_op - E_i)`` for inhibition (11 % and 17 % at the defaults);
* **synapses of ``LIF``/``IF``/``LI``**: NIR's input is a current pulse, the circuit's an
  exponential conductance; it gets :attr:`tau_syn_ms` (short against the membrane) and a weight
  such that the PSP's tail after the synapse has decayed matches NIR's jump exactly (in the
  linearised model): the charge is scaled by ``(tau_m - tau_syn) / tau_m``. ``CubaLIF``/``CubaLI``
  bring their own synaptic time constant, which is mapped like every other one;
* **``IF``** has no leak; the circuit always has one, :attr:`if_tau_m_ms` (long);
* NIR has no refractory period: :attr:`t_ref_ms` ``None`` asks for the chip's shortest.

The defaults were chosen by measurement (``benchmarks/nir_roundtrip.py``, ``docs/nir.md``): long
synapses and membranes give a weight step more effect, so trained networks fit the 4-bit weights
without clipping, and a wide swing keeps the chip's voltage mismatch small against it.

The defaults lie inside the chip's parameter ranges (HARDWARE_FACTS.md section 8): membrane
voltages -90..0 mV, synaptic time constants 1.3..15 ms, membrane time constants 5..480 ms.
The measured error of this mapping is in ``docs/nir.md``.
"""

from __future__ import annotations

import attrs

from hal.errors import ConfigError
from hal.validators import finite, positive

__all__ = ["OperatingPoint", "AUTO_TAU_M_MS"]

#: The membrane time constant (biological ms) that ``time_scale=None`` gives the graph's fastest neurons.
AUTO_TAU_M_MS = 100.0

_voltage = finite(what="voltage", unit="mV")


@attrs.frozen
class OperatingPoint:
    """How current-based NIR neurons are placed on the conductance-based circuit (see the module docstring)."""

    e_l_mv: float = attrs.field(default=-60.0, validator=_voltage)
    swing_mv: float = attrs.field(default=12.0, validator=positive(what="voltage", unit="mV"))
    e_rev_e_mv: float = attrs.field(default=0.0, validator=_voltage)
    e_rev_i_mv: float = attrs.field(default=-90.0, validator=_voltage)
    tau_syn_ms: float = attrs.field(default=8.0, validator=positive(what="time", unit="ms"))
    if_tau_m_ms: float = attrs.field(default=400.0, validator=positive(what="time", unit="ms"))
    readout_mv_per_unit: float = attrs.field(default=10.0, validator=positive(what="voltage", unit="mV per NIR unit"))
    time_scale: float | None = attrs.field(default=None, validator=attrs.validators.optional(positive(what="factor")))
    t_ref_ms: float | None = attrs.field(default=None, validator=attrs.validators.optional(positive(what="time", unit="ms")))
    min_swing_mv: float = attrs.field(default=4.0, validator=positive(what="voltage", unit="mV"))

    def __attrs_post_init__(self):
        if not self.e_rev_i_mv < self.e_l_mv < self.e_l_mv + self.swing_mv < self.e_rev_e_mv:
            raise ConfigError(f"OperatingPoint: need e_rev_i_mv < e_l_mv < e_l_mv + swing_mv < e_rev_e_mv; got "
                              f"{self.e_rev_i_mv} < {self.e_l_mv} < {self.e_l_mv + self.swing_mv} < {self.e_rev_e_mv}")

    @property
    def v_th_mv(self) -> float:
        """The threshold of a spiking neuron: :attr:`swing_mv` above the leak potential."""
        return self.e_l_mv + self.swing_mv

    @property
    def v_op_mv(self) -> float:
        """The membrane potential where the driving forces are linearised: the middle of the sub-threshold range."""
        return self.e_l_mv + self.swing_mv / 2
