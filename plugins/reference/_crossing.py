"""Spike times between grid points: the threshold crossing solved on the step's exact trajectory.

Over a step (or the free, non-refractory part of it) of length :math:`h`, V
relaxes exponentially towards :math:`V_\\infty` at rate :math:`g_{tot}/C_m`
(:mod:`hal_plugins.reference.integrator` gives the scheme). When
:math:`V(t_1) \\ge V_{th}`, the crossing time is solved exactly on that
trajectory (:func:`time_to_threshold`),
:math:`t^* = t_0 + \\frac{C_m}{g_{tot}} \\ln\\frac{V_\\infty - V(t_0)}{V_\\infty - V_{th}}`.
If events arrived in that step, the step is first split at their (effective)
arrival times and the crossing is solved on the sub-interval where it happens
(:func:`refined_crossing`); otherwise a crossing shortly after an arrival
would be smeared over the whole step and spike times would only be first
order in ``dt``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["refined_crossing", "time_to_threshold"]


def time_to_threshold(v0, v_inf, v_th, rate, length):
    """Time for ``V`` relaxing from ``v0`` towards ``v_inf`` at ``rate`` (1/ms) to reach ``v_th``, clipped to [0, length].

    Call under ``np.errstate(divide="ignore", invalid="ignore")``.
    """
    t = np.log((v_inf - v0) / (v_inf - v_th)) / rate  # nan/inf only if v_inf <= v_th (no crossing)
    t = np.where(np.isfinite(t), np.minimum(np.maximum(t, 0.0), length), length)
    return np.where(v0 >= v_th, 0.0, t)


def refined_crossing(t0, t1, dt, start, v_start, v_th, c_m, g_l, e_l, e_rev, tau, g_start, jump, average):
    """Threshold-crossing times of neurons known to cross inside the step ``[t0, t1)`` that received events in it.

    Per-neuron arrays; ``e_rev``, ``tau``, ``g_start`` (conductance at ``t0``),
    ``jump`` and ``average`` (the ring-buffer entries) are stacked as
    ``(2, m)``: excitatory, inhibitory.

    The ring buffer keeps, per step and neuron, only the end-of-step jump ``j``
    and the step-average contribution ``a`` of the step's events. Together they
    determine one *effective* event, weight ``w = j + a dt/tau`` at ``t1 + tau
    ln(j/w)``, with the same end value and integral (for a single event, that
    event exactly). The free part of the step (from ``start``) is split at
    the effective excitatory and inhibitory arrival times and V is integrated
    exactly for the sub-interval-averaged conductances, so a crossing shortly
    after an arrival is not smeared over the whole step (that would make spike
    times first order in ``dt``). Where the split trajectory stays below
    threshold (a borderline case) the spike is put at ``t1``.
    """
    weight = jump + average * (dt / tau)
    ratio = np.divide(jump, weight, out=np.ones_like(jump), where=weight > 0)
    t_event = np.maximum(t1 + tau * np.log(ratio), t0)  # t1 where there is no event
    cuts = np.minimum(np.maximum(np.sort(t_event, axis=0), start), t1)
    bounds = (start, cuts[0], cuts[1], np.full_like(start, t1))
    v = v_start
    t_cross = np.full_like(start, np.nan)
    for a, b in zip(bounds[:-1], bounds[1:]):
        length = b - a
        g = g_start * np.exp(-(a - t0) / tau) + np.where(t_event <= a, weight * np.exp(-(a - t_event) / tau), 0.0)
        g *= np.where(length > 0, tau / length * -np.expm1(-length / tau), 1.0)  # mean over [a, b]
        g_tot = g_l + g[0] + g[1]
        v_inf = (g_l * e_l + g[0] * e_rev[0] + g[1] * e_rev[1]) / g_tot
        rate = g_tot / c_m
        v_end = v_inf + (v - v_inf) * np.exp(-length * rate)
        new = np.isnan(t_cross) & (v_end >= v_th)
        if new.any():
            t_cross[new] = a[new] + time_to_threshold(v[new], v_inf[new], v_th[new], rate[new], length[new])
        v = v_end
    return np.where(np.isnan(t_cross), t1, t_cross)
