"""The noisy backend: trial-to-trial variation, seeded and reproducible."""

from __future__ import annotations

import numpy as np
import pytest

import hal
from hal.testing.networks import paper_network, poisson_experiment
from hal_plugins.emulator.kernel import kernel_available

pytestmark = pytest.mark.skipif(not kernel_available(), reason="emulator kernel not built (pip install -e .)")


@pytest.fixture(scope="module")
def experiment():
    net = paper_network(seed=5)
    rates = np.random.default_rng(1).random((3, 100))
    return poisson_experiment(net, rates / rates.sum(1, keepdims=True) * 1200.0, seed=3)


def test_runs_differ_from_trial_to_trial_but_repeat_with_the_seed(experiment):
    backend = hal.get_backend("noisy", seed=11)
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


def test_declares_itself_noisy():
    caps = hal.get_backend("noisy").capabilities
    assert caps.trial_to_trial_noise and not caps.deterministic


def test_bad_seed():
    with pytest.raises(hal.errors.ConfigError, match="seed: -1 out of range"):
        hal.get_backend("noisy", seed=-1)
