"""hal_plugins.torch.dynamics: the twin's differentiable iaf_cond_exp step, against closed forms and the reference.

What is checked, and the numbers measured when these tests were written (float64):

* no input: V stays at E_L exactly;
* one input conductance: V against the integrating-factor solution of the membrane equation
  (a quadrature on 400k points): largest error 1.6e-3 / 5.8e-3 mV at dt = 0.5 ms (5 / 20 nS),
  6.5e-5 / 2.3e-4 mV at dt = 0.1 ms: second order (ratio 25 for a 5x smaller step);
* against :func:`hal_plugins.reference.integrator.simulate` with input spikes on the grid:
  with the reference at the same dt the sub-threshold membranes are the same numbers (same
  scheme); at the reference's own dt (0.025 ms) they differ by 1e-3 mV (dt 0.5); spike times
  are late by 0.09..0.34 ms at dt 0.5 and 0.09..0.20 ms at dt 0.25, never early and never by a
  full step; membranes away from spikes within 0.91 mV (dt 0.5) / 0.34 mV (dt 0.25);
* the refractory hold, the measured-value replacement with its gradients, the SuperSpike
  derivative, and the shape checks.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the torch dynamics need torch (pip install -e '.[train]')")

from hal.errors import ConfigError  # noqa: E402
from hal_plugins.reference.integrator import Connections, NeuronParameters, SpikeTrains, simulate  # noqa: E402
from hal_plugins.torch.dynamics import NeuronTensors, integrate, superspike  # noqa: E402

pytestmark = pytest.mark.needs_torch

#: A hidden neuron of the trainers (hal_trainers.snn.layers.DEFAULT_HIDDEN) at C = 200 pF.
PARAMS = {"c_m_pf": 200.0, "g_l_ns": 20.0, "e_l_mv": -65.0, "v_th_mv": -50.0, "v_reset_mv": -65.0, "e_rev_e_mv": 0.0,
          "e_rev_i_mv": -80.0, "tau_syn_e_ms": 5.0, "tau_syn_i_ms": 5.0, "t_ref_ms": 1.0}


def neurons(n: int = 1, **overrides) -> NeuronTensors:
    return NeuronTensors.from_mapping({**PARAMS, **overrides, "c_m_pf": np.full(n, overrides.get("c_m_pf", PARAMS["c_m_pf"]))},
                                      dtype=torch.float64)


def conductance_pulse(steps: int, at: dict[int, float], n: int = 1) -> torch.Tensor:
    g = torch.zeros(1, steps, n, dtype=torch.float64)
    for k, w in at.items():
        g[0, k, :] += w
    return g


def psp_closed_form(t_ms: np.ndarray, w_ns: float, p: dict = PARAMS) -> np.ndarray:
    """V(t) after one excitatory conductance jump ``w`` at t = 0 from rest (no threshold).

    With ``u = V - E_L``: ``du/dt = -(g_L + g(t)) u / C + g(t) (E_e - E_L) / C``, ``g = w e^{-t/tau}``,
    so ``u(t) = (E_e - E_L) / C e^{-A(t)} int_0^t e^{A(s)} g(s) ds`` with
    ``A(t) = g_L t / C + w tau (1 - e^{-t/tau}) / C``; the integral by the trapezoid rule on 400k points.
    """
    c, g_l, tau = p["c_m_pf"], p["g_l_ns"], p["tau_syn_e_ms"]
    s = np.linspace(0.0, float(t_ms.max()), 400_001)
    a = g_l * s / c + w_ns * tau * (1 - np.exp(-s / tau)) / c
    f = np.exp(a) * w_ns * np.exp(-s / tau)
    integral = np.concatenate([[0.0], np.cumsum((f[1:] + f[:-1]) / 2 * np.diff(s))])
    u = (p["e_rev_e_mv"] - p["e_l_mv"]) / c * np.exp(-a) * integral
    return np.interp(t_ms, s, p["e_l_mv"] + u)


# -- closed forms -----------------------------------------------------------------------------------


@pytest.mark.parametrize("dt", [0.5, 0.1, 0.037])
def test_without_input_the_membrane_stays_at_rest_exactly(dt):
    n = neurons(3, e_l_mv=-65.0)
    zeros = torch.zeros(2, 50, 3, dtype=torch.float64)
    trace = integrate(n, zeros, zeros, dt)
    assert torch.equal(trace.v, torch.full_like(trace.v, -65.0))
    assert trace.spikes.sum() == 0


@pytest.mark.parametrize(("dt", "bound_mv"), [(0.5, 0.02), (0.1, 1e-3)])
@pytest.mark.parametrize("w_ns", [5.0, 20.0])
def test_one_input_conductance_follows_the_closed_form(dt, bound_mv, w_ns):
    steps = int(round(40.0 / dt))
    trace = integrate(neurons(), conductance_pulse(steps, {0: w_ns}), torch.zeros(1, steps, 1, dtype=torch.float64), dt, spike_fn=None)
    v = trace.v[0, :, 0].numpy()
    t = (np.arange(steps) + 1) * dt  # v[k] is the membrane at the end of step k
    exact = psp_closed_form(t, w_ns)
    assert np.abs(v - exact).max() < bound_mv  # measured 1.6e-3..5.8e-3 (dt 0.5), 6.5e-5..2.3e-4 (dt 0.1)
    peak = int(np.argmax(v))
    assert 0 < peak < steps - 1
    assert np.all(np.diff(v[: peak + 1]) > 0)  # rises ...
    assert np.all(np.diff(v[peak:]) < 0)  # ... then decays back towards rest
    assert v[-1] - PARAMS["e_l_mv"] < 0.1 * (v[peak] - PARAMS["e_l_mv"])
    assert v.max() < PARAMS["e_rev_e_mv"]


def test_the_error_is_second_order_in_dt():
    errors = []
    for dt in (0.5, 0.1):
        steps = int(round(40.0 / dt))
        trace = integrate(neurons(), conductance_pulse(steps, {0: 20.0}), torch.zeros(1, steps, 1, dtype=torch.float64), dt, spike_fn=None)
        errors.append(np.abs(trace.v[0, :, 0].numpy() - psp_closed_form((np.arange(steps) + 1) * dt, 20.0)).max())
    assert errors[0] / errors[1] > 15  # 25 for exact second order; measured 25.0


def test_inhibition_pulls_towards_the_inhibitory_reversal_potential():
    steps = 80
    trace = integrate(neurons(), torch.zeros(1, steps, 1, dtype=torch.float64), conductance_pulse(steps, {0: 50.0}), 0.5)
    v = trace.v[0, :, 0].numpy()
    assert v.min() < PARAMS["e_l_mv"] - 3 and v.min() > PARAMS["e_rev_i_mv"]


# -- against the reference integrator -------------------------------------------------------------------


def twin_and_reference(dt, exc, inh, *, w_e, w_i, params=PARAMS, duration=60.0, delay=0.5, reference_dt=None):
    """One neuron, input spikes at ``exc`` / ``inh`` (ms) arriving ``delay`` later, on the twin's grid."""
    steps = int(round(duration / dt))
    g_e = conductance_pulse(steps, {})
    g_i = conductance_pulse(steps, {})
    for t in exc:
        g_e[0, int(round((t + delay) / dt)), 0] += w_e
    for t in inh:
        g_i[0, int(round((t + delay) / dt)), 0] += w_i
    trace = integrate(NeuronTensors.from_mapping(params, dtype=torch.float64), g_e, g_i, dt)
    times = np.array([*exc, *inh], dtype=float)
    index = np.array([0] * len(exc) + [1] * len(inh))
    order = np.argsort(times, kind="stable")
    conn = Connections(pre=[0, 1], post=[0, 0], weight_ns=[w_e, w_i], excitatory=[True, False], delay_ms=[delay, delay])
    extra = {} if reference_dt is None else {"dt_ms": reference_dt}
    ref = simulate(NeuronParameters.uniform(1, **params), conn, 2, [SpikeTrains(times_ms=times[order], index=index[order])], duration,
                   record_membrane=[0], membrane_dt_ms=dt, **extra)
    twin_spikes = (np.flatnonzero(trace.spikes[0, :, 0].numpy()) + 1) * dt
    return twin_spikes, ref.spikes[0].times_ms, trace.v[0, :, 0].numpy(), ref.membrane[0, 0, 1:]


@pytest.mark.parametrize("dt", [0.5, 0.1])
def test_sub_threshold_membrane_is_the_reference_scheme(dt):
    args = dict(exc=[2.0, 4.0, 4.5, 20.0], inh=[10.0], w_e=4.0, w_i=6.0)
    spikes, ref_spikes, v, v_ref = twin_and_reference(dt, **args, reference_dt=dt)
    assert len(spikes) == len(ref_spikes) == 0
    # Same exponential integrator with step-average conductances: the same numbers at the same dt.
    np.testing.assert_allclose(v[: len(v_ref)], v_ref, atol=1e-9, rtol=0)
    _, _, v, v_fine = twin_and_reference(dt, **args)  # the reference at its default 0.025 ms
    assert np.abs(v[: len(v_fine)] - v_fine).max() < (5e-3 if dt == 0.5 else 2e-4)  # measured 1.0e-3 (dt 0.5), 3.7e-5 (dt 0.1)
    assert v.max() > PARAMS["e_l_mv"] + 1


@pytest.mark.parametrize(("dt", "v_bound_mv"), [(0.5, 1.5), (0.25, 0.6)])
def test_spikes_within_one_step_of_the_reference(dt, v_bound_mv):
    params = {**PARAMS, "tau_syn_e_ms": 2.0, "tau_syn_i_ms": 2.0, "t_ref_ms": 2.0}
    spikes, ref_spikes, v, v_ref = twin_and_reference(dt, [2.0, 12.0, 22.0, 32.0, 47.0], [31.0], w_e=40.0, w_i=20.0, params=params)
    assert len(ref_spikes) == 3 and len(spikes) == len(ref_spikes)
    late = spikes - ref_spikes
    # The twin reports a spike at the end of the step in which V crossed: never early, less than a step late
    # (measured 0.09..0.34 ms at dt 0.5, 0.09..0.20 ms at dt 0.25).
    assert np.all(late >= 0) and np.all(late < dt)
    t = (np.arange(len(v_ref)) + 1) * dt
    away = np.ones(len(v_ref), dtype=bool)
    for s in np.concatenate([spikes, ref_spikes]):
        away &= ~((t >= s - dt) & (t <= s + params["t_ref_ms"] + dt))
    assert away.sum() > 0.7 * len(away)
    assert np.abs(v[: len(v_ref)] - v_ref)[away].max() < v_bound_mv  # measured 0.91 (dt 0.5), 0.34 (dt 0.25)


# -- refractory hold -------------------------------------------------------------------------------


@pytest.mark.parametrize(("t_ref", "dt"), [(2.0, 0.5), (1.0, 0.25), (0.0, 0.5)])
def test_refractory_hold(t_ref, dt):
    steps = int(round(30.0 / dt))
    n = neurons(t_ref_ms=t_ref)
    trace = integrate(n, conductance_pulse(steps, {0: 400.0}), conductance_pulse(steps, {}), dt)
    s, v = trace.spikes[0, :, 0].numpy(), trace.v[0, :, 0].numpy()
    fired = np.flatnonzero(s)
    assert len(fired) >= 3  # a strong, long drive fires repeatedly
    hold = int(round(t_ref / dt))
    assert np.all(np.diff(fired) >= hold + 1)
    for k in fired:
        assert v[k] >= PARAMS["v_th_mv"]  # the spike step shows the crossing (membrane before the reset)
        held = v[k + 1: k + 1 + hold]
        assert np.all(held == PARAMS["v_reset_mv"]) and not s[k + 1: k + 1 + hold].any()
        if k + 1 + hold < steps:
            assert v[k + 1 + hold] > PARAMS["v_reset_mv"]  # free again: relaxes from the reset towards V_inf


# -- measured values -------------------------------------------------------------------------------


def _driven(seed=0, batch=3, steps=60, n=4, scale=30.0):
    gen = torch.Generator().manual_seed(seed)
    g_e = (torch.rand(batch, steps, n, generator=gen, dtype=torch.float64) < 0.15) * scale
    g_i = (torch.rand(batch, steps, n, generator=gen, dtype=torch.float64) < 0.05) * scale
    return g_e.requires_grad_(), g_i.requires_grad_()


def _grads(fn, *leaves):
    for leaf in leaves:
        leaf.grad = None
    fn().backward()
    return [leaf.grad.clone() for leaf in leaves]


def test_measured_membrane_replaces_forward_values_and_keeps_the_twins_gradient():
    n = neurons(4)
    g_e, g_i = _driven()
    spike = superspike(0.5)
    own = integrate(n, g_e, g_i, 0.5, spike_fn=spike)
    assert own.spikes.sum() > 0  # the drive makes some spikes

    # The twin's own membrane as the measurement: identical values and identical gradients.
    same = integrate(n, g_e, g_i, 0.5, spike_fn=spike, measured_v=own.v.detach(), measured_spikes=own.spikes.detach())
    assert torch.equal(same.v, own.v) and torch.equal(same.spikes, own.spikes)
    for a, b in zip(_grads(lambda: integrate(n, g_e, g_i, 0.5, spike_fn=spike).v.sum(), g_e, g_i),
                    _grads(lambda: integrate(n, g_e, g_i, 0.5, spike_fn=spike, measured_v=own.v.detach(),
                                             measured_spikes=own.spikes.detach()).v.sum(), g_e, g_i)):
        torch.testing.assert_close(a, b)

    # Another measurement: the forward values are the measured ones, the gradient still flows.
    measured = own.v.detach() + 0.7 * torch.randn(own.v.shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    out = integrate(n, g_e, g_i, 0.5, spike_fn=None, measured_v=measured)
    assert torch.equal(out.v, measured)
    k0 = 30
    (grad_e,) = _grads(lambda: integrate(n, g_e, g_i, 0.5, spike_fn=None, measured_v=measured).v[:, k0].sum(), g_e)
    assert grad_e[:, : k0 + 1].abs().sum() > 0  # through the twin's own step ...
    assert torch.all(grad_e[:, k0 + 1:] == 0)  # ... and causal: later inputs do not move v[k0]
    assert torch.all(grad_e[:, k0] > 0)  # excitation at the step itself raises the membrane


def test_measured_spikes_replace_forward_spikes_with_the_surrogate_at_the_membrane():
    n = neurons(4)
    g_e, g_i = _driven(seed=3)
    spike = superspike(0.5)
    own = integrate(n, g_e, g_i, 0.5, spike_fn=spike)
    measured = torch.zeros_like(own.spikes)
    measured[:, 10::15] = 1.0  # spikes the twin did not make
    out = integrate(n, g_e, g_i, 0.5, spike_fn=spike, measured_spikes=measured)
    assert torch.equal(out.spikes, measured)
    # The reset follows the measured spikes: the membrane after a measured spike (t_ref 1 ms = 2 steps) is V_reset.
    assert torch.all(out.v[:, 11::15] == PARAMS["v_reset_mv"])
    (grad_e,) = _grads(lambda: integrate(n, g_e, g_i, 0.5, spike_fn=spike, measured_spikes=measured).spikes.sum(), g_e)
    assert grad_e.abs().sum() > 0
    (grad_early,) = _grads(lambda: integrate(n, g_e, g_i, 0.5, spike_fn=spike,
                                            measured_spikes=measured.clone()).spikes[:, 9].sum(), g_e)
    assert torch.all(grad_early[:, 10:] == 0)  # causal


def test_a_sampled_reset_at_a_measured_spike_is_read_as_the_crossing():
    """A sampled trace shows V_reset at a spike's step; the twin marks the crossing there (>= V_th).

    With both measured, the forward membrane at a measured spike is raised to the threshold, so the
    surrogate derivative is taken at its peak there, not 15 mV below (1/961 of it at 2/mV).
    """
    n = neurons(4)
    g_e, g_i = _driven(seed=5)
    spike = superspike(2.0)
    own = integrate(n, g_e, g_i, 0.5, spike_fn=spike)
    spikes = own.spikes.detach()
    assert spikes.sum() > 5
    sampled = torch.where(spikes > 0, torch.full_like(own.v, PARAMS["v_reset_mv"]), own.v.detach())
    out = integrate(n, g_e, g_i, 0.5, spike_fn=spike, measured_v=sampled, measured_spikes=spikes)
    fired = spikes > 0
    exact = {"atol": 1e-12, "rtol": 0}
    torch.testing.assert_close(out.v[fired].detach(), torch.full_like(out.v[fired], PARAMS["v_th_mv"]), **exact)  # raised to V_th
    torch.testing.assert_close(out.v[~fired].detach(), sampled[~fired], **exact)  # elsewhere the measurement as it is
    assert torch.equal(out.spikes, spikes)
    # The gradient at a spike's own step is the surrogate's peak times dV/dg: as with a trace that shows the threshold.
    at_threshold = torch.where(fired, torch.full_like(own.v, PARAMS["v_th_mv"]), own.v.detach())
    grads = [_grads(lambda m=m: integrate(n, g_e, g_i, 0.5, spike_fn=spike, measured_v=m, measured_spikes=spikes).spikes.sum(), g_e)[0]
             for m in (sampled, at_threshold)]
    torch.testing.assert_close(grads[0], grads[1])
    assert grads[0].abs().sum() > 0


def test_measured_values_of_the_wrong_shape_raise():
    n = neurons(4)
    g = torch.zeros(2, 10, 4, dtype=torch.float64)
    for name in ("measured_v", "measured_spikes"):
        with pytest.raises(ConfigError, match=f"{name} of shape \\(2, 9, 4\\); expected \\(2, 10, 4\\)"):
            integrate(n, g, g, 0.5, **{name: torch.zeros(2, 9, 4, dtype=torch.float64)})


# -- surrogate derivative -----------------------------------------------------------------------------


@pytest.mark.parametrize("steepness", [0.5, 2.0, 10.0])
def test_superspike_forward_is_heaviside_and_backward_the_formula(steepness):
    x = torch.tensor([-20.0, -3.0, -0.1, 0.0, 0.1, 2.0, 15.0], dtype=torch.float64, requires_grad=True)
    y = superspike(steepness)(x)
    assert y.tolist() == [0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0]
    upstream = torch.arange(1.0, 8.0, dtype=torch.float64)
    y.backward(upstream)
    expected = upstream / (steepness * x.detach().abs() + 1.0) ** 2
    torch.testing.assert_close(x.grad, expected)
    assert x.grad[3] == upstream[3]  # derivative 1 at the threshold


def test_superspike_gradient_reaches_the_input_through_integrate():
    n = neurons(2)
    g_e, g_i = _driven(n=2, scale=3.0)  # sub-threshold: the gradient comes only from the surrogate
    (grad_e,) = _grads(lambda: integrate(n, g_e, g_i, 0.5, spike_fn=superspike(1.0)).spikes.sum(), g_e)
    assert grad_e.abs().sum() > 0
    with torch.no_grad():
        assert integrate(n, g_e, g_i, 0.5).spikes.sum() == 0


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan")])
def test_superspike_steepness_must_be_positive(bad):
    with pytest.raises(ConfigError, match="steepness"):
        superspike(bad)


# -- shapes and parameters ----------------------------------------------------------------------------


@pytest.mark.parametrize(("g_e_shape", "g_i_shape"), [((2, 10, 3), (2, 10, 4)), ((2, 10, 4), (2, 10, 4)), ((10, 3), (10, 3)),
                                                      ((2, 10, 3), (2, 11, 3))])
def test_bad_input_shapes_raise(g_e_shape, g_i_shape):
    n = neurons(3)
    match = re.escape(f"inputs of shape {g_e_shape} and {g_i_shape}; expected equal (batch, steps, 3)")
    with pytest.raises(ConfigError, match=match):
        integrate(n, torch.zeros(g_e_shape), torch.zeros(g_i_shape), 0.5)


@pytest.mark.parametrize(("kwargs", "match"), [({"dt_ms": 0.0}, "dt_ms 0.0"), ({"dt_ms": -0.5}, "dt_ms -0.5"),
                                               ({"recurrent_delay": 0}, "recurrent_delay 0")])
def test_bad_step_or_delay_raise(kwargs, match):
    n = neurons(3)
    g = torch.zeros(1, 5, 3)
    args = {"dt_ms": 0.5, **kwargs}
    dt = args.pop("dt_ms")
    with pytest.raises(ConfigError, match=match):
        integrate(n, g, g, dt, **args)


def test_neuron_tensors_validate():
    good = {k: torch.full((3,), float(v)) for k, v in PARAMS.items()}
    with pytest.raises(ConfigError, match=r"NeuronTensors.g_l_ns: expected a 1-d tensor of shape \(3,\), got \(2,\)"):
        NeuronTensors(**{**good, "g_l_ns": torch.ones(2)})
    with pytest.raises(ConfigError, match="NeuronTensors.tau_syn_e_ms: every value must be > 0"):
        NeuronTensors(**{**good, "tau_syn_e_ms": torch.tensor([5.0, 0.0, 5.0])})
    with pytest.raises(ConfigError, match="NeuronTensors.t_ref_ms: every value must be >= 0"):
        NeuronTensors(**{**good, "t_ref_ms": torch.tensor([1.0, -1.0, 1.0])})
    with pytest.raises(ConfigError, match="missing parameter\\(s\\) t_ref_ms"):
        NeuronTensors.from_mapping({k: v for k, v in PARAMS.items() if k != "t_ref_ms"})


def test_recurrent_spikes_arrive_after_the_delay():
    n = neurons(2)
    steps = 40
    g_e = conductance_pulse(steps, {}, n=2)
    g_e[0, 2, 0] = 400.0  # neuron 0 fires; neuron 1 only hears it through the recurrent weight
    rec = torch.tensor([[0.0, 0.0], [60.0, 0.0]], dtype=torch.float64)  # [post, pre]
    for delay in (1, 4):
        trace = integrate(n, g_e, torch.zeros_like(g_e), 0.5, recurrent_e=rec, recurrent_delay=delay)
        first = int(np.flatnonzero(trace.spikes[0, :, 0].numpy())[0])
        v1 = trace.v[0, :, 1].numpy()
        assert np.all(v1[: first + delay] == PARAMS["e_l_mv"])  # nothing before the spike has arrived
        assert v1[first + delay] > PARAMS["e_l_mv"]  # the spike of step `first` arrives in step first + delay
