"""The calibration database's schema: application id, version, the migrations that reach it.

Schema 1: sets and transforms; 2: defects; 3: the completeness mark, stored content hash and
problem of each set -- sets written before it are judged by today's checks
(:mod:`hal.calibration.checks`) when a writing open migrates the file (see
:mod:`hal.calibration.database`).
"""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Callable

import numpy as np

from hal.calibration.checks import check_entries, check_provenance, content_hash
from hal.calibration.transforms import Transform
from hal.errors import ConfigError, HalError

__all__ = ["APPLICATION_ID", "SCHEMA_VERSION", "SET_COLUMNS", "migrate", "judge_legacy", "rows_hash", "to_blob", "from_blob"]

APPLICATION_ID = 0x48414C43  # "HALC"
SCHEMA_VERSION = 3


def _add_completeness(conn: sqlite3.Connection) -> None:
    """Schema 3: the completeness mark, the stored content hash, and a verdict on every older set."""
    conn.execute("ALTER TABLE calibration_sets ADD COLUMN complete INTEGER NOT NULL DEFAULT 0")
    conn.execute("ALTER TABLE calibration_sets ADD COLUMN content_hash TEXT")
    conn.execute("ALTER TABLE calibration_sets ADD COLUMN problem TEXT NOT NULL DEFAULT ''")
    for row in conn.execute(f"SELECT {SET_COLUMNS} FROM calibration_sets").fetchall():
        complete, digest, problem = judge_legacy(conn, row)
        conn.execute("UPDATE calibration_sets SET complete = ?, content_hash = ?, problem = ? WHERE id = ?",
                     (int(complete), digest, problem, row[0]))


_MIGRATIONS: dict[int, str | Callable[[sqlite3.Connection], None]] = {
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
    3: _add_completeness,
}

SET_COLUMNS = "id, wafer, created, backend, seed, routine, hal_version, note"
#: the prefix of routines written by ``hal calibrate`` (hal_plugins.calibration): it lists the parameters
_ROUTINE_PREFIX = "plugins.calibration:"


def to_blob(transform: Transform) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **transform.to_arrays())
    return buf.getvalue()


def from_blob(data: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def rows_hash(conn: sqlite3.Connection, set_id: int) -> str:
    rows = conn.execute("SELECT hicann, parameter, kind, unit, data FROM transforms WHERE set_id = ?", (set_id,))
    return content_hash((h, p, k, u, from_blob(d)) for h, p, k, u, d in rows)


def judge_legacy(conn: sqlite3.Connection, row: tuple) -> tuple[bool, str | None, str]:
    """(complete, content hash, problem) of a set written before sets had a completeness mark."""
    set_id, wafer, _created, backend, seed, routine, _hal_version, note = row
    try:
        check_provenance(wafer, seed, backend=backend, routine=routine, note=note)
        entries = []
        for hicann, parameter, kind, unit, data in conn.execute(
                "SELECT hicann, parameter, kind, unit, data FROM transforms WHERE set_id = ?", (set_id,)):
            try:
                entries.append((hicann, Transform.from_arrays(parameter, kind, unit, from_blob(data))))
            except (ValueError, KeyError, OSError) as exc:
                raise ConfigError(f"HICANN {hicann} {parameter!r}: unreadable transform ({exc})") from None
        check_entries(entries)
        if routine.startswith(_ROUTINE_PREFIX):
            listed = set(routine[len(_ROUTINE_PREFIX):].split(","))
            for hicann in sorted({h for h, _ in entries}):
                missing = sorted(listed - {t.parameter for h, t in entries if h == hicann})
                if missing:
                    raise ConfigError(f"HICANN {hicann} lacks {', '.join(missing)} of the routine's parameters (an interrupted calibration)")
    except HalError as exc:
        return False, None, f"found by the schema-3 check: {exc}"
    return True, rows_hash(conn, set_id), ""


def migrate(conn: sqlite3.Connection) -> None:
    """Bring the open database to :data:`SCHEMA_VERSION`; the caller holds the write transaction."""
    current = conn.execute("PRAGMA user_version").fetchone()[0]  # another process may have migrated
    for v in range(current + 1, SCHEMA_VERSION + 1):
        step = _MIGRATIONS[v]
        if callable(step):
            step(conn)
        else:
            for statement in step.split(";"):
                if statement.strip():
                    conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {v}")
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
