"""Experiment files: an experiment survives save/load, and a configuration file is not one."""

from __future__ import annotations

import numpy as np
import pytest

import hal
from hal.configuration.io import save_config
from hal.errors import FileFormatError
from hal.experiment.io import load_experiment, save_experiment
from hal.testing.networks import layered_network, poisson_experiment


def test_experiment_round_trip(tmp_path):
    net = layered_network((2, 1), [np.array([[4, -4]])])
    exp = poisson_experiment(net, np.full((3, 2), 20.0), seed=5, record_membrane=[net.neuron(0, 1)])
    spikes = hal.SpikeArrayInput([net.inputs[0]], [([1.0, 2.0], [0, 0])] * 3)
    exp = hal.Experiment(exp.config, exp.duration_ms, [*exp.inputs, spikes], record_membrane=exp.record_membrane, seed=5)
    path = tmp_path / "exp.hal"
    save_experiment(exp, path)
    loaded = load_experiment(path)
    assert loaded.config == exp.config and loaded.duration_ms == exp.duration_ms
    assert loaded.playback() == exp.playback()
    assert loaded.record_membrane == exp.record_membrane
    save_config(exp.config, tmp_path / "cfg.hal")
    with pytest.raises(FileFormatError, match="is a 'hal-wafer-config' file, expected 'hal-experiment'"):
        load_experiment(tmp_path / "cfg.hal")
