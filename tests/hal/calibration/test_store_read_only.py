"""Read-only opens never create or change a file; databases of the previous schema open, and migrate only when written."""

from __future__ import annotations

import io
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from hal.calibration import open_store
from hal.calibration.database import SCHEMA_VERSION
from hal.cli import main
from hal.errors import ConfigError, FileFormatError

#: The schema the previous version (2) wrote, verbatim, and its way of storing a transform.
_SCHEMA_2 = """
    CREATE TABLE calibration_sets (id INTEGER PRIMARY KEY AUTOINCREMENT, wafer INTEGER NOT NULL, created TEXT NOT NULL,
        backend TEXT NOT NULL, seed INTEGER, routine TEXT NOT NULL, hal_version TEXT NOT NULL, note TEXT NOT NULL DEFAULT '');
    CREATE TABLE transforms (set_id INTEGER NOT NULL REFERENCES calibration_sets(id), hicann INTEGER NOT NULL,
        parameter TEXT NOT NULL, kind TEXT NOT NULL, unit TEXT NOT NULL, data BLOB NOT NULL, PRIMARY KEY (set_id, hicann, parameter));
    CREATE INDEX sets_by_wafer ON calibration_sets (wafer, id);
    CREATE TABLE defects (wafer INTEGER NOT NULL, component TEXT NOT NULL, hicann INTEGER NOT NULL, item INTEGER NOT NULL,
        reason TEXT NOT NULL, source TEXT NOT NULL, created TEXT NOT NULL, PRIMARY KEY (wafer, component, hicann, item));
    PRAGMA user_version = 2;
    PRAGMA application_id = 1212238915;
"""


def _blob(transform) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **transform.to_arrays())
    return buf.getvalue()


@pytest.fixture
def legacy(tmp_path, setfiles):
    """A schema-2 file in WAL mode, as the previous version left it: set 1 complete, 2 interrupted, 3 HICANN 999, 4 NaN."""
    path = tmp_path / "legacy.db"
    linear, lookup, _ = (t for _, t in setfiles.entries())
    nan = linear.coefficients.copy()
    nan[0, 0] = np.nan
    import attrs

    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode = WAL")
    con.executescript(_SCHEMA_2)
    sets = [(1, "plugins.calibration:e_l_mv,tau_syn_e_us", [(12, linear), (12, lookup), (13, linear), (13, lookup)]),
            (2, "plugins.calibration:e_l_mv,tau_syn_e_us", [(12, linear), (12, lookup), (13, linear)]),
            (3, "test", [(999, linear)]),
            (4, "test", [(12, attrs.evolve(linear, coefficients=nan))])]
    for set_id, routine, entries in sets:
        con.execute("INSERT INTO calibration_sets VALUES (?, 3, '2025-01-01T00:00:00+00:00', 'emulator', NULL, ?, '0.1', '')", (set_id, routine))
        for hicann, t in entries:
            con.execute("INSERT INTO transforms VALUES (?, ?, ?, ?, ?, ?)", (set_id, hicann, t.parameter, t.kind.value, t.unit, _blob(t)))
    con.execute("INSERT INTO defects VALUES (3, 'neuron', 12, 5, 'broken', 'by hand', 'x')")
    con.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["legacy.db"]
    return path


def _files(folder) -> dict:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_a_read_only_open_of_an_old_wal_file_changes_nothing_and_judges_its_sets(legacy):
    before = _files(legacy.parent)
    with open_store(legacy, read_only=True) as store:
        assert [s.id for s in store.sets(3)] == [1] and store.latest_set(3).id == 1
        verdicts = {s.id: (s.complete, s.problem) for s in store.sets(3, include_incomplete=True)}
        assert [d.item for d in store.defects(3)] == [5]
        with pytest.raises(ConfigError, match="opened read-only"):
            store.create_set(3, backend="b", routine="r")
    assert verdicts[1] == (True, "")
    assert "HICANN 13 lacks tau_syn_e_us of the routine's parameters (an interrupted calibration)" in verdicts[2][1]
    assert "HICANNOnWafer.enum: 999 out of range" in verdicts[3][1]
    assert "coefficients[0, 0]: nan out of range" in verdicts[4][1]
    assert _files(legacy.parent) == before  # no -wal, -shm or -journal beside it, no migration, no WAL switch


def test_a_writing_open_migrates_inside_a_transaction_and_keeps_the_verdicts(legacy):
    with open_store(legacy, read_only=True) as store:
        judged = store.sets(include_incomplete=True)
        old_hash = store.content_hash(1)
    with open_store(legacy) as store:
        assert store.sets(include_incomplete=True) == judged
    con = sqlite3.connect(legacy)
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert con.execute("SELECT id, complete, content_hash FROM calibration_sets WHERE complete = 1").fetchall() == [(1, 1, old_hash)]
    con.close()
    with open_store(legacy, read_only=True) as store:
        assert store.sets(include_incomplete=True) == judged and store.content_hash(1) == old_hash


def test_calib_show_lists_an_old_file_flagging_incomplete_sets_without_touching_it(legacy, capsys):
    before = _files(legacy.parent)
    assert main(["calib", "show", "--db", str(legacy), "--hicann", "12-13"]) == 0
    out = capsys.readouterr().out
    assert "set 1: wafer 3" in out and "INCOMPLETE" not in out.splitlines()[0]
    assert [line.split(":")[0] for line in out.splitlines() if "INCOMPLETE, not used by latest_set/hal map" in line] == ["set 2", "set 3", "set 4"]
    assert _files(legacy.parent) == before


@pytest.mark.parametrize("content, problem", [
    (b"", "is empty, not a calibration database; create one with `hal calibrate --db"),
    (b"this is not sqlite" * 100, "not an SQLite file, so not a calibration database"),
    (b"SQLite format 3\x00" + b"\x00" * 84 + b"\xff" * 4000, "not a calibration database"),
])
def test_read_only_opens_refuse_files_that_are_no_database_and_leave_them_alone(tmp_path, content, problem):
    path = tmp_path / "x.db"
    path.write_bytes(content)
    with pytest.raises(FileFormatError, match=problem):
        open_store(path, read_only=True)
    assert _files(tmp_path) == {"x.db": content}


def test_read_only_opens_refuse_foreign_and_missing_files_and_directories(tmp_path):
    foreign = tmp_path / "foreign.db"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE stuff (x)")
    con.commit()
    con.close()
    with pytest.raises(FileFormatError, match=r"an SQLite file of another application \(application id 0x0, tables \['stuff'\]\)"):
        open_store(foreign, read_only=True)
    with pytest.raises(FileFormatError, match="absent.db: no such file: no calibration database here"):
        open_store(tmp_path / "absent.db", read_only=True)
    with pytest.raises(FileFormatError, match="is a directory, not a calibration database file"):
        open_store(tmp_path, read_only=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["foreign.db"]


def test_an_interrupted_writer_is_a_typed_error_for_readers_until_a_writer_rolls_it_back(tmp_path, setfiles):
    path = tmp_path / "cal.db"
    with open_store(path) as store:
        store.add_set(3, setfiles.entries(), backend="b", routine="kept")
    # A writer whose transaction outgrew its page cache has written pages and a journal when it is killed.
    script = textwrap.dedent(f"""
        import sqlite3, time
        con = sqlite3.connect({str(path)!r}, isolation_level=None)
        con.execute("PRAGMA cache_size = 5")
        con.execute("BEGIN IMMEDIATE")
        for i in range(200):
            con.execute("INSERT INTO calibration_sets (wafer, created, backend, routine, hal_version) VALUES (3, 'x', ?, 'half', 'z')", ('y' * 2000,))
        print("inside", flush=True)
        time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "inside"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert (tmp_path / "cal.db-journal").exists()
    with pytest.raises(FileFormatError, match="cannot be read without writing .*a writer was interrupted"):
        open_store(path, read_only=True)
    with open_store(path) as store:  # a writing open rolls the journal back
        assert [s.routine for s in store.sets(include_incomplete=True)] == ["kept"]
    with open_store(path, read_only=True) as store:
        assert [s.routine for s in store.sets()] == ["kept"]
