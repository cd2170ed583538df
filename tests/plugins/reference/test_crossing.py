"""Spike-time interpolation: the threshold crossing on the exact exponential trajectory of a step."""

from __future__ import annotations

import numpy as np

from hal_plugins.reference._crossing import refined_crossing, time_to_threshold


def _relax(v0, v_inf, rate, t):
    return v_inf + (v0 - v_inf) * np.exp(-rate * t)


def test_time_to_threshold_is_where_the_exponential_trajectory_meets_threshold():
    v0, v_inf, v_th, rate = np.array([-50.0, -45.0]), np.array([-30.0, -20.0]), np.array([-40.0, -40.0]), np.array([0.5, 2.0])
    with np.errstate(divide="ignore", invalid="ignore"):
        t = time_to_threshold(v0, v_inf, v_th, rate, np.array([10.0, 10.0]))
    np.testing.assert_allclose(_relax(v0, v_inf, rate, t), v_th, rtol=0, atol=1e-12)
    np.testing.assert_allclose(t, np.log((v_inf - v0) / (v_inf - v_th)) / rate, rtol=1e-15)


def test_time_to_threshold_clips_to_the_interval_and_is_zero_when_already_above():
    v0 = np.array([-39.0, -50.0, -50.0, -50.0])  # above; never reaches (v_inf below); reaches late; reaches exactly v_inf = v_th
    v_inf = np.array([-60.0, -45.0, -39.9, -40.0])
    with np.errstate(divide="ignore", invalid="ignore"):
        t = time_to_threshold(v0, v_inf, np.full(4, -40.0), np.full(4, 0.1), np.full(4, 0.025))
    assert t.tolist() == [0.0, 0.025, 0.025, 0.025]


def _step_average(g_start, tau, length):
    return g_start * tau / length * -np.expm1(-length / tau)


def test_refined_crossing_without_events_is_the_crossing_of_the_whole_step():
    # no event in the step (jump = average = 0): one interval, the step average of the decaying conductances
    t0, dt = 2.0, 0.1
    t1 = t0 + dt
    m = 3
    v_start, v_th = np.array([-38.0, -39.0, -37.6]), np.full(m, -37.5)
    c_m, g_l, e_l = np.full(m, 200.0), np.full(m, 10.0), np.full(m, -40.0)
    e_rev, tau = np.stack([np.zeros(m), np.full(m, -80.0)]), np.full((2, m), 5.0)
    g_start = np.stack([np.array([300.0, 500.0, 100.0]), np.zeros(m)])
    zero = np.zeros((2, m))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = refined_crossing(t0, t1, dt, np.full(m, t0), v_start, v_th, c_m, g_l, e_l, e_rev, tau, g_start, zero, zero)
        g = _step_average(g_start, tau, dt)
        g_tot = g_l + g[0] + g[1]
        v_inf = (g_l * e_l + g[0] * e_rev[0] + g[1] * e_rev[1]) / g_tot
        expected = t0 + time_to_threshold(v_start, v_inf, v_th, g_tot / c_m, np.full(m, dt))
    np.testing.assert_allclose(t, expected, rtol=0, atol=1e-12)
    assert ((t > t0) & (t < t1)).all()


def test_refined_crossing_puts_a_single_event_at_its_arrival_time():
    # one excitatory event of w nS at t_a inside the step, V held below threshold until then:
    # the crossing must come after t_a, on the trajectory that starts there
    t0, dt, t_a, w, tau_e = 0.0, 0.1, 0.06, 400.0, 5.0
    t1 = t0 + dt
    one = np.ones(1)
    jump = np.array([[w * np.exp(-(t1 - t_a) / tau_e)], [0.0]])
    average = np.array([[w * tau_e / dt * -np.expm1(-(t1 - t_a) / tau_e)], [0.0]])
    args = dict(c_m=200.0 * one, g_l=10.0 * one, e_l=-40.0 * one, e_rev=np.array([[0.0], [-80.0]]), tau=np.full((2, 1), tau_e))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = refined_crossing(t0, t1, dt, t0 * one, -40.0 * one, -39.0 * one, g_start=np.zeros((2, 1)), jump=jump, average=average, **args)
        # before t_a V stays at E_L; from t_a the conductance w e^{-(t-t_a)/tau} is averaged over [t_a, t1]
        g = _step_average(w, tau_e, t1 - t_a)
        g_tot = 10.0 + g
        v_inf = (10.0 * -40.0 + g * 0.0) / g_tot
        expected = t_a + time_to_threshold(-40.0 * one, v_inf * one, -39.0 * one, g_tot / 200.0 * one, (t1 - t_a) * one)
    assert t_a < t[0] < t1
    np.testing.assert_allclose(t, expected, rtol=0, atol=1e-12)
