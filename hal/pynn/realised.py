"""What the chip realises of a PyNN model: parameters and weights after the hardware's quantisation.

The wafer stores neuron parameters as 10-bit floating-gate values and weights as 4 bits times a
row's unit conductance, so what runs differs slightly from what was asked (e.g. a weight
-0.4 %, v_rest -0.015 mV). These functions say, in PyNN's names and units, what the ideal chip
(nominal transfer functions: the ``reference`` backend) realises for the current network; the
emulator adds its fixed-pattern deviations on top. ``benchmarks/pynn_vs_nest.py`` runs NEST
with these values to separate quantisation from simulation.
"""

from __future__ import annotations

import numpy as np

from hal.errors import ConfigError
from hal.netlist.bio import bio_parameters
from hal.netlist.wiring import extract_wiring
from hal.pynn import simulator
from hal.pynn.weights import realised_ratios

__all__ = ["realised_parameters", "realised_weights"]


def _mapped():
    state = simulator.state
    if state.hardware is None:
        raise ConfigError("hal.pynn: realised values before setup(); call hal.pynn.setup(...) and build the network first")
    return state.hardware.mapped(state), state.hardware.options


def realised_parameters(population) -> dict[str, np.ndarray]:
    """``IF_cond_exp`` parameters of each cell of ``population`` as the chip realises them (PyNN names and units)."""
    (built, config, _, where), options = _mapped()
    if population not in built.cm_of:
        raise ConfigError(f"hal.pynn: {getattr(population, 'label', population)!r} is not a mapped IF_cond_exp population")
    wiring = extract_wiring(config, synapses=False)  # neurons and parameters only
    bio = bio_parameters(wiring.parameters, options.domains)
    index_of = {(n.hicann, n.firing): i for i, n in enumerate(wiring.neurons)}
    k = np.array([index_of[key] for key in built.neurons(where, population, range(population.size))])
    return {"tau_m": bio["c_m_pf"][k] / bio["g_l_ns"][k], "v_rest": bio["e_l_mv"][k], "v_thresh": bio["v_th_mv"][k],
            "v_reset": bio["v_reset_mv"][k], "e_rev_E": bio["e_rev_e_mv"][k], "e_rev_I": bio["e_rev_i_mv"][k],
            "tau_syn_E": bio["tau_syn_e_ms"][k], "tau_syn_I": bio["tau_syn_i_ms"][k], "tau_refrac": bio["t_ref_ms"][k],
            "cm": np.array(built.cm_of[population], dtype=float)}


def realised_weights(projection) -> np.ndarray:
    """The weight (uS) the chip realises for each connection of ``projection`` (its connection order; 0 if lost)."""
    (built, config, mapping, _), options = _mapped()
    if projection not in built.synapse_of:
        raise ConfigError(f"hal.pynn: projection {getattr(projection, 'label', projection)!r} is not part of the mapped network")
    ratios = realised_ratios(built.network, config, mapping, hal_cm_nf=built.hal_cm_nf, speedup=options.domains.speedup)
    j, position = built.synapse_of[projection]
    out = np.zeros(len(projection))
    ok = position >= 0
    out[ok] = [ratios[a][b] for a, b in zip(j[ok], position[ok])]
    return projection._weight * out
