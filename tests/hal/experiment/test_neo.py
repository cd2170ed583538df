"""hal.experiment.neo: recordings as Neo blocks and files, read back by Neo and accepted by elephant."""

from __future__ import annotations

import sys

import numpy as np
import pytest

neo = pytest.importorskip("neo")
pq = pytest.importorskip("quantities")

import hal
from hal import coordinates as C
from hal.errors import ConfigError, FileFormatError
from hal.experiment.neo import save_neo, to_neo
from hal.experiment.populations import PopulationMap
from hal.mapping import MappingOptions, map_network
from hal.network import Network, Population, Projection, SourcePopulation


@pytest.fixture(scope="module")
def recorded():
    net = Network([Population("exc", 3)], [SourcePopulation("src", 2)], [Projection("src", "exc", weight_bits=15)])
    config, mapping = map_network(net, C.Wafer(0), MappingOptions(circuits_per_neuron=2))
    where = PopulationMap(mapping)
    stimulus = where.spike_input("src", [[[5.0, 10.0, 15.0, 20.0], [7.0]], [[30.0], []]], per_sample=True)
    experiment = hal.Experiment(config, 40.0, [stimulus], record_membrane=where.membrane_targets("exc", [1]))
    return mapping, where, hal.run(experiment, hal.get_backend("reference"))


def test_one_segment_per_sample_with_population_annotations(recorded):
    mapping, where, recording = recorded
    block = recording.to_neo(mapping)
    assert [s.index for s in block.segments] == [0, 1]
    assert block.annotations["lost_input"] == 0 and block.annotations["samples"] == 2
    for k, segment in enumerate(block.segments):
        trains = segment.spiketrains
        assert len(trains) == len(recording.neurons)
        for column, train in enumerate(trains):
            neuron = recording.neurons[column]
            assert train.annotations["column"] == column
            assert train.annotations["hicann"] == neuron.hicann.enum and train.annotations["neuron"] == neuron.firing.enum
            assert train.annotations["circuits"] == [d.enum for d in neuron.denmems]
            name, index = where.locate(neuron.hicann, neuron.firing)
            assert (train.annotations["population"], train.annotations["index"]) == (name, index)
            np.testing.assert_allclose(train.rescale("ms").magnitude, recording.spike_trains(k)[column])
            assert train.t_stop == 40.0 * pq.ms
        (signal,) = segment.analogsignals
        assert signal.units == pq.mV and signal.name == "v"
        assert (signal.annotations["population"], signal.annotations["index"]) == ("exc", 1)
        h, n = where.neurons("exc")[1]
        times, v = recording.membrane(h, n)
        np.testing.assert_allclose(signal.magnitude[:, 0], v[k])
        assert signal.sampling_period.rescale("ms").magnitude == pytest.approx(times[1] - times[0])
    # sample 1 drives the neurons less than sample 0
    assert sum(len(t) for t in block.segments[1].spiketrains) < sum(len(t) for t in block.segments[0].spiketrains)


def test_without_a_mapping_the_hardware_annotations_remain(recorded):
    _, _, recording = recorded
    train = recording.to_neo().segments[0].spiketrains[0]
    assert "population" not in train.annotations and "hicann" in train.annotations
    with pytest.raises(ConfigError, match="to_neo: mapping dict is not a MappingResult or PopulationMap"):
        to_neo(recording, {})


# In the fast suite although importing elephant takes 3-7 s: that elephant accepts hal's Neo is issue 14's promise.
def test_elephant_accepts_the_trains(recorded):
    statistics = pytest.importorskip("elephant.statistics")
    mapping, _, recording = recorded
    train = recording.to_neo(mapping).segments[0].spiketrains[0]
    rate = statistics.mean_firing_rate(train)
    assert rate.rescale("Hz").magnitude == pytest.approx(len(recording.spike_trains(0)[0]) / 0.040)


def test_nix_file_round_trip(recorded, tmp_path):
    pytest.importorskip("nixio")
    mapping, _, recording = recorded
    path = save_neo(recording.to_neo(mapping), tmp_path / "run.nix")
    io = neo.io.NixIO(str(path), mode="ro")
    try:
        block = io.read_block()
    finally:
        io.close()
    assert len(block.segments) == 2
    train = block.segments[0].spiketrains[0]
    assert train.annotations["population"] == "exc"
    np.testing.assert_allclose(train.rescale("ms").magnitude, recording.spike_trains(0)[0])
    assert block.segments[0].analogsignals[0].units == pq.mV


def test_bad_files_are_refused_before_writing(recorded, tmp_path):
    _, _, recording = recorded
    block = recording.to_neo()
    with pytest.raises(ConfigError, match=r"suffix '.csv' not supported; valid .nix, .nwb"):
        save_neo(block, tmp_path / "run.csv")
    existing = tmp_path / "old.nix"
    existing.write_text("keep")
    with pytest.raises(FileFormatError, match="exists"):
        save_neo(block, existing)
    assert existing.read_text() == "keep"
    with pytest.raises(ConfigError, match="save_neo: expected a neo.Block, got Recording"):
        save_neo(recording, tmp_path / "x.nix")
    assert not (tmp_path / "x.nix").exists()


def test_missing_neo_says_how_to_install_it(recorded, monkeypatch):
    _, _, recording = recorded
    monkeypatch.setitem(sys.modules, "neo", None)  # import neo now raises ImportError
    with pytest.raises(ConfigError, match=r"Recording.to_neo needs the optional package 'neo'.*pip install 'wafer-hal\[interop\]'"):
        recording.to_neo()
