"""``hal defects``: values checked before the database is opened; ``list`` reads without writing."""

from __future__ import annotations

import json

import pytest

from hal.cli import main


def _usage_error(argv, capsys) -> str:
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    return capsys.readouterr().err


@pytest.fixture
def db(tmp_path, capsys):
    path = tmp_path / "cal.db"
    assert main(["defects", "add", "--db", str(path), "--wafer", "3", "--component", "neuron", "--hicann", "12", "--item", "5", "7"]) == 0
    assert main(["defects", "add", "--db", str(path), "--wafer", "3", "--component", "fpga", "--item", "2"]) == 0
    capsys.readouterr()
    return path


@pytest.mark.parametrize("argv, message", [
    (["--wafer", "-3", "--component", "neuron", "--hicann", "1", "--item", "1"], "argument --wafer: -3 out of range; valid wafer ids 0..65535"),
    (["--wafer", "x", "--component", "neuron", "--hicann", "1", "--item", "1"], "argument --wafer: 'x' is not an integer"),
    (["--wafer", "3", "--component", "neuron", "--hicann", "-1", "--item", "1"], "argument --hicann: -1 out of range; valid HICANN enums 0..383"),
    (["--wafer", "3", "--component", "neuron", "--hicann", "384", "--item", "1"], "argument --hicann: 384 out of range"),
])
def test_bad_wafer_and_hicann_are_refused_by_argparse_and_write_nothing(db, capsys, argv, message):
    before = db.read_bytes()
    assert message in _usage_error(["defects", "add", "--db", str(db), *argv], capsys)
    assert db.read_bytes() == before


@pytest.mark.parametrize("argv, message", [
    (["--component", "neuron", "--item", "1"], "hal defects add: --hicann missing for component 'neuron'; valid a HICANN enum 0..383"),
    (["--component", "fpga", "--hicann", "3", "--item", "1"], "--hicann 3 given for an fpga defect; valid: no --hicann"),
    (["--component", "neuron", "--hicann", "3", "--item", "512"], "Defect[neuron].item: 512 out of range; valid 0..511"),
    (["--component", "neuron", "--hicann", "3"], "give --component"),
])
def test_incomplete_or_out_of_range_defects_are_typed_errors_and_write_nothing(db, capsys, argv, message):
    before = db.read_bytes()
    assert main(["defects", "add", "--db", str(db), "--wafer", "3", *argv]) == 2
    assert message in capsys.readouterr().err
    assert db.read_bytes() == before


def test_list_reads_without_writing_and_a_missing_database_is_an_error(db, tmp_path, capsys):
    before = db.read_bytes()
    assert main(["defects", "list", "--db", str(db), "--wafer", "3", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["defects"]
    assert [(d["component"], d["hicann"], d["item"]) for d in listed] == [("fpga", -1, 2), ("neuron", 12, 5), ("neuron", 12, 7)]
    assert main(["defects", "list", "--db", str(db), "--wafer", "3", "--component", "fpga"]) == 0
    assert "1 disabled component(s) on wafer 3" in capsys.readouterr().out
    assert db.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["cal.db"]
    assert main(["defects", "list", "--db", str(tmp_path / "none.db"), "--wafer", "3"]) == 2
    assert "none.db: no such file: no calibration database here" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()


def test_remove_takes_the_same_checked_values(db, capsys):
    assert main(["defects", "remove", "--db", str(db), "--wafer", "3", "--component", "neuron", "--hicann", "12", "--item", "5"]) == 0
    assert "2 disabled component(s) on wafer 3" in capsys.readouterr().out
    assert main(["defects", "remove", "--db", str(db), "--wafer", "3", "--component", "fpga", "--item", "2"]) == 0
    assert "1 disabled component(s) on wafer 3" in capsys.readouterr().out
