"""The backend contract as tests: import them into your suite to check your backend.

    # tests/test_my_backend_contract.py
    from hal.testing.contract import *  # noqa: F401,F403

then ``pytest --hal-backend mybackend``. Each test takes the ``hal_backend``
fixture of hal's pytest plugin, so it runs once per selected backend.
"""

from __future__ import annotations

import attrs
import numpy as np
import pytest

import hal
from hal.errors import CapabilityError

__all__ = [
    "test_contract_silent_network_stays_silent",
    "test_contract_driven_neuron_fires_and_is_recorded",
    "test_contract_batch_shape_and_sample_independence",
    "test_contract_deterministic_backends_repeat_exactly",
    "test_contract_membrane_capability_is_honoured",
    "test_contract_weights_only_update_reaches_the_backend_as_weight_writes",
]


def _net(weight=15):
    from hal.network.parameters import SCHMITT2017
    from hal.testing.networks import layered_network

    # Rest 17.5 mV below threshold: no device variation a backend may model makes these neurons fire alone.
    quiet = attrs.evolve(SCHMITT2017, e_l_mv=-55.0, v_reset_mv=-60.0)
    return layered_network((2, 1), [np.array([[weight, weight]])], params=quiet)


def _experiment(net, rates, **kwargs):
    from hal.testing.networks import poisson_experiment

    return poisson_experiment(net, rates, duration_ms=400.0, stop_ms=300.0, **kwargs)


def test_contract_silent_network_stays_silent(hal_backend):
    rec = hal.run(_experiment(_net(), np.zeros(2)), hal_backend)
    assert rec.spike_counts.sum() == 0


def test_contract_driven_neuron_fires_and_is_recorded(hal_backend):
    net = _net()
    rec = hal.run(_experiment(net, np.full(2, 800.0), seed=1), hal_backend)
    counts = rec.spike_counts[0]
    inputs = [rec.column(*net.neuron(0, i)) for i in range(2)]
    assert counts[inputs].sum() > 0, "input neurons driven at 800 Hz with weight 15 must fire"
    assert rec.lost_events["unattributed"] == 0
    times, _ = rec.spikes(0)
    assert np.all((times >= 0) & (times < 400.0))


def test_contract_batch_shape_and_sample_independence(hal_backend):
    rates = np.array([[0.0, 0.0], [800.0, 800.0]])
    rec = hal.run(_experiment(_net(), rates, seed=2), hal_backend)
    assert rec.spike_counts.shape == (2, 3)
    assert rec.spike_counts[0].sum() == 0 and rec.spike_counts[1].sum() > 0


def test_contract_deterministic_backends_repeat_exactly(hal_backend):
    if not hal_backend.capabilities.deterministic:
        pytest.skip(f"backend {hal_backend.name!r} declares itself non-deterministic")
    net = _net()
    first = hal.run(_experiment(net, np.full(2, 60.0), seed=3), hal_backend)
    second = hal.run(_experiment(net, np.full(2, 60.0), seed=3), hal_backend)
    assert np.array_equal(first.spike_counts, second.spike_counts)


def test_contract_membrane_capability_is_honoured(hal_backend):
    net = _net()
    exp = _experiment(net, np.full(2, 60.0), record_membrane=[net.neuron(1, 0)])
    if not hal_backend.capabilities.membrane_readout:
        with pytest.raises(CapabilityError):
            hal.run(exp, hal_backend)
        return
    rec = hal.run(exp, hal_backend)
    t, v = rec.membrane(*net.neuron(1, 0))
    assert v.shape == (1, t.size) and np.all(np.isfinite(v))
    assert -100.0 < float(np.median(v)) < 20.0, "membrane in biological mV"


def test_contract_weights_only_update_reaches_the_backend_as_weight_writes(hal_backend):
    net = _net()
    hal.run(_experiment(net, np.full(2, 20.0)), hal_backend)
    before = len(hal_backend.write_log)
    net.set_weights(0, np.array([[3, 3]]))
    hal.run(_experiment(net, np.full(2, 20.0)), hal_backend)
    assert {w.register for w in hal_backend.write_log[before:]} == {"synapse_weight"}
