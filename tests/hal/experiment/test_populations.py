"""hal.experiment.populations: spikes, membranes and inputs per population and index, from a mapping and a run."""

from __future__ import annotations

import numpy as np
import pytest

import hal
from hal import coordinates as C
from hal.errors import ConfigError, UnknownNameError
from hal.experiment.populations import PopulationMap
from hal.mapping import MappingOptions, map_network
from hal.network import Network, Population, Projection, SourcePopulation

TRAINS = [[5.0, 15.0, 25.0, 35.0], [], [10.0, 20.0]]


@pytest.fixture(scope="module")
def mapped():
    # "b" receives only from source 0 -> source 1 has no target and no input address
    net = Network([Population("a", 2), Population("b", 3)], [SourcePopulation("s", 3)],
                  [Projection("s", "a", connector="all_to_all", weight_bits=15),
                   Projection("s", "b", connector="list", pairs=[(0, 0), (2, 2)], weight_bits=15)])
    config, mapping = map_network(net, C.Wafer(0), MappingOptions(circuits_per_neuron=2))
    return config, mapping, PopulationMap(mapping)


@pytest.fixture(scope="module")
def run(mapped):
    config, _, where = mapped
    stimulus = where.spike_input("s", TRAINS)
    experiment = hal.Experiment(config, 50.0, [stimulus], record_membrane=where.membrane_targets("b", [2, 0]), n_samples=2)
    return experiment, hal.run(experiment, hal.get_backend("reference"))


def test_neurons_follow_the_placement(mapped):
    _, mapping, where = mapped
    assert where.populations == ("a", "b") and where.sources == ("s",)
    for name in ("a", "b"):
        placed = mapping.neurons_of(name)
        assert where.neurons(name) == tuple((h, d[0]) for h, d in placed)
        assert [len(d) for _, d in where.circuits(name)] == [2] * len(placed)
        for i, (h, denmems) in enumerate(placed):
            assert all(where.locate(h, d) == (name, i) for d in denmems)
    assert where.locate(C.HICANNOnWafer(0), C.NeuronOnHICANN(x=255, y=1)) is None


def test_inputs_are_played_to_their_sources_only(mapped, run):
    _, _, where = mapped
    experiment, _ = run
    assert where.input_addresses("s")[1] is not None  # it reaches "a"
    played = where.input_spike_trains(experiment, "s", sample=1)
    for asked, got in zip(TRAINS, played):
        np.testing.assert_allclose(got, asked)


def test_spikes_and_counts_per_index_match_the_recording(mapped, run):
    _, _, where = mapped
    _, recording = run
    for name in ("a", "b"):
        columns = where.columns(recording, name)
        trains = where.spike_trains(recording, name, sample=0)
        assert len(trains) == len(columns)
        for column, train in zip(columns, trains):
            expected = recording.spike_trains(0)[column] if column >= 0 else np.zeros(0)
            np.testing.assert_array_equal(train, expected)
        np.testing.assert_array_equal(where.spike_counts(recording, name)[0], [t.size for t in trains])
    # the inputs drive "a" (all sources) and "b"[0], "b"[2]; "b"[1] has no input
    assert all(t.size > 0 for t in where.spike_trains(recording, "a"))
    assert where.spike_trains(recording, "b")[1].size == 0


def test_membranes_in_the_order_asked(mapped, run):
    _, _, where = mapped
    _, recording = run
    times, v = where.membranes(recording, "b", [2, 0])
    assert v.shape == (2, 2, times.size)
    h, n = where.neurons("b")[0]
    np.testing.assert_array_equal(v[:, 1, :], recording.membrane(h, n)[1])
    with pytest.raises(ConfigError, match="membrane not recorded"):
        where.membranes(recording, "b", [1])


def test_bad_names_and_indices_are_refused(mapped, run):
    _, _, where = mapped
    _, recording = run
    with pytest.raises(UnknownNameError, match="unknown neuron population 'x'.*known: a, b"):
        where.neurons("x")
    with pytest.raises(UnknownNameError, match="unknown neuron population 's'"):
        where.spike_trains(recording, "s")
    with pytest.raises(UnknownNameError, match="unknown source population 'a'.*known: s"):
        where.input_addresses("a")
    with pytest.raises(ConfigError, match="population 'a': index 2 out of range; valid 0..1"):
        where.membrane_targets("a", [0, 2])
    with pytest.raises(ConfigError, match=r"population 'a': indices \[0.5\] are not a list of integers"):
        where.membrane_targets("a", [0.5])
    with pytest.raises(ConfigError, match="sample 2 out of range; valid 0..1"):
        where.spike_trains(recording, "a", sample=2)


def test_bad_stimuli_are_refused(mapped):
    _, _, where = mapped
    with pytest.raises(ConfigError, match="spike_input 's': 2 spike-time lists; the population has 3 sources"):
        where.spike_input("s", [[1.0], [2.0]])
    with pytest.raises(ConfigError, match=r"spike times of source 1 \('x'\) are not a list of finite numbers"):
        where.spike_input("s", [[1.0], "x", []])
    with pytest.raises(ConfigError, match="spike times of source 0"):
        where.spike_input("s", [[np.nan], [], []])
    assert where.spike_input("s", [[], [], []]) is None  # nothing to play


def test_per_sample_stimulus(mapped):
    _, _, where = mapped
    stimulus = where.spike_input("s", [TRAINS, [[1.0], [2.0], [3.0]]], per_sample=True)
    assert stimulus.n_samples() == 2
    times, _ = stimulus.spikes_of(1)
    np.testing.assert_allclose(times, [1.0, 2.0, 3.0])
    with pytest.raises(ConfigError, match=r"\(sample 1\): 1 spike-time lists"):
        where.spike_input("s", [TRAINS, [[1.0]]], per_sample=True)
