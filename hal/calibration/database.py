"""The calibration database: SQLite by default (one file, nothing to start), behind a small interface.

Calibration *sets* belong to a wafer and carry their provenance (backend,
seed, routine, hal version, time). A set holds one :class:`Transform` per
(HICANN, parameter). Every set is kept (history per wafer); a set's content
hash identifies what it holds; two sets can be diffed.

Safety: WAL journal, every write in one ``BEGIN IMMEDIATE`` transaction, a
busy timeout so that several processes calibrating different HICANNs into one
file wait for each other instead of failing; a process killed mid-write leaves
the last committed state (SQLite's atomic commit). The file carries an
application id and a schema version; older schemas are migrated on open, newer
or foreign files are refused with a clear error.

A lab can implement :class:`CalibrationStore` on a shared server database and
use it wherever hal takes a store.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import attrs
import numpy as np

from hal import coordinates as C
from hal._version import __version__
from hal.configuration.archive import read_archive, write_archive
from hal.calibration.transforms import CalibrationMissingError, Transform
from hal.errors import CalibrationError, ConfigError, FileFormatError
from hal.logging import get_logger

__all__ = ["CalibrationStore", "SQLiteStore", "SetInfo", "Defect", "DEFECT_COMPONENTS", "open_store", "SCHEMA_VERSION", "APPLICATION_ID"]

log = get_logger(__name__)

APPLICATION_ID = 0x48414C43  # "HALC"
SCHEMA_VERSION = 2

_MIGRATIONS = {
    1: """
        CREATE TABLE calibration_sets (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            wafer INTEGER NOT NULL,
            created TEXT NOT NULL,
            backend TEXT NOT NULL,
            seed INTEGER,
            routine TEXT NOT NULL,
            hal_version TEXT NOT NULL,
            note TEXT NOT NULL DEFAULT ''
        );
        CREATE TABLE transforms (
            set_id INTEGER NOT NULL REFERENCES calibration_sets(id),
            hicann INTEGER NOT NULL,
            parameter TEXT NOT NULL,
            kind TEXT NOT NULL,
            unit TEXT NOT NULL,
            data BLOB NOT NULL,
            PRIMARY KEY (set_id, hicann, parameter)
        );
        CREATE INDEX sets_by_wafer ON calibration_sets (wafer, id);
    """,
    2: """
        CREATE TABLE defects (
            wafer INTEGER NOT NULL,
            component TEXT NOT NULL,
            hicann INTEGER NOT NULL,
            item INTEGER NOT NULL,
            reason TEXT NOT NULL,
            source TEXT NOT NULL,
            created TEXT NOT NULL,
            PRIMARY KEY (wafer, component, hicann, item)
        );
    """,
}


@attrs.frozen
class SetInfo:
    """A calibration set and its provenance."""

    id: int
    wafer: int
    created: str
    backend: str
    seed: int | None
    routine: str
    hal_version: str
    note: str = ""


#: Component kinds of the defect list: name -> (what ``item`` indexes, number of items).
#: ``hicann`` and ``fpga`` defects disable a whole chip / FPGA (item 0 / the FPGA number; an
#: FPGA defect names no HICANN, ``hicann = -1``); the others name a part of HICANN ``hicann``.
#: Lines and repeaters are numbered as :class:`~hal.coordinates.HLineOnHICANN` /
#: :class:`~hal.coordinates.VLineOnHICANN` (a repeater has the number of its line).
DEFECT_COMPONENTS: dict[str, tuple[str, int]] = {
    "hicann": ("the whole HICANN (item 0)", 1),
    "fpga": ("FPGAOnWafer", C.FPGAOnWafer.size),
    "neuron": ("NeuronOnHICANN enum (denmem)", C.NeuronOnHICANN.size),
    "fg_block": ("FGBlockOnHICANN enum", C.FGBlockOnHICANN.size),
    "synapse_driver": ("SynapseDriverOnHICANN", C.SynapseDriverOnHICANN.size),
    "synapse_row": ("SynapseRowOnHICANN", C.SynapseRowOnHICANN.size),
    "hline": ("HLineOnHICANN", C.HLineOnHICANN.size),
    "vline": ("VLineOnHICANN", C.VLineOnHICANN.size),
    "hrepeater": ("HRepeaterOnHICANN (its line)", C.HLineOnHICANN.size),
    "vrepeater": ("VRepeaterOnHICANN (its line)", C.VLineOnHICANN.size),
}

_HICANNS_PER_WAFER = C.HICANNOnWafer.size


def check_defect(component: str, hicann: int, item: int) -> None:
    """Raise a typed error naming the kind, the value and the valid range unless the defect is valid."""
    from hal.errors import CoordinateError, UnknownNameError

    if component not in DEFECT_COMPONENTS:
        raise UnknownNameError("defect component", str(component), DEFECT_COMPONENTS)
    what, count = DEFECT_COMPONENTS[component]
    for name, value in (("hicann", hicann), ("item", item)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
            raise CoordinateError(f"Defect[{component}]", name, value, "an integer")
    if component == "fpga":
        if hicann != -1:
            raise CoordinateError("Defect[fpga]", "hicann", int(hicann), "-1 (an FPGA defect names no HICANN; give the FPGA as item)")
    elif not 0 <= hicann < _HICANNS_PER_WAFER:
        raise CoordinateError(f"Defect[{component}]", "hicann", int(hicann), f"0..{_HICANNS_PER_WAFER - 1} (HICANNOnWafer enum)")
    if not 0 <= item < count:
        raise CoordinateError(f"Defect[{component}]", "item", int(item), f"0..{count - 1} ({what})")


@attrs.frozen
class Defect:
    """A disabled component: e.g. ("neuron", HICANN 12, denmem 300) that failed calibration.

    ``component`` is one of :data:`DEFECT_COMPONENTS`; an unknown kind or an item out of its
    range raises (:class:`~hal.errors.UnknownNameError` / :class:`~hal.errors.CoordinateError`).
    """

    wafer: int
    component: str
    hicann: int
    item: int
    reason: str
    source: str

    def __attrs_post_init__(self):
        check_defect(self.component, self.hicann, self.item)


class CalibrationStore(Protocol):
    """What hal needs from a calibration store."""

    def create_set(self, wafer: int, *, backend: str, routine: str, seed: int | None = None, note: str = "") -> int: ...

    def store(self, set_id: int, hicann: int, transform: Transform) -> None: ...

    def load(self, set_id: int, hicann: int, parameter: str) -> Transform: ...

    def sets(self, wafer: int | None = None) -> list[SetInfo]: ...

    def entries(self, set_id: int) -> list[tuple[int, str]]: ...


def _blob(transform: Transform) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **transform.to_arrays())
    return buf.getvalue()


def _unblob(data: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


class SQLiteStore:
    """The default store: one SQLite file (see the module docstring)."""

    def __init__(self, path: str | os.PathLike, *, timeout_s: float = 60.0, create: bool = True):
        self.path = Path(path)
        if not create and not self.path.exists():
            raise CalibrationError(f"{self.path}: no calibration database here; create one with `hal calibrate --db {self.path}`")
        existed = self.path.exists() and self.path.stat().st_size > 0
        try:
            self._conn = sqlite3.connect(str(self.path), timeout=timeout_s, isolation_level=None)
            self._conn.execute(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
            app = self._conn.execute("PRAGMA application_id").fetchone()[0]
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise FileFormatError(self.path, f"not a calibration database ({exc})") from None
        if existed and app != APPLICATION_ID:
            tables = [r[0] for r in self._conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            self._conn.close()
            raise FileFormatError(self.path, f"an SQLite file of another application (application id {app:#x}, tables {tables}), not a hal calibration database")
        if version > SCHEMA_VERSION:
            self._conn.close()
            raise FileFormatError(self.path, f"schema version {version} is newer than this hal supports ({SCHEMA_VERSION}); upgrade hal")
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA foreign_keys = ON")
        if version < SCHEMA_VERSION:
            self._migrate(version)

    def _migrate(self, version: int) -> None:
        with self._transaction():
            current = self._conn.execute("PRAGMA user_version").fetchone()[0]  # another process may have migrated
            for v in range(current + 1, SCHEMA_VERSION + 1):
                for statement in _MIGRATIONS[v].split(";"):
                    if statement.strip():
                        self._conn.execute(statement)
                self._conn.execute(f"PRAGMA user_version = {v}")
            self._conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        if version:
            log.info("calibration_database_migrated", path=str(self.path), from_version=version, to_version=SCHEMA_VERSION)

    class _Tx:
        def __init__(self, conn):
            self.conn = conn

        def __enter__(self):
            self.conn.execute("BEGIN IMMEDIATE")
            return self.conn

        def __exit__(self, exc_type, exc, tb):
            self.conn.execute("COMMIT" if exc_type is None else "ROLLBACK")
            return False

    def _transaction(self):
        return self._Tx(self._conn)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- sets -------------------------------------------------------------------------------------------

    def create_set(self, wafer: int, *, backend: str, routine: str, seed: int | None = None, note: str = "") -> int:
        created = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        with self._transaction() as c:
            cur = c.execute(
                "INSERT INTO calibration_sets (wafer, created, backend, seed, routine, hal_version, note) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (int(wafer), created, backend, seed, routine, __version__, note),
            )
            return int(cur.lastrowid)

    def set_info(self, set_id: int) -> SetInfo:
        row = self._conn.execute("SELECT id, wafer, created, backend, seed, routine, hal_version, note FROM calibration_sets WHERE id = ?", (set_id,)).fetchone()
        if row is None:
            known = [r[0] for r in self._conn.execute("SELECT id FROM calibration_sets ORDER BY id")]
            raise CalibrationMissingError(f"{self.path}: no calibration set {set_id}; known sets: {known or 'none'}")
        return SetInfo(*row)

    def sets(self, wafer: int | None = None) -> list[SetInfo]:
        query = "SELECT id, wafer, created, backend, seed, routine, hal_version, note FROM calibration_sets"
        rows = self._conn.execute(query + (" WHERE wafer = ? ORDER BY id" if wafer is not None else " ORDER BY id"), (() if wafer is None else (int(wafer),))).fetchall()
        return [SetInfo(*r) for r in rows]

    def latest_set(self, wafer: int) -> SetInfo:
        found = self.sets(wafer)
        if not found:
            raise CalibrationMissingError(f"{self.path}: wafer {wafer} has no calibration set; run `hal calibrate --wafer {wafer} --db {self.path}`")
        return found[-1]

    # -- transforms ----------------------------------------------------------------------------------

    def store(self, set_id: int, hicann: int, transform: Transform) -> None:
        self.set_info(set_id)
        with self._transaction() as c:
            c.execute(
                "INSERT OR REPLACE INTO transforms (set_id, hicann, parameter, kind, unit, data) VALUES (?, ?, ?, ?, ?, ?)",
                (set_id, int(hicann), transform.parameter, transform.kind.value, transform.unit, _blob(transform)),
            )

    def load(self, set_id: int, hicann: int, parameter: str) -> Transform:
        row = self._conn.execute(
            "SELECT kind, unit, data FROM transforms WHERE set_id = ? AND hicann = ? AND parameter = ?", (set_id, int(hicann), parameter)
        ).fetchone()
        if row is None:
            info = self.set_info(set_id)
            have = sorted({p for h, p in self.entries(set_id) if h == int(hicann)})
            raise CalibrationMissingError(
                f"calibration set {set_id} (wafer {info.wafer}) has no {parameter!r} for HICANN {hicann}; "
                f"it holds for that HICANN: {', '.join(have) or 'nothing'}"
            )
        kind, unit, data = row
        return Transform.from_arrays(parameter, kind, unit, _unblob(data))

    def entries(self, set_id: int) -> list[tuple[int, str]]:
        return [(int(h), p) for h, p in self._conn.execute("SELECT hicann, parameter FROM transforms WHERE set_id = ? ORDER BY hicann, parameter", (set_id,))]

    def content_hash(self, set_id: int) -> str:
        """sha256 over the set's transforms (not its provenance): equal content, equal hash."""
        h = hashlib.sha256()
        for hicann, parameter, kind, unit, data in self._conn.execute(
            "SELECT hicann, parameter, kind, unit, data FROM transforms WHERE set_id = ? ORDER BY hicann, parameter", (set_id,)
        ):
            h.update(f"{hicann}|{parameter}|{kind}|{unit}|".encode())
            for name, arr in sorted(_unblob(data).items()):
                h.update(name.encode())
                h.update(np.ascontiguousarray(arr).tobytes())
        return h.hexdigest()

    def iter_transforms(self, set_id: int) -> Iterator[tuple[int, Transform]]:
        for hicann, parameter in self.entries(set_id):
            yield hicann, self.load(set_id, hicann, parameter)

    # -- defects ---------------------------------------------------------------------------------------

    def add_defects(self, defects: list[Defect]) -> None:
        now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        with self._transaction() as c:
            c.executemany(
                "INSERT OR REPLACE INTO defects (wafer, component, hicann, item, reason, source, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(d.wafer, d.component, d.hicann, d.item, d.reason, d.source, now) for d in defects],
            )

    def remove_defects(self, wafer: int, component: str, hicann: int, items: list[int]) -> None:
        for i in items:
            check_defect(component, hicann, i)
        with self._transaction() as c:
            c.executemany("DELETE FROM defects WHERE wafer = ? AND component = ? AND hicann = ? AND item = ?",
                          [(wafer, component, hicann, int(i)) for i in items])

    def defects(self, wafer: int, component: str | None = None) -> list[Defect]:
        query = "SELECT wafer, component, hicann, item, reason, source FROM defects WHERE wafer = ?"
        args: tuple = (wafer,)
        if component is not None:
            if component not in DEFECT_COMPONENTS:
                from hal.errors import UnknownNameError

                raise UnknownNameError("defect component", str(component), DEFECT_COMPONENTS)
            query += " AND component = ?"
            args += (component,)
        return [Defect(*r) for r in self._conn.execute(query + " ORDER BY component, hicann, item", args)]

    # -- portable files --------------------------------------------------------------------------------

    def export_set(self, set_id: int, path: str | os.PathLike) -> None:
        info = self.set_info(set_id)
        manifest = {"set": attrs.asdict(info), "content_hash": self.content_hash(set_id), "entries": []}
        arrays = {}
        for i, (hicann, transform) in enumerate(self.iter_transforms(set_id)):
            manifest["entries"].append({"hicann": hicann, "parameter": transform.parameter, "kind": transform.kind.value, "unit": transform.unit})
            for name, arr in transform.to_arrays().items():
                arrays[f"{i}/{name}.npy"] = arr
        write_archive(path, "hal-calibration-set", 1, manifest, arrays)

    def import_set(self, path: str | os.PathLike) -> int:
        """Import an exported set as a new set (its provenance kept, its id new); returns the id."""
        manifest, arrays = read_archive(path, "hal-calibration-set", range(1, 2))
        try:
            info = manifest["set"]
            transforms = []
            for i, e in enumerate(manifest["entries"]):
                prefix = f"{i}/"
                data = {k[len(prefix):-4]: v for k, v in arrays.items() if k.startswith(prefix)}
                transforms.append((e["hicann"], Transform.from_arrays(e["parameter"], e["kind"], e["unit"], data)))
        except (KeyError, ValueError, TypeError, ConfigError) as exc:
            raise FileFormatError(path, f"malformed calibration set ({type(exc).__name__}: {exc})") from None
        new_id = self.create_set(info["wafer"], backend=info["backend"], routine=info["routine"], seed=info["seed"],
                                 note=f"imported from {Path(path).name} (set {info['id']}, {info['created']}) {info.get('note', '')}".strip())
        for hicann, t in transforms:
            self.store(new_id, hicann, t)
        if self.content_hash(new_id) != manifest.get("content_hash"):
            raise FileFormatError(path, "content hash mismatch after import: the file was altered")
        return new_id

    # -- diff ------------------------------------------------------------------------------------------

    def diff(self, set_a: int, set_b: int, circuit_dac_samples: Any = None) -> list[dict[str, Any]]:
        """Which parameters of which circuits moved between two sets, and by how much (in DAC at mid-domain)."""
        a = dict(((h, p), None) for h, p in self.entries(set_a))
        b = dict(((h, p), None) for h, p in self.entries(set_b))
        out = []
        for key in sorted(a.keys() | b.keys()):
            hicann, parameter = key
            if key not in a or key not in b:
                out.append({"hicann": hicann, "parameter": parameter, "change": "added" if key in b else "removed"})
                continue
            ta, tb = self.load(set_a, hicann, parameter), self.load(set_b, hicann, parameter)
            if ta == tb:
                continue
            both = ta.success & tb.success
            mid = np.where(both, (np.maximum(ta.domain_lo, tb.domain_lo) + np.minimum(ta.domain_hi, tb.domain_hi)) / 2, np.nan)
            idx = np.flatnonzero(both & np.isfinite(mid))
            moved = []
            if idx.size:
                da = ta._raw(mid[idx], idx)
                db = tb._raw(mid[idx], idx)
                delta = db - da
                for k in np.flatnonzero(np.abs(delta) >= 0.5):
                    moved.append({"circuit": int(idx[k]), "dac_at_mid_domain": [float(da[k]), float(db[k])], "delta_dac": float(delta[k])})
            status = np.flatnonzero(ta.success != tb.success)
            out.append({"hicann": hicann, "parameter": parameter, "change": "modified", "circuits_moved": len(moved),
                        "max_delta_dac": max((abs(m["delta_dac"]) for m in moved), default=0.0),
                        "moved": moved, "success_changed": [int(i) for i in status]})
        return out


def open_store(path: str | os.PathLike, *, create: bool = True) -> SQLiteStore:
    return SQLiteStore(path, create=create)
