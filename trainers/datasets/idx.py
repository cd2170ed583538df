"""The IDX file format (the format of the MNIST files): reading and writing, plain or gzip-compressed."""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from hal.errors import ConfigError, FileFormatError
from hal.files import atomic_write
from hal_trainers.datasets.errors import DatasetNotFoundError

__all__ = ["read_idx", "write_idx"]

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


def _foreign_hint(head: bytes, path: Path, compressed: bool) -> str:
    if head.startswith(b"\x89PNG"):
        return " (this is a PNG image)"
    if head.startswith(b"PK"):
        return " (this is a zip archive; unpack it first)"
    if head.lstrip()[:1] == b"<":
        return " (this looks like HTML or XML: an error page saved instead of the data?)"
    if compressed:
        return " (the file is gzip-compressed, but what it holds is not IDX data)"
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
    compressed = raw[:2] == b"\x1f\x8b"
    if compressed:
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
                                    f"(type code TT, NN dimensions; MNIST images 0x00000803){_foreign_hint(data[:16], path, compressed)}")
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
