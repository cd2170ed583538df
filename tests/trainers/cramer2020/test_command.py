"""`hal reproduce cramer2020` (hal_trainers.cramer2020.command): registered, parsed, and every bad value or output
folder refused -- with a typed error naming the value and what is valid -- before any work starts."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from hal.cli import main
from hal.errors import ConfigValueError, UnknownNameError

pytestmark = pytest.mark.needs_torch

OPTIONS = ("--dataset", "--data-dir", "--backend", "--trials", "--out", "--scheduler", "--workers", "--test-subset",
           "--mock-epochs", "--itl-epochs", "--hidden", "--batch-size", "--set")


@pytest.fixture
def no_work(monkeypatch):
    """Fails the test if a data set is loaded or a Dask client asked for."""
    pytest.importorskip("torch", reason="trainers need torch (pip install torch==2.13.0)")
    import hal_trainers.cramer2020.reproduce as reproduce_module
    import hal_trainers.datasets as datasets

    def refuse(*args, **kwargs):
        raise AssertionError("work started")

    monkeypatch.setattr(datasets, "load_dataset", refuse)
    monkeypatch.setattr(reproduce_module, "dask_client", refuse)


def test_the_command_and_the_trainer_are_registered(capsys):
    assert main(["plugins", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    commands = {c["name"]: c for c in listing["commands"]}
    assert commands["reproduce cramer2020"]["description"].startswith("Cramer et al. 2020/2022 end to end")
    assert "reproduce schmitt2017" in commands
    assert "cramer2020" in {t["name"] for t in listing["trainers"]}


def test_the_command_line_names_the_options_and_the_data_sets(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["reproduce", "cramer2020", "--help"])
    assert exit_.value.code == 0
    usage = capsys.readouterr().out
    assert all(option in usage for option in OPTIONS)
    assert "--dataset {digits10,mnist16}" in usage


def test_importing_the_command_needs_neither_torch_dask_nor_matplotlib():
    code = ("import sys, hal_trainers.cramer2020.command, hal_trainers.plugin;"
            "print([m for m in ('torch', 'dask', 'distributed', 'matplotlib') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _status(argv) -> int:
    """main's exit status, also when argparse refuses an option (it raises SystemExit)."""
    try:
        return main(argv)
    except SystemExit as stop:
        return stop.code


@pytest.mark.parametrize(
    ("args", "message"),
    [
        # numbers are refused by the shared argparse types, before anything runs
        (["--trials", "-1"], "argument --trials: -1 out of range; valid integers >= 1"),
        (["--trials", "0"], "argument --trials: 0 out of range; valid integers >= 1"),
        (["--workers", "0"], "argument --workers: 0 out of range; valid integers >= 1"),
        (["--test-subset", "0"], "argument --test-subset: 0 out of range; valid integers >= 1"),
        (["--hidden", "0"], "argument --hidden: 0 out of range; valid integers >= 1"),
        (["--batch-size", "-5"], "argument --batch-size: -5 out of range; valid integers >= 1"),
        (["--mock-epochs", "0"], "argument --mock-epochs: 0 out of range; valid > 0"),
        (["--itl-epochs", "nan"], "argument --itl-epochs: 'nan' is not a finite number; valid > 0"),
        # names by the reproduction itself
        (["--dataset", "mnist"], "hal: error: unknown cramer2020 dataset 'mnist'; did you mean 'mnist16'? known: digits10, mnist16"),
        (["--dataset", "cifar"], "hal: error: unknown cramer2020 dataset 'cifar'; known: digits10, mnist16"),
        (["--backend", "nope"], "hal: error: unknown backend 'nope'"),
        # trial settings by --set: checked by the reproduction with the rest
        (["--set", "tau_syn"], "hal: error: --set 'tau_syn': expected KEY=VALUE, e.g. tau_syn_ms=10"),
        (["--set", "tau_sym_ms=10"], "hal: error: unknown cramer2020 setting 'tau_sym_ms'; did you mean 'tau_syn_ms'"),
        (["--set", "tau_syn_ms=40"], "hal: error: reproduce cramer2020.tau_syn_ms: 40 out of range; valid 1.3..15.1 ms"),
        (["--set", "label_smoothing=high"], "hal: error: reproduce cramer2020.label_smoothing: 'high' out of range; valid probabilities"),
        (["--mock-epochs", "2", "--set", "mock_epochs=3"], "hal: error: --set 'mock_epochs=3': mock_epochs is set twice"),
    ],
)
def test_bad_values_are_refused_naming_the_value_and_what_is_valid(tmp_path, capsys, no_work, args, message):
    assert _status(["reproduce", "cramer2020", "--out", str(tmp_path / "o"), *args]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o").exists()  # refused before the output folder was made


def test_set_passes_trial_settings_to_the_reproduction_with_their_json_types(tmp_path, monkeypatch):
    pytest.importorskip("torch", reason="trainers need torch (pip install torch==2.13.0)")
    import hal_trainers.cramer2020.reproduce as reproduce_module

    seen = {}

    def fake(**kwargs):
        seen.update(kwargs)
        raise ConfigValueError("reproduce cramer2020", "stop", 0, "here")  # the arguments were seen; no work

    monkeypatch.setattr(reproduce_module, "reproduce", fake)
    argv = ["reproduce", "cramer2020", "--out", str(tmp_path / "o"), "--mock-epochs", "2", "--set", "tau_syn_ms=10",
            "--set", "lr_schedule=constant", "--set", "latency_from_brightest=true", "--set", "label_smoothing=0.1"]
    assert _status(argv) == 2
    assert {k: seen[k] for k in ("mock_epochs", "tau_syn_ms", "lr_schedule", "latency_from_brightest", "label_smoothing")} == {
        "mock_epochs": 2.0, "tau_syn_ms": 10, "lr_schedule": "constant", "latency_from_brightest": True, "label_smoothing": 0.1}


def test_the_errors_are_typed_with_their_facts(tmp_path, no_work):
    from hal_trainers.cramer2020.reproduce import reproduce

    with pytest.raises(ConfigValueError) as error:
        reproduce(trials=-1, out=str(tmp_path / "o"))
    assert (error.value.field, error.value.value, error.value.valid) == ("trials", -1, "integers >= 1")
    with pytest.raises(UnknownNameError) as unknown:
        reproduce(dataset="mnist", out=str(tmp_path / "o"))
    assert (unknown.value.name, unknown.value.known) == ("mnist", ("digits10", "mnist16"))
    with pytest.raises(UnknownNameError, match="unknown cramer2020 setting 'hiden'; did you mean 'hidden'"):
        reproduce(hiden=16, out=str(tmp_path / "o"))
    with pytest.raises(ConfigValueError, match="trials: True out of range"):
        reproduce(trials=True, out=str(tmp_path / "o"))


def test_mnist16_without_its_files_is_refused_before_workers(tmp_path, capsys):
    pytest.importorskip("torch", reason="trainers need torch (pip install torch==2.13.0)")
    assert main(["reproduce", "cramer2020", "--dataset", "mnist16", "--out", str(tmp_path / "o")]) == 2
    assert "dataset 'mnist16' needs data_dir" in capsys.readouterr().err
    assert main(["reproduce", "cramer2020", "--dataset", "mnist16", "--data-dir", str(tmp_path / "none"), "--out", str(tmp_path / "o")]) == 2
    assert "train-images-idx3-ubyte" in capsys.readouterr().err


def test_an_out_that_is_a_file_is_refused_before_any_work(tmp_path, capsys, no_work):
    out = tmp_path / "report.json"
    out.write_text("precious")
    assert main(["reproduce", "cramer2020", "--out", str(out)]) == 2
    assert capsys.readouterr().err == f"hal: error: output folder (--out) {str(out)!r}: is a file; name a new or existing folder for the results\n"
    assert out.read_text() == "precious"


def test_an_out_that_cannot_be_made_is_refused_before_any_work(tmp_path, capsys, no_work):
    (tmp_path / "a-file").write_text("")
    assert main(["reproduce", "cramer2020", "--out", str(tmp_path / "a-file" / "out")]) == 2
    err = capsys.readouterr().err
    assert "output folder (--out)" in err and "a-file/out" in err and "not writable" in err


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a POSIX user for whom permissions hold (not root)")
def test_an_out_without_write_permission_is_refused_before_any_work(tmp_path, capsys, no_work):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        assert main(["reproduce", "cramer2020", "--out", str(locked)]) == 2
        assert "not writable" in capsys.readouterr().err
    finally:
        locked.chmod(0o700)
