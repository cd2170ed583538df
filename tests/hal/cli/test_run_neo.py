"""``hal run --out FILE.nix``: the recording as a Neo file, its packages and path checked before the run."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from hal.cli import main

neo = pytest.importorskip("neo")


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    from hal.experiment.io import save_experiment
    from hal.testing.networks import layered_network, poisson_experiment

    net = layered_network((2, 1), [np.array([[9, 9]])])
    path = tmp_path_factory.mktemp("run") / "exp.hal"
    save_experiment(poisson_experiment(net, np.full((2, 2), 40.0), duration_ms=100.0, stop_ms=90.0,
                                       record_membrane=[net.neuron(1, 0)]), path)
    return path


def test_a_nix_file_that_neo_reads(capsys, experiment, tmp_path):
    pytest.importorskip("nixio")
    out = tmp_path / "run.nix"
    assert main(["run", str(experiment), "--backend", "reference", "--out", str(out)]) == 0
    assert f"recording written to {out}" in capsys.readouterr().out
    io = neo.io.NixIO(str(out), mode="ro")
    try:
        block = io.read_block()
    finally:
        io.close()
    assert len(block.segments) == 2 and all(len(s.spiketrains) == 3 for s in block.segments)
    assert sum(len(t) for s in block.segments for t in s.spiketrains) > 0
    assert str(block.segments[0].analogsignals[0].units.dimensionality) == "mV"
    # an existing file is refused before the run, and kept
    size = out.stat().st_size
    assert main(["run", str(experiment), "--backend", "reference", "--out", str(out)]) == 2
    assert "exists; --overwrite replaces it" in capsys.readouterr().err
    assert out.stat().st_size == size


def test_missing_packages_are_named_before_the_run(capsys, experiment, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pynwb", None)
    assert main(["run", str(experiment), "--backend", "reference", "--out", str(tmp_path / "run.nwb")]) == 2
    err = capsys.readouterr().err
    assert "--out run.nwb needs the optional package 'pynwb', which is not installed; pip install pynwb" in err
    assert not (tmp_path / "run.nwb").exists()
