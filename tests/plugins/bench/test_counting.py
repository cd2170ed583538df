"""What the benchmark counts: synaptic events from a netlist's fan-out, losses, rates."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from hal_plugins.bench.counting import fan_out, lost_summary, peak_rss_bytes, rates, synaptic_events


@pytest.fixture
def net():
    """2 sources, 3 neurons: source 0 -> neurons 0, 1; source 1 -> neuron 2; neuron 0 -> neurons 1, 2; 4 input events of source 0."""
    pre = np.array([0, 0, 1, 2, 2])  # indices >= n_sources are neurons (2 = neuron 0)
    return SimpleNamespace(pre=pre, n_sources=2, n_neurons=3, in_source=np.array([0, 0, 0, 0]))


def test_fan_out_counts_connections_per_source_and_neuron(net):
    sources, neurons = fan_out(net)
    assert sources.tolist() == [2, 1] and neurons.tolist() == [2, 0, 0]


def test_synaptic_events_are_input_events_and_spikes_times_their_fan_out(net):
    assert synaptic_events(net, [3, 5, 7]) == 4 * 2 + 3 * 2


def test_lost_input_events_are_taken_off_and_trace_losses_scaled_back(net):
    assert synaptic_events(net, [0, 0, 0], lost_input=1) == 3 * 2
    # 3 recorded spikes of 6 the backend emitted: the other 3 reached their synapses too.
    assert synaptic_events(net, [3, 0, 0], total_spikes=6) == 4 * 2 + 6 * 2


def test_lost_summary_totals_each_kind():
    recording = SimpleNamespace(lost_events={"input": {"a": 2, "b": 3}, "output": {"c": 1}, "unattributed": 4, "total": 10})
    assert lost_summary(recording) == {"input": 5, "output": 1, "unattributed": 4}


def test_rates_and_memory():
    assert rates(2.0, 0.5, 100) == {"bio_s_per_wall_s": 4.0, "synaptic_events_per_s": 200.0}
    assert peak_rss_bytes() > 2**20
