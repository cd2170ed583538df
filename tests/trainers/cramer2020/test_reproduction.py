"""hal_trainers.reproduction, the pieces both reproductions share: output folder, settings guard, finished
trials, the ETA line. (Here because this reproduction brought the module; schmitt2017's tests run it too.)"""

from __future__ import annotations

import json

import pytest

from hal.errors import ConfigError, FileFormatError
from hal_trainers.reproduction import check_settings, eta_line, finished_trials, prepare_out_dir, provenance, write_json_atomic


def test_the_output_folder_is_made_and_checked(tmp_path):
    assert prepare_out_dir(tmp_path / "a" / "b") == tmp_path / "a" / "b"
    assert (tmp_path / "a" / "b").is_dir() and list((tmp_path / "a" / "b").iterdir()) == []  # the write test left nothing
    (tmp_path / "f").write_text("x")
    with pytest.raises(ConfigError, match="is a file"):
        prepare_out_dir(tmp_path / "f")
    with pytest.raises(ConfigError, match="not writable"):
        prepare_out_dir(tmp_path / "f" / "sub")


def test_settings_are_stored_once_and_compared_after_a_json_round_trip(tmp_path):
    check_settings(tmp_path, {"a": 1, "b": (1, 2)})
    assert json.loads((tmp_path / "settings.json").read_text()) == {"a": 1, "b": [1, 2]}
    check_settings(tmp_path, {"a": 1, "b": (1, 2)})  # a tuple and its stored list are the same setting
    with pytest.raises(ConfigError, match=r"a 1 there, 2 now; b \[1, 2\] there, \[3\] now"):
        check_settings(tmp_path, {"a": 2, "b": [3]})
    (tmp_path / "settings.json").write_text("{")
    with pytest.raises(FileFormatError, match="not a readable reproduce settings file"):
        check_settings(tmp_path, {"a": 1})


def test_finished_trials_are_the_seed_files(tmp_path):
    write_json_atomic(tmp_path / "0.json", {"seed": 0})
    write_json_atomic(tmp_path / "7.json", {"seed": 7})
    (tmp_path / "notes.json").write_text("not a trial")
    assert finished_trials(tmp_path) == {0: {"seed": 0}, 7: {"seed": 7}}


@pytest.mark.parametrize(
    ("done", "seconds", "slots", "line"),
    [
        (0, [], 2, "0/5 trials done, 5 to go"),
        (1, [65.0], 2, "1/5 trials done, 4 to go, mean trial 1m05s, ETA 2m10s"),
        (2, [60.0, 120.0], 1, "2/5 trials done, 3 to go, mean trial 1m30s, ETA 4m30s"),
        (4, [3600.0], 4, "4/5 trials done, 1 to go, mean trial 1h00m, ETA 1h00m"),
        (5, [10.0], 2, "5/5 trials done, 0 to go, mean trial 10s, ETA 0s"),
    ],
)
def test_the_eta_runs_the_remaining_trials_slots_at_a_time(done, seconds, slots, line):
    assert eta_line(done=done, total=5, trial_seconds=seconds, slots=slots) == line


def test_provenance_names_the_versions_and_the_command():
    p = provenance(("numpy", "no-such-distribution-here"))
    assert p["versions"]["numpy"] and p["versions"]["no-such-distribution-here"] is None and "python" in p["versions"]
    assert set(p) == {"versions", "git_revision", "command"}
