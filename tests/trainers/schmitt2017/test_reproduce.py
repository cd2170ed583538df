"""`hal reproduce schmitt2017` (hal_trainers.schmitt2017.reproduce): a tiny end-to-end run on a LocalCluster, and its checks."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch", reason="trainers need torch (pip install torch==2.13.0)")
pytest.importorskip("sklearn", reason="the digits dataset needs scikit-learn")
pytest.importorskip("distributed", reason="trials run on Dask distributed")
pytest.importorskip("matplotlib", reason="figures need matplotlib")

from hal.cli import main  # noqa: E402
from hal_plugins.emulator.kernel import kernel_available  # noqa: E402

pytestmark = pytest.mark.skipif(not kernel_available(), reason="emulator kernel not built (pip install -e .)")

TINY = ["--trials", "2", "--itl-steps", "2", "--ann-steps", "300", "--itl-batch", "100", "--test-subset", "60", "--workers", "2",
        "--conversion-candidates", "1"]


def test_tiny_run_writes_report_and_figures_and_skips_finished_trials(tmp_path, capsys, monkeypatch):
    import hal_trainers.reproduction as reproduction
    import hal_trainers.schmitt2017.reproduce as reproduce_module

    out = tmp_path / "out"
    monkeypatch.setenv("HAL_TEST_KILL_WORKER_ONCE", str(tmp_path / "killed"))
    revision = {"now": "a" * 40}
    monkeypatch.setattr(reproduction, "_git_revision", lambda: revision["now"])
    summarize = reproduce_module.summarize

    def after_a_commit(*args, **kwargs):
        revision["now"] = "b" * 40  # committed while the trials ran
        return summarize(*args, **kwargs)

    monkeypatch.setattr(reproduce_module, "summarize", after_a_commit)
    assert main(["--log-level", "warning", "reproduce", "schmitt2017", *TINY, "--out", str(out)]) == 0
    assert (tmp_path / "killed").exists()  # one worker died mid-trial; Dask retried the trial
    report = json.loads((out / "report.json").read_text())
    acc = report["accuracy"]
    assert set(acc) >= {"software", "converted", "in_the_loop", "in_the_loop_curve"}
    assert len(acc["software"]) == len(acc["converted"]) == len(acc["in_the_loop"]) == 2
    assert all(len(c) == 2 for c in acc["in_the_loop_curve"])
    assert all(0 <= a <= 1 for a in acc["software"] + acc["converted"] + acc["in_the_loop"])
    assert {"hicanns", "fpgas", "synapses", "synapses_lost"} <= set(report["mapping"])
    assert report["trials"] == 2 and report["backend"] == "noisy" and report["seeds"] == [0, 1]
    assert report["git_revision"] == "a" * 40  # the revision the run started with, not one committed during it
    assert report["versions"]["python"] and report["command"]
    for name in ("fig9_accuracy.png", "fig10_raster.png", "fig8_weights.png"):
        assert (out / name).stat().st_size > 10_000
    table = capsys.readouterr().out
    assert "right after conversion" in table and "paper" in table
    # Re-running with the same --out skips the finished trials.
    before = {p.name: p.stat().st_mtime_ns for p in (out / "trials").glob("*.json")}
    assert main(["--log-level", "warning", "reproduce", "schmitt2017", *TINY, "--out", str(out)]) == 0
    assert {p.name: p.stat().st_mtime_ns for p in (out / "trials").glob("*.json")} == before


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--dataset", "mnist"], "--dataset mnist needs --data-dir"),
        (["--dataset", "digits", "--data-dir", "/nowhere"], "--data-dir is for --dataset mnist"),
        (["--backend", "nope"], "unknown backend 'nope'"),
        (["--trials", "0"], "argument --trials: 0 out of range; valid integers >= 1"),
        (["--itl-steps", "-1"], "argument --itl-steps: -1 out of range; valid integers >= 0"),
        (["--conversion-candidates", "0"], "argument --conversion-candidates: 0 out of range; valid integers >= 1"),
        (["--conversion-candidates", "two"], "argument --conversion-candidates: 'two' is not an integer"),
    ],
)
def test_bad_arguments(tmp_path, capsys, args, fragment):
    try:
        status = main(["reproduce", "schmitt2017", "--out", str(tmp_path / "o"), *args])
    except SystemExit as stop:  # argparse refuses bad numbers itself
        status = stop.code
    assert status == 2
    assert fragment in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_missing_mnist_directory_says_where_to_put_the_files(tmp_path, capsys):
    assert main(["reproduce", "schmitt2017", "--dataset", "mnist", "--data-dir", str(tmp_path / "none"), "--out", str(tmp_path / "o")]) == 2
    assert "train-images-idx3-ubyte" in capsys.readouterr().err


def test_finished_trials_are_reused_only_with_their_settings(tmp_path, capsys):
    out = tmp_path / "o"
    (out / "trials").mkdir(parents=True)
    (out / "settings.json").write_text(json.dumps({"dataset": "digits", "backend": "noisy", "ann_steps": 300, "itl_steps": 2,
                                                   "itl_batch": 100, "test_subset": 60}))
    assert main(["reproduce", "schmitt2017", "--out", str(out), "--itl-steps", "5", "--ann-steps", "300", "--itl-batch", "100",
                 "--test-subset", "60"]) == 2
    err = capsys.readouterr().err
    assert "holds trials run with other settings" in err and "itl_steps 2 there, 5 now" in err


def test_digits_takes_its_own_defaults_where_the_command_line_leaves_them_out(tmp_path, capsys):
    # The settings guard names what the trials would run with, before any work: the digits defaults
    # where the command line leaves them out, the given values where it does not.
    out = tmp_path / "o"
    (out / "trials").mkdir(parents=True)
    stored = {"dataset": "digits", "backend": "noisy", "ann_steps": 1, "itl_steps": 99, "itl_batch": 5, "test_subset": None}
    (out / "settings.json").write_text(json.dumps(stored))
    assert main(["reproduce", "schmitt2017", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "ann_steps 1 there, 4000 now" in err and "itl_steps 99 there, 20 now" in err and "itl_batch 5 there, 360 now" in err
    assert "conversion_candidates None there, 3 now" in err
    assert main(["reproduce", "schmitt2017", "--out", str(out), "--itl-steps", "7", "--itl-batch", "100", "--ann-steps", "300"]) == 2
    err = capsys.readouterr().err
    assert "ann_steps 1 there, 300 now" in err and "itl_steps 99 there, 7 now" in err and "itl_batch 5 there, 100 now" in err
    assert json.loads((out / "settings.json").read_text()) == stored
    assert list((out / "trials").iterdir()) == []


def test_a_corrupt_trial_file_is_named_not_overwritten(tmp_path, capsys):
    out = tmp_path / "o"
    (out / "trials").mkdir(parents=True)
    (out / "trials" / "0.json").write_text("{ half a trial")
    assert main(["reproduce", "schmitt2017", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "0.json" in err and "not a readable trial result" in err
    assert (out / "trials" / "0.json").read_text() == "{ half a trial"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"itl_schedule": "cosine"}, "reproduce: itl_schedule 'cosine' not valid; valid linear, constant"),
    ({"itl_leak": 1.5}, "reproduce: itl_leak 1.5 out of range; valid 0..1"),
    ({"itl_leak": "0.1"}, "reproduce: itl_leak '0.1' out of range; valid 0..1"),
    ({"conversion_candidates": 0}, "reproduce: conversion_candidates 0 out of range; valid integers >= 1"),
    ({"conversion_candidates": 1.5}, "reproduce: conversion_candidates 1.5 out of range; valid integers >= 1"),
])
def test_in_the_loop_settings_are_checked_before_any_work(tmp_path, kwargs, message):
    from hal.errors import ConfigError
    from hal_trainers.schmitt2017.reproduce import reproduce

    with pytest.raises(ConfigError) as refused:
        reproduce(out=str(tmp_path / "o"), **kwargs)
    assert str(refused.value) == message
    assert not (tmp_path / "o").exists()
