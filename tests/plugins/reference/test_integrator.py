"""Behaviour of the reference integrator: analytic cases, accuracy, batching, delays, validation."""

from __future__ import annotations

import doctest
import math

import attrs
import numpy as np
import pytest
from hal.logging import capture_events

from hal.errors import ConfigError
from hal_plugins.reference import data, integrator
from hal_plugins.reference.integrator import (
    DEFAULT_DT_MS,
    SCHMITT2017_VALUES,
    Connections,
    NeuronParameters,
    SimulationResult,
    SpikeTrains,
    simulate,
)

NEVER = 1e9  # a synaptic time constant (ms) that makes a conductance constant over a test


def run(*args, **kwargs) -> SimulationResult:
    with capture_events():
        return simulate(*args, **kwargs)


def one_synapse(weight=5.0, excitatory=True, delay=1.0) -> Connections:
    return Connections(pre=[0], post=[0], weight_ns=[weight], excitatory=[excitatory], delay_ms=[delay])


def inputs(*times, index=None) -> list[SpikeTrains]:
    return [SpikeTrains(times_ms=list(times), index=[0] * len(times) if index is None else index)]


def psp_reference(p: NeuronParameters, weight: float, excitatory: bool, t_arrive: float, times: np.ndarray) -> np.ndarray:
    """V(t) of a neuron at rest that receives one event at ``t_arrive``, by quadrature.

    With u = V - E_L and Lambda(t) = int (g_L + g)/C: u(t) = e^{-Lambda(t)} int e^{Lambda(s)} g(s) (E_rev - E_L)/C ds;
    the trapezoidal rule on 600,001 points is accurate to ~1e-9 mV here.
    """
    c, g_l, e_l = p.c_m_pf[0], p.g_l_ns[0], p.e_l_mv[0]
    tau = p.tau_syn_e_ms[0] if excitatory else p.tau_syn_i_ms[0]
    e_rev = p.e_rev_e_mv[0] if excitatory else p.e_rev_i_mv[0]
    s = np.linspace(t_arrive, times.max(), 600_001)
    x = s - t_arrive
    g = weight * np.exp(-x / tau)
    lam = (g_l * x + weight * tau * -np.expm1(-x / tau)) / c
    f = np.exp(lam) * g * (e_rev - e_l) / c
    integral = np.concatenate([[0.0], np.cumsum((f[1:] + f[:-1]) / 2 * np.diff(s))])
    return np.where(times < t_arrive, e_l, e_l + np.interp(times, s, np.exp(-lam) * integral))


# --------------------------------------------------------------------------- analytic behaviour


def test_a_neuron_without_input_stays_at_rest_and_never_spikes():
    p = NeuronParameters.schmitt2017(3)
    r = run(p, Connections.empty(), 0, [SpikeTrains.empty()] * 2, 50.0, record_membrane=[0, 2])
    assert all(len(s) == 0 for s in r.spikes)
    assert r.membrane.shape == (2, 2, 500)
    np.testing.assert_array_equal(r.membrane, -40.0)
    np.testing.assert_allclose(r.membrane_times_ms[:3], [0.0, 0.1, 0.2])


def test_constant_conductance_relaxes_exponentially_to_the_effective_reversal():
    # tau_syn "infinite": after the events at 1 ms, g_e = 12 nS and g_i = 6 nS stay constant
    p = NeuronParameters.schmitt2017(1, v_th_mv=50.0, tau_syn_e_ms=NEVER, tau_syn_i_ms=NEVER)
    c = Connections(pre=[0, 1], post=[0, 0], weight_ns=[12.0, 6.0], excitatory=[True, False], delay_ms=[0.5, 0.5])
    r = run(p, c, 2, [SpikeTrains(times_ms=[0.5, 0.5], index=[0, 1])], 30.0, record_membrane=[0])
    g_tot = 10.0 + 12.0 + 6.0
    v_inf = (10.0 * -40.0 + 12.0 * 0.0 + 6.0 * -80.0) / g_tot
    t = r.membrane_times_ms
    expected = np.where(t < 1.0, -40.0, v_inf + (-40.0 - v_inf) * np.exp(-(t - 1.0) * g_tot / 200.0))
    np.testing.assert_allclose(r.membrane[0, 0], expected, atol=1e-6)


@pytest.mark.parametrize("excitatory, weight", [(True, 5.0), (False, 8.0)], ids=["excitatory", "inhibitory"])
def test_single_psp_matches_an_accurate_quadrature_solution(excitatory, weight):
    p = NeuronParameters.schmitt2017(1, v_th_mv=10.0)  # no spike
    t_arrive = 3.0037  # between grid points
    r = run(p, one_synapse(weight, excitatory), 1, inputs(t_arrive - 1.0), 40.0, record_membrane=[0], membrane_dt_ms=DEFAULT_DT_MS)
    ours = r.membrane[0, 0]
    reference = psp_reference(p, weight, excitatory, t_arrive, r.membrane_times_ms)
    extreme = np.argmax if excitatory else np.argmin
    assert abs(ours[extreme(ours)] - reference[extreme(reference)]) < 1e-5  # PSP peak (mV)
    assert np.abs(ours - reference).max() < 1e-5
    assert abs(reference[extreme(reference)] - -40.0) > 1.0  # a real PSP, not a flat line


@pytest.mark.parametrize("phase", [0.0, 0.3, 0.77])
def test_membrane_error_is_second_order_in_dt(phase):
    """Error of the PSP trajectory shrinks 4x per halving of dt (the event at a fixed phase of its step)."""
    p = NeuronParameters.schmitt2017(1, v_th_mv=10.0)
    errors = []
    for dt in (0.2, 0.1, 0.05):
        t_arrive = 3.0 + phase * dt
        r = run(p, one_synapse(5.0), 1, inputs(t_arrive - 1.0), 30.0, dt_ms=dt, record_membrane=[0], membrane_dt_ms=0.2)
        errors.append(np.abs(r.membrane[0, 0] - psp_reference(p, 5.0, True, t_arrive, r.membrane_times_ms)).max())
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    assert np.all((ratios > 3.6) & (ratios < 4.4)), (errors, ratios)


def test_spike_time_error_is_second_order_in_dt():
    """A neuron driven by a burst of inputs on a 0.2 ms grid: spike-time error vs dt = 0.005 ms."""
    p = NeuronParameters.schmitt2017(1, t_ref_ms=1.0)
    times = np.arange(1.0, 40.0, 0.6)
    c = one_synapse(1.6, delay=1.0)

    def spikes(dt):
        return run(p, c, 1, inputs(*times), 45.0, dt_ms=dt).spikes[0].times_ms

    reference = spikes(0.005)
    assert len(reference) >= 3
    errors = [np.abs(spikes(dt) - reference).max() for dt in (0.2, 0.1, 0.05)]
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    assert np.all((ratios > 3.0) & (ratios < 5.0)), (errors, ratios)
    assert errors[-1] < 1e-3


def test_refractory_period_clamps_v_to_reset_for_t_ref_then_the_interval_is_analytic():
    # constant suprathreshold drive: regular firing with ISI = t_ref + C/g ln((V_inf - V_reset)/(V_inf - V_th))
    p = NeuronParameters.schmitt2017(1, tau_syn_e_ms=NEVER, t_ref_ms=2.0)
    r = run(p, one_synapse(20.0, delay=0.5), 1, inputs(0.5), 60.0, record_membrane=[0], membrane_dt_ms=DEFAULT_DT_MS)
    g_tot = 30.0
    v_inf = (10.0 * -40.0 + 20.0 * 0.0) / g_tot
    isi = 2.0 + 200.0 / g_tot * math.log((v_inf - -64.0) / (v_inf - -37.5))
    first = 1.0 + 200.0 / g_tot * math.log((v_inf - -40.0) / (v_inf - -37.5))
    t_spikes = r.spikes[0].times_ms
    assert len(t_spikes) >= 5
    np.testing.assert_allclose(t_spikes[0], first, atol=1e-6)
    np.testing.assert_allclose(np.diff(t_spikes), isi, atol=1e-6)
    t, v = r.membrane_times_ms, r.membrane[0, 0]
    for ts in t_spikes:
        clamped = (t > ts) & (t <= ts + 2.0)
        np.testing.assert_array_equal(v[clamped], -64.0)
        after = (t > ts + 2.0 + 1e-9) & (t < ts + 2.5)
        assert np.all(v[after] > -64.0)


def test_refractory_period_shorter_than_a_step_lets_v_relax_in_the_rest_of_the_step():
    p = NeuronParameters.schmitt2017(1, tau_syn_e_ms=NEVER, t_ref_ms=0.01)
    r = run(p, one_synapse(40.0, delay=0.5), 1, inputs(0.5), 20.0, dt_ms=0.05)
    g_tot = 50.0
    v_inf = (10.0 * -40.0) / g_tot
    isi = 0.01 + 200.0 / g_tot * math.log((v_inf - -64.0) / (v_inf - -37.5))
    np.testing.assert_allclose(np.diff(r.spikes[0].times_ms), isi, atol=1e-6)


# --------------------------------------------------------------------------- batches and networks


def _random_network(rng: np.random.Generator, n_sources=6, n_neurons=5) -> Connections:
    pre = np.concatenate([rng.integers(0, n_sources, 20), n_sources + rng.integers(0, n_neurons, 10)])
    post = rng.integers(0, n_neurons, pre.size)
    return Connections(
        pre=pre,
        post=post,
        weight_ns=rng.uniform(0.0, 12.0, pre.size),
        excitatory=rng.random(pre.size) < 0.7,
        delay_ms=np.round(rng.uniform(0.3, 2.0, pre.size), 3),
    )


def _random_inputs(rng: np.random.Generator, n_sources: int, duration: float) -> SpikeTrains:
    n = rng.poisson(0.2 * duration)
    return SpikeTrains.from_unsorted(rng.uniform(0.0, duration, n), rng.integers(0, n_sources, n))


def test_samples_of_a_batch_are_independent_runs():
    rng = np.random.default_rng(5)
    p = NeuronParameters.schmitt2017(5, t_ref_ms=0.5)
    c = _random_network(rng)
    batch = [_random_inputs(rng, 6, 200.0) for _ in range(4)]
    together = run(p, c, 6, batch, 200.0, record_membrane=[1, 4])
    assert sum(len(s) for s in together.spikes) > 20
    for k, train in enumerate(batch):
        alone = run(p, c, 6, [train], 200.0, record_membrane=[1, 4])
        np.testing.assert_array_equal(together.spikes[k].index, alone.spikes[0].index)
        np.testing.assert_allclose(together.spikes[k].times_ms, alone.spikes[0].times_ms, rtol=0, atol=1e-9)
        np.testing.assert_allclose(together.membrane[k], alone.membrane[0], rtol=0, atol=1e-9)


def test_a_neurons_spike_reaches_its_target_exactly_after_the_delay():
    # source 0 -> neuron 0 (fires once); neuron 0 -> neuron 1 with a 3.7 ms delay
    p = NeuronParameters.schmitt2017(2, t_ref_ms=50.0)
    c = Connections(pre=[0, 1], post=[0, 1], weight_ns=[20.0, 20.0], excitatory=[True, True], delay_ms=[1.0, 3.7])
    r = run(p, c, 1, inputs(1.0), 30.0, record_membrane=[1], membrane_dt_ms=DEFAULT_DT_MS)
    t0 = r.spikes[0].times_of(0)
    assert len(t0) == 1
    arrival = t0[0] + 3.7
    t, v = r.membrane_times_ms, r.membrane[0, 0]
    np.testing.assert_array_equal(v[t <= arrival], -40.0)
    assert np.all(v[(t > arrival) & (t < arrival + 0.3)] > -40.0)
    # the same event from an input source at the same arrival time gives the same response
    direct = run(NeuronParameters.schmitt2017(1, t_ref_ms=50.0), one_synapse(20.0, delay=1.0), 1, inputs(arrival - 1.0), 30.0)
    np.testing.assert_allclose(r.spikes[0].times_of(1), direct.spikes[0].times_ms, atol=1e-9)


def test_a_spike_after_the_duration_is_dropped_and_its_delivery_ignored():
    p = NeuronParameters.schmitt2017(1)
    r = run(p, one_synapse(20.0, delay=9.5), 1, inputs(0.1), 10.0)
    assert len(r.spikes[0]) == 0
    np.testing.assert_array_equal(r.spike_counts(), [[0]])


def test_results_are_frozen_and_arrays_read_only():
    p = NeuronParameters.schmitt2017(2)
    with pytest.raises(ValueError):
        p.c_m_pf[0] = 1.0
    assert NeuronParameters.schmitt2017(2) == p
    assert np.isclose(p.tau_m_ms, 20.0).all()


@pytest.mark.parametrize("module", [integrator, data], ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_docstring_examples(module):
    with capture_events():
        result = doctest.testmod(module)
    assert result.failed == 0 and result.attempted >= 2


def test_the_integrator_re_exports_the_data_types():
    for name in ("SCHMITT2017_VALUES", "NeuronParameters", "Connections", "SpikeTrains", "SimulationResult"):
        assert getattr(integrator, name) is getattr(data, name)


# --------------------------------------------------------------------------- validation


def _params(**over):
    return NeuronParameters.uniform(2, **{**SCHMITT2017_VALUES, **over})


def _simulate(**over):
    args = dict(
        params=NeuronParameters.schmitt2017(2),
        connections=Connections(pre=[0, 2], post=[0, 1], weight_ns=[1.0, 1.0], excitatory=[True, False], delay_ms=[1.0, 1.0]),
        n_sources=2,
        inputs=inputs(1.0, 5.0, index=[0, 1]),
        duration_ms=10.0,
    )
    args.update(over)
    with capture_events():
        return simulate(**args)


BAD = {
    "negative duration": (lambda: _simulate(duration_ms=-1.0), "duration_ms: -1.0 out of range; valid: a finite number >= 0"),
    "nan duration": (lambda: _simulate(duration_ms=float("nan")), "duration_ms: nan out of range"),
    "input after the end": (lambda: _simulate(inputs=inputs(1.0, 12.0)), "inputs[0].times_ms[1]: 12.0 out of range; valid [0, 10.0)"),
    "input at the end": (lambda: _simulate(inputs=inputs(10.0)), "inputs[0].times_ms[0]: 10.0 out of range; valid [0, 10.0)"),
    "negative input time": (lambda: _simulate(inputs=inputs(-0.5)), "inputs[0].times_ms[0]: -0.5 out of range; valid [0, 10.0)"),
    "input index": (lambda: _simulate(inputs=inputs(1.0, index=[2])), "inputs[0].index[0]: 2 out of range; valid 0..1 (sources)"),
    "nan input time": (lambda: SpikeTrains(times_ms=[1.0, float("nan")], index=[0, 0]), "SpikeTrains.times_ms[1]: nan is not finite"),
    "negative index": (lambda: SpikeTrains(times_ms=[1.0], index=[-1]), "SpikeTrains.index[0]: -1 out of range; valid >= 0"),
    "unsorted inputs": (lambda: SpikeTrains(times_ms=[2.0, 1.0], index=[0, 0]), "SpikeTrains.times_ms[1]: 1.0 is earlier than the previous spike"),
    "float index": (lambda: SpikeTrains(times_ms=[1.0], index=[0.5]), "SpikeTrains.index: got list of float64; valid: a 1-d array of integers"),
    "length mismatch": (lambda: SpikeTrains(times_ms=[1.0, 2.0], index=[0]), "SpikeTrains.index: length 1 does not match times_ms's 2"),
    "no samples": (lambda: _simulate(inputs=[]), "inputs: 0 samples; valid: at least one SpikeTrains"),
    "one train, not a list": (lambda: _simulate(inputs=inputs(1.0)[0]), "inputs: got SpikeTrains; valid: a sequence of SpikeTrains"),
    "not a train": (lambda: _simulate(inputs=[[1.0]]), "inputs[0]: got list; valid: SpikeTrains"),
    "negative capacitance": (lambda: attrs.evolve(_params(), c_m_pf=[200.0, -1.0]), "NeuronParameters.c_m_pf[1]: -1.0 out of range; valid > 0"),
    "zero tau_syn": (lambda: _params(tau_syn_i_ms=0.0), "NeuronParameters.tau_syn_i_ms[0]: 0.0 out of range; valid > 0"),
    "negative t_ref": (lambda: _params(t_ref_ms=-1.0), "NeuronParameters.t_ref_ms[0]: -1.0 out of range; valid >= 0"),
    "reset above threshold": (lambda: _params(v_reset_mv=-30.0), "NeuronParameters.v_reset_mv[0]: -30.0 out of range; valid < v_th_mv"),
    "nan parameter": (lambda: _params(e_l_mv=float("nan")), "NeuronParameters.e_l_mv[0]: nan is not finite"),
    "shape mismatch": (
        lambda: attrs.evolve(_params(), g_l_ns=[10.0, 10.0, 10.0]),
        "NeuronParameters.g_l_ns: shape (3,) does not match c_m_pf's (2,); valid: one value per neuron",
    ),
    "text parameter": (lambda: attrs.evolve(_params(), g_l_ns="10"), "NeuronParameters.g_l_ns: got str; valid: a 1-d array of real numbers"),
    "uniform missing field": (lambda: NeuronParameters.uniform(2, c_m_pf=200.0), "missing field(s) g_l_ns, e_l_mv"),
    "uniform unknown field": (lambda: NeuronParameters.uniform(2, **SCHMITT2017_VALUES, tau_m_ms=20.0), "unknown field 'tau_m_ms'"),
    "uniform text value": (
        lambda: NeuronParameters.uniform(2, **{**SCHMITT2017_VALUES, "c_m_pf": "200"}),
        "NeuronParameters.uniform c_m_pf: '200'; valid: a real number",
    ),
    "uniform n": (lambda: NeuronParameters.uniform(0, **SCHMITT2017_VALUES), "n: 0 out of range; valid: an integer >= 1"),
    "negative weight": (
        lambda: Connections(pre=[0], post=[0], weight_ns=[-1.0], excitatory=[True], delay_ms=[1.0]),
        "Connections.weight_ns[0]: -1.0 out of range; valid >= 0",
    ),
    "zero delay": (lambda: Connections(pre=[0], post=[0], weight_ns=[1.0], excitatory=[True], delay_ms=[0.0]), "Connections.delay_ms[0]: 0.0 out of range; valid > 0"),
    "synapse lengths": (
        lambda: Connections(pre=[0, 1], post=[0], weight_ns=[1.0, 1.0], excitatory=[True, True], delay_ms=[1.0, 1.0]),
        "Connections.post: length 1 does not match pre's 2",
    ),
    "excitatory not bool": (
        lambda: Connections(pre=[0], post=[0], weight_ns=[1.0], excitatory=[1], delay_ms=[1.0]),
        "Connections.excitatory: got list of int64; valid: a 1-d array of booleans",
    ),
    "pre out of range": (
        lambda: _simulate(connections=Connections(pre=[4], post=[0], weight_ns=[1.0], excitatory=[True], delay_ms=[1.0])),
        "Connections.pre[0]: 4 out of range; valid 0..3 (2 sources, then 2 neurons)",
    ),
    "post out of range": (
        lambda: _simulate(connections=Connections(pre=[0], post=[2], weight_ns=[1.0], excitatory=[True], delay_ms=[1.0])),
        "Connections.post[0]: 2 out of range; valid 0..1 (neurons)",
    ),
    "recurrent delay below dt": (
        lambda: _simulate(connections=Connections(pre=[2], post=[1], weight_ns=[1.0], excitatory=[True], delay_ms=[0.01])),
        f"Connections.delay_ms[0]: 0.01 out of range; valid >= dt_ms = {DEFAULT_DT_MS} for synapses from neurons",
    ),
    "zero dt": (lambda: _simulate(dt_ms=0.0), "dt_ms: 0.0 out of range; valid: a finite number > 0"),
    "membrane_dt not a multiple": (
        lambda: _simulate(record_membrane=[0], membrane_dt_ms=0.03, dt_ms=0.02),
        "membrane_dt_ms: 0.03 is not a multiple of dt_ms = 0.02",
    ),
    "recorded neuron": (lambda: _simulate(record_membrane=[0, 5]), "simulate.record_membrane[1]: 5 out of range; valid 0..1 (neurons)"),
    "v_init shape": (lambda: _simulate(v_init_mv=[1.0, 2.0, 3.0]), "v_init_mv: shape (3,); valid: a scalar, (n_neurons,) = (2,) or (samples, n_neurons) = (1, 2)"),
    "n_sources": (lambda: _simulate(n_sources=-1), "n_sources: -1 out of range; valid: an integer >= 0"),
    "params type": (lambda: _simulate(params={"c_m_pf": 1.0}), "params: got dict; valid: NeuronParameters"),
}


@pytest.mark.parametrize("make, message", list(BAD.values()), ids=list(BAD))
def test_bad_input_raises_config_error_naming_thing_value_and_valid_range(make, message):
    with pytest.raises(ConfigError) as info:
        make()
    assert message in str(info.value)


def test_v_init_may_be_per_sample_and_a_start_above_threshold_spikes_at_once():
    p = NeuronParameters.schmitt2017(2)
    r = run(p, Connections.empty(), 0, [SpikeTrains.empty()] * 2, 5.0, v_init_mv=[[-40.0, -30.0], [-40.0, -50.0]])
    np.testing.assert_array_equal(r.spikes[0].times_ms, [0.0])
    np.testing.assert_array_equal(r.spikes[0].index, [1])
    assert len(r.spikes[1]) == 0
