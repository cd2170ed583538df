"""The noisy backend: trial-to-trial variation, seeded and reproducible."""

from __future__ import annotations

import numpy as np
import pytest

import hal
from hal.testing.networks import paper_network, poisson_experiment
from hal_plugins.emulator.kernel import kernel_available
from hal_plugins.noisy.model import TrialNoise

pytestmark = pytest.mark.skipif(not kernel_available(), reason="emulator kernel not built (pip install -e .)")


@pytest.fixture(scope="module")
def experiment():
    net = paper_network(seed=5)
    rates = np.random.default_rng(1).random((3, 100))
    return poisson_experiment(net, rates / rates.sum(1, keepdims=True) * 1200.0, seed=3)


def test_runs_differ_from_trial_to_trial_but_repeat_with_the_seed(experiment):
    backend = hal.get_backend("noisy", seed=11)
    assert backend.capabilities.trial_to_trial_noise and not backend.capabilities.deterministic  # as it behaves:
    first = hal.run(experiment, backend).spike_counts
    second = hal.run(experiment, backend).spike_counts
    assert not np.array_equal(first, second)
    again = hal.get_backend("noisy", seed=11)
    assert np.array_equal(hal.run(experiment, again).spike_counts, first)
    assert np.array_equal(hal.run(experiment, again).spike_counts, second)
    other = hal.run(experiment, hal.get_backend("noisy", seed=12)).spike_counts
    assert not np.array_equal(other, first)


def test_trial_to_trial_variation_is_smaller_than_chip_to_chip(experiment):
    backend = hal.get_backend("noisy", seed=1)
    a = hal.run(experiment, backend).spike_counts.sum(0)
    b = hal.run(experiment, backend).spike_counts.sum(0)
    other_chip = hal.run(experiment, hal.get_backend("noisy", seed=1, wafer=9)).spike_counts.sum(0)
    trial = np.abs(a - b).sum()
    chip = np.abs(a - other_chip).sum()
    assert 0 < trial < chip


def test_without_noise_it_is_the_emulator_with_a_calibrated_fixed_pattern(experiment):
    """The noisy backend is the emulator plus its perturbation, nothing else."""
    silent = TrialNoise(voltage_bio_mv={}, g_l=0.0, tau_syn=0.0, synapse=0.0, spike_jitter_hw_s=0.0)
    quiet = hal.run(experiment, hal.get_backend("noisy", noise=silent, seed=4, wafer=2))
    emulator = hal.run(experiment, hal.get_backend("emulator", mismatch="table2", wafer=2))
    assert emulator.spike_counts.sum() > 100
    assert quiet.hardware.trace == emulator.hardware.trace
    noisy = hal.run(experiment, hal.get_backend("noisy", seed=4, wafer=2))
    assert noisy.hardware.trace != emulator.hardware.trace


def test_floating_gate_writes_reach_the_noise_model(experiment):
    backend = hal.get_backend("noisy", seed=3)
    hal.run(experiment, backend)
    assert backend.perturbation.programmings == sum(w.register == "fg_cell" for w in backend.write_log) > 0
    backend.reset()
    assert backend.perturbation.programmings == 0 and backend.perturbation.runs == 1


def test_options():
    backend = hal.get_backend("noisy", seed=7, noise=TrialNoise(synapse=0.1))
    assert backend.seed == 7 and backend.noise.synapse == 0.1
    with pytest.raises(hal.errors.ConfigError, match="seed: -1 out of range"):
        hal.get_backend("noisy", seed=-1)
    with pytest.raises(hal.errors.ConfigError, match="noisy backend noise: 0.1 is not valid; valid a hal_plugins.noisy.model.TrialNoise"):
        hal.get_backend("noisy", noise=0.1)
    with pytest.raises(hal.errors.ConfigError, match="noisy backend perturbation: .* not accepted"):
        hal.get_backend("noisy", perturbation=None)
