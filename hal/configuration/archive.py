"""The on-disk container for hal files: a zip holding ``manifest.json`` plus ``.npy`` arrays.

Why this format: JSON keeps the structure readable and diffable, ``.npy`` keeps
bulk arrays exact and fast, and zip adds a CRC per entry, so corruption and
truncation are detected rather than read as garbage. Files are written to a
temporary name and renamed, so a crash never leaves half a file behind.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
import zlib
from typing import Any

import numpy as np

from hal.errors import FileFormatError
from hal.files import atomic_write, existing_file

__all__ = ["write_archive", "read_archive"]

_MANIFEST = "manifest.json"


def write_archive(path: str | os.PathLike, kind: str, version: int, manifest: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Write ``manifest`` and ``arrays`` atomically to ``path``."""
    header = {"format": kind, "version": version, **manifest}

    def write(fh) -> None:
        with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            zf.writestr(_MANIFEST, json.dumps(header, indent=1, sort_keys=True))
            for name, array in arrays.items():
                buf = io.BytesIO()
                np.lib.format.write_array(buf, np.ascontiguousarray(array), allow_pickle=False)
                zf.writestr(name, buf.getvalue())

    atomic_write(path, write)


def read_archive(path: str | os.PathLike, kind: str, versions: range) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read a file written by :func:`write_archive`, checking its kind and version.

    Every way a file can be wrong (missing, not a zip, truncated, CRC error,
    foreign format, unsupported version, unreadable array) raises
    :class:`FileFormatError` naming the file and the problem.
    """
    path = existing_file(path)
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if _MANIFEST not in names:
                raise FileFormatError(path, f"no {_MANIFEST} inside: not a hal {kind} file")
            try:
                manifest = json.loads(zf.read(_MANIFEST))
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise FileFormatError(path, f"{_MANIFEST} is not valid JSON ({exc})") from None
            if not isinstance(manifest, dict):
                raise FileFormatError(path, f"{_MANIFEST} is not a JSON object")
            found = manifest.get("format")
            if found != kind:
                raise FileFormatError(path, f"is a {found!r} file, expected {kind!r}")
            version = manifest.get("version")
            if not isinstance(version, int) or version not in versions:
                raise FileFormatError(
                    path,
                    f"format version {version!r} not supported; this hal reads versions "
                    f"{versions.start}..{versions.stop - 1}" + ("; upgrade hal" if isinstance(version, int) and version >= versions.stop else ""),
                )
            arrays = {}
            for name in sorted(names - {_MANIFEST}):
                try:
                    arrays[name] = np.lib.format.read_array(io.BytesIO(zf.read(name)), allow_pickle=False)
                except (ValueError, OSError, EOFError) as exc:
                    raise FileFormatError(path, f"array {name} is unreadable ({exc})") from None
    except (zipfile.BadZipFile, zlib.error) as exc:
        raise FileFormatError(path, f"not a hal {kind} file, or truncated/corrupt ({exc})") from None
    except (EOFError, OSError) as exc:
        raise FileFormatError(path, f"truncated or unreadable ({exc})") from None
    return manifest, arrays
