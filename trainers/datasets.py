"""Training data for Schmitt et al. 2017 (section III): MNIST reduced to 10x10, five classes.

The paper reduces MNIST from 28x28 to 10x10 pixels by bicubic interpolation and keeps the
digits 0, 1, 4, 6 and 7, which leaves 30,690 training and 5,083 test images. This module
builds exactly that data set from the original IDX files, and a small offline stand-in from
scikit-learn's embedded 8x8 digits for machines without the MNIST files.

Public entry points
-------------------
- :func:`load_dataset` -- by name (``"mnist"`` or ``"digits"``);
- :func:`load_mnist` -- from a folder holding the four MNIST IDX files (cached after the first
  load);
- :func:`load_digits` -- the embedded offline default;
- :func:`download_mnist` -- fetches and verifies the four files on an online machine;
- :func:`read_idx` / :func:`write_idx` -- the IDX file format;
- :func:`reduce_images` -- the antialiased bicubic reduction to 10x10.

Importing this module needs only numpy, attrs and structlog; torch (for the reduction) and
scikit-learn (for the digits) are imported inside the functions that need them. A cache hit
does not need torch at all.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import math
import os
import struct
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import attrs
import numpy as np
import structlog

from hal.errors import ConfigError, FileFormatError, HalError, UnknownNameError
from hal.files import atomic_write

__all__ = [
    "PAPER_CLASSES",
    "IMAGE_SIDE",
    "N_PIXELS",
    "PREPROCESSING_VERSION",
    "MNIST_MIRRORS",
    "MNIST_FILES",
    "DIGITS_SPLIT_SEED",
    "DATASETS",
    "FileDigest",
    "Dataset",
    "DatasetNotFoundError",
    "DownloadError",
    "ChecksumMismatchError",
    "read_idx",
    "write_idx",
    "reduce_images",
    "load_mnist",
    "download_mnist",
    "load_digits",
    "load_dataset",
    "default_cache_dir",
]

log = structlog.get_logger(__name__)

#: The digit classes the paper keeps (section III); label ``k`` stands for digit ``PAPER_CLASSES[k]``.
PAPER_CLASSES: tuple[int, ...] = (0, 1, 4, 6, 7)
#: Side of the reduced images, in pixels.
IMAGE_SIDE = 10
#: Pixels per reduced image: the size of the network's input layer.
N_PIXELS = IMAGE_SIDE * IMAGE_SIDE
#: Bumped whenever the reduction changes, so that old cache files are not reused.
PREPROCESSING_VERSION = 1
#: Seed of the fixed stratified train/test split of the digits stand-in.
DIGITS_SPLIT_SEED = 2017
_DIGITS_TRAIN_FRACTION = 0.8

#: Tried in order. yann.lecun.com itself often refuses automated downloads, so the mirrors that
#: torchvision (ossci-datasets) and TensorFlow (cvdf-datasets) use come first.
MNIST_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

_IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_IDX_CODES = {dt.newbyteorder("="): code for code, dt in _IDX_TYPES.items()}
_IDX_TYPES_TEXT = ", ".join(f"0x{code:02x} ({dt.name})" for code, dt in _IDX_TYPES.items())

_CHUNK_BYTES = 1 << 20


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# The MNIST files and their checksums
# --------------------------------------------------------------------------------------------


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

# (split, kind) -> stem of the file name; the file may be plain or end in ".gz".
_MNIST_STEMS = {
    ("train", "images"): "train-images-idx3-ubyte",
    ("train", "labels"): "train-labels-idx1-ubyte",
    ("test", "images"): "t10k-images-idx3-ubyte",
    ("test", "labels"): "t10k-labels-idx1-ubyte",
}


# --------------------------------------------------------------------------------------------
# The data set
# --------------------------------------------------------------------------------------------


def _check_images(instance: Dataset, attribute: attrs.Attribute, value: object) -> None:
    where = f"Dataset.{attribute.name}"
    if not isinstance(value, np.ndarray):
        raise ConfigError(f"{where}: must be a numpy array of shape (n, {N_PIXELS}), not {type(value).__name__}")
    if value.ndim != 2 or value.shape[1] != N_PIXELS:
        raise ConfigError(f"{where}: shape {value.shape} is not an image matrix; expected (n, {N_PIXELS}) "
                          f"(one flattened {IMAGE_SIDE}x{IMAGE_SIDE} image per row)")
    if value.dtype != np.float32:
        raise ConfigError(f"{where}: dtype {value.dtype}; expected float32 (Dataset.from_arrays converts)")
    if value.size and not (np.isfinite(value).all() and value.min() >= 0.0 and value.max() <= 1.0):
        raise ConfigError(f"{where}: values in [{value.min()}, {value.max()}]; valid grey values lie in [0, 1]")


def _check_labels(instance: Dataset, attribute: attrs.Attribute, value: object) -> None:
    where = f"Dataset.{attribute.name}"
    if not isinstance(value, np.ndarray):
        raise ConfigError(f"{where}: must be a numpy array of shape (n,), not {type(value).__name__}")
    if value.ndim != 1:
        raise ConfigError(f"{where}: shape {value.shape}; expected (n,)")
    if value.dtype != np.int64:
        raise ConfigError(f"{where}: dtype {value.dtype}; expected int64 (Dataset.from_arrays converts)")


def _check_classes(instance: Dataset, attribute: attrs.Attribute, value: tuple[int, ...]) -> None:
    if not value:
        raise ConfigError("Dataset.classes: empty; give the original class of every label, e.g. (0, 1, 4, 6, 7)")
    if len(set(value)) != len(value):
        raise ConfigError(f"Dataset.classes: {value!r} has duplicates; each label needs its own class")


@attrs.frozen(eq=False, repr=False)
class Dataset:
    """A labelled image classification data set, split into training and test images.

    Parameters
    ----------
    x_train, x_test:
        float32 arrays of shape (n, 100): one flattened 10x10 image per row, row-major, grey
        values in [0, 1] (0 = background, 1 = full ink).
    y_train, y_test:
        int64 arrays of shape (n,): labels 0..len(classes)-1.
    classes:
        The original class (digit) of each label: label ``k`` is digit ``classes[k]``.
    name:
        A short name for logs and reports.

    Notes
    -----
    ``__init__`` only validates; use :meth:`from_arrays` to convert dtypes and shapes.
    Equality is identity (the arrays are large); the loaders return read-only arrays.
    """

    x_train: np.ndarray = attrs.field(validator=_check_images)
    y_train: np.ndarray = attrs.field(validator=_check_labels)
    x_test: np.ndarray = attrs.field(validator=_check_images)
    y_test: np.ndarray = attrs.field(validator=_check_labels)
    classes: tuple[int, ...] = attrs.field(converter=lambda c: tuple(int(v) for v in c), validator=_check_classes)
    name: str = attrs.field(default="dataset", validator=attrs.validators.instance_of(str))

    def __attrs_post_init__(self) -> None:
        for split, x, y in (("train", self.x_train, self.y_train), ("test", self.x_test, self.y_test)):
            if len(x) != len(y):
                raise ConfigError(f"Dataset: x_{split} has {len(x)} images but y_{split} has {len(y)} labels; they must match")
            if y.size and (y.min() < 0 or y.max() >= len(self.classes)):
                raise ConfigError(f"Dataset.y_{split}: labels in {int(y.min())}..{int(y.max())}; "
                                  f"valid 0..{len(self.classes) - 1} (one per class of {self.classes})")

    @classmethod
    def from_arrays(cls, x_train, y_train, x_test, y_test, classes: Sequence[int], name: str = "dataset") -> Dataset:
        """Build a data set from array-likes, converting explicitly.

        Images may be given as (n, 100) or (n, 10, 10); they are cast to float32. Labels must be
        integer-valued and are cast to int64. The stored arrays are read-only copies.
        """
        arrays = []
        for field, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
            x = np.array(x, dtype=np.float32)
            if x.ndim == 3 and x.shape[1:] == (IMAGE_SIDE, IMAGE_SIDE):
                x = x.reshape(len(x), N_PIXELS)
            y_raw = np.asarray(y)
            if y_raw.dtype.kind not in "iub":
                if y_raw.dtype.kind != "f" or not np.array_equal(y_raw, np.round(y_raw)):
                    raise ConfigError(f"Dataset.y_{field}: labels of dtype {y_raw.dtype} are not integers")
            y = y_raw.astype(np.int64)  # always a copy
            x.setflags(write=False)
            y.setflags(write=False)
            arrays += [x, y]
        return cls(arrays[0], arrays[1], arrays[2], arrays[3], classes=tuple(classes), name=name)

    def __repr__(self) -> str:
        return (f"Dataset(name={self.name!r}, classes={self.classes}, n_train={self.n_train}, "
                f"n_test={self.n_test}, image_shape={self.image_shape})")

    @property
    def n_train(self) -> int:
        return len(self.y_train)

    @property
    def n_test(self) -> int:
        return len(self.y_test)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def image_shape(self) -> tuple[int, int]:
        return (IMAGE_SIDE, IMAGE_SIDE)

    def _split(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        if split == "train":
            return self.x_train, self.y_train
        if split == "test":
            return self.x_test, self.y_test
        raise UnknownNameError("split", split, ("train", "test"))

    def images(self, split: str = "train") -> np.ndarray:
        """The images of ``split`` (``"train"`` or ``"test"``) as (n, 10, 10), for plotting."""
        return self._split(split)[0].reshape(-1, IMAGE_SIDE, IMAGE_SIDE)

    def digits(self, split: str = "train") -> np.ndarray:
        """The original class (digit) of every image of ``split``: ``classes[label]``."""
        return np.asarray(self.classes, dtype=np.int64)[self._split(split)[1]]

    def class_counts(self, split: str = "train") -> dict[int, int]:
        """Number of images per original class in ``split``."""
        counts = np.bincount(self._split(split)[1], minlength=self.n_classes)
        return {digit: int(n) for digit, n in zip(self.classes, counts)}

    def batches(self, batch_size: int, rng: np.random.Generator | None = None, *, split: str = "train",
                drop_last: bool = False) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Iterate once over ``split`` in batches of ``(x, y)``.

        Parameters
        ----------
        batch_size:
            Images per batch, >= 1. The last batch is smaller unless ``drop_last``.
        rng:
            Shuffles the order for this pass; ``None`` keeps the stored order.
        split:
            ``"train"`` or ``"test"``.
        drop_last:
            Skip a last batch that is smaller than ``batch_size``.
        """
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise ConfigError(f"Dataset.batches.batch_size: {batch_size!r} is not an integer; valid >= 1")
        if batch_size < 1:
            raise ConfigError(f"Dataset.batches.batch_size: {batch_size} out of range; valid >= 1")
        if rng is not None and not isinstance(rng, np.random.Generator):
            raise ConfigError(f"Dataset.batches.rng: {type(rng).__name__} is not a numpy.random.Generator "
                              "(use np.random.default_rng(seed)) or None")
        x, y = self._split(split)
        return self._iter_batches(x, y, int(batch_size), rng, drop_last)

    @staticmethod
    def _iter_batches(x, y, batch_size, rng, drop_last) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        n = len(y)
        order = rng.permutation(n) if rng is not None else None
        stop = n - n % batch_size if drop_last else n
        for start in range(0, stop, batch_size):
            if order is None:
                yield x[start:start + batch_size], y[start:start + batch_size]
            else:
                idx = order[start:start + batch_size]
                yield x[idx], y[idx]


# --------------------------------------------------------------------------------------------
# IDX files
# --------------------------------------------------------------------------------------------


def _foreign_hint(head: bytes, path: Path) -> str:
    if head.startswith(b"\x89PNG"):
        return " (this is a PNG image)"
    if head.startswith(b"PK"):
        return " (this is a zip archive; unpack it first)"
    if head.lstrip()[:1] == b"<":
        return " (this looks like HTML or XML: an error page saved instead of the data?)"
    if path.suffix == ".gz":
        return " (the name ends in .gz, but the content is not gzip-compressed)"
    return ""


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (the MNIST format), plain or gzip-compressed.

    The format: two zero bytes, a type code (0x08 uint8, 0x09 int8, 0x0b int16, 0x0c int32,
    0x0d float32, 0x0e float64), the number of dimensions, each dimension as a big-endian
    uint32, then the data, big-endian, row-major. Compression is recognised by content (the
    gzip magic bytes), not by name.

    Returns
    -------
    numpy.ndarray
        A writable array in native byte order with the declared shape.

    Raises
    ------
    DatasetNotFoundError
        The file does not exist.
    FileFormatError
        Truncated, corrupt or foreign files; the message names the file and the problem.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DatasetNotFoundError(f"{path}: no such file", path=path, missing=(path.name,)) from None
    except IsADirectoryError:
        raise FileFormatError(path, "is a directory, not an IDX file") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise FileFormatError(path, f"corrupt or truncated gzip stream ({exc})") from exc
    else:
        data = raw
    if len(data) < 4:
        raise FileFormatError(path, f"truncated: {len(data)} byte(s); an IDX header needs at least 4")
    magic = int.from_bytes(data[:4], "big")
    zero, code, ndim = data[:2], data[2], data[3]
    if zero != b"\x00\x00":
        raise FileFormatError(path, f"wrong magic number 0x{magic:08x}; not an IDX file, whose magic is 0x0000TTNN "
                                    f"(type code TT, NN dimensions; MNIST images 0x00000803){_foreign_hint(data[:16], path)}")
    if code not in _IDX_TYPES:
        raise FileFormatError(path, f"unknown IDX type code 0x{code:02x} (magic 0x{magic:08x}); valid {_IDX_TYPES_TEXT}")
    if ndim == 0:
        raise FileFormatError(path, f"IDX header declares 0 dimensions (magic 0x{magic:08x}); valid 1..255")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise FileFormatError(path, f"truncated header: {ndim} dimensions need {header} bytes, the file has {len(data)}")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    dtype = _IDX_TYPES[code]
    count = math.prod(dims)
    expected = count * dtype.itemsize
    actual = len(data) - header
    if actual != expected:
        shape = "x".join(str(d) for d in dims)
        why = "truncated" if actual < expected else "trailing bytes"
        raise FileFormatError(path, f"size mismatch: the header declares {shape} {dtype.name} ({expected:,} data bytes), "
                                    f"the file holds {actual:,} data bytes ({why})")
    array = np.frombuffer(data, dtype=dtype, count=count, offset=header).reshape(dims)
    return array.astype(dtype.newbyteorder("="))  # a writable, native-order copy


def write_idx(path: str | os.PathLike, array: np.ndarray) -> Path:
    """Write ``array`` as an IDX file, gzip-compressed if ``path`` ends in ``.gz``; atomic.

    Supported dtypes: uint8, int8, int16, int32, float32, float64; 1 to 255 dimensions.
    """
    path = Path(path)
    array = np.asarray(array)
    native = array.dtype.newbyteorder("=")
    if native not in _IDX_CODES:
        raise ConfigError(f"write_idx: dtype {array.dtype} has no IDX type code; valid {_IDX_TYPES_TEXT}")
    if not 1 <= array.ndim <= 255:
        raise ConfigError(f"write_idx: {array.ndim} dimensions; valid 1..255")
    code = _IDX_CODES[native]
    body = struct.pack(f">BBBB{array.ndim}I", 0, 0, code, array.ndim, *array.shape)
    body += np.ascontiguousarray(array, dtype=_IDX_TYPES[code]).tobytes()
    if path.suffix == ".gz":
        body = gzip.compress(body, mtime=0)
    _atomic_write_bytes(path, body)
    return path


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, lambda f: f.write(data))


# --------------------------------------------------------------------------------------------
# Reduction
# --------------------------------------------------------------------------------------------


def reduce_images(images: np.ndarray, *, side: int = IMAGE_SIDE, max_value: float = 255.0,
                  chunk: int = 8192) -> np.ndarray:
    """Reduce images to ``side`` x ``side`` pixels by antialiased bicubic interpolation.

    Uses ``torch.nn.functional.interpolate(mode="bicubic", antialias=True,
    align_corners=False)``. That variant is the Keys cubic convolution kernel with
    ``a = -0.5``, pixel-centre aligned, whose support is widened by the scale factor when
    shrinking (28 -> 10: 2.8 input pixels per output pixel, about 12 taps per axis). It is
    what PIL's ``Image.resize(..., BICUBIC)`` and MATLAB's ``imresize(..., "bicubic")``
    compute. The paper does not name its tool; these common tools all antialias when
    shrinking, and without antialiasing a 4-tap kernel at 2.8x would skip input pixels and
    alias thin strokes away. Torch's non-antialiased bicubic also uses ``a = -0.75``.

    Parameters
    ----------
    images:
        (n, h, w) array of grey values in [0, ``max_value``].
    side:
        Output side length, pixels.
    max_value:
        The input value that maps to 1.0 (255 for MNIST's uint8, 16 for scikit-learn's digits).
    chunk:
        Images per interpolation call (bounds memory).

    Returns
    -------
    numpy.ndarray
        float32, shape (n, side*side), row-major, in [0, 1]. The cubic kernel's small
        overshoot beyond [0, 1] at sharp edges is clipped.
    """
    try:
        import torch
        import torch.nn.functional as F
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise HalError("reduce_images needs torch (pip install torch); a cached data set loads without it") from exc
    images = np.asarray(images)
    if images.ndim != 3:
        raise ConfigError(f"reduce_images: images of shape {images.shape}; expected (n, height, width)")
    out = np.empty((len(images), side * side), dtype=np.float32)
    with torch.no_grad():
        for start in range(0, len(images), chunk):
            block = torch.from_numpy(np.ascontiguousarray(images[start:start + chunk], dtype=np.float64) / max_value)
            small = F.interpolate(block[:, None], size=(side, side), mode="bicubic", antialias=True, align_corners=False)
            out[start:start + chunk] = small.reshape(len(block), side * side).clamp_(0.0, 1.0).numpy()
    return out


def _check_class_subset(classes: Sequence[int], n_classes: int = 10) -> tuple[int, ...]:
    try:
        classes = tuple(int(c) for c in classes)
    except (TypeError, ValueError):
        raise ConfigError(f"classes: {classes!r} is not a sequence of digits; e.g. {PAPER_CLASSES}") from None
    bad = [c for c in classes if not 0 <= c < n_classes]
    if not classes or bad or len(set(classes)) != len(classes):
        raise ConfigError(f"classes: {classes!r} invalid; give distinct digits in 0..{n_classes - 1}, e.g. {PAPER_CLASSES}")
    return classes


def _select(images: np.ndarray, labels: np.ndarray, classes: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Keep the images of ``classes`` (in their original order); labels become indices into ``classes``."""
    lookup = np.full(max(int(labels.max(initial=0)), max(classes)) + 1, -1, dtype=np.int64)
    lookup[list(classes)] = np.arange(len(classes))
    remapped = lookup[labels]
    keep = remapped >= 0
    return images[keep], remapped[keep]


# --------------------------------------------------------------------------------------------
# MNIST
# --------------------------------------------------------------------------------------------


def default_cache_dir() -> Path:
    """Where reduced data sets are cached unless ``cache_dir`` is given.

    ``$WAFER_HAL_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/wafer-hal/datasets``, else
    ``~/.cache/wafer-hal/datasets``. A user cache rather than the data folder, because data
    folders are often shared and read-only; entries are keyed by content, so one cache serves
    every copy of the files.
    """
    env = os.environ.get("WAFER_HAL_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "wafer-hal" / "datasets"


def _missing_message(data_dir: Path, missing: Sequence[str], *, dir_missing: bool) -> str:
    names = ", ".join(f"{stem}.gz" for stem in _MNIST_STEMS.values())
    where = (f"MNIST data directory {data_dir} does not exist" if dir_missing else
             f"MNIST file(s) missing in {data_dir}: " + ", ".join(f"{m}[.gz]" for m in missing))
    return (f"{where}. Put the four original IDX files ({names}; plain or gzip-compressed) in that directory, "
            f"or run hal_trainers.datasets.download_mnist({str(data_dir)!r}) on a machine with internet access "
            f"and copy them over. Offline, load_dataset('digits') gives a small embedded stand-in.")


def _find_mnist_files(data_dir: Path) -> dict[tuple[str, str], Path]:
    if not data_dir.is_dir():
        raise DatasetNotFoundError(_missing_message(data_dir, list(_MNIST_STEMS.values()), dir_missing=True),
                                   path=data_dir, missing=[f"{s}.gz" for s in _MNIST_STEMS.values()])
    found, missing = {}, []
    for key, stem in _MNIST_STEMS.items():
        # the hyphenated official names, and the dotted ones some archives unpack to
        dotted = stem.replace("-idx", ".idx")
        candidates = [data_dir / f"{name}{ext}" for name in (stem, dotted) for ext in (".gz", "")]
        hit = next((c for c in candidates if c.is_file()), None)
        if hit is None:
            missing.append(stem)
        else:
            found[key] = hit
    if missing:
        raise DatasetNotFoundError(_missing_message(data_dir, missing, dir_missing=False), path=data_dir,
                                   missing=[f"{m}.gz" for m in missing])
    return found


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()


def _cache_key(files: Mapping[tuple[str, str], Path], classes: tuple[int, ...]) -> str:
    spec = {
        "preprocessing_version": PREPROCESSING_VERSION,
        "reduction": "torch-bicubic-antialias-a-0.5",
        "side": IMAGE_SIDE,
        "classes": list(classes),
        "files": {f"{split}-{kind}": [p.stat().st_size, _file_sha256(p)] for (split, kind), p in sorted(files.items())},
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()


def _read_cache(path: Path, key: str) -> dict[str, np.ndarray] | None:
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            if str(npz["key"]) != key:
                log.warning("dataset_cache_key_mismatch", path=str(path))
                return None
            return {name: npz[name] for name in ("x_train", "y_train", "x_test", "y_test")}
    except Exception as exc:  # noqa: BLE001 - any unreadable cache file is just a miss
        log.warning("dataset_cache_unreadable", path=str(path), error=f"{type(exc).__name__}: {exc}")
        return None


def _write_cache(path: Path, key: str, arrays: Mapping[str, np.ndarray]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda f: np.savez(f, key=np.array(key), **arrays))
    except OSError as exc:
        # The cache only saves time; a read-only or full disk must not stop training.
        log.warning("dataset_cache_write_failed", path=str(path), error=str(exc))
    else:
        log.debug("dataset_cache_written", path=str(path))


def _read_mnist_pair(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise FileFormatError(images_path, f"holds {images.ndim}-D {images.dtype} data of shape {images.shape}; "
                                           "expected 3-D uint8 images (n, height, width), magic 0x00000803")
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise FileFormatError(labels_path, f"holds {labels.ndim}-D {labels.dtype} data of shape {labels.shape}; "
                                           "expected 1-D uint8 labels (n,), magic 0x00000801")
    if len(images) != len(labels):
        raise FileFormatError(labels_path, f"{len(labels)} labels for {len(images)} images in {images_path.name}; "
                                           "the counts must match")
    if labels.size and labels.max() > 9:
        raise FileFormatError(labels_path, f"label {int(labels.max())} out of range; valid 0..9")
    return images, labels


def load_mnist(data_dir: str | os.PathLike, *, cache_dir: str | os.PathLike | None = None, use_cache: bool = True,
               classes: Sequence[int] = PAPER_CLASSES) -> Dataset:
    """Load MNIST from ``data_dir``, reduced to 10x10 and to the paper's five classes.

    Reads ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``
    and ``t10k-labels-idx1-ubyte`` (each plain or ``.gz``) from ``data_dir``, keeps the images
    of ``classes`` in their original order, reduces them with :func:`reduce_images` and maps
    the labels to 0..len(classes)-1 (label ``k`` is digit ``classes[k]``). With the default
    classes this gives 30,690 training and 5,083 test images, as in the paper.

    The result is cached as an ``.npz`` file in ``cache_dir`` (default
    :func:`default_cache_dir`), keyed by the SHA-256 of the source files, the classes and
    :data:`PREPROCESSING_VERSION`; a second load reads only that file and does not need torch.

    Raises
    ------
    DatasetNotFoundError
        ``data_dir`` or one of the files is missing; the message names them and where to put them.
    FileFormatError
        A file is truncated, corrupt or not the expected IDX content.
    """
    classes = _check_class_subset(classes)
    data_dir = Path(data_dir).expanduser()
    t0 = time.perf_counter()
    files = _find_mnist_files(data_dir)
    arrays = None
    cache_path = None
    if use_cache:
        key = _cache_key(files, classes)
        cache_path = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
        cache_path = cache_path / f"mnist-{IMAGE_SIDE}x{IMAGE_SIDE}-{key[:20]}.npz"
        arrays = _read_cache(cache_path, key)
    cached = arrays is not None
    if arrays is None:
        arrays = {}
        for split in ("train", "test"):
            images, labels = _read_mnist_pair(files[(split, "images")], files[(split, "labels")])
            images, labels = _select(images, labels, classes)
            arrays[f"x_{split}"] = reduce_images(images)
            arrays[f"y_{split}"] = labels
        if use_cache:
            _write_cache(cache_path, key, arrays)
    dataset = Dataset.from_arrays(arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"],
                                  classes=classes, name="mnist")
    log.info("dataset_loaded", dataset="mnist", data_dir=str(data_dir), n_train=dataset.n_train, n_test=dataset.n_test,
             classes=classes, cached=cached, cache=str(cache_path) if cache_path else None,
             seconds=round(time.perf_counter() - t0, 3))
    return dataset


def _urlopen(url: str, timeout: float):
    """The one place that opens URLs (tests replace it)."""
    return urllib.request.urlopen(url, timeout=timeout)  # noqa: S310 - the URLs are the caller's choice


class _DigestMismatch(ValueError):
    def __init__(self, what: str, actual: str, expected: str):
        self.what, self.actual, self.expected = what, actual, expected
        super().__init__(f"{what} {actual}, expected {expected}")


def _fetch_verified(url: str, dest: Path, expected: FileDigest, timeout_s: float) -> None:
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
        # Checked before the rename: a wrong download never replaces anything.
        if expected.size_bytes is not None and size != expected.size_bytes:
            raise _DigestMismatch("size", f"{size:,} bytes", f"{expected.size_bytes:,}")
        if sha.hexdigest() != expected.sha256.lower():
            raise _DigestMismatch("SHA-256", sha.hexdigest(), expected.sha256.lower())
        if expected.md5 is not None and md5.hexdigest() != expected.md5.lower():
            raise _DigestMismatch("MD5", md5.hexdigest(), expected.md5.lower())

    atomic_write(dest, fetch)


def _verified_on_disk(path: Path, expected: FileDigest) -> bool:
    if not path.is_file() or (expected.size_bytes is not None and path.stat().st_size != expected.size_bytes):
        return False
    return _file_sha256(path) == expected.sha256.lower()


def download_mnist(data_dir: str | os.PathLike, *, base_url: str | Sequence[str] = MNIST_MIRRORS,
                   files: Mapping[str, FileDigest] = MNIST_FILES, timeout_s: float = 60.0) -> list[Path]:
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
        if _verified_on_disk(dest, expected):
            log.info("mnist_file_present", file=name, path=str(dest))
            paths.append(dest)
            continue
        attempts: list[tuple[str, str]] = []
        mismatches: list[_DigestMismatch] = []
        for base in bases:
            url = base if base.endswith("/") else base + "/"
            url += name
            try:
                _fetch_verified(url, dest, expected, timeout_s)
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
                f"(download_mnist(dir) there) and copy them into {data_dir}"))
    return paths


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return f"unreachable ({exc.reason})"
    return f"{type(exc).__name__}: {exc}"


# --------------------------------------------------------------------------------------------
# The embedded stand-in
# --------------------------------------------------------------------------------------------


def load_digits(*, classes: Sequence[int] = PAPER_CLASSES, seed: int = DIGITS_SPLIT_SEED) -> Dataset:
    """scikit-learn's embedded 8x8 digits, prepared like the paper's MNIST: the offline default.

    The 1,797 images (UCI optical digits, grey values 0..16) ship with scikit-learn. They are
    resampled to 10x10 by the same bicubic kernel as :func:`reduce_images` (here enlarging),
    scaled to [0, 1] (16 -> 1, overshoot clipped), restricted to ``classes`` and split 80/20
    per class (stratified) by a generator seeded with ``seed``; both splits keep the original
    order. With the default classes: 721 training and 180 test images.

    Much smaller and easier than MNIST: meant for tests, examples and machines without the
    MNIST files, not for reproducing the paper's accuracies.
    """
    classes = _check_class_subset(classes)
    try:
        from sklearn.datasets import load_digits as _sk_load_digits
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise HalError("load_digits needs scikit-learn (pip install scikit-learn)") from exc
    t0 = time.perf_counter()
    bunch = _sk_load_digits()
    images, labels = _select(np.asarray(bunch.images), np.asarray(bunch.target, dtype=np.int64), classes)
    x = reduce_images(images, max_value=16.0)
    rng = np.random.default_rng(seed)
    train = np.zeros(len(labels), dtype=bool)
    for k in range(len(classes)):
        members = np.flatnonzero(labels == k)
        n_train = int(round(_DIGITS_TRAIN_FRACTION * len(members)))
        train[rng.permutation(members)[:n_train]] = True
    dataset = Dataset.from_arrays(x[train], labels[train], x[~train], labels[~train], classes=classes, name="digits")
    log.info("dataset_loaded", dataset="digits", n_train=dataset.n_train, n_test=dataset.n_test, classes=classes,
             seed=seed, cached=False, seconds=round(time.perf_counter() - t0, 3))
    return dataset


# --------------------------------------------------------------------------------------------
# By name
# --------------------------------------------------------------------------------------------

#: Names :func:`load_dataset` knows, with a one-line description.
DATASETS: Mapping[str, str] = {
    "mnist": "MNIST reduced to 10x10, classes 0, 1, 4, 6, 7 (Schmitt et al. 2017); needs data_dir",
    "digits": "scikit-learn's embedded 8x8 digits resampled to 10x10, same classes; offline",
}


def load_dataset(name: str, data_dir: str | os.PathLike | None = None, *,
                 cache_dir: str | os.PathLike | None = None) -> Dataset:
    """Load a data set by name: ``"mnist"`` (from ``data_dir``) or ``"digits"`` (embedded).

    Raises
    ------
    UnknownNameError
        ``name`` is not one of :data:`DATASETS`; the message lists the known names.
    ConfigError
        ``"mnist"`` without ``data_dir``, or ``"digits"`` with one.
    """
    if name not in DATASETS:
        raise UnknownNameError("dataset", name, DATASETS)
    if name == "mnist":
        if data_dir is None:
            raise ConfigError("dataset 'mnist' needs data_dir: the folder with the four MNIST IDX files "
                              "(download_mnist(dir) fetches them on an online machine); offline, use 'digits'")
        return load_mnist(data_dir, cache_dir=cache_dir)
    if data_dir is not None or cache_dir is not None:
        raise ConfigError(f"dataset 'digits' is embedded in scikit-learn; data_dir={data_dir!r} and "
                          f"cache_dir={cache_dir!r} must be None")
    return load_digits()
