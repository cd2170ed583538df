"""Fetching the four MNIST files from a mirror, verified by size, SHA-256 and MD5 before they are saved."""

from __future__ import annotations

import hashlib
import http.client
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import attrs

from hal.errors import ConfigError
from hal.files import atomic_write, remove_stale_temporaries
from hal.logging import get_logger
from hal_trainers.datasets.errors import ChecksumMismatchError, DownloadError

__all__ = ["MNIST_MIRRORS", "MNIST_FILES", "FileDigest", "download_mnist", "file_sha256", "verified_on_disk"]

log = get_logger(__name__)

#: Tried in order. yann.lecun.com itself often refuses automated downloads, so the mirrors that
#: torchvision (ossci-datasets) and TensorFlow (cvdf-datasets) use come first.
MNIST_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

_CHUNK_BYTES = 1 << 20


@attrs.frozen
class FileDigest:
    """What a downloaded file must match: size in bytes, SHA-256 and (optionally) MD5, as hex."""

    size_bytes: int | None
    sha256: str
    md5: str | None = None


#: The four original MNIST files (gzip-compressed IDX).
#:
#: The MD5 values are the ones torchvision lists (``torchvision/datasets/mnist.py``,
#: ``MNIST.resources``); the SHA-256 values are the ones pinned by many public MNIST loaders
#: for the same files (e.g. those fetching from TensorFlow's ``cvdf-datasets`` mirror). Both,
#: and the sizes, were checked against a byte-exact copy of the original distribution.
MNIST_FILES: Mapping[str, FileDigest] = {
    "train-images-idx3-ubyte.gz": FileDigest(
        9_912_422, "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", "f68b3c2dcbeaaa9fbdd348bbdeb94873"
    ),
    "train-labels-idx1-ubyte.gz": FileDigest(
        28_881, "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", "d53e105ee54ea40749a09fcbcd1e9432"
    ),
    "t10k-images-idx3-ubyte.gz": FileDigest(
        1_648_877, "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", "9fb629c4189551a2d022fa330f9573f3"
    ),
    "t10k-labels-idx1-ubyte.gz": FileDigest(
        4_542, "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", "ec29112dd5afa0611ce80d1b7f02629c"
    ),
}


def file_sha256(path: Path) -> str:
    """SHA-256 of the file at ``path``, as hex, read in blocks of 1 MiB."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()


def _urlopen(url: str, timeout: float):
    """The one place that opens URLs (tests replace it)."""
    return urllib.request.urlopen(url, timeout=timeout)  # noqa: S310 - the URLs are the caller's choice


class _DigestMismatch(ValueError):
    def __init__(self, what: str, actual: str, expected: str):
        self.what, self.actual, self.expected = what, actual, expected
        super().__init__(f"{what} {actual}, expected {expected}")


#: ``progress(file_name, bytes_so_far)``: called as a file's blocks arrive (from 0 again for each URL tried).
Progress = Callable[[str, int], None]


def _fetch_verified(url: str, dest: Path, expected: FileDigest, timeout_s: float, progress: Progress | None = None) -> None:
    """Stream ``url`` to a temporary file next to ``dest``, verify, rename. Raises OSError or _DigestMismatch."""
    sha, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
    size = 0

    def fetch(out) -> None:
        nonlocal size
        with _urlopen(url, timeout_s) as response:
            for block in iter(lambda: response.read(_CHUNK_BYTES), b""):
                size += len(block)
                if expected.size_bytes is not None and size > expected.size_bytes:
                    raise _DigestMismatch("size", f"more than {expected.size_bytes:,} bytes", f"{expected.size_bytes:,}")
                sha.update(block)
                md5.update(block)
                out.write(block)
                if progress is not None:
                    progress(dest.name, size)
        # Checked before the rename: a wrong download never replaces anything.
        if expected.size_bytes is not None and size != expected.size_bytes:
            raise _DigestMismatch("size", f"{size:,} bytes", f"{expected.size_bytes:,}")
        if sha.hexdigest() != expected.sha256.lower():
            raise _DigestMismatch("SHA-256", sha.hexdigest(), expected.sha256.lower())
        if expected.md5 is not None and md5.hexdigest() != expected.md5.lower():
            raise _DigestMismatch("MD5", md5.hexdigest(), expected.md5.lower())

    atomic_write(dest, fetch)


def verified_on_disk(path: Path, expected: FileDigest) -> bool:
    """Whether ``path`` is a file of ``expected``'s size and SHA-256."""
    if not path.is_file() or (expected.size_bytes is not None and path.stat().st_size != expected.size_bytes):
        return False
    return file_sha256(path) == expected.sha256.lower()


def download_mnist(data_dir: str | os.PathLike, *, base_url: str | Sequence[str] = MNIST_MIRRORS,
                   files: Mapping[str, FileDigest] = MNIST_FILES, timeout_s: float = 60.0,
                   progress: Progress | None = None) -> list[Path]:
    """Download the MNIST files into ``data_dir`` and verify every one.

    Each file is tried at each base URL in turn, streamed to a temporary file in ``data_dir``,
    checked against its size, SHA-256 and (if known) MD5, and only then renamed to its final
    name, so an interrupted or bad download never leaves a file that looks complete. Files
    already present with the right checksum are not downloaded again.

    Parameters
    ----------
    data_dir:
        Destination folder; created if missing.
    base_url:
        One base URL or several, tried in order; ``file://`` URLs work too.
    files:
        File name -> expected :class:`FileDigest`; default :data:`MNIST_FILES`.
    timeout_s:
        Socket timeout per request, seconds.
    progress:
        ``progress(file_name, bytes_so_far)``, called as each file's blocks arrive (from 0 again
        for each URL tried); files already present are not reported.

    Returns
    -------
    list of pathlib.Path
        The verified files.

    Raises
    ------
    DownloadError
        No URL delivered a file (offline, blocked, not found); lists every URL and reason.
    ChecksumMismatchError
        Files were delivered, but none matched the expected checksum; nothing is saved.
    """
    bases = (base_url,) if isinstance(base_url, str) else tuple(base_url)
    if not bases:
        raise ConfigError("download_mnist.base_url: empty; give at least one base URL, e.g. MNIST_MIRRORS")
    data_dir = Path(data_dir).expanduser()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError("MNIST", [], hint=f"; cannot create {data_dir}: {exc}") from exc
    paths = []
    for name, expected in files.items():
        dest = data_dir / name
        # A download killed earlier left its temporary file; one not written to for longer than a
        # request's timeout belongs to no running download.
        for tmp in remove_stale_temporaries(dest, older_than_s=max(timeout_s, 60.0)):
            log.info("stale_temporary_removed", path=str(tmp))
        if verified_on_disk(dest, expected):
            log.info("mnist_file_present", file=name, path=str(dest))
            paths.append(dest)
            continue
        attempts: list[tuple[str, str]] = []
        mismatches: list[_DigestMismatch] = []
        for base in bases:
            url = base if base.endswith("/") else base + "/"
            url += name
            try:
                _fetch_verified(url, dest, expected, timeout_s, progress)
            except _DigestMismatch as exc:
                attempts.append((url, f"checksum mismatch: {exc}"))
                mismatches.append(exc)
                continue
            except (OSError, http.client.HTTPException) as exc:
                attempts.append((url, _reason(exc)))
                continue
            log.info("mnist_file_downloaded", file=name, url=url, path=str(dest))
            paths.append(dest)
            break
        else:
            if mismatches and len(mismatches) == len(attempts):
                raise ChecksumMismatchError(name, attempts, expected=mismatches[-1].expected, actual=mismatches[-1].actual)
            raise DownloadError(name, attempts, hint=(
                f". Without network access, download the files on an online machine "
                f"(`hal data download mnist --dir DIR`, or download_mnist(dir), there) and copy them into {data_dir}"))
    return paths


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return f"unreachable ({exc.reason})"
    return f"{type(exc).__name__}: {exc}"
