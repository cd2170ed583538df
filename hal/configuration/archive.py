"""The on-disk container for hal files: a zip holding ``manifest.json`` plus ``.npy`` arrays.

Why this format: JSON keeps the structure readable and diffable, ``.npy`` keeps
bulk arrays exact and fast, and zip adds a CRC per entry, so corruption and
truncation are detected rather than read as garbage. Files are written to a
temporary name and renamed, so a crash never leaves half a file behind.

Reading is bounded, because a small hostile file can declare huge contents: the zip's
directory is checked (expected member names, declared sizes per member and in total)
before anything is decompressed, and each ``.npy`` header (dtype, shape, and that the
declared shape matches the bytes that follow) before its array is allocated.
"""

from __future__ import annotations

import io
import json
import math
import os
import struct
import tokenize
import zipfile
import zlib
from collections.abc import Callable
from typing import IO, Any

import attrs
import numpy as np

from hal.errors import FileFormatError, HalError
from hal.files import atomic_write, existing_file
from hal.validators import parse_json

__all__ = ["ArraySpec", "MAX_ARCHIVE_BYTES", "MAX_MANIFEST_BYTES", "write_archive", "read_archive"]

_MANIFEST = "manifest.json"

#: The most a hal archive may hold, uncompressed, in all its members. A full wafer
#: configuration (384 HICANNs, every register changed) is about 250 MB.
MAX_ARCHIVE_BYTES = 2 * 2**30
#: The most its ``manifest.json`` may hold (a full wafer's register records: about 150 MB).
MAX_MANIFEST_BYTES = 256 * 2**20
#: The longest ``.npy`` header read (numpy's own limit for untrusted files).
_MAX_NPY_HEADER = 10_000
_NPY_MAGIC = b"\x93NUMPY"


@attrs.frozen
class ArraySpec:
    """What one member array of an archive may be, checked from its header before it is read.

    ``kinds``: numpy dtype kinds allowed (``"u"`` unsigned, ``"b"`` bool, ``"i"``, ``"f"``);
    ``shape``: the exact shape, or ``None``; ``ndims``: the allowed numbers of dimensions
    when the shape is not fixed; ``what``: how messages name what the array must be.
    """

    kinds: str = "biuf"
    shape: tuple[int, ...] | None = None
    ndims: tuple[int, ...] | None = None
    what: str = ""

    def max_bytes(self) -> int:
        """The largest member this spec admits (exact shapes), else the archive's limit."""
        if self.shape is None:
            return MAX_ARCHIVE_BYTES  # the archive's total bounds it
        return 12 + _MAX_NPY_HEADER + math.prod(self.shape) * 8

    def problem(self, shape: tuple[int, ...], dtype: np.dtype) -> str | None:
        """Why an array of ``shape`` and ``dtype`` does not fit, or None."""
        if self.what:
            expected = self.what
        elif self.shape is not None:
            expected = f"shape {self.shape}"
        else:
            expected = f"{' or '.join(map(str, self.ndims))}-d" if self.ndims else "an array of"
        if dtype.kind not in self.kinds:
            names = {"u": "unsigned", "b": "bool", "i": "integer", "f": "float"}
            return f"dtype {dtype}; expected {expected} {' or '.join(names.get(k, k) for k in self.kinds)}"
        if self.shape is not None and shape != self.shape:
            return f"shape {shape}; expected {expected}"
        if self.ndims is not None and len(shape) not in self.ndims:
            return f"shape {shape}; expected {expected}"
        return None


#: Any numeric array: what :func:`read_archive` accepts when the reader names no specs.
ANY_NUMERIC = ArraySpec()


def write_archive(path: str | os.PathLike, kind: str, version: int, manifest: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Write ``manifest`` and ``arrays`` atomically to ``path``."""
    header = {"format": kind, "version": version, **manifest}

    def write(fh) -> None:
        with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            zf.writestr(_MANIFEST, json.dumps(header, indent=1, sort_keys=True, allow_nan=False))
            for name, array in arrays.items():
                buf = io.BytesIO()
                np.lib.format.write_array(buf, np.ascontiguousarray(array), allow_pickle=False)
                zf.writestr(name, buf.getvalue())

    atomic_write(path, write)


def _check_directory(path, infos: list[zipfile.ZipInfo], kind: str, max_bytes: int) -> None:
    """Refuse, from the zip's directory alone, what would be costly or wrong to decompress."""
    if not any(info.filename == _MANIFEST for info in infos):
        raise FileFormatError(path, f"no {_MANIFEST} inside: not a hal {kind} file")
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        if name in seen:
            raise FileFormatError(path, f"member {name!r} appears twice")
        seen.add(name)
        if info.flag_bits & 0x1:
            raise FileFormatError(path, f"member {name!r} is encrypted; hal archives are not")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise FileFormatError(path, f"member {name!r} uses compression method {info.compress_type}; hal reads stored or deflated members")
        limit = MAX_MANIFEST_BYTES if name == _MANIFEST else max_bytes
        if info.file_size > limit:
            raise FileFormatError(path, f"member {name!r} declares {info.file_size} bytes uncompressed; at most {limit} are read "
                                        "(checked before decompressing)")
        total += info.file_size
        if total > max_bytes:
            raise FileFormatError(path, f"members declare more than {max_bytes} bytes uncompressed (the limit for a hal archive; "
                                        "checked before decompressing)")


def _check_names(path, infos: list[zipfile.ZipInfo], kind: str, spec_of: Callable[[str], ArraySpec | None]) -> None:
    """Every member is one the reader expects, and no larger than its spec admits (still before decompressing)."""
    for info in infos:
        if info.filename == _MANIFEST:
            continue
        spec = spec_of(info.filename)
        if spec is None:
            raise FileFormatError(path, f"unexpected member {info.filename!r}: not part of a hal {kind} file")
        if info.file_size > spec.max_bytes():
            raise FileFormatError(path, f"member {info.filename!r} declares {info.file_size} bytes uncompressed; at most "
                                        f"{spec.max_bytes()} fit its shape (checked before decompressing)")


class _Refused(ValueError):
    """An array whose header does not match what the reader expects."""


def _read_exactly(fh: IO[bytes], n: int) -> bytes:
    data = fh.read(n)
    if len(data) != n:
        raise EOFError(f"ends after {len(data)} of {n} bytes")
    return data


def _read_npy(fh: IO[bytes], size: int, spec: ArraySpec) -> np.ndarray:
    """Read one ``.npy`` member of ``size`` bytes, checking its header against ``spec`` before allocating.

    Raises ``ValueError`` naming the problem (the caller adds the file and member).
    """
    prefix = _read_exactly(fh, 8)
    if prefix[:6] != _NPY_MAGIC:
        raise ValueError("not a .npy array")
    major = prefix[6]
    if major not in (1, 2):
        raise ValueError(f".npy format version {major}.{prefix[7]} not supported; hal reads 1.0 and 2.0")
    length_field = _read_exactly(fh, 2 if major == 1 else 4)
    header_len = int.from_bytes(length_field, "little")
    if header_len > _MAX_NPY_HEADER:
        raise ValueError(f".npy header of {header_len} bytes; at most {_MAX_NPY_HEADER}")
    header = io.BytesIO(length_field + _read_exactly(fh, header_len))
    reader = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
    try:
        shape, fortran_order, dtype = reader(header, max_header_size=_MAX_NPY_HEADER)
    except (SyntaxError, TypeError, KeyError, MemoryError, tokenize.TokenError) as exc:  # numpy evaluates the header as a Python literal
        raise ValueError(f"the .npy header is not readable ({type(exc).__name__}: {exc})") from None
    if dtype.hasobject or dtype.names is not None or dtype.shape != ():
        raise _Refused(f"dtype {dtype}: objects, records and sub-arrays are not read (hal stores plain numbers)")
    problem = spec.problem(tuple(shape), dtype)
    if problem:
        raise _Refused(problem)
    nbytes = math.prod(shape) * dtype.itemsize
    payload = size - 8 - len(length_field) - header_len
    if nbytes != payload:
        raise _Refused(f"header declares shape {tuple(shape)} of {dtype} ({nbytes} bytes) but {payload} bytes follow")
    buf = bytearray(nbytes)
    if fh.readinto(buf) != nbytes or fh.read(1):  # reading to the end also checks the CRC
        raise EOFError("the array's data is truncated")
    array = np.frombuffer(buf, dtype=dtype)
    return array.reshape(shape[::-1]).T if fortran_order else array.reshape(shape)


# zipfile and zlib report damaged archives with any of these.
_DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, struct.error, OverflowError, NotImplementedError, RuntimeError)


def read_archive(path: str | os.PathLike, kind: str, versions: range, *, arrays: Callable[[str], ArraySpec | None] | None = None,
                 max_bytes: int | None = None) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read a file written by :func:`write_archive`, checking its kind and version.

    Every way a file can be wrong (missing, not a zip, truncated, CRC error, foreign format,
    unsupported version, unreadable array) raises :class:`FileFormatError` naming the file
    and the problem. Bounded: from the zip's directory, before anything is decompressed, every
    member must be expected (``arrays(name)`` gives its :class:`ArraySpec`, ``None`` for a name
    that does not belong; without ``arrays`` any numeric array is read), no member may declare
    more than its spec admits and all together no more than ``max_bytes`` (default
    :data:`MAX_ARCHIVE_BYTES`), the manifest no more than :data:`MAX_MANIFEST_BYTES`; each array's
    header (dtype, shape) is checked against its spec and against the bytes that follow
    before the array is allocated; the manifest's JSON nesting is bounded.
    """
    path = existing_file(path)
    spec_of = arrays or (lambda name: ANY_NUMERIC)
    max_bytes = MAX_ARCHIVE_BYTES if max_bytes is None else max_bytes
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            _check_directory(path, infos, kind, max_bytes)
            try:
                with zf.open(_MANIFEST) as fh:
                    manifest = parse_json(fh.read())
            except ValueError as exc:
                raise FileFormatError(path, f"{_MANIFEST} is not valid JSON ({exc})") from None
            if not isinstance(manifest, dict):
                raise FileFormatError(path, f"{_MANIFEST} is not a JSON object")
            found = manifest.get("format")
            if found != kind:
                raise FileFormatError(path, f"is a {found!r} file, expected {kind!r}")
            version = manifest.get("version")
            if not isinstance(version, int) or isinstance(version, bool) or version not in versions:
                raise FileFormatError(
                    path,
                    f"format version {version!r} not supported; this hal reads versions "
                    f"{versions.start}..{versions.stop - 1}" + ("; upgrade hal" if isinstance(version, int) and version >= versions.stop else ""),
                )
            _check_names(path, infos, kind, spec_of)
            result = {}
            for info in sorted(infos, key=lambda i: i.filename):
                if info.filename == _MANIFEST:
                    continue
                try:
                    with zf.open(info) as fh:
                        result[info.filename] = _read_npy(fh, info.file_size, spec_of(info.filename))
                except HalError:
                    raise
                except _Refused as exc:
                    raise FileFormatError(path, f"array {info.filename} refused before reading: {exc}") from None
                except _DAMAGED as exc:
                    raise FileFormatError(path, f"array {info.filename} is unreadable ({exc})") from None
    except HalError:
        raise
    except (zipfile.BadZipFile, zlib.error) as exc:
        raise FileFormatError(path, f"not a hal {kind} file, or truncated/corrupt ({exc})") from None
    except _DAMAGED as exc:
        raise FileFormatError(path, f"truncated or unreadable ({type(exc).__name__}: {exc})") from None
    return manifest, result
