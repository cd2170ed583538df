"""Writing files safely: to a temporary name beside the target, flushed to disk, then renamed.

A crash (or a kill -9) never leaves half a file under the final name. The file gets the
permissions an ordinary ``open`` would give it (0o666 less the umask), not the owner-only mode
of the temporary file, so saved configurations and datasets can be shared.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

from hal.errors import FileFormatError

__all__ = ["atomic_write", "existing_file", "writable_output", "remove_stale_temporaries"]


def existing_file(path: str | os.PathLike) -> Path:
    """``path`` as a :class:`~pathlib.Path` if it names a file, else :class:`FileFormatError` "no such file"."""
    if os.fspath(path) == "":
        raise FileFormatError("", "empty path; give a file name")  # Path("") would be "." (a directory)
    path = Path(path)
    if not path.is_file():
        raise FileFormatError(path, "no such file")
    return path


def writable_output(path: str | os.PathLike, *, what: str = "output", overwrite: bool = True) -> Path:
    """``path`` as a :class:`~pathlib.Path` if a file can be written there; checked before work starts.

    Refused with :class:`FileFormatError` naming the path: a directory; a missing parent that
    cannot be created; a parent that is no directory or not writable; an existing file that is
    not writable, or that exists at all when ``overwrite`` is False. Creates missing parent
    directories (as :func:`atomic_write` would) but never the file itself.
    """
    if os.fspath(path) == "":
        raise FileFormatError("", f"empty path; give a file name for the {what}")
    path = Path(path)
    if path.is_dir():
        raise FileFormatError(path, f"is a directory; give a file name for the {what}")
    if path.exists() and not overwrite:
        raise FileFormatError(path, f"exists; the {what} would replace it (choose another name or remove it)")
    parent = path.parent
    existing = next((p for p in [parent, *parent.parents] if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise FileFormatError(path, f"cannot write the {what}: {existing} is not a directory")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FileFormatError(path, f"cannot create the {what}'s directory ({exc.strerror or exc})") from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise FileFormatError(path, f"cannot write the {what}: directory {parent} is not writable")
    if path.exists() and not os.access(path, os.W_OK):
        raise FileFormatError(path, f"cannot replace the {what}: the file is not writable")
    return path


def _default_permissions() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write(path: str | os.PathLike, write: Callable[[IO], None], *, mode: str = "wb") -> None:
    """Call ``write(file)`` on a temporary file beside ``path`` and rename it to ``path`` when done.

    If ``write`` raises, the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode) as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _default_permissions())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_stale_temporaries(path: str | os.PathLike, *, older_than_s: float) -> list[Path]:
    """Remove the temporary files :func:`atomic_write` left beside ``path`` when its process was killed.

    A kill -9 cannot run the clean-up, so ``.NAME.*.tmp`` stays. Only files not modified for
    ``older_than_s`` seconds go, so that a write still in progress elsewhere keeps its file.
    Returns the removed paths.
    """
    import time

    path = Path(path)
    removed, now = [], time.time()
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        try:
            if tmp.is_file() and now - tmp.stat().st_mtime > older_than_s:
                tmp.unlink()
                removed.append(tmp)
        except OSError:  # gone already, or not ours to remove: leave it
            continue
    return removed
