"""The reproductions' progress in the parent process (hal_trainers.reproduction.TrialProgress), the output folder
checked without creating it (check_out_dir), and the reproduce commands' wiring: the bar, --json, the summary."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest

from hal.cli import main
from hal.errors import ConfigError
from hal_trainers.reproduction import TrialProgress, check_out_dir, phase_progress, write_json_atomic


class _Terminal(io.StringIO):
    """A stream that says it is a terminal, so that the bar shows."""

    def isatty(self) -> bool:
        return True


def _finish(out, seed):
    write_json_atomic(out / "trials" / f"{seed}.json", {"seed": seed})


def test_the_bar_counts_the_finished_trials_with_total_and_eta(tmp_path):
    out = tmp_path / "out"
    _finish(out, 0)  # from an earlier run: counted from the start
    (out / "trials" / "notes.json").write_text("{}")  # not a trial
    _finish(out, 9)  # a seed beyond --trials: not this run's
    stream = _Terminal()
    with TrialProgress(out, 3, "paper trials", stream=stream) as progress:
        assert progress.done() == 1
        assert "paper trials" in stream.getvalue() and "1/3" in stream.getvalue()
        _finish(out, 2)
        time.sleep(0.11)  # tqdm redraws at most every 0.1 s (trials finish minutes apart)
        progress("trial 2: 0.91")
        assert progress.done() == 2 and "2/3" in stream.getvalue() and "trial 2: 0.91\n" in stream.getvalue()
        _finish(out, 1)
        time.sleep(0.11)
        progress("trial 1: 0.93")
    shown = stream.getvalue()
    assert "3/3" in shown and "trial 1: 0.93\n" in shown
    assert "<" in shown.split("2/3")[1]  # elapsed<remaining: an ETA once a trial finished in this run


def test_without_a_terminal_only_the_lines_are_written(tmp_path):
    stream = io.StringIO()
    with TrialProgress(tmp_path / "new", 2, "paper trials", stream=stream) as progress:
        assert progress.done() == 0
        progress("running 2 trial(s)")
    assert stream.getvalue() == "running 2 trial(s)\n"
    assert not (tmp_path / "new").exists()


def test_a_phase_says_its_step_and_eta_a_few_times_over_the_phase():
    lines, now = [], [100.0]
    progress = phase_progress(lines.append, "trial 3 mock", 16, reports=4, clock=lambda: now[0])
    for step in range(1, 17):
        now[0] += 2.0  # 2 s per step
        progress({"step": step, "train_accuracy": step / 20, "wall_s": 2.0})
    assert lines == [f"trial 3 mock: step {k}/16 ({k / 16:.0%}), batch accuracy {k / 20:.3f}, phase ETA {2 * (16 - k)}s"
                     for k in (4, 8, 12, 16)]


def test_a_resumed_phase_takes_its_eta_from_the_steps_it_ran_itself():
    lines, now = [], [0.0]
    progress = phase_progress(lines.append, "trial 0 in-the-loop", 600, reports=8, clock=lambda: now[0])
    for step in range(451, 526):  # resumed at step 450; 30 s per step here
        now[0] += 30.0
        progress({"step": step, "train_accuracy": 0.9, "wall_s": 30.0})
    assert lines == ["trial 0 in-the-loop: step 525/600 (88%), batch accuracy 0.900, phase ETA 37m30s"]


def test_check_out_dir_creates_nothing_and_names_the_reason(tmp_path):
    assert check_out_dir(tmp_path / "a" / "b") == tmp_path / "a" / "b"
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "f").write_text("x")
    with pytest.raises(ConfigError, match=r"'.*/f': is a file; name a new or existing folder"):
        check_out_dir(tmp_path / "f")
    with pytest.raises(ConfigError, match=r"'.*/f/sub/deeper': not writable \(.*/f is a file\)"):
        check_out_dir(tmp_path / "f" / "sub" / "deeper")


REPORT = {"summary_percent": {k: {"median": 90.0, "q25": 89.0, "q75": 91.0} for k in ("software", "converted", "in_the_loop")},
          "paper_percent": {k: {"median": 90.0, "q25": 89.0, "q75": 91.0} for k in ("software", "converted", "in_the_loop")},
          "backend": "reference", "dataset": "digits", "trials": 2, "mapping": {"hicanns": 4}, "wall_s": 1.0}


@pytest.fixture
def fake_schmitt(monkeypatch):
    """``reproduce`` replaced by one that finishes its trials as the real one does: file first, then the message."""
    import hal_trainers.schmitt2017.reproduce as module

    calls = []

    def reproduce(**kwargs):
        calls.append(kwargs)
        out = Path(kwargs["out"])
        for seed in range(kwargs["trials"]):
            _finish(out, seed)
            kwargs["progress"](f"[{seed + 1}/{kwargs['trials']}] trial {seed}")
        assert kwargs["progress"].done() == kwargs["trials"]
        write_json_atomic(out / "report.json", REPORT)
        return REPORT

    monkeypatch.setattr(module, "reproduce", reproduce)
    return calls


def test_the_schmitt2017_command_passes_its_checked_values_and_prints_json(tmp_path, capsys, fake_schmitt):
    out = tmp_path / "out"
    assert main(["reproduce", "schmitt2017", "--trials", "2", "--test-subset", "60", "--workers", "1", "--backend", "reference",
                 "--out", str(out), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == REPORT
    assert "[1/2] trial 0\n[2/2] trial 1\n" in captured.err
    (call,) = fake_schmitt
    assert {k: call[k] for k in ("trials", "test_subset", "workers", "backend", "out")} == {
        "trials": 2, "test_subset": 60, "workers": 1, "backend": "reference", "out": str(out)}
    assert main(["reproduce", "schmitt2017", "--trials", "2", "--out", str(out)]) == 0
    assert "software model" in capsys.readouterr().out


def test_the_cramer2020_command_passes_backend_options(tmp_path, capsys, monkeypatch):
    import hal_trainers.cramer2020.reproduce as module

    seen = {}

    def reproduce(**kwargs):
        seen.update(kwargs)
        return {"fake": 1}

    monkeypatch.setattr(module, "reproduce", reproduce)
    assert main(["reproduce", "cramer2020", "--out", str(tmp_path / "o"), "--option", "threads=2", "--option", "dtype=float32",
                 "--hidden", "16", "--mock-epochs", "0.5", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"fake": 1}
    assert seen["backend_options"] == {"threads": 2, "dtype": "float32"}
    assert (seen["hidden"], seen["mock_epochs"]) == (16, 0.5) and "batch_size" not in seen
    assert isinstance(seen["progress"], TrialProgress)
