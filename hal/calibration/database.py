"""The calibration database: SQLite by default (one file, nothing to start), behind a small interface.

Calibration *sets* belong to a wafer and carry their provenance (backend, seed, routine, hal
version, time). A set holds one :class:`Transform` per (HICANN, parameter). Every set is kept
(history per wafer); a set's content hash identifies what it holds; two sets can be diffed.

Sets are transactions. :meth:`SQLiteStore.add_set` writes a set's provenance, transforms and the
defects its calibration found, checks them (:mod:`hal.calibration.checks`: fields, ranges,
finite values, the content hash read back from the database) and marks the set complete, all
in one ``BEGIN IMMEDIATE`` transaction: a process killed on the way leaves the last committed
state, never half a set. The incremental way (:meth:`~SQLiteStore.create_set`,
:meth:`~SQLiteStore.store`, :meth:`~SQLiteStore.complete_set`) keeps a set *incomplete* until
``complete_set`` has checked it. :meth:`~SQLiteStore.sets` and :meth:`~SQLiteStore.latest_set`
(and so ``hal map --db``) see complete sets only; an incomplete set is used only when asked for
by id, with a warning. An unknown set id is an :class:`UnknownSetError` naming the known ids.

Read-only opens (``open_store(path, read_only=True)``; ``hal calib show|diff|export``,
``hal defects list``) use SQLite's ``mode=ro``: they never create, migrate or convert a file, so a
database on a read-only share can be listed. A missing file is an error naming it; an empty or
non-SQLite file is a :class:`~hal.errors.FileFormatError`.

Writing opens use a rollback journal (``journal_mode=DELETE``; files from earlier versions in WAL
mode are converted back): a read-only reader then needs nothing beside the file, where WAL needs
its ``-shm``/``-wal`` files created next to it and works on one host only. Concurrent writers
(several processes calibrating into one file) wait for each other through a busy timeout.

The file carries an application id and a schema version. Older schemas are migrated on a
writing open, inside a transaction; a read-only open reads them as they are. Schema 3 added the
completeness mark: sets written before it are judged by today's checks (and, for ``hal
calibrate`` sets, whether every HICANN holds every parameter the routine lists) -- complete if
they pass, else incomplete with the reason. Newer or foreign files are refused.

A lab can implement :class:`CalibrationStore` on a shared server database and use it wherever
hal takes a store.
"""

from __future__ import annotations

import datetime
import os
import sqlite3
import urllib.parse
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import attrs
import numpy as np

from hal import coordinates as C
from hal._version import __version__
from hal.calibration.checks import (
    check_entries,
    check_entry,
    check_provenance,
    check_wafer,
    content_hash,
    entry_hash_items,
    integer,
)
from hal.calibration.schema import APPLICATION_ID, SCHEMA_VERSION, SET_COLUMNS, from_blob, judge_legacy, migrate, rows_hash, to_blob
from hal.calibration.setfile import Provenance, SetFile, read_set_file, write_set_file
from hal.calibration.transforms import CalibrationMissingError, Transform
from hal.errors import (
    CalibrationError,
    ConfigError,
    ConfigValueError,
    FileFormatError,
    UnknownNameError,
)
from hal.logging import get_logger

__all__ = ["CalibrationStore", "SQLiteStore", "SetInfo", "Defect", "DEFECT_COMPONENTS", "UnknownSetError", "open_store",
           "SCHEMA_VERSION", "APPLICATION_ID"]

log = get_logger(__name__)

_CREATE_HINT = "create one with `hal calibrate --db {path} ...` or `hal calib import --db {path} FILE`"




@attrs.frozen
class SetInfo:
    """A calibration set, its provenance, and whether it is complete (checked, with its content hash)."""

    id: int
    wafer: int
    created: str
    backend: str
    seed: int | None
    routine: str
    hal_version: str
    note: str = ""
    complete: bool = True
    content_hash: str | None = None
    #: why an incomplete set is incomplete ("" when it is merely unfinished)
    problem: str = ""

    def provenance(self) -> Provenance:
        return Provenance(self.id, self.wafer, self.created, self.backend, self.seed, self.routine, self.hal_version, self.note)


class UnknownSetError(UnknownNameError, CalibrationError):
    """No calibration set has this id; the message lists the ids there are."""

    def __init__(self, path: object, set_id: object, known: Sequence[int]):
        self.kind = "calibration set"
        self.name = str(set_id)
        self.known = tuple(str(k) for k in known)
        self.set_id = set_id
        self.message = f"{path}: no calibration set {set_id!r}; known sets: {', '.join(self.known) or 'none'}"
        Exception.__init__(self, self.message)


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
        check_wafer(self.wafer, "Defect")
        check_defect(self.component, self.hicann, self.item)


class CalibrationStore(Protocol):
    """What hal needs from a calibration store."""

    def create_set(self, wafer: int, *, backend: str, routine: str, seed: int | None = None, note: str = "") -> int: ...

    def store(self, set_id: int, hicann: int, transform: Transform) -> None: ...

    def load(self, set_id: int, hicann: int, parameter: str) -> Transform: ...

    def sets(self, wafer: int | None = None) -> list[SetInfo]: ...

    def set_info(self, set_id: int) -> SetInfo: ...

    def entries(self, set_id: int) -> list[tuple[int, str]]: ...


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


class SQLiteStore:
    """The default store: one SQLite file (see the module docstring)."""

    def __init__(self, path: str | os.PathLike, *, timeout_s: float = 60.0, create: bool = True, read_only: bool = False):
        self.path = Path(path)
        self.read_only = read_only
        self._legacy: dict[int, tuple[bool, str | None, str]] = {}
        if self.path.is_dir():
            raise FileFormatError(self.path, "is a directory, not a calibration database file")
        if (read_only or not create) and not self.path.exists():
            raise FileFormatError(self.path, "no such file: no calibration database here; " + _CREATE_HINT.format(path=self.path))
        if read_only:
            self._open_read_only(timeout_s)
        else:
            self._open_for_writing(timeout_s)

    # -- opening ---------------------------------------------------------------------------------------

    def _identify(self) -> tuple[int, int]:
        app = self._conn.execute("PRAGMA application_id").fetchone()[0]
        version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        return app, version

    def _refuse_foreign(self, app: int, version: int) -> None:
        if app != APPLICATION_ID:
            tables = [r[0] for r in self._conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            self._conn.close()
            if not tables and not app:
                raise FileFormatError(self.path, "an empty SQLite file, not a calibration database; " + _CREATE_HINT.format(path=self.path))
            raise FileFormatError(self.path, f"an SQLite file of another application (application id {app:#x}, tables {tables}), not a hal calibration database")
        if version > SCHEMA_VERSION:
            self._conn.close()
            raise FileFormatError(self.path, f"schema version {version} is newer than this hal supports ({SCHEMA_VERSION}); upgrade hal")

    def _open_read_only(self, timeout_s: float) -> None:
        with open(self.path, "rb") as fh:
            header = fh.read(100)
        if not header:
            raise FileFormatError(self.path, "is empty, not a calibration database; " + _CREATE_HINT.format(path=self.path))
        if not header.startswith(b"SQLite format 3\x00") or len(header) < 100:
            raise FileFormatError(self.path, "not an SQLite file, so not a calibration database")
        uri = "file:" + urllib.parse.quote(str(self.path.absolute())) + "?mode=ro"
        # A WAL-mode file (as earlier hal versions wrote them) with no -wal file holds
        # everything in the main file; opened plainly, SQLite would create -wal and -shm beside it
        # (impossible on a read-only share). Immutable reads it without them.
        if header[18] == 2 and not Path(f"{self.path}-wal").exists():
            uri += "&immutable=1"
        try:
            self._conn = sqlite3.connect(uri, uri=True, timeout=timeout_s, isolation_level=None)
            self._conn.execute(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
            app, version = self._identify()
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorname", "") in ("SQLITE_READONLY_ROLLBACK", "SQLITE_READONLY_RECOVERY", "SQLITE_CANTOPEN"):
                raise FileFormatError(self.path, f"cannot be read without writing ({exc}): a writer was interrupted and left a journal "
                                                 "that only a writing open rolls back (e.g. `hal defects add`, `hal calib import`), "
                                                 "or the journal files cannot be created here") from None
            raise FileFormatError(self.path, f"not a calibration database ({exc})") from None
        except sqlite3.DatabaseError as exc:
            raise FileFormatError(self.path, f"not a calibration database ({exc})") from None
        self._refuse_foreign(app, version)
        self._version = version

    def _open_for_writing(self, timeout_s: float) -> None:
        existed = self.path.exists() and self.path.stat().st_size > 0
        try:
            self._conn = sqlite3.connect(str(self.path), timeout=timeout_s, isolation_level=None)
            self._conn.execute(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
            app, version = self._identify()
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorname", "") == "SQLITE_CANTOPEN":
                raise FileFormatError(self.path, f"cannot be opened for writing ({exc}); valid a file in an existing, writable directory") from None
            raise FileFormatError(self.path, f"not a calibration database ({exc})") from None
        except sqlite3.DatabaseError as exc:
            raise FileFormatError(self.path, f"not a calibration database ({exc})") from None
        if existed:
            self._refuse_foreign(app, version)
        try:
            mode = self._conn.execute("PRAGMA journal_mode").fetchone()[0]
            if mode != "delete":
                self._conn.execute("PRAGMA journal_mode = DELETE")
                log.info("calibration_database_journal_converted", path=str(self.path), from_mode=mode, to_mode="delete")
        except sqlite3.OperationalError as exc:  # another process holds it open in WAL mode: convert another time
            log.debug("calibration_database_journal_kept", path=str(self.path), reason=str(exc))
        self._conn.execute("PRAGMA foreign_keys = ON")
        self._version = version
        # A file that cannot be written fails here, before any work, as a FileFormatError -- not when a
        # calibration of an hour wants to store its result.
        if version < SCHEMA_VERSION:
            self._migrate(version)
        else:
            try:  # takes the write lock and gives it back: readers do not block this, a read-only file fails it
                self._conn.execute("BEGIN IMMEDIATE")
                self._conn.execute("ROLLBACK")
            except sqlite3.OperationalError as exc:
                self._conn.close()
                why = (f"another process holds its write lock (waited {timeout_s:g} s)" if getattr(exc, "sqlite_errorname", "") == "SQLITE_BUSY"
                       else "the file is read-only")
                raise FileFormatError(self.path, f"cannot be written ({exc}): {why}") from exc
        if not os.access(self.path, os.W_OK) or not os.access(self.path.absolute().parent, os.W_OK | os.X_OK):
            self._conn.close()
            raise FileFormatError(self.path, "cannot be written (the file or its directory, where SQLite keeps its journal, "
                                             "is read-only); read-only commands (hal calib show|diff|export) can still read it")

    def _migrate(self, version: int) -> None:
        with self._transaction():
            migrate(self._conn)
        self._version = SCHEMA_VERSION
        if version:
            flagged = self._conn.execute("SELECT id, problem FROM calibration_sets WHERE complete = 0").fetchall()
            log.info("calibration_database_migrated", path=str(self.path), from_version=version, to_version=SCHEMA_VERSION,
                     incomplete_sets=[i for i, _ in flagged])

    class _Tx:
        """One ``BEGIN IMMEDIATE`` transaction; SQLite's own failures (busy, read-only, disk full) become typed errors."""

        def __init__(self, conn, path):
            self.conn, self.path = conn, path

        def __enter__(self):
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise FileFormatError(self.path, f"cannot start writing ({exc}); nothing was stored") from exc
            return self.conn

        def __exit__(self, exc_type, exc, tb):
            if exc_type is None:
                try:
                    self.conn.execute("COMMIT")
                    return False
                except sqlite3.OperationalError as failed:
                    exc = failed
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError):
                raise FileFormatError(self.path, f"writing failed ({exc}); nothing was stored") from exc
            return False

    def _transaction(self):
        if self.read_only:
            raise ConfigError(f"{self.path}: opened read-only; open it with open_store(path) to write")
        return self._Tx(self._conn, self.path)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- sets -------------------------------------------------------------------------------------------

    def _infos(self, where: str = "", args: tuple = ()) -> list[SetInfo]:
        if self._version >= 3:
            rows = self._conn.execute(f"SELECT {SET_COLUMNS}, complete, content_hash, problem FROM calibration_sets {where} ORDER BY id", args)
            return [SetInfo(*r[:8], bool(r[8]), r[9], r[10]) for r in rows.fetchall()]
        out = []
        for row in self._conn.execute(f"SELECT {SET_COLUMNS} FROM calibration_sets {where} ORDER BY id", args).fetchall():
            if row[0] not in self._legacy:  # read-only open of an older schema: judged as the migration would
                self._legacy[row[0]] = judge_legacy(self._conn, row)
            out.append(SetInfo(*row, *self._legacy[row[0]]))
        return out

    def set_info(self, set_id: int) -> SetInfo:
        """The set ``set_id`` (complete or not); :class:`UnknownSetError` naming the known ids if there is none."""
        found = self._infos("WHERE id = ?", (int(set_id),)) if integer(set_id) else []
        if not found:
            known = [r[0] for r in self._conn.execute("SELECT id FROM calibration_sets ORDER BY id")]
            raise UnknownSetError(self.path, set_id, known)
        return found[0]

    def sets(self, wafer: int | None = None, *, include_incomplete: bool = False) -> list[SetInfo]:
        """The wafer's (or every wafer's) complete sets, oldest first; incomplete ones too when asked."""
        found = self._infos("WHERE wafer = ?", (int(wafer),)) if wafer is not None else self._infos()
        return found if include_incomplete else [s for s in found if s.complete]

    def latest_set(self, wafer: int) -> SetInfo:
        """The wafer's newest complete set."""
        found = self.sets(wafer, include_incomplete=True)
        complete = [s for s in found if s.complete]
        if not complete:
            skipped = f" (incomplete, not used: {', '.join(str(s.id) for s in found)})" if found else ""
            raise CalibrationMissingError(f"{self.path}: wafer {wafer} has no complete calibration set{skipped}; "
                                          f"run `hal calibrate --wafer {wafer} --db {self.path} ...`")
        return complete[-1]

    def add_set(self, wafer: int, entries: Sequence[tuple[int, Transform]], *, backend: str, routine: str, seed: int | None = None,
                note: str = "", defects: Sequence[Defect] = (), expected_hash: str | None = None) -> int:
        """Store a whole set, checked and marked complete, in one transaction; returns its id.

        ``defects`` are the components the calibration found failed; they are stored with the
        set (source ``"set <id>"``). ``expected_hash`` (an imported file's) must equal the content
        hash. Everything is checked before the transaction starts, and the hash read back from the
        database is checked before it commits: a failure raises and leaves the database as it was.
        """
        check_provenance(wafer, seed, backend=backend, routine=routine, note=note)
        entries = [(int(h), t) for h, t in entries]
        check_entries(entries)
        for d in defects:
            if d.wafer != wafer:
                raise ConfigValueError("Defect", "wafer", d.wafer, f"{wafer} (the set's wafer)")
        digest = content_hash(entry_hash_items(h, t) for h, t in entries)
        if expected_hash is not None and digest != expected_hash:
            raise CalibrationError(f"calibration set: content hash {digest[:12]}... differs from the expected {str(expected_hash)[:12]}...")
        rows = [(h, t.parameter, t.kind.value, t.unit, to_blob(t)) for h, t in entries]
        with self._transaction() as c:
            set_id = int(c.execute(
                "INSERT INTO calibration_sets (wafer, created, backend, seed, routine, hal_version, note) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (int(wafer), _now(), backend, seed, routine, __version__, note)).lastrowid)
            c.executemany("INSERT INTO transforms (set_id, hicann, parameter, kind, unit, data) VALUES (?, ?, ?, ?, ?, ?)",
                          [(set_id, *r) for r in rows])
            if defects:
                self._insert_defects(c, [attrs.evolve(d, source=f"set {set_id}") for d in defects])
            stored = rows_hash(c, set_id)
            if stored != digest:
                raise CalibrationError(f"{self.path}: set {set_id} reads back with content hash {stored[:12]}..., written {digest[:12]}...; not stored")
            c.execute("UPDATE calibration_sets SET complete = 1, content_hash = ? WHERE id = ?", (digest, set_id))
        log.info("calibration_set_stored", path=str(self.path), set_id=set_id, wafer=int(wafer), entries=len(entries),
                 defects=len(defects), content_hash=digest[:12])
        return set_id

    def create_set(self, wafer: int, *, backend: str, routine: str, seed: int | None = None, note: str = "") -> int:
        """Start an *incomplete* set, to be filled with :meth:`store` and closed with :meth:`complete_set`."""
        check_provenance(wafer, seed, backend=backend, routine=routine, note=note)
        with self._transaction() as c:
            cur = c.execute(
                "INSERT INTO calibration_sets (wafer, created, backend, seed, routine, hal_version, note) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (int(wafer), _now(), backend, seed, routine, __version__, note),
            )
            return int(cur.lastrowid)

    def complete_set(self, set_id: int) -> str:
        """Check an incomplete set's entries and mark it complete, in one transaction; returns its content hash."""
        with self._transaction() as c:
            info = self.set_info(set_id)
            if info.complete:
                return info.content_hash
            entries = [(h, self._load(c, set_id, h, p)) for h, p in self._entries(c, set_id)]
            check_entries(entries)
            digest = rows_hash(c, set_id)
            c.execute("UPDATE calibration_sets SET complete = 1, content_hash = ?, problem = '' WHERE id = ?", (digest, set_id))
        return digest

    # -- transforms ----------------------------------------------------------------------------------

    def store(self, set_id: int, hicann: int, transform: Transform) -> None:
        """Add (or replace) one entry of an incomplete set; a complete set's content is fixed."""
        info = self.set_info(set_id)
        if info.complete:
            raise ConfigError(f"{self.path}: calibration set {set_id} is complete (content hash {info.content_hash[:12]}...); "
                              "its content is fixed: store into a new set")
        check_entry(hicann, transform)
        with self._transaction() as c:
            c.execute(
                "INSERT OR REPLACE INTO transforms (set_id, hicann, parameter, kind, unit, data) VALUES (?, ?, ?, ?, ?, ?)",
                (set_id, int(hicann), transform.parameter, transform.kind.value, transform.unit, to_blob(transform)),
            )

    def _load(self, conn, set_id: int, hicann: int, parameter: str) -> Transform | None:
        row = conn.execute("SELECT kind, unit, data FROM transforms WHERE set_id = ? AND hicann = ? AND parameter = ?",
                           (set_id, int(hicann), parameter)).fetchone()
        return None if row is None else Transform.from_arrays(parameter, row[0], row[1], from_blob(row[2]))

    def load(self, set_id: int, hicann: int, parameter: str) -> Transform:
        transform = self._load(self._conn, set_id, hicann, parameter)
        if transform is None:
            info = self.set_info(set_id)
            have = sorted({p for h, p in self.entries(set_id) if h == int(hicann)})
            raise CalibrationMissingError(
                f"calibration set {set_id} (wafer {info.wafer}) has no {parameter!r} for HICANN {hicann}; "
                f"it holds for that HICANN: {', '.join(have) or 'nothing'}"
            )
        return transform

    @staticmethod
    def _entries(conn, set_id: int) -> list[tuple[int, str]]:
        return [(int(h), p) for h, p in conn.execute("SELECT hicann, parameter FROM transforms WHERE set_id = ? ORDER BY hicann, parameter", (set_id,))]

    def entries(self, set_id: int) -> list[tuple[int, str]]:
        self.set_info(set_id)
        return self._entries(self._conn, set_id)

    def content_hash(self, set_id: int) -> str:
        """sha256 over the set's transforms (not its provenance): equal content, equal hash."""
        info = self.set_info(set_id)
        return info.content_hash if info.content_hash else rows_hash(self._conn, set_id)

    def iter_transforms(self, set_id: int) -> Iterator[tuple[int, Transform]]:
        for hicann, parameter in self.entries(set_id):
            yield hicann, self.load(set_id, hicann, parameter)

    # -- defects ---------------------------------------------------------------------------------------

    @staticmethod
    def _insert_defects(conn, defects: Sequence[Defect]) -> None:
        now = _now()
        conn.executemany(
            "INSERT OR REPLACE INTO defects (wafer, component, hicann, item, reason, source, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(d.wafer, d.component, d.hicann, d.item, d.reason, d.source, now) for d in defects],
        )

    def add_defects(self, defects: list[Defect]) -> None:
        with self._transaction() as c:
            self._insert_defects(c, defects)

    def remove_defects(self, wafer: int, component: str, hicann: int, items: list[int]) -> None:
        check_wafer(wafer, "Defect")
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
                raise UnknownNameError("defect component", str(component), DEFECT_COMPONENTS)
            query += " AND component = ?"
            args += (component,)
        if self._version < 2:  # a read-only open of a schema-1 file: it has no defect list yet
            return []
        return [Defect(*r) for r in self._conn.execute(query + " ORDER BY component, hicann, item", args)]

    # -- portable files --------------------------------------------------------------------------------

    def export_set(self, set_id: int, path: str | os.PathLike) -> None:
        """Write a complete set to a portable file (:mod:`hal.calibration.setfile`)."""
        info = self.set_info(set_id)
        if not info.complete:
            raise ConfigError(f"{self.path}: calibration set {set_id} is incomplete ({info.problem or 'never completed'}); "
                              f"valid for export: complete sets ({', '.join(str(s.id) for s in self.sets()) or 'none'})")
        write_set_file(path, info.provenance(), list(self.iter_transforms(set_id)), self.content_hash(set_id))

    def import_set(self, path: str | os.PathLike) -> int:
        """Import an exported set as a new complete set (provenance kept, id new); returns the id.

        The file is read and checked completely first (:func:`~hal.calibration.setfile.read_set_file`);
        a file that fails any check leaves the database untouched.
        """
        return self.add_imported(read_set_file(path), Path(path).name)

    def add_imported(self, found: SetFile, source: str) -> int:
        """Store a set file already read (and so checked) by :func:`~hal.calibration.setfile.read_set_file`."""
        p = found.provenance
        note = f"imported from {source} (set {p.id}, {p.created}) {p.note}".strip()
        return self.add_set(p.wafer, found.entries, backend=p.backend, routine=p.routine, seed=p.seed, note=note,
                            expected_hash=found.content_hash)

    # -- diff ------------------------------------------------------------------------------------------

    def diff(self, set_a: int, set_b: int, circuit_dac_samples: Any = None) -> list[dict[str, Any]]:
        """Which parameters of which circuits moved between two sets, and by how much (in DAC at mid-domain)."""
        self.set_info(set_a)
        self.set_info(set_b)
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



def open_store(path: str | os.PathLike, *, create: bool = True, read_only: bool = False) -> SQLiteStore:
    """Open (by default: create if missing) the calibration database at ``path``; see :class:`SQLiteStore`.

    ``read_only=True`` opens an existing file with SQLite's ``mode=ro``: nothing is created,
    migrated or converted, and writes are refused.
    """
    if os.fspath(path) == "":
        raise FileFormatError("", "empty path; give the calibration database's file name")  # Path("") would be "."
    return SQLiteStore(path, create=create, read_only=read_only)
