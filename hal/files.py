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

__all__ = ["atomic_write", "existing_file"]


def existing_file(path: str | os.PathLike) -> Path:
    """``path`` as a :class:`~pathlib.Path` if it names a file, else :class:`FileFormatError` "no such file"."""
    path = Path(path)
    if not path.is_file():
        raise FileFormatError(path, "no such file")
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
