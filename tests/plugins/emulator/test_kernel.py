"""The compiled kernel against its NumPy twin, precision, threads and bad inputs."""

from __future__ import annotations

import numpy as np
import pytest

from hal.errors import ConfigError
from hal_plugins.emulator.kernel import EmulatorNetwork, kernel_available, simd_levels, simulate, simulate_numpy

pytestmark = pytest.mark.skipif(not kernel_available(), reason="emulator kernel not built (pip install -e .)")


def small_network(seed=0, n=6, n_sources=4, n_samples=3, rate_hz=200.0, duration_ms=200.0):
    rng = np.random.default_rng(seed)
    params = dict(
        c_m_pf=np.full(n, 4.33), g_l_ns=rng.uniform(0.15, 0.3, n), e_l_mv=np.full(n, -40.0), v_th_mv=np.full(n, -37.5),
        v_reset_mv=np.full(n, -64.0), e_rev_e_mv=np.zeros(n), e_rev_i_mv=np.full(n, -80.0), tau_syn_e_ms=rng.uniform(3, 7, n),
        tau_syn_i_ms=np.full(n, 5.0), t_ref_ms=np.full(n, 0.5),
    )
    pre = np.concatenate([np.arange(n_sources), n_sources + np.arange(n - 1)])
    post = np.concatenate([np.arange(n_sources) % n, np.arange(1, n)])
    weight = rng.uniform(0.02, 0.08, pre.size)
    exc = rng.random(pre.size) < 0.8
    counts = rng.poisson(rate_hz * duration_ms * 1e-3, size=(n_samples, n_sources))
    sample = np.repeat(np.repeat(np.arange(n_samples), n_sources), counts.ravel())
    source = np.repeat(np.tile(np.arange(n_sources), n_samples), counts.ravel())
    times = rng.uniform(0, duration_ms, sample.size)
    order = np.lexsort((times, sample))
    return EmulatorNetwork(params, n_sources, pre, post, weight, exc, 0.1, sample[order], times[order], source[order])


def test_kernel_matches_its_numpy_twin():
    net = small_network()
    a = simulate(net, 3, 200.0, dt_ms=0.05, threads=1)
    b = simulate_numpy(net, 3, 200.0, dt_ms=0.05)
    assert a.spike_time_ms.size == b.spike_time_ms.size > 10
    assert np.array_equal(a.spike_neuron, b.spike_neuron) and np.array_equal(a.spike_sample, b.spike_sample)
    assert np.allclose(a.spike_time_ms, b.spike_time_ms, atol=1e-9)


def test_threads_do_not_change_the_result():
    net = small_network(n_samples=70)
    a = simulate(net, 70, 200.0, threads=1)
    b = simulate(net, 70, 200.0, threads=2)
    assert np.array_equal(a.spike_time_ms, b.spike_time_ms) and np.array_equal(a.spike_neuron, b.spike_neuron)


def test_float32_effect_is_below_the_agreement_tolerance():
    """The precision test behind the default (float64): float32 changes spike counts by well under 1%."""
    net = small_network(n_samples=20, duration_ms=1000.0)
    a = simulate(net, 20, 1000.0, dtype=np.float64)
    b = simulate(net, 20, 1000.0, dtype=np.float32)
    assert abs(a.spike_time_ms.size - b.spike_time_ms.size) <= 0.01 * a.spike_time_ms.size


def test_spike_buffer_grows_on_demand():
    net = small_network(n_samples=2, rate_hz=5000.0, duration_ms=300.0)
    a = simulate(net, 2, 300.0, threads=1)
    b = simulate_numpy(net, 2, 300.0)
    assert a.spike_time_ms.size == b.spike_time_ms.size


def test_membrane_recording_shape():
    net = small_network()
    r = simulate(net, 3, 100.0, record=np.array([0, 2]), record_every_ms=0.5)
    assert r.membrane.shape == (2, 3, 200) and r.membrane_times_ms[0] == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (dict(delay_ms=0.0), "delay_ms: 0.0 out of range"),
        (dict(pre=np.array([99])), "pre index out of range"),
    ],
)
def test_bad_networks(change, fragment):
    import attrs

    net = small_network()
    if "pre" in change:
        change = dict(pre=np.array([99]), post=np.array([0]), weight_ns=np.array([1.0]), excitatory=np.array([True]))
    with pytest.raises(ConfigError, match=fragment):
        simulate(attrs.evolve(net, **change), 3, 10.0)
    with pytest.raises(ConfigError, match="dtype"):
        simulate(net, 3, 10.0, dtype=np.int32)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_every_simd_level_gives_the_same_numbers(dtype):
    """The compiled passes (AVX-512, AVX2, baseline: those this CPU runs) round alike: no reassociation, no FMA."""
    net = small_network(n_samples=21)
    runs = {level: simulate(net, 21, 200.0, dtype=dtype, threads=1, simd=level, record=np.array([1]), record_every_ms=0.05)
            for level in simd_levels()}
    first = runs[simd_levels()[0]]
    assert first.spike_time_ms.size > 100
    for level, r in runs.items():
        assert np.array_equal(r.spike_time_ms, first.spike_time_ms) and np.array_equal(r.spike_neuron, first.spike_neuron), level
        assert np.array_equal(r.membrane, first.membrane), level


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_samples_result_does_not_depend_on_its_block(dtype):
    """Sample 5 alone (the pass's remainder loop) and as one of 37 (its vector body) gives the same spikes, bit for bit."""
    net = small_network(n_samples=37)
    alone = small_network(n_samples=37)
    keep = alone.in_sample == 5
    import attrs

    alone = attrs.evolve(alone, in_sample=alone.in_sample[keep] * 0, in_time_ms=alone.in_time_ms[keep], in_source=alone.in_source[keep])
    together = simulate(net, 37, 200.0, threads=1, dtype=dtype)
    single = simulate(alone, 1, 200.0, threads=1, dtype=dtype)
    mine = together.spike_sample == 5
    assert single.spike_time_ms.size == mine.sum() > 5
    assert np.array_equal(single.spike_time_ms, together.spike_time_ms[mine])


def test_a_resting_membrane_above_threshold_fires_in_every_sample():
    """Every sample fires without input when E_L is above threshold, and only the samples asked for are reported."""
    import attrs

    net = small_network(n_samples=3)
    params = dict(net.params, e_l_mv=np.full(6, -30.0))
    r = simulate(attrs.evolve(net, params=params), 3, 20.0, threads=1)
    assert set(np.unique(r.spike_sample).tolist()) == {0, 1, 2}


def test_unknown_simd_level_is_refused():
    with pytest.raises(ConfigError, match=r"emulator simd: 'avx1024' not available on this CPU; valid baseline"):
        simulate(small_network(), 3, 10.0, simd="avx1024")


def test_neurons_firing_in_consecutive_steps_are_delivered_like_the_twin_does():
    """A refractory period shorter than a step lets a neuron fire every step; with a delay of 1.5 steps two
    steps' spikes share a delivery slot (the ring holds both) -- counts and times as in the NumPy twin."""
    import attrs

    net = small_network(n_samples=2, rate_hz=20000.0, duration_ms=20.0)
    params = dict(net.params, t_ref_ms=np.full(6, 0.01), v_reset_mv=np.full(6, -38.0), g_l_ns=np.full(6, 0.5))
    net = attrs.evolve(net, params=params, delay_ms=0.15, weight_ns=net.weight_ns * 20)
    a = simulate(net, 2, 20.0, dt_ms=0.1, threads=1)
    b = simulate_numpy(net, 2, 20.0, dt_ms=0.1)
    assert a.spike_time_ms.size == b.spike_time_ms.size > 200
    assert np.array_equal(a.spike_neuron, b.spike_neuron) and np.allclose(a.spike_time_ms, b.spike_time_ms, atol=1e-9)
