"""Calibration sets as transactions: complete or absent, never half; incomplete sets never chosen silently."""

from __future__ import annotations

import numpy as np
import pytest

import hal.calibration.database as database
from hal import coordinates as C
from hal.calibration import (
    Calibration,
    CalibrationMissingError,
    Defect,
    UnknownSetError,
    open_store,
)
from hal.errors import (
    CalibrationError,
    ConfigError,
    ConfigValueError,
    CoordinateError,
    UnknownNameError,
)
from hal.logging import capture_events


@pytest.fixture
def db(tmp_path, setfiles):
    """A database with one complete set (id 1, wafer 3); returns its path."""
    path = tmp_path / "cal.db"
    with open_store(path) as store:
        store.add_set(3, setfiles.entries(), backend="emulator", routine="test")
    return path


def _state(path):
    with open_store(path, read_only=True) as store:
        return path.read_bytes(), store.sets(include_incomplete=True)


def _with(entries, index, **changes):
    import attrs

    out = list(entries)
    hicann, t = out[index]
    out[index] = (changes.pop("hicann", hicann), attrs.evolve(t, **changes) if changes else t)
    return out


def _nan(t):
    coefficients = t.coefficients.copy()
    coefficients[5, 1] = np.nan
    return coefficients


BAD_SETS = [
    ("wafer -7", dict(wafer=-7), CoordinateError, "CalibrationSet.wafer: -7 out of range; valid a wafer id 0..65535"),
    ("seed -1", dict(seed=-1), ConfigValueError, "CalibrationSet.seed: -1 out of range; valid None or an integer 0..2**63-1"),
    ("HICANN 999", dict(entry=dict(hicann=999)), CoordinateError, "HICANNOnWafer.enum: 999 out of range; valid 0..383"),
    ("unknown parameter", dict(entry=dict(parameter="e_leak")), UnknownNameError, "unknown calibrated parameter 'e_leak'; known: e_l_mv, e_rev_e_mv"),
    ("NaN", dict(entry="nan"), ConfigValueError, "Transform[HICANN 12 e_l_mv].coefficients[5, 1]: nan out of range; valid a finite number"),
    ("empty", dict(entries=[]), ConfigError, "holds no transforms"),
    ("twice", dict(entries="twice"), ConfigError, "HICANN 12 'e_l_mv' given twice"),
    ("defect of another wafer", dict(defects=[Defect(4, "neuron", 12, 3, "r", "s")]), ConfigValueError, "Defect.wafer: 4 out of range; valid 3 (the set's wafer)"),
]


@pytest.mark.parametrize("what, change, error, message", BAD_SETS, ids=[b[0] for b in BAD_SETS])
def test_a_bad_set_is_refused_before_anything_is_written(db, setfiles, what, change, error, message):
    entries = setfiles.entries()
    if change.get("entry") == "nan":
        entries = _with(entries, 0, coefficients=_nan(entries[0][1]))
    elif "entry" in change:
        entries = _with(entries, 0, **change["entry"])
    if change.get("entries") == "twice":
        entries = entries + entries[:1]
    elif "entries" in change:
        entries = change["entries"]
    before = _state(db)
    with open_store(db) as store, pytest.raises(error) as info:
        store.add_set(change.get("wafer", 3), entries, backend="b", routine="r", seed=change.get("seed"), defects=change.get("defects", ()))
    assert message in str(info.value)
    assert _state(db) == before


def test_a_failed_check_inside_the_transaction_rolls_everything_back(db, setfiles, monkeypatch):
    before = _state(db)
    monkeypatch.setattr(database, "rows_hash", lambda conn, set_id: "0" * 64)  # as if the blobs read back altered
    with open_store(db) as store, pytest.raises(CalibrationError, match=r"set 2 reads back with content hash 000000000000\.\.\., written"):
        store.add_set(3, setfiles.entries(), backend="b", routine="r", defects=[Defect(3, "neuron", 12, 7, "failed", "x")])
    assert _state(db) == before
    with open_store(db, read_only=True) as store:
        assert store.defects(3) == []


def test_add_set_stores_defects_with_the_set_and_marks_it_complete(db, setfiles):
    with open_store(db) as store:
        set_id = store.add_set(3, setfiles.entries(), backend="b", routine="r", defects=[Defect(3, "neuron", 12, 7, "e_l_mv failed", "calibration")])
        info = store.set_info(set_id)
        assert info.complete and info.content_hash == store.content_hash(set_id) == store.content_hash(1)  # same content
        assert [(d.item, d.source) for d in store.defects(3)] == [(7, f"set {set_id}")]
        with pytest.raises(ConfigError, match=f"calibration set {set_id} is complete .*its content is fixed"):
            store.store(set_id, 12, setfiles.entries()[0][1])


def test_incomplete_sets_are_skipped_by_latest_set_and_flagged_when_asked_for(db, setfiles):
    with open_store(db) as store:
        draft = store.create_set(3, backend="b", routine="interrupted")
        store.store(draft, 12, setfiles.entries()[0][1])
        assert [s.id for s in store.sets(3)] == [1] and store.latest_set(3).id == 1
        assert [(s.id, s.complete) for s in store.sets(3, include_incomplete=True)] == [(1, True), (draft, False)]
        with capture_events() as events:
            Calibration(store, draft, fallback="nominal")
        assert [e["set_id"] for e in events if e["event"] == "calibration_set_incomplete" and e["log_level"] == "warning"] == [draft]
        with pytest.raises(ConfigError, match=f"calibration set {draft} is incomplete .*valid for export: complete sets \\(1\\)"):
            store.export_set(draft, db.parent / "draft.hal")
        assert not (db.parent / "draft.hal").exists()
        assert store.complete_set(draft) == store.content_hash(draft)
        assert store.latest_set(3).id == draft


def test_a_wafer_with_only_incomplete_sets_has_no_latest_set(tmp_path):
    with open_store(tmp_path / "cal.db") as store:
        draft = store.create_set(5, backend="b", routine="r")
        with pytest.raises(ConfigError, match="holds no transforms"):
            store.complete_set(draft)
        assert not store.set_info(draft).complete
        with pytest.raises(CalibrationMissingError, match=f"wafer 5 has no complete calibration set \\(incomplete, not used: {draft}\\)"):
            store.latest_set(5)


def test_unknown_set_ids_are_errors_naming_the_known_ids(db):
    with open_store(db, read_only=True) as store:
        for call in (lambda: store.diff(1, 99), lambda: store.entries(99), lambda: store.load(99, 12, "e_l_mv"),
                     lambda: store.content_hash(99), lambda: Calibration(store, 99), lambda: store.set_info("1")):
            with pytest.raises(UnknownSetError) as info:
                call()
            assert "no calibration set" in str(info.value) and "known sets: 1" in str(info.value)
        assert isinstance(info.value, (UnknownNameError, CalibrationError)) and info.value.known == ("1",)
        # a known set missing an entry still falls back (with a warning) when asked to
        calibration = Calibration(store, 1, fallback="nominal")
        with capture_events() as events:
            assert calibration.transform(C.HICANNOnWafer(200), "e_l_mv").shared
        assert any(e["event"] == "calibration_fallback_to_nominal" for e in events)


def test_a_database_locked_by_another_writer_is_a_typed_error_and_nothing_is_stored(db, setfiles):
    import sqlite3

    from hal.calibration import SQLiteStore
    from hal.errors import FileFormatError

    before = _state(db)
    store = SQLiteStore(db, timeout_s=0.2)
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process in the middle of its write
    try:
        with pytest.raises(FileFormatError, match="cannot start writing \\(database is locked\\); nothing was stored"):
            store.add_set(3, setfiles.entries(), backend="b", routine="r")
        with pytest.raises(FileFormatError, match="cannot be written \\(database is locked\\): another process holds its write lock \\(waited 0.2 s\\)"):
            SQLiteStore(db, timeout_s=0.2)
    finally:
        store.close()
        other.execute("ROLLBACK")
        other.close()
    assert _state(db) == before
