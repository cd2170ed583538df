"""Helpers for backends that simulate the chip: what every simulating backend would write again.

* :func:`bio_parameters`: a wiring's hardware-domain neuron parameters in biological units with
  the same dynamics (capacitance kept, conductances divided by the speed-up, voltages and times
  through :mod:`hal.analog.domains`);
* :func:`membrane_neurons`: which logical neuron each requested membrane belongs to;
* :func:`integration_step`: a step that divides the membrane sampling interval;
* :data:`L1_DELAY_HW_S`: the delay every simulating backend gives an on-wafer connection.
"""

from __future__ import annotations

import numpy as np

from hal.backend import RunRequest
from hal.analog.domains import Domains
from hal.errors import ConfigError
from hal.netlist.wiring import Wiring

__all__ = ["L1_DELAY_HW_S", "bio_parameters", "membrane_neurons", "integration_step"]

#: Nominal delay of an on-wafer (L1) connection, hardware seconds: 0.1 ms biological.
#: A model: no public number; of the order of the repeater and driver latencies.
L1_DELAY_HW_S = 10e-9


def bio_parameters(parameters: dict, domains: Domains) -> dict[str, np.ndarray]:
    """LIF parameters (c_m_pf, g_l_ns, e_l_mv, v_th_mv, v_reset_mv, e_rev_e_mv, e_rev_i_mv,
    tau_syn_e_ms, tau_syn_i_ms, t_ref_ms) of the logical neurons, biological units."""
    d, p = domains, parameters
    return {
        "c_m_pf": p["c_pf"],
        "g_l_ns": p["g_l_ns"] / d.speedup,
        "e_l_mv": d.hw_mv_to_mv(p["e_l_mv"]),
        "v_th_mv": d.hw_mv_to_mv(p["v_th_mv"]),
        "v_reset_mv": d.hw_mv_to_mv(p["v_reset_mv"]),
        "e_rev_e_mv": d.hw_mv_to_mv(p["e_rev_e_mv"]),
        "e_rev_i_mv": d.hw_mv_to_mv(p["e_rev_i_mv"]),
        "tau_syn_e_ms": d.tau_to_bio_ms(p["tau_syn_e_us"]),
        "tau_syn_i_ms": d.tau_to_bio_ms(p["tau_syn_i_us"]),
        "t_ref_ms": d.tau_to_bio_ms(p["t_ref_us"]),
    }


def membrane_neurons(wiring: Wiring, request: RunRequest) -> np.ndarray | None:
    """Logical-neuron index of each requested membrane, or None when none is requested."""
    if not request.membrane:
        return None
    owner = {(n.hicann, den): i for i, n in enumerate(wiring.neurons) for den in n.denmems}
    missing = [m for m in request.membrane if m not in owner]
    if missing:
        raise ConfigError(f"membrane recording: {missing[0][0]!r} {missing[0][1]!r} belongs to no logical neuron")
    return np.array([owner[m] for m in request.membrane])


def integration_step(dt_ms: float, request: RunRequest, domains: Domains, recording: bool) -> tuple[float, float]:
    """(step, membrane sampling interval) in ms: the step divides the interval when membranes are recorded."""
    interval = float(domains.ticks_to_ms(request.membrane_interval))
    if not recording:
        return dt_ms, interval
    return interval / max(1, round(interval / dt_ms)), interval
