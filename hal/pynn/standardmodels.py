"""The standard PyNN models hal realises, and the ones it refuses with a reason.

Realised: :class:`IF_cond_exp` (the conductance-based LIF circuit; parameters translated at
``run()`` by :mod:`hal.pynn.network`), :class:`SpikeSourceArray` and :class:`SpikeSourcePoisson`
(FPGA playback) and :class:`StaticSynapse` (4-bit weights, the wafer's fixed delay).

Parameters keep PyNN's names and units (mV, ms, nF, uS, Hz); the translation to the hardware
happens when the network is mapped, so the names here are the native names too.

Every other standard cell type, synapse type and current source of PyNN exists under its
name, so that a script fails at the line that asks for it, with a
:class:`~hal.errors.CapabilityError` saying what BrainScaleS-1 (as hal models it) lacks.
"""

from __future__ import annotations

from pyNN.standardmodels import build_translations, cells, synapses

from hal.errors import CapabilityError

__all__ = ["IF_cond_exp", "SpikeSourceArray", "SpikeSourcePoisson", "StaticSynapse", "UNSUPPORTED"]


def _identity(cls) -> tuple:
    return build_translations(*((name, name) for name in cls.default_parameters))


def _shortest_refractory_ms() -> float:
    """The shortest refractory period the nominal chip realises (biological ms, rounded up to 0.01 ms)."""
    import math

    from hal.analog.domains import PAPER_DOMAINS
    from hal.analog.transfer import nominal

    t = nominal("t_ref_us")
    shortest_us = min(float(t.forward(d)) for d in t.domain)
    return math.ceil(shortest_us * 1e-3 * PAPER_DOMAINS.speedup * 100) / 100


class IF_cond_exp(cells.IF_cond_exp):
    __doc__ = (cells.IF_cond_exp.__doc__ or "") + """
    On hal the default ``tau_refrac`` is the chip's shortest refractory period (0.17 ms), not
    PyNN's 0.1 ms, which the chip cannot realise (asking for it explicitly is an error).
    """
    default_parameters = {**cells.IF_cond_exp.default_parameters, "tau_refrac": _shortest_refractory_ms()}
    translations = _identity(cells.IF_cond_exp)


class SpikeSourceArray(cells.SpikeSourceArray):
    __doc__ = cells.SpikeSourceArray.__doc__
    translations = _identity(cells.SpikeSourceArray)


class SpikeSourcePoisson(cells.SpikeSourcePoisson):
    __doc__ = cells.SpikeSourcePoisson.__doc__
    translations = _identity(cells.SpikeSourcePoisson)


class StaticSynapse(synapses.StaticSynapse):
    __doc__ = synapses.StaticSynapse.__doc__
    translations = _identity(synapses.StaticSynapse)

    def _get_minimum_delay(self):
        from hal.pynn.simulator import (
            state,  # the delay the wafer gives every connection
        )

        return state.min_delay


#: What is refused, and why (the name PyNN gives it -> what the hardware lacks).
UNSUPPORTED = {
    "IF_curr_alpha": "current-based synapses (the circuit's synapses are conductance-based; use IF_cond_exp)",
    "IF_curr_exp": "current-based synapses (the circuit's synapses are conductance-based; use IF_cond_exp)",
    "IF_curr_delta": "current-based delta synapses (use IF_cond_exp)",
    "IF_cond_alpha": "alpha-shaped conductances (the synapse circuit's conductance decays exponentially; use IF_cond_exp)",
    "IF_cond_exp_gsfa_grr": "spike-frequency adaptation and relative refractoriness (use IF_cond_exp)",
    "IF_facets_hardware1": "the FACETS stage-1 chip model (use IF_cond_exp)",
    "EIF_cond_alpha_isfa_ista": "AdEx neurons through PyNN (hal.pynn maps IF_cond_exp only)",
    "EIF_cond_exp_isfa_ista": "AdEx neurons through PyNN (hal.pynn maps IF_cond_exp only)",
    "Izhikevich": "the Izhikevich model (use IF_cond_exp)",
    "HH_cond_exp": "Hodgkin-Huxley channels (use IF_cond_exp)",
    "GIF_cond_exp": "the GIF model (use IF_cond_exp)",
    "SpikeSourceGamma": "gamma-process sources (give the spike times with SpikeSourceArray)",
    "SpikeSourcePoissonRefractory": "Poisson sources with dead time (give the spike times with SpikeSourceArray)",
    "SpikeSourceInhGamma": "inhomogeneous gamma sources (give the spike times with SpikeSourceArray)",
    "TsodyksMarkramSynapse": "short-term plasticity (synapses are static; use StaticSynapse)",
    "STDPMechanism": "plasticity (STDP is not modelled; use StaticSynapse)",
    "ElectricalSynapse": "gap junctions",
    "MultiplicativeWeightDependence": "plasticity", "AdditiveWeightDependence": "plasticity",
    "AdditivePotentiationMultiplicativeDepression": "plasticity", "GutigWeightDependence": "plasticity",
    "SpikePairRule": "plasticity", "Vogels2011Rule": "plasticity",
    "PointNeuron": "neurons composed of several receptor types (one excitatory and one inhibitory input; use IF_cond_exp)",
    "LIF": "neurons composed of several receptor types (use IF_cond_exp)",
    "AdExp": "neurons composed of several receptor types (use IF_cond_exp)",
    "CondExpPostSynapticResponse": "extra receptor types (use IF_cond_exp's excitatory and inhibitory inputs)",
    "CondAlphaPostSynapticResponse": "extra receptor types (use IF_cond_exp's excitatory and inhibitory inputs)",
    "CondBetaPostSynapticResponse": "extra receptor types (use IF_cond_exp's excitatory and inhibitory inputs)",
    "CurrExpPostSynapticResponse": "extra receptor types (use IF_cond_exp's excitatory and inhibitory inputs)",
    "AlphaPSR": "extra receptor types", "BetaPSR": "extra receptor types", "ExpPSR": "extra receptor types",
    "SimpleStochasticSynapse": "stochastic synapses (synapses are static; use StaticSynapse)",
    "StochasticTsodyksMarkramSynapse": "stochastic synapses (synapses are static; use StaticSynapse)",
    "MultiQuantalSynapse": "stochastic synapses (synapses are static; use StaticSynapse)",
    "DCSource": "current injection (no current stimulus is modelled)",
    "StepCurrentSource": "current injection (no current stimulus is modelled)",
    "ACSource": "current injection (no current stimulus is modelled)",
    "NoisyCurrentSource": "current injection (no current stimulus is modelled)",
}


def _refusing(name: str, reason: str) -> type:
    def __init__(self, *args, **kwargs):
        raise CapabilityError(f"hal.pynn: {name} is not available: BrainScaleS-1 (as hal models it) has no {reason}")

    return type(name, (), {"__init__": __init__, "__doc__": f"Not available on hal: no {reason}."})


for _name, _reason in UNSUPPORTED.items():
    globals()[_name] = _refusing(_name, _reason)

__all__ += list(UNSUPPORTED)
