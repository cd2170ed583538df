"""hal_trainers.datasets.idx: reading and writing IDX files, and the errors for corrupt or foreign files."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from hal.errors import ConfigError, FileFormatError, HalError
from hal_trainers import datasets as D


def idx_bytes(code: int, dims: tuple[int, ...], payload: bytes) -> bytes:
    """An IDX file built by hand (independent of write_idx)."""
    return struct.pack(f">BBBB{len(dims)}I", 0, 0, code, len(dims), *dims) + payload


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gz"])
@pytest.mark.parametrize(("code", "dtype"), [(0x08, ">u1"), (0x09, ">i1"), (0x0B, ">i2"), (0x0C, ">i4"),
                                             (0x0D, ">f4"), (0x0E, ">f8")])
def test_read_idx_reads_handmade_files(tmp_path, code, dtype, gz):
    expected = (np.arange(24) - 5).astype(dtype).reshape(2, 3, 4)
    data = idx_bytes(code, (2, 3, 4), expected.tobytes())
    path = tmp_path / ("a.idx.gz" if gz else "a.idx")
    path.write_bytes(gzip.compress(data) if gz else data)
    got = D.read_idx(path)
    assert got.shape == (2, 3, 4)
    assert got.dtype == np.dtype(dtype).newbyteorder("=")
    np.testing.assert_array_equal(got, expected)
    got[0, 0, 0] = 1  # writable


@pytest.mark.parametrize("name", ["x-idx3-ubyte", "x-idx3-ubyte.gz"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int32, np.float32, np.float64])
def test_write_idx_round_trip(tmp_path, name, dtype):
    array = (np.arange(60).reshape(3, 4, 5) * 3).astype(dtype)
    path = D.write_idx(tmp_path / name, array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    np.testing.assert_array_equal(D.read_idx(path), array)
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary file left


def test_read_idx_recognises_gzip_by_content(tmp_path):
    path = tmp_path / "labels-without-suffix"
    path.write_bytes(gzip.compress(idx_bytes(0x08, (3,), b"\x01\x02\x03")))
    np.testing.assert_array_equal(D.read_idx(path), [1, 2, 3])


def test_write_idx_rejects_unsupported_dtype(tmp_path):
    with pytest.raises(ConfigError, match="dtype int64 has no IDX type code"):
        D.write_idx(tmp_path / "x", np.zeros(3, dtype=np.int64))


GOOD = idx_bytes(0x08, (2, 2, 2), bytes(range(8)))

CORRUPT = {
    "empty": (b"", "truncated: 0 byte(s)"),
    "truncated-data": (GOOD[:-3], "size mismatch: the header declares 2x2x2 uint8 (8 data bytes), the file holds 5 data bytes (truncated)"),
    "trailing-bytes": (GOOD + b"xx", "(trailing bytes)"),
    "truncated-header": (GOOD[:9], "truncated header: 3 dimensions need 16 bytes, the file has 9"),
    "foreign-text": (b"hello, world\n", "wrong magic number 0x68656c6c; not an IDX file"),
    "png": (b"\x89PNG\r\n\x1a\n" + bytes(20), "this is a PNG image"),
    "html": (b"<html><body>404 Not Found</body></html>", "an error page saved instead of the data?"),
    "unknown-type": (idx_bytes(0x07, (2,), b"\x00\x00"), "unknown IDX type code 0x07 (magic 0x00000701)"),
    "no-dims": (b"\x00\x00\x08\x00", "declares 0 dimensions"),
    "truncated-gzip": (gzip.compress(GOOD * 50)[:-20], "corrupt or truncated gzip stream"),
    "corrupt-gzip": (b"\x1f\x8b\x08\x00" + bytes(30), "corrupt or truncated gzip stream"),
    "gz-truncated-inside": (gzip.compress(GOOD[:-1]), "size mismatch"),
}


@pytest.mark.parametrize("case", CORRUPT, ids=list(CORRUPT))
def test_read_idx_rejects_corrupt_files(tmp_path, case):
    content, message = CORRUPT[case]
    path = tmp_path / f"{case}-idx3-ubyte"
    path.write_bytes(content)
    with pytest.raises(FileFormatError) as info:
        D.read_idx(path)
    assert str(path) in str(info.value)
    assert message in str(info.value)
    assert info.value.path == str(path)


def test_read_idx_names_a_plain_file_called_gz(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(b"not compressed at all")
    with pytest.raises(FileFormatError, match="the name ends in .gz, but the content is not gzip-compressed"):
        D.read_idx(path)


def test_read_idx_names_a_gzip_file_holding_something_else(tmp_path):
    import gzip

    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(b"garbage, not an IDX header"))
    with pytest.raises(FileFormatError, match="the file is gzip-compressed, but what it holds is not IDX data"):
        D.read_idx(path)


def test_read_idx_missing_file(tmp_path):
    with pytest.raises(D.DatasetNotFoundError, match="no such file") as info:
        D.read_idx(tmp_path / "nope")
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, HalError)
