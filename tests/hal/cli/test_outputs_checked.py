"""Outputs are checked before the work starts: a directory, a path under a file, or an existing file (without
``--overwrite``) ends the command with exit status 2 and a one-line message naming the path -- before the mapping,
the run, the benchmark, the reproduction or the download begins -- and nothing is written or changed.

Also: ``hal run``'s default recording name (``Path.with_suffix``), and ``hal map --experiment-out`` feeding
``hal run`` without hand-written files.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import hal
from hal.cli import main
from hal.cli.run import default_recording_path

PRECIOUS = b"precious: not to be replaced silently"


@pytest.fixture
def network_file(tmp_path):
    from hal.network import save_network
    from hal.testing.networks import layered_description

    path = tmp_path / "net.json"
    save_network(layered_description((2, 1), [np.array([[15, 15]])]), path)
    return path


@pytest.fixture
def experiment_file(tmp_path):
    """A two-sample experiment of 3 neurons, saved without a suffix in a folder whose name has a dot."""
    from hal.experiment.io import save_experiment
    from hal.testing.networks import layered_network, poisson_experiment

    net = layered_network((2, 1), [np.array([[9, 9]])])
    path = tmp_path / "runs.v2" / "exp"
    path.parent.mkdir()
    save_experiment(poisson_experiment(net, np.full((2, 2), 40.0), duration_ms=100.0, stop_ms=90.0), path)
    return path


@pytest.fixture
def no_mapping(monkeypatch):
    import hal.mapping

    def refuse(*args, **kwargs):
        raise AssertionError("the mapping started")

    monkeypatch.setattr(hal.mapping, "map_network", refuse)


@pytest.fixture
def no_run(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the run started")

    monkeypatch.setattr(hal, "run", refuse)


def _fails(capsys, argv) -> str:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and captured.err.startswith("hal: error: ")
    return captured.err.strip()


def _bad_outputs(tmp_path):
    """(path, what the message says) for: a directory, a path below a file, an existing file."""
    (tmp_path / "a-dir").mkdir()
    (tmp_path / "a-file").write_bytes(PRECIOUS)
    (tmp_path / "old.hal").write_bytes(PRECIOUS)
    return [(tmp_path / "a-dir", "is a directory"), (tmp_path / "a-file" / "x.hal", "a-file is not a directory"),
            (tmp_path / "old.hal", "exists; --overwrite replaces it")]


def _unchanged(tmp_path, before: set) -> None:
    assert set(tmp_path.rglob("*")) == before
    assert (tmp_path / "a-file").read_bytes() == PRECIOUS and (tmp_path / "old.hal").read_bytes() == PRECIOUS


def test_hal_map_checks_both_outputs_before_mapping(tmp_path, capsys, network_file, no_mapping):
    bad = _bad_outputs(tmp_path)
    before = set(tmp_path.rglob("*"))
    for flag in ("--out", "--experiment-out"):
        for path, reason in bad:
            err = _fails(capsys, ["map", str(network_file), flag, str(path)])
            assert str(path) in err and reason in err
    assert "both name" in _fails(capsys, ["map", str(network_file), "--out", str(tmp_path / "x"), "--experiment-out", str(tmp_path / "x")])
    _unchanged(tmp_path, before)


def test_hal_run_checks_its_output_before_running(tmp_path, capsys, experiment_file, no_run):
    capsys.readouterr()  # the fixture's log lines
    bad = _bad_outputs(tmp_path)
    default = default_recording_path(experiment_file)
    default.write_bytes(PRECIOUS)
    before = set(tmp_path.rglob("*"))
    for path, reason in bad:
        err = _fails(capsys, ["run", str(experiment_file), "--backend", "reference", "--out", str(path)])
        assert str(path) in err and reason in err
    err = _fails(capsys, ["run", str(experiment_file), "--backend", "reference"])
    assert err == f"hal: error: {default}: exists; --overwrite replaces it, or give another --out"
    _unchanged(tmp_path, before)
    assert default.read_bytes() == PRECIOUS


def test_hal_run_names_the_recording_after_the_experiment_file_and_replaces_only_with_overwrite(tmp_path, capsys, experiment_file):
    from hal.experiment.io import load_recording_summary

    assert default_recording_path("runs/exp.hal").as_posix() == "runs/exp.recording.hal"
    assert default_recording_path("runs.v2/exp").as_posix() == "runs.v2/exp.recording.hal"  # not runs.recording.hal beside the folder
    assert main(["run", str(experiment_file), "--backend", "reference", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["recording"] == str(tmp_path / "runs.v2" / "exp.recording.hal")
    assert sorted(p.name for p in (tmp_path / "runs.v2").iterdir()) == ["exp", "exp.recording.hal"]
    first = load_recording_summary(summary["recording"])[1]
    (tmp_path / "runs.v2" / "exp.recording.hal").write_bytes(PRECIOUS)
    assert main(["run", str(experiment_file), "--backend", "reference", "--overwrite", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["spikes"] == summary["spikes"]
    manifest, again = load_recording_summary(summary["recording"])  # replaced: same experiment and seed, same recording
    assert manifest["samples"] == 2 and again.keys() == first.keys()
    assert all(np.array_equal(again[name], first[name]) for name in first)


def test_hal_map_feeds_hal_run(tmp_path, capsys, network_file):
    """``hal map --out CFG --experiment-out EXP`` then ``hal run EXP``: no hand-written file in between."""
    from hal.configuration.diff import diff_configs
    from hal.configuration.io import load_config
    from hal.experiment.io import load_experiment

    cfg, exp = tmp_path / "cfg.hal", tmp_path / "exp.hal"
    assert main(["map", str(network_file), "--out", str(cfg), "--experiment-out", str(exp), "--source-rate-hz", "400",
                 "--duration-ms", "200", "--samples", "3", "--input-seed", "7", "--json"]) == 0
    mapped = json.loads(capsys.readouterr().out)
    assert (mapped["config"], mapped["experiment"]) == (str(cfg), str(exp))
    assert mapped["stimulus"] == {"sources": 2, "rate_hz": 400.0, "duration_ms": 200.0, "samples": 3, "seed": 7}
    experiment = load_experiment(exp)
    assert list(diff_configs(experiment.config, load_config(cfg))) == []
    assert experiment.batch_size == 3 and experiment.duration_ms == 200.0
    (stimulus,) = experiment.inputs
    assert len(stimulus.targets) == 2 and np.all(stimulus.rates_hz == 400.0) and stimulus.seed == 7

    assert main(["run", str(exp), "--backend", "reference", "--json"]) == 0
    ran = json.loads(capsys.readouterr().out)
    assert ran["samples"] == 3 and ran["neurons"] == 3 and ran["lost_events"]["total"] == 0
    assert ran["spikes"] > 0 and ran["recording"] == str(tmp_path / "exp.recording.hal")


def test_hal_reproduce_checks_its_folder_before_any_work(tmp_path, capsys, monkeypatch):
    import hal_trainers.cramer2020.reproduce as cramer
    import hal_trainers.schmitt2017.reproduce as schmitt

    def refuse(**kwargs):
        raise AssertionError("the reproduction started")

    monkeypatch.setattr(schmitt, "reproduce", refuse)
    monkeypatch.setattr(cramer, "reproduce", refuse)
    (tmp_path / "report.json").write_bytes(PRECIOUS)
    before = set(tmp_path.rglob("*"))
    for paper in ("schmitt2017", "cramer2020"):
        out = tmp_path / "report.json"
        err = _fails(capsys, ["reproduce", paper, "--out", str(out)])
        assert err == f"hal: error: output folder (--out) {str(out)!r}: is a file; name a new or existing folder for the results"
        err = _fails(capsys, ["reproduce", paper, "--out", str(out / "sub")])
        assert f"{str(out / 'sub')!r}: not writable ({out} is a file)" in err
    assert set(tmp_path.rglob("*")) == before and (tmp_path / "report.json").read_bytes() == PRECIOUS


def test_hal_bench_checks_its_output_before_the_benchmark(tmp_path, capsys, monkeypatch):
    import hal_plugins.bench.command as bench

    def fake(**kwargs):
        return {"paper_network": {}, "fake": True}

    monkeypatch.setattr(bench, "run_benchmarks", lambda **kwargs: (_ for _ in ()).throw(AssertionError("the benchmark started")))
    bad = _bad_outputs(tmp_path)
    before = set(tmp_path.rglob("*"))
    for path, reason in bad:
        err = _fails(capsys, ["bench", "--quick", "--out", str(path)])
        assert str(path) in err and reason in err
    _unchanged(tmp_path, before)
    monkeypatch.setattr(bench, "run_benchmarks", fake)
    assert main(["bench", "--quick", "--out", str(tmp_path / "old.hal"), "--overwrite", "--json"]) == 0
    assert json.loads((tmp_path / "old.hal").read_text()) == json.loads(capsys.readouterr().out) == {"paper_network": {}, "fake": True}
