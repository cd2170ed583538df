"""Event scheduling: a spike's synaptic events land in the ring off the grid, inputs by chunk, neuron spikes after the lag."""

from __future__ import annotations

import numpy as np
import pytest

from hal_plugins.reference._events import CHUNK_STEPS, EventRing, InputFeed, SpikeRelay
from hal_plugins.reference.data import Connections, NeuronParameters, SpikeTrains

DT = 0.1


def _ring(connections, n_neurons=2, n_samples=2, n_steps=1000, n_pre=3):
    params = NeuronParameters.schmitt2017(n_neurons, tau_syn_e_ms=5.0, tau_syn_i_ms=2.0)
    return EventRing(params, connections, n_pre, n_samples, DT, n_steps)


def test_an_event_is_stored_as_its_end_of_step_jump_and_its_step_average():
    c = Connections(pre=[0, 0], post=[1, 0], weight_ns=[3.0, 2.0], excitatory=[True, False], delay_ms=[1.0, 1.5])
    ring = _ring(c)
    ring.add(np.array([1]), np.array([0]), np.array([0.23]), 0)
    # excitatory to neuron 1 arrives at 1.23 ms, in step 12 [1.2, 1.3); inhibitory to neuron 0 at 1.73, step 17
    for step, plane, neuron, w, tau, t_a in ((12, 0, 1, 3.0, 5.0, 1.23), (17, 1, 0, 2.0, 2.0, 1.73)):
        slot = ring.slot(step)
        rest = (step + 1) * DT - t_a
        assert slot[plane, 1, neuron] == pytest.approx(w * np.exp(-rest / tau), rel=1e-12)
        assert slot[plane + 2, 1, neuron] == pytest.approx(w * tau / DT * -np.expm1(-rest / tau), rel=1e-12)
        assert np.count_nonzero(slot) == 2  # only that sample, neuron and conductance
    assert not ring.slots[:12].any() and not ring.slots[13:17].any()


def test_events_after_the_last_step_are_dropped_and_a_late_scheduled_event_arrives_at_the_start_of_first_step():
    c = Connections(pre=[0], post=[0], weight_ns=[1.0], excitatory=[True], delay_ms=[1.0])
    ring = _ring(c, n_steps=15)
    ring.add(np.array([0]), np.array([0]), np.array([0.5]), 0)  # arrives at 1.5 ms = step 15: beyond the run
    assert not ring.slots.any()
    ring.add(np.array([0]), np.array([0]), np.array([0.05]), 12)  # due in step 10, but scheduled from step 12
    assert ring.slot(12)[0, 0, 0] == pytest.approx(np.exp(-DT / 5.0), rel=1e-12)  # as if arriving at the start of step 12
    assert ring.slot(12)[2, 0, 0] == pytest.approx(5.0 / DT * -np.expm1(-DT / 5.0), rel=1e-12)


def test_input_spikes_are_scheduled_at_the_first_step_of_their_chunk():
    c = Connections(pre=[0, 1], post=[0, 1], weight_ns=[1.0, 1.0], excitatory=[True, True], delay_ms=[0.1, 0.1])
    inputs = [SpikeTrains(times_ms=[0.0, CHUNK_STEPS * DT + 0.01], index=[0, 1]), SpikeTrains(times_ms=[0.02], index=[1])]
    ring = _ring(c)
    feed = InputFeed(inputs, n_steps=1000, dt=DT)
    feed.schedule(ring, 0)
    assert ring.slot(1)[0, 0, 0] > 0 and ring.slot(1)[0, 1, 1] > 0  # sample 0 neuron 0, sample 1 neuron 1
    assert np.count_nonzero(ring.slots[:, 0]) == 2  # the later spike is not yet scheduled
    for step in range(1, CHUNK_STEPS):
        feed.schedule(ring, step)
    assert np.count_nonzero(ring.slots[:, 0]) == 2
    feed.schedule(ring, CHUNK_STEPS)
    assert ring.slot(CHUNK_STEPS + 1)[0, 0, 1] > 0


def test_neuron_spikes_are_held_for_the_lag_of_the_shortest_delay_from_a_neuron():
    # pre 1 and 2 are neurons 0 and 1 (one source); shortest delay from a neuron 0.35 ms = 3 steps
    c = Connections(pre=[0, 1, 2], post=[0, 1, 0], weight_ns=[1.0] * 3, excitatory=[True] * 3, delay_ms=[0.1, 0.35, 0.8])
    relay = SpikeRelay(c, n_sources=1, n_neurons=2, dt=DT)
    assert relay.lag == 3
    ring = _ring(c)
    relay.hold(5, np.array([2 + 0]), np.array([0.55]))  # sample 1, neuron 0
    for step in (6, 7):
        relay.schedule(ring, step)
        assert not ring.slots.any()
    relay.schedule(ring, 8)
    assert ring.slot(9)[0, 1, 1] > 0  # 0.55 + 0.35 = 0.9 ms -> step 9, neuron 1 of sample 1
    assert np.count_nonzero(ring.slots) == 2 and relay.pending == []


def test_without_synapses_from_neurons_spikes_are_not_held():
    c = Connections(pre=[0], post=[0], weight_ns=[1.0], excitatory=[True], delay_ms=[1.0])
    relay = SpikeRelay(c, n_sources=1, n_neurons=2, dt=DT)
    relay.hold(0, np.array([1]), np.array([0.05]))
    assert relay.lag == 0 and relay.pending == []
