"""``hal calibrate`` and ``hal calib``: bad input is refused by name before work starts, read-only commands write nothing."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hal.calibration import Kind, fit_transform, nominal_transform, open_store
from hal.cli import main
from hal.logging import capture_events


def _entries():
    dac = np.array([200.0, 500.0, 800.0])
    return [(12, fit_transform("e_l_mv", Kind.POLYNOMIAL, dac, np.outer(np.linspace(0.9, 1.1, 512), [352.0, 880.0, 1408.0]), unit="mV")),
            (13, nominal_transform("gmax", 4))]


@pytest.fixture
def db(tmp_path):
    """A database with one complete set (1) and one incomplete set (2), wafer 3."""
    path = tmp_path / "cal.db"
    with open_store(path) as store:
        store.add_set(3, _entries(), backend="emulator", routine="test")
        draft = store.create_set(3, backend="emulator", routine="interrupted")
        store.store(draft, 12, _entries()[0][1])
    return path


def _usage_error(argv, capsys) -> str:
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    return capsys.readouterr().err


def _error(argv, capsys) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("hal: error: ") and err.count("\n") == 1  # one line, no traceback
    return err


def test_calib_show_on_an_empty_file_is_an_error_and_leaves_it_empty(tmp_path, capsys):
    empty = tmp_path / "empty.db"
    empty.touch()
    assert "empty.db: is empty, not a calibration database" in _error(["calib", "show", "--db", str(empty)], capsys)
    assert empty.stat().st_size == 0 and sorted(p.name for p in tmp_path.iterdir()) == ["empty.db"]


@pytest.mark.parametrize("argv", [["calib", "show"], ["calib", "diff", "1", "2"], ["calib", "export", "1", "out.hal"]],
                         ids=["show", "diff", "export"])
def test_read_only_commands_on_a_missing_database_create_nothing(tmp_path, capsys, argv, monkeypatch):
    monkeypatch.chdir(tmp_path)
    missing = tmp_path / "missing.db"
    assert "missing.db: no such file: no calibration database here" in _error(argv[:2] + ["--db", str(missing)] + argv[2:], capsys)
    assert list(tmp_path.iterdir()) == []


def test_read_only_commands_leave_the_database_byte_identical(db, tmp_path, capsys):
    before = db.read_bytes()
    assert main(["calib", "show", "--db", str(db), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [(s["id"], s["complete"]) for s in shown["sets"]] == [(1, True), (2, False)]
    assert main(["calib", "show", "--db", str(db)]) == 0
    assert "set 2: wafer 3" in capsys.readouterr().out
    assert main(["calib", "diff", "--db", str(db), "1", "2"]) == 1  # the draft lacks HICANN 13's gmax
    assert "HICANN 13 gmax: removed" in capsys.readouterr().out
    assert main(["calib", "export", "--db", str(db), "1", str(tmp_path / "one.hal")]) == 0
    assert db.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["cal.db", "one.hal"]


def test_unknown_and_incomplete_set_ids(db, tmp_path, capsys):
    assert "cal.db: no calibration set 99; known sets: 1, 2" in _error(["calib", "diff", "--db", str(db), "1", "99"], capsys)
    assert "no calibration set 7; known sets: 1, 2" in _error(["calib", "export", "--db", str(db), "7", str(tmp_path / "x.hal")], capsys)
    assert "calibration set 2 is incomplete (never completed); valid for export: complete sets (1)" in \
        _error(["calib", "export", "--db", str(db), "2", str(tmp_path / "x.hal")], capsys)
    assert not (tmp_path / "x.hal").exists()
    assert "argument a: 'one' is not an integer; valid integers >= 1" in _usage_error(["calib", "diff", "--db", str(db), "one", "2"], capsys)
    assert "argument set: 0 out of range; valid integers >= 1" in _usage_error(["calib", "export", "--db", str(db), "0", "x.hal"], capsys)


def test_export_targets_are_checked_before_the_database_is_read(db, tmp_path, capsys):
    (tmp_path / "adir").mkdir()
    assert "adir: is a directory; give a file name for the calibration set file" in \
        _error(["calib", "export", "--db", str(db), "1", str(tmp_path / "adir")], capsys)
    (tmp_path / "plain").write_text("x")
    assert "is not a directory" in _error(["calib", "export", "--db", str(db), "1", str(tmp_path / "plain" / "x.hal")], capsys)
    assert (tmp_path / "plain").read_text() == "x"


def test_show_options_use_the_shared_syntax(db, capsys):
    assert "argument --wafer: -1 out of range; valid wafer ids 0..65535" in _usage_error(["calib", "show", "--db", str(db), "--wafer", "-1"], capsys)
    assert "argument --hicann: 400 out of range; valid HICANN enums 0..383" in _usage_error(["calib", "show", "--db", str(db), "--hicann", "400"], capsys)
    assert main(["calib", "show", "--db", str(db), "--wafer", "3", "--hicann", "13-20", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [[e["hicann"] for e in s["entries"]] for s in shown["sets"]] == [[13], []]


@pytest.mark.parametrize("option, value, message", [
    ("--wafer", "-7", "argument --wafer: -7 out of range; valid wafer ids 0..65535"),
    ("--wafer", "3.5", "argument --wafer: '3.5' is not an integer"),
    ("--hicann", "999", "argument --hicann: 999 out of range; valid HICANN enums 0..383"),
    ("--hicann", "7-3", "argument --hicann: '7-3' is an empty range"),
])
def test_calibrate_options_are_refused_before_anything_runs(tmp_path, capsys, option, value, message):
    argv = {"--backend": "emulator", "--wafer": "3", "--hicann": "100", "--db": str(tmp_path / "c.db"), "--routine": "e-l-mv"}
    argv[option] = value
    assert message in _usage_error(["calibrate", *[x for kv in argv.items() for x in kv]], capsys)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("report, make", [("adir", lambda p: p.mkdir()), ("plain/report.json", lambda p: p.parent.write_text("x"))])
def test_calibrate_checks_its_report_path_before_measuring(tmp_path, capsys, report, make):
    make(tmp_path / report)
    with capture_events() as events:
        err = _error(["calibrate", "--backend", "emulator", "--wafer", "3", "--hicann", "100", "--db", str(tmp_path / "c.db"),
                      "--routine", "e-l-mv", "--report-json", str(tmp_path / report)], capsys)
    assert str(tmp_path / report) in err and "report" in err
    assert not (tmp_path / "c.db").exists()
    assert not [e for e in events if e["event"].startswith("calibration")]


def test_calibrate_refuses_a_foreign_database_before_measuring(tmp_path, capsys):
    foreign = tmp_path / "notes.txt"
    foreign.write_text("my notes\n" * 200)
    with capture_events() as events:
        err = _error(["calibrate", "--backend", "emulator", "--wafer", "3", "--hicann", "100", "--db", str(foreign), "--routine", "e-l-mv"], capsys)
    assert "notes.txt: not a calibration database" in err
    assert foreign.read_text() == "my notes\n" * 200
    assert not [e for e in events if e["event"].startswith("calibration")]


def test_no_report_skips_the_spreads_and_stores_the_same_set(tmp_path, capsys):
    hashes = {}
    for flags in ([], ["--no-report", "--batch", "1"]):
        name = "plain" if not flags else "quick"
        argv = ["calibrate", "--backend", "emulator", "--wafer", "3", "--hicann", "100", "--db", str(tmp_path / f"{name}.db"),
                "--routine", "e-l-mv", "--report-json", str(tmp_path / f"{name}.json"), *flags]
        assert main(argv) == 0
        out = capsys.readouterr().out
        report = json.loads((tmp_path / f"{name}.json").read_text())
        hashes[name] = report["content_hash"]
        entry = report["parameters"]["e_l_mv"]
        if flags:
            assert report["batch"] == 1 and "spread_before" not in entry and "spreads not measured (--no-report)" in out
        else:
            assert report["batch"] == 8 and entry["spread_after"] < entry["spread_before"]
    assert hashes["plain"] == hashes["quick"]  # the report measures after the set is made; it changes nothing in it


def test_batch_must_be_a_positive_integer_and_known_to_the_routine(tmp_path, capsys, monkeypatch):
    argv = ["calibrate", "--backend", "emulator", "--wafer", "3", "--hicann", "100", "--db", str(tmp_path / "c.db"), "--routine", "e-l-mv"]
    assert "argument --batch: 0 out of range; valid integers >= 1" in _usage_error([*argv, "--batch", "0"], capsys)

    class NoBatch:
        def run(self, backend, backend_name, wafer, hicanns, store, *, report=True, progress=None):
            raise AssertionError("must not run")

    from hal.extension import manager

    real = manager.default_plugins()
    create = real.create
    monkeypatch.setattr(real, "create", lambda kind, name, *a, **k: NoBatch() if kind == "calibration" else create(kind, name, *a, **k))
    monkeypatch.setattr(manager, "default_plugins", lambda: real)
    assert "--batch 2: calibration routine 'e-l-mv' takes no batch size; valid: leave --batch out for it" in \
        _error([*argv, "--batch", "2"], capsys)
    assert list(tmp_path.iterdir()) == []
