"""hal_trainers.datasets: IDX files, the MNIST reduction and cache, the download, the digits stand-in.

Everything here builds small synthetic files in ``tmp_path``: no network, no real MNIST.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import struct
import subprocess
import sys
import threading
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from hal.errors import ConfigError, FileFormatError, HalError, UnknownNameError
from hal_trainers import datasets as D


def need_torch():
    return pytest.importorskip("torch", reason="the bicubic reduction uses torch.nn.functional.interpolate")


def need_sklearn():
    return pytest.importorskip("sklearn", reason="the digits stand-in ships with scikit-learn")


def idx_bytes(code: int, dims: tuple[int, ...], payload: bytes) -> bytes:
    """An IDX file built by hand (independent of write_idx)."""
    return struct.pack(f">BBBB{len(dims)}I", 0, 0, code, len(dims), *dims) + payload


# Synthetic MNIST: every image is one constant grey value, so its reduction is that value / 255
# everywhere (the kernel's weights sum to one) and each image can be recognised after reduction.
TRAIN_LABELS = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 7, 6, 5, 4, 3, 2, 1, 0, 9, 4], dtype=np.uint8)
TEST_LABELS = np.array([9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1], dtype=np.uint8)


def constant_images(n: int, offset: int) -> np.ndarray:
    grey = (offset + 7 * np.arange(n)) % 256
    return np.broadcast_to(grey[:, None, None], (n, 28, 28)).astype(np.uint8)


def write_fake_mnist(folder: Path, gz: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    ext = ".gz" if gz else ""
    D.write_idx(folder / f"train-images-idx3-ubyte{ext}", constant_images(len(TRAIN_LABELS), 3))
    D.write_idx(folder / f"train-labels-idx1-ubyte{ext}", TRAIN_LABELS)
    D.write_idx(folder / f"t10k-images-idx3-ubyte{ext}", constant_images(len(TEST_LABELS), 100))
    D.write_idx(folder / f"t10k-labels-idx1-ubyte{ext}", TEST_LABELS)
    return folder


@pytest.fixture
def mnist_dir(tmp_path) -> Path:
    return write_fake_mnist(tmp_path / "mnist")


# --------------------------------------------------------------------------------------------
# IDX
# --------------------------------------------------------------------------------------------


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


def test_read_idx_missing_file(tmp_path):
    with pytest.raises(D.DatasetNotFoundError, match="no such file") as info:
        D.read_idx(tmp_path / "nope")
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, HalError)


# --------------------------------------------------------------------------------------------
# Finding the MNIST files
# --------------------------------------------------------------------------------------------


def test_load_mnist_missing_directory(tmp_path):
    where = tmp_path / "no-such-dir"
    with pytest.raises(D.DatasetNotFoundError) as info:
        D.load_mnist(where, cache_dir=tmp_path / "cache")
    message = str(info.value)
    assert f"MNIST data directory {where} does not exist" in message
    assert "train-images-idx3-ubyte.gz" in message and "t10k-labels-idx1-ubyte.gz" in message
    assert f"download_mnist({str(where)!r})" in message
    assert info.value.path == str(where) and len(info.value.missing) == 4


def test_load_mnist_names_the_missing_file(mnist_dir, tmp_path):
    (mnist_dir / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(D.DatasetNotFoundError) as info:
        D.load_mnist(mnist_dir, cache_dir=tmp_path / "cache")
    message = str(info.value)
    assert f"MNIST file(s) missing in {mnist_dir}: t10k-labels-idx1-ubyte[.gz]." in message
    assert "download_mnist(" in message
    assert info.value.missing == ("t10k-labels-idx1-ubyte.gz",)


def test_load_mnist_rejects_swapped_files(mnist_dir, tmp_path):
    labels = mnist_dir / "train-labels-idx1-ubyte.gz"
    images = mnist_dir / "train-images-idx3-ubyte.gz"
    tmp = mnist_dir / "swap"
    labels.rename(tmp)
    images.rename(labels)
    tmp.rename(images)
    with pytest.raises(FileFormatError, match=r"holds 1-D uint8 data .*expected 3-D uint8 images") as info:
        D.load_mnist(mnist_dir, cache_dir=tmp_path / "cache")
    assert info.value.path == str(images)


def test_load_mnist_rejects_count_mismatch(mnist_dir, tmp_path):
    D.write_idx(mnist_dir / "t10k-labels-idx1-ubyte.gz", TEST_LABELS[:-1])
    with pytest.raises(FileFormatError, match="10 labels for 11 images"):
        D.load_mnist(mnist_dir, cache_dir=tmp_path / "cache")


# --------------------------------------------------------------------------------------------
# Reduction, class filter, labels
# --------------------------------------------------------------------------------------------


def keys_weights(n_in: int, n_out: int, a: float = -0.5) -> np.ndarray:
    """Reference: the antialiased Keys cubic resampling matrix (pixel centres aligned)."""
    scale = n_in / n_out
    support = 2.0 * max(scale, 1.0)
    weights = np.zeros((n_out, n_in))
    for o in range(n_out):
        centre = (o + 0.5) * scale
        j = np.arange(max(int(centre - support + 0.5), 0), min(int(centre + support + 0.5), n_in))
        t = np.abs((j + 0.5 - centre) / max(scale, 1.0))
        w = np.where(t < 1, (a + 2) * t**3 - (a + 3) * t**2 + 1,
                     np.where(t < 2, a * t**3 - 5 * a * t**2 + 8 * a * t - 4 * a, 0.0))
        weights[o, j] = w / w.sum()
    return weights


@pytest.mark.parametrize("size_in", [28, 8])
def test_reduce_images_is_antialiased_keys_bicubic(size_in):
    need_torch()
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, size=(5, size_in, size_in)).astype(np.uint8)
    got = D.reduce_images(images)
    assert got.shape == (5, 100) and got.dtype == np.float32
    w = keys_weights(size_in, 10)
    reference = np.clip(w @ (images / 255.0) @ w.T, 0.0, 1.0).reshape(5, 100)
    np.testing.assert_allclose(got, reference, atol=1e-6)


def test_reduce_images_range_and_overshoot_clipped():
    need_torch()
    step = np.where(np.arange(28) >= 13, 255, 0)[None, :].repeat(28, axis=0).astype(np.uint8)  # a sharp edge rings
    images = np.stack([step, step.T, np.zeros((28, 28), np.uint8), np.full((28, 28), 255, np.uint8)])
    w = keys_weights(28, 10)
    unclipped = w @ (images / 255.0) @ w.T
    assert unclipped.max() > 1.0 and unclipped.min() < 0.0  # the cubic kernel does overshoot here
    got = D.reduce_images(images)
    assert got.min() == 0.0 and got.max() == 1.0
    np.testing.assert_array_equal(got[2], 0.0)
    np.testing.assert_array_equal(got[3], 1.0)


def test_load_mnist_filters_and_remaps(mnist_dir, tmp_path):
    need_torch()
    data = D.load_mnist(mnist_dir, cache_dir=tmp_path / "cache")
    assert data.classes == (0, 1, 4, 6, 7) and data.name == "mnist"
    keep_train = np.isin(TRAIN_LABELS, data.classes)
    keep_test = np.isin(TEST_LABELS, data.classes)
    assert (data.n_train, data.n_test) == (keep_train.sum(), keep_test.sum()) == (11, 6)
    assert data.x_train.shape == (11, 100) and data.x_train.dtype == np.float32
    assert data.y_train.dtype == np.int64
    np.testing.assert_array_equal(data.digits("train"), TRAIN_LABELS[keep_train])
    np.testing.assert_array_equal(data.digits("test"), TEST_LABELS[keep_test])
    np.testing.assert_array_equal(data.y_train, [0, 1, 2, 3, 4, 4, 3, 2, 1, 0, 2])
    # constant images keep their grey value, in the original order
    grey_train = constant_images(len(TRAIN_LABELS), 3)[keep_train, 0, 0] / 255.0
    np.testing.assert_allclose(data.x_train, np.repeat(grey_train[:, None], 100, axis=1), atol=1e-6)
    grey_test = constant_images(len(TEST_LABELS), 100)[keep_test, 0, 0] / 255.0
    np.testing.assert_allclose(data.x_test[:, 17], grey_test, atol=1e-6)
    assert data.images("test").shape == (6, 10, 10)
    assert data.class_counts("train") == {0: 2, 1: 2, 4: 3, 6: 2, 7: 2}
    assert not data.x_train.flags.writeable


def test_load_mnist_plain_files_and_other_classes(tmp_path):
    need_torch()
    folder = write_fake_mnist(tmp_path / "plain", gz=False)
    data = D.load_mnist(folder, cache_dir=tmp_path / "cache", classes=(9, 2))
    assert data.classes == (9, 2)
    np.testing.assert_array_equal(data.y_train, [1, 0, 1, 0])  # digits 2, 9, 2, 9
    with pytest.raises(ConfigError, match="give distinct digits in 0..9"):
        D.load_mnist(folder, cache_dir=tmp_path / "cache", classes=(1, 1))


# --------------------------------------------------------------------------------------------
# Cache
# --------------------------------------------------------------------------------------------


def _forbid(*_args, **_kwargs):
    raise AssertionError("the cache should have been used")


def test_second_load_comes_from_cache(mnist_dir, tmp_path, monkeypatch):
    need_torch()
    cache = tmp_path / "cache"
    first = D.load_mnist(mnist_dir, cache_dir=cache)
    entries = list(cache.iterdir())
    assert len(entries) == 1 and entries[0].suffix == ".npz"
    monkeypatch.setattr(D, "read_idx", _forbid)
    monkeypatch.setattr(D, "reduce_images", _forbid)
    second = D.load_mnist(mnist_dir, cache_dir=cache)
    for name in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(second, name), getattr(first, name))
    assert second.classes == first.classes


def test_cache_is_keyed_by_content_and_classes(mnist_dir, tmp_path, monkeypatch):
    need_torch()
    cache = tmp_path / "cache"
    D.load_mnist(mnist_dir, cache_dir=cache)
    calls = []
    real = D.read_idx
    monkeypatch.setattr(D, "read_idx", lambda path: calls.append(Path(path).name) or real(path))
    D.load_mnist(mnist_dir, cache_dir=cache, classes=(0, 1))
    assert len(calls) == 4
    labels = TRAIN_LABELS.copy()
    labels[0] = 1
    D.write_idx(mnist_dir / "train-labels-idx1-ubyte.gz", labels)
    data = D.load_mnist(mnist_dir, cache_dir=cache)
    assert len(calls) == 8 and data.digits("train")[0] == 1
    assert len(list(cache.glob("*.npz"))) == 3
    assert not list(cache.glob("*.part"))


def test_corrupt_cache_is_rebuilt(mnist_dir, tmp_path):
    need_torch()
    cache = tmp_path / "cache"
    first = D.load_mnist(mnist_dir, cache_dir=cache)
    (entry,) = cache.iterdir()
    entry.write_bytes(b"garbage")
    again = D.load_mnist(mnist_dir, cache_dir=cache)
    np.testing.assert_array_equal(again.x_train, first.x_train)
    assert entry.stat().st_size > 100  # rewritten


def test_unwritable_cache_does_not_stop_loading(mnist_dir, tmp_path):
    need_torch()
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    data = D.load_mnist(mnist_dir, cache_dir=blocker / "cache")
    assert data.n_train == 11


def test_use_cache_false_writes_nothing(mnist_dir, tmp_path):
    need_torch()
    D.load_mnist(mnist_dir, cache_dir=tmp_path / "cache", use_cache=False)
    assert not (tmp_path / "cache").exists()


def test_default_cache_dir_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("WAFER_HAL_CACHE_DIR", str(tmp_path / "c"))
    assert D.default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("WAFER_HAL_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert D.default_cache_dir() == tmp_path / "xdg" / "wafer-hal" / "datasets"


# --------------------------------------------------------------------------------------------
# Download
# --------------------------------------------------------------------------------------------


def test_official_checksums_are_well_formed():
    assert set(D.MNIST_FILES) == {f"{stem}.gz" for stem in D._MNIST_STEMS.values()}
    for digest in D.MNIST_FILES.values():
        assert len(digest.sha256) == 64 and int(digest.sha256, 16) >= 0
        assert len(digest.md5) == 32 and int(digest.md5, 16) >= 0
        assert digest.size_bytes > 0


@pytest.fixture
def served(tmp_path):
    """A folder of small fake MNIST files and their digests, as a file:// base URL."""
    folder = write_fake_mnist(tmp_path / "server")
    digests = {}
    for path in sorted(folder.iterdir()):
        content = path.read_bytes()
        digests[path.name] = D.FileDigest(len(content), hashlib.sha256(content).hexdigest(), hashlib.md5(content).hexdigest())
    return folder, folder.as_uri() + "/", digests


def test_download_from_file_url(served, tmp_path, monkeypatch):
    folder, url, digests = served
    dest = tmp_path / "dest"
    paths = D.download_mnist(dest, base_url=url, files=digests)
    assert sorted(p.name for p in paths) == sorted(digests)
    for path in paths:
        assert path.read_bytes() == (folder / path.name).read_bytes()
    assert sorted(p.name for p in dest.iterdir()) == sorted(digests)  # no temporary files
    # already present and verified: nothing is fetched again
    monkeypatch.setattr(D, "_urlopen", _forbid)
    assert len(D.download_mnist(dest, base_url=url, files=digests)) == 4


def test_download_falls_back_to_next_mirror(served, tmp_path):
    _, url, digests = served
    empty = tmp_path / "empty-mirror"
    empty.mkdir()
    paths = D.download_mnist(tmp_path / "dest", base_url=[empty.as_uri(), url], files=digests)
    assert len(paths) == 4


def test_download_checksum_mismatch_saves_nothing(served, tmp_path):
    _, url, digests = served
    name = "train-labels-idx1-ubyte.gz"
    wrong = dict(digests)
    wrong[name] = D.FileDigest(digests[name].size_bytes, "0" * 64)
    dest = tmp_path / "dest"
    with pytest.raises(D.ChecksumMismatchError) as info:
        D.download_mnist(dest, base_url=url, files=wrong)
    message = str(info.value)
    assert f"could not download {name}" in message and "checksum mismatch: SHA-256" in message
    assert info.value.expected == "0" * 64 and info.value.actual == digests[name].sha256
    assert isinstance(info.value, D.DownloadError) and isinstance(info.value, HalError)
    assert not (dest / name).exists()
    assert not list(dest.glob("*.part")) and not list(dest.glob(".*"))


def test_download_size_mismatch_and_replaces_a_bad_local_copy(served, tmp_path):
    _, url, digests = served
    name = "t10k-labels-idx1-ubyte.gz"
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / name).write_bytes(b"half a file")
    one = {name: digests[name]}
    assert D.download_mnist(dest, base_url=url, files=one) == [dest / name]
    assert hashlib.sha256((dest / name).read_bytes()).hexdigest() == digests[name].sha256
    short = {name: D.FileDigest(digests[name].size_bytes - 1, digests[name].sha256)}
    with pytest.raises(D.ChecksumMismatchError, match="checksum mismatch: size"):
        D.download_mnist(tmp_path / "other", base_url=url, files=short)


def test_download_offline_is_a_clear_error(tmp_path, monkeypatch):
    def offline(url, timeout):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(D, "_urlopen", offline)
    with pytest.raises(D.DownloadError) as info:
        D.download_mnist(tmp_path / "dest")
    message = str(info.value)
    assert "could not download train-images-idx3-ubyte.gz" in message
    for mirror in D.MNIST_MIRRORS:
        assert f"{mirror}train-images-idx3-ubyte.gz: unreachable (" in message
    assert "download the files on an online machine" in message
    assert isinstance(info.value, OSError)
    assert not list((tmp_path / "dest").iterdir())


def test_download_over_local_http(served, tmp_path):
    folder, _, digests = served
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        paths = D.download_mnist(tmp_path / "dest", base_url=[f"{base}/missing/", base], files=digests, timeout_s=5)
        assert len(paths) == 4
        with pytest.raises(D.DownloadError, match=r"/missing/\S+-ubyte.gz: HTTP 404"):
            D.download_mnist(tmp_path / "dest2", base_url=f"{base}/missing/", files=digests, timeout_s=5)
    finally:
        server.shutdown()
        server.server_close()


def test_downloaded_files_load(served, tmp_path):
    need_torch()
    _, url, digests = served
    dest = tmp_path / "dest"
    D.download_mnist(dest, base_url=url, files=digests)
    assert D.load_mnist(dest, cache_dir=tmp_path / "cache").n_test == 6


# --------------------------------------------------------------------------------------------
# Digits stand-in
# --------------------------------------------------------------------------------------------


def test_digits_dataset():
    need_sklearn()
    need_torch()
    data = D.load_digits()
    assert data.name == "digits" and data.classes == D.PAPER_CLASSES
    assert data.x_train.shape == (data.n_train, 100) and data.x_test.shape == (data.n_test, 100)
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int64
    assert set(np.unique(data.y_train)) == set(range(5)) == set(np.unique(data.y_test))
    assert 0.0 == data.x_train.min() and data.x_train.max() == 1.0
    assert 0.0 <= data.x_test.min() and data.x_test.max() <= 1.0
    train, test = data.class_counts("train"), data.class_counts("test")
    for digit in data.classes:  # stratified 80/20
        assert abs(train[digit] - 0.8 * (train[digit] + test[digit])) <= 0.5
    assert (data.n_train, data.n_test) == (721, 180)


def test_digits_split_is_deterministic():
    need_sklearn()
    need_torch()
    a, b = D.load_digits(), D.load_digits()
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    c = D.load_digits(seed=1)
    assert not np.array_equal(a.y_train, c.y_train) or not np.array_equal(a.x_train, c.x_train)


# --------------------------------------------------------------------------------------------
# Dataset
# --------------------------------------------------------------------------------------------


def small_dataset(n_train: int = 7, n_test: int = 3) -> D.Dataset:
    rng = np.random.default_rng(0)
    return D.Dataset.from_arrays(rng.random((n_train, 10, 10)), np.arange(n_train) % 5,
                                 rng.random((n_test, 100)), np.arange(n_test) % 5, classes=(0, 1, 4, 6, 7), name="t")


def test_dataset_validates_image_shape():
    good = small_dataset()
    with pytest.raises(ConfigError, match=r"Dataset.x_train: shape \(7, 10, 10\) .*expected \(n, 100\)"):
        D.Dataset(good.x_train.reshape(7, 10, 10), good.y_train, good.x_test, good.y_test, classes=good.classes)
    with pytest.raises(ConfigError, match=r"Dataset.x_test: shape \(3, 784\) .*expected \(n, 100\)"):
        D.Dataset.from_arrays(good.x_train, good.y_train, np.zeros((3, 784)), good.y_test, classes=good.classes)
    with pytest.raises(ConfigError, match="dtype float64; expected float32"):
        D.Dataset(good.x_train.astype(np.float64), good.y_train, good.x_test, good.y_test, classes=good.classes)
    with pytest.raises(ConfigError, match=r"valid grey values lie in \[0, 1\]"):
        D.Dataset.from_arrays(good.x_train * 2 + 0.5, good.y_train, good.x_test, good.y_test, classes=good.classes)


def test_dataset_validates_labels():
    good = small_dataset()
    with pytest.raises(ConfigError, match="x_train has 7 images but y_train has 6 labels"):
        D.Dataset.from_arrays(good.x_train, good.y_train[:6], good.x_test, good.y_test, classes=good.classes)
    with pytest.raises(ConfigError, match=r"labels in 0..5; valid 0..4"):
        D.Dataset.from_arrays(good.x_train, np.arange(7) % 6, good.x_test, good.y_test, classes=good.classes)
    with pytest.raises(ConfigError, match="are not integers"):
        D.Dataset.from_arrays(good.x_train, good.y_train + 0.5, good.x_test, good.y_test, classes=good.classes)
    with pytest.raises(ConfigError, match="duplicates"):
        D.Dataset.from_arrays(good.x_train, good.y_train, good.x_test, good.y_test, classes=(0, 1, 1, 6, 7))
    assert repr(good) == "Dataset(name='t', classes=(0, 1, 4, 6, 7), n_train=7, n_test=3, image_shape=(10, 10))"


def test_batches_cover_the_split():
    data = small_dataset()
    sizes = [len(y) for _, y in data.batches(3)]
    assert sizes == [3, 3, 1]
    assert [len(y) for _, y in data.batches(3, drop_last=True)] == [3, 3]
    x, y = next(data.batches(10, split="test"))
    np.testing.assert_array_equal(x, data.x_test)
    shuffled = np.concatenate([y for _, y in data.batches(2, np.random.default_rng(5))])
    again = np.concatenate([y for _, y in data.batches(2, np.random.default_rng(5))])
    np.testing.assert_array_equal(shuffled, again)
    np.testing.assert_array_equal(np.sort(shuffled), np.sort(data.y_train))
    with pytest.raises(UnknownNameError, match="known: test, train"):
        data.batches(2, split="validation")


@pytest.mark.parametrize("bad", [0, -1, None, "", 2.5, True])
def test_bad_batch_sizes(bad):
    with pytest.raises(ConfigError, match="Dataset.batches.batch_size") as info:
        small_dataset().batches(bad)
    assert "valid >= 1" in str(info.value)


def test_batches_reject_a_seed_instead_of_a_generator():
    with pytest.raises(ConfigError, match="not a numpy.random.Generator"):
        small_dataset().batches(2, 42)


# --------------------------------------------------------------------------------------------
# By name, and imports
# --------------------------------------------------------------------------------------------


def test_unknown_dataset_name():
    with pytest.raises(UnknownNameError) as info:
        D.load_dataset("mnsit")
    assert str(info.value) == "unknown dataset 'mnsit'; did you mean 'mnist'? known: digits, mnist"


def test_load_dataset_arguments(tmp_path):
    with pytest.raises(ConfigError, match="dataset 'mnist' needs data_dir"):
        D.load_dataset("mnist")
    with pytest.raises(ConfigError, match="dataset 'digits' is embedded"):
        D.load_dataset("digits", tmp_path)
    with pytest.raises(D.DatasetNotFoundError, match="does not exist"):
        D.load_dataset("mnist", tmp_path / "nowhere", cache_dir=tmp_path / "cache")


def test_load_dataset_by_name(mnist_dir, tmp_path):
    need_torch()
    assert D.load_dataset("mnist", mnist_dir, cache_dir=tmp_path / "cache").n_train == 11
    need_sklearn()
    assert D.load_dataset("digits").name == "digits"


def test_import_needs_neither_torch_nor_sklearn():
    code = "import sys, hal_trainers.datasets; print('torch' in sys.modules, 'sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.split() == ["False", "False"]
