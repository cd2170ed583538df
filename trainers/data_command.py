"""``hal data download mnist``: fetch the four MNIST files, verified, into a folder (registered by ``hal_trainers.plugin``).

The files come from :data:`hal_trainers.datasets.MNIST_MIRRORS` (or ``--mirror`` URLs, tried in
order; ``file://`` works too) through :func:`hal_trainers.datasets.download_mnist`: each is
streamed to a temporary file beside its final name, checked against its size, SHA-256 and MD5,
and only then renamed -- a killed or corrupt download leaves nothing under the final name.
Files already there with the right checksum are kept. A file under a final name that does not
verify is someone's data: it is refused before anything is fetched, unless ``--overwrite``.

Importing this module needs neither torch nor scikit-learn.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from hal.cli._common import add_json, positive_float, print_json

__all__ = ["DESCRIPTION", "configure"]

DESCRIPTION = "download a data set's files, verified by checksum, into a folder (mnist: the four MNIST IDX files)"

#: What ``hal data download`` fetches, and what ``--dataset`` of the reproductions reads it as.
DATASETS = ("mnist",)

#: The longest socket timeout taken (one day): a longer wait on a stalled mirror is no timeout, and the
#: socket layer itself refuses timeouts past its clock's range with an OverflowError (found by the CLI fuzz).
MAX_TIMEOUT_S = 86_400.0


def _timeout_s(text: str) -> float:
    """Seconds, > 0 and at most :data:`MAX_TIMEOUT_S` (argparse type of ``--timeout-s``)."""
    value = positive_float(text)
    if value > MAX_TIMEOUT_S:
        raise argparse.ArgumentTypeError(f"{value:g} out of range; valid > 0 and <= {MAX_TIMEOUT_S:g} (seconds; one day)")
    return value


def _base_url(text: str) -> str:
    """An ``http://``, ``https://`` or ``file://`` URL (argparse type of ``--mirror``)."""
    from urllib.parse import urlsplit

    parts = urlsplit(text)
    if parts.scheme not in ("http", "https", "file") or (parts.scheme != "file" and not parts.netloc):
        raise argparse.ArgumentTypeError(f"{text!r} is not a base URL; valid http://HOST/..., https://HOST/... or file:///FOLDER/")
    return text


def configure(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    """Add the command's options to ``parser``; return its handler."""
    parser.add_argument("dataset", choices=DATASETS, help="the data set (mnist: the four original gzip-compressed IDX files)")
    parser.add_argument("--dir", default="mnist", help="folder to put the files in, created if missing (default: ./mnist); "
                        "pass it as --data-dir to `hal reproduce`")
    parser.add_argument("--mirror", action="append", type=_base_url, metavar="URL",
                        help="base URL to fetch from (repeatable, tried in order; default: the known MNIST mirrors)")
    parser.add_argument("--timeout-s", type=_timeout_s, default=60.0,
                        help=f"socket timeout per request (s, > 0 and <= {MAX_TIMEOUT_S:g}; default 60)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace files under the final names that do not match the checksums; without it they are "
                             "refused before anything is downloaded (verified files are always kept)")
    add_json(parser)
    return _handle


def _check_targets(folder: Path, files: dict, overwrite: bool) -> dict[str, bool]:
    """Before any download: the folder can hold the files; ``{name: already verified}``.

    Raises :class:`~hal.errors.FileFormatError` for a file name taken by a directory or by a
    file that does not verify (unless ``overwrite``), and for a folder that cannot be written.
    """
    from hal.errors import FileFormatError
    from hal.files import writable_output
    from hal_trainers.datasets.download import verified_on_disk

    if folder.exists() and not folder.is_dir():
        raise FileFormatError(folder, "is a file; --dir names the folder for the downloaded files")
    present = {}
    for name, digest in files.items():
        path = writable_output(folder / name, what=f"MNIST file {name}")
        present[name] = verified_on_disk(path, digest)
        if path.exists() and not present[name] and not overwrite:
            raise FileFormatError(path, f"exists but is not the MNIST file (size {path.stat().st_size:,} bytes, expected "
                                        f"{digest.size_bytes:,}, or another SHA-256); --overwrite replaces it, or give another --dir")
    return present


def _handle(args: argparse.Namespace) -> int:
    from hal.progress import ProgressBar
    from hal_trainers.datasets import download

    files = dict(download.MNIST_FILES)  # read at call time: tests serve small files with their own digests
    folder = Path(args.dir).expanduser()
    present = _check_targets(folder, files, args.overwrite)
    arrived = {name: files[name].size_bytes or 0 for name, ok in present.items() if ok}
    with ProgressBar(sum(d.size_bytes or 0 for d in files.values()), "MNIST", unit="B", initial=sum(arrived.values())) as bar:
        def progress(name: str, size: int) -> None:
            arrived[name] = size
            bar.update(sum(arrived.values()), name)

        paths = download.download_mnist(folder, base_url=tuple(args.mirror or download.MNIST_MIRRORS), files=files,
                                        timeout_s=args.timeout_s, progress=progress)
    report = {"dataset": args.dataset, "dir": str(folder),
              "files": [{"name": p.name, "path": str(p), "size_bytes": p.stat().st_size, "sha256": files[p.name].sha256,
                         "status": "present" if present[p.name] else "downloaded"} for p in paths]}
    if args.json:
        print_json(report)
        return 0
    fetched = sum(f["status"] == "downloaded" for f in report["files"])
    print(f"MNIST in {folder}: {fetched} file(s) downloaded, {len(paths) - fetched} already there, all verified by SHA-256; "
          f"use it with --dataset mnist --data-dir {folder}")
    return 0
