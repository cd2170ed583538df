"""The noisy backend reusing its reading of the registers between in-the-loop steps draws and runs
exactly what it draws and runs reading them afresh each time (same writes, same runs, same noise)."""

from __future__ import annotations

import numpy as np
import pytest

import hal
from hal.experiment import Experiment, PoissonInput
from hal.netlist.wiring import extract_wiring
from hal.testing.networks import paper_network
from hal_plugins.emulator.kernel import kernel_available

pytestmark = pytest.mark.skipif(not kernel_available(), reason="emulator kernel not built (pip install -e .)")


class _ReadAfresh:
    """A stand-in for the backend's WiringCache that reads everything at every run (the behaviour before it)."""

    def read(self, config, denmem_transform=None, *, synapses=True):
        return extract_wiring(config, denmem_transform, synapses=synapses)

    def derived(self, name, key, compute):
        return compute()

    def clear(self):
        pass


def test_weight_steps_and_a_reprogramming_give_the_runs_of_a_backend_reading_afresh():
    net = paper_network(seed=3)
    rates = np.random.default_rng(2).random((2, 100))
    runs = {}
    for name in ("reused", "afresh"):
        config = net.config.copy()
        experiment = Experiment(config, 100.0, [PoissonInput(net.inputs, rates / rates.sum(1, keepdims=True) * 1500.0, stop_ms=90.0, seed=1)],
                                record_membrane=[net.neuron(2, 0)], membrane_interval_ms=1.0)
        backend = hal.get_backend("noisy", wafer=5, seed=7)
        if name == "afresh":
            backend.wiring_cache = _ReadAfresh()
        rng = np.random.default_rng(0)
        out = []
        for step in range(5):
            if step == 3:  # a floating-gate write: new trial-to-trial deviations, and a new reading
                h, denmems = net.circuits(2, 0)
                config.hicann(h).set_neuron_parameter("V_t", config.hicann(h).neuron_parameter("V_t")[denmems[0].enum] - 100, [denmems[0]])
            else:
                net.mapping.set_weights(config, 1, rng.integers(0, 16, size=net.sizes[0] * net.sizes[1]))
            rec = hal.run(Experiment(config, experiment.duration_ms, experiment.inputs, record_membrane=experiment.record_membrane,
                                     membrane_interval_ms=1.0, seed=step), backend)
            out.append(rec)
        runs[name] = (backend, out)
    backend, reused = runs["reused"]
    assert (backend.wiring_cache.reads, backend.wiring_cache.reuses) == (2, 3)
    for a, b in zip(reused, runs["afresh"][1]):
        assert a.hardware.trace == b.hardware.trace
        assert np.array_equal(a.hardware.membrane, b.hardware.membrane)
        assert dict(a.hardware.lost_input) == dict(b.hardware.lost_input)
    assert len({r.hardware.trace.time.size for r in reused}) > 1  # the steps differ from each other
