"""What one weight step does to a mapped neuron: its conductance over the membrane capacitance.

The dynamics depend on ``g / C`` only. A hal weight step is declared as a conductance
(:attr:`hal.network.Network.ns_per_weight_bit`, biological nS); the mapping realises the network's
value through V_gmax (the value 0.68 nS at the reference DAC, :data:`hal.calibration.GMAX_REFERENCE_DAC`)
and a projection's own value through the rows' gmax divisor. On the ideal chip one step of
``ns_per_bit`` therefore gives

    g / C = ns_per_bit / 0.68 nS * K_SYN I(V_gmax = reference) / speedup / (circuits * C_big)

per ms on a neuron of ``circuits`` big-capacitance denmems. :func:`step_rate_per_ms` is that
number, checked in ``tests/hal/nir`` against what the mapping writes.
"""

from __future__ import annotations

import attrs

from hal.analog.domains import Domains
from hal.analog.transfer import C_BIG_PF, synaptic_unit_conductance_ns
from hal.calibration import GMAX_REFERENCE_DAC
from hal.network import Network

__all__ = ["step_rate_per_ms", "REFERENCE_NS_PER_BIT"]

#: The network scale that V_gmax at the reference DAC realises (hal.network's default).
REFERENCE_NS_PER_BIT = attrs.fields(Network).ns_per_weight_bit.default


def step_rate_per_ms(ns_per_bit: float, circuits_per_neuron: int, domains: Domains) -> float:
    """``g / C`` (1/ms, biological time) of one weight step of ``ns_per_bit`` on a neuron of ``circuits_per_neuron`` circuits."""
    g_hw_ns = float(synaptic_unit_conductance_ns(GMAX_REFERENCE_DAC, 1)) * ns_per_bit / REFERENCE_NS_PER_BIT
    return g_hw_ns / domains.speedup / (circuits_per_neuron * C_BIG_PF)
