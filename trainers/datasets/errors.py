"""The errors of the data-set loaders: a missing directory or file, a failed or corrupt download."""

from __future__ import annotations

from collections.abc import Sequence

from hal.errors import HalError

__all__ = ["DatasetNotFoundError", "DownloadError", "ChecksumMismatchError"]


class DatasetNotFoundError(HalError, FileNotFoundError):
    """A data directory or data file does not exist; says which and where to put it.

    Attributes
    ----------
    path:
        The directory (or file) that was looked at.
    missing:
        Names of the missing files (empty when the directory itself is missing).
    """

    def __init__(self, message: str, *, path: object, missing: Sequence[str] = ()):
        self.path = str(path)
        self.missing = tuple(missing)
        super().__init__(message)

    def __str__(self) -> str:  # OSError would format (errno, strerror) pairs
        return str(self.args[0])


class DownloadError(HalError, OSError):
    """A file could not be downloaded from any of the URLs tried.

    Attributes
    ----------
    file:
        The file name.
    attempts:
        ``(url, reason)`` for every URL tried, in order.
    """

    def __init__(self, file: str, attempts: Sequence[tuple[str, str]], hint: str = ""):
        self.file = file
        self.attempts = tuple(attempts)
        tried = ": " + "; ".join(f"{url}: {reason}" for url, reason in self.attempts) if self.attempts else ""
        super().__init__(f"could not download {file}{tried}{hint}")

    def __str__(self) -> str:
        return str(self.args[0])


class ChecksumMismatchError(DownloadError):
    """Every copy of a file that was downloaded had the wrong size or checksum.

    ``expected`` and ``actual`` describe the last copy's failed check (size, SHA-256 or MD5).
    """

    def __init__(self, file: str, attempts: Sequence[tuple[str, str]], expected: str, actual: str):
        self.expected = expected
        self.actual = actual
        super().__init__(file, attempts, hint="; the file was not saved (a truncated or tampered copy, or a wrong base_url?)")
