"""hal_trainers.datasets.mnist: finding the MNIST files, the reduction to the paper's classes, the cache.

Everything here builds small synthetic files in ``tmp_path``: no network, no real MNIST.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hal.errors import ConfigError, ConfigValueError, FileFormatError
from hal_trainers import datasets as D
from hal_trainers.datasets import mnist


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


@pytest.mark.needs_torch
def test_load_mnist_rejects_count_mismatch(mnist_dir, fake_mnist, tmp_path):
    D.write_idx(mnist_dir / "t10k-labels-idx1-ubyte.gz", fake_mnist.test_labels[:-1])
    with pytest.raises(FileFormatError, match="10 labels for 11 images"):
        D.load_mnist(mnist_dir, cache_dir=tmp_path / "cache")



@pytest.mark.usefixtures("needs_torch")
def test_load_mnist_filters_and_remaps(mnist_dir, fake_mnist, tmp_path):
    data = D.load_mnist(mnist_dir, cache_dir=tmp_path / "cache")
    assert data.classes == (0, 1, 4, 6, 7) and data.name == "mnist"
    keep_train = np.isin(fake_mnist.train_labels, data.classes)
    keep_test = np.isin(fake_mnist.test_labels, data.classes)
    assert (data.n_train, data.n_test) == (keep_train.sum(), keep_test.sum()) == (11, 6)
    assert data.x_train.shape == (11, 100) and data.x_train.dtype == np.float32
    assert data.y_train.dtype == np.int64
    np.testing.assert_array_equal(data.digits("train"), fake_mnist.train_labels[keep_train])
    np.testing.assert_array_equal(data.digits("test"), fake_mnist.test_labels[keep_test])
    np.testing.assert_array_equal(data.y_train, [0, 1, 2, 3, 4, 4, 3, 2, 1, 0, 2])
    # constant images keep their grey value, in the original order
    grey_train = fake_mnist.train_images()[keep_train, 0, 0] / 255.0
    np.testing.assert_allclose(data.x_train, np.repeat(grey_train[:, None], 100, axis=1), atol=1e-6)
    grey_test = fake_mnist.test_images()[keep_test, 0, 0] / 255.0
    np.testing.assert_allclose(data.x_test[:, 17], grey_test, atol=1e-6)
    assert data.images("test").shape == (6, 10, 10)
    assert data.class_counts("train") == {0: 2, 1: 2, 4: 3, 6: 2, 7: 2}
    assert not data.x_train.flags.writeable


@pytest.mark.usefixtures("needs_torch")
def test_load_mnist_plain_files_and_other_classes(fake_mnist, tmp_path):
    folder = fake_mnist.write(tmp_path / "plain", gz=False)
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


@pytest.mark.usefixtures("needs_torch")
def test_second_load_comes_from_cache(mnist_dir, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    first = D.load_mnist(mnist_dir, cache_dir=cache)
    entries = list(cache.iterdir())
    assert len(entries) == 1 and entries[0].suffix == ".npz"
    monkeypatch.setattr(mnist, "read_idx", _forbid)
    monkeypatch.setattr(mnist, "reduce_images", _forbid)
    second = D.load_mnist(mnist_dir, cache_dir=cache)
    for name in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(second, name), getattr(first, name))
    assert second.classes == first.classes


@pytest.mark.usefixtures("needs_torch")
def test_cache_is_keyed_by_content_and_classes(mnist_dir, fake_mnist, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    D.load_mnist(mnist_dir, cache_dir=cache)
    calls = []
    real = mnist.read_idx
    monkeypatch.setattr(mnist, "read_idx", lambda path: calls.append(Path(path).name) or real(path))
    D.load_mnist(mnist_dir, cache_dir=cache, classes=(0, 1))
    assert len(calls) == 4
    labels = fake_mnist.train_labels.copy()
    labels[0] = 1
    D.write_idx(mnist_dir / "train-labels-idx1-ubyte.gz", labels)
    data = D.load_mnist(mnist_dir, cache_dir=cache)
    assert len(calls) == 8 and data.digits("train")[0] == 1
    assert len(list(cache.glob("*.npz"))) == 3
    assert not list(cache.glob("*.part"))


@pytest.mark.usefixtures("needs_torch")
def test_corrupt_cache_is_rebuilt(mnist_dir, tmp_path):
    cache = tmp_path / "cache"
    first = D.load_mnist(mnist_dir, cache_dir=cache)
    (entry,) = cache.iterdir()
    entry.write_bytes(b"garbage")
    again = D.load_mnist(mnist_dir, cache_dir=cache)
    np.testing.assert_array_equal(again.x_train, first.x_train)
    assert entry.stat().st_size > 100  # rewritten


@pytest.mark.usefixtures("needs_torch")
def test_unwritable_cache_does_not_stop_loading(mnist_dir, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    data = D.load_mnist(mnist_dir, cache_dir=blocker / "cache")
    assert data.n_train == 11


@pytest.mark.usefixtures("needs_torch")
def test_use_cache_false_writes_nothing(mnist_dir, tmp_path):
    D.load_mnist(mnist_dir, cache_dir=tmp_path / "cache", use_cache=False)
    assert not (tmp_path / "cache").exists()


def test_default_cache_dir_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("WAFER_HAL_CACHE_DIR", str(tmp_path / "c"))
    assert D.default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("WAFER_HAL_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert D.default_cache_dir() == tmp_path / "xdg" / "wafer-hal" / "datasets"


# --------------------------------------------------------------------------------------------
# Other sides and classes: "mnist16" (Cramer et al.), and the cache keeping them apart
# --------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("needs_torch")
def test_mnist16_keeps_every_image_at_16x16(mnist_dir, fake_mnist, tmp_path):
    data = D.load_dataset("mnist16", mnist_dir, cache_dir=tmp_path / "cache")
    assert data.name == "mnist16" and data.classes == tuple(range(10)) == D.ALL_CLASSES
    assert data.image_shape == (16, 16) and data.n_pixels == 256
    assert data.x_train.shape == (20, 256) and data.x_test.shape == (11, 256)
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int64
    assert data.images("train").shape == (20, 16, 16)
    # labels are the digits themselves, in the files' order; every class present in both splits
    np.testing.assert_array_equal(data.y_train, fake_mnist.train_labels)
    np.testing.assert_array_equal(data.y_test, fake_mnist.test_labels)
    np.testing.assert_array_equal(data.digits("test"), fake_mnist.test_labels)
    assert data.class_counts("train") == {d: int(n) for d, n in enumerate(np.bincount(fake_mnist.train_labels))}
    assert set(data.class_counts("test").values()) == {1, 2}
    # constant images keep their grey value (the kernel's weights sum to one), in [0, 1]
    grey = fake_mnist.train_images()[:, 0, 0] / 255.0
    np.testing.assert_allclose(data.x_train, np.repeat(grey[:, None], 256, axis=1), atol=1e-6)
    assert 0.0 <= data.x_test.min() and data.x_test.max() <= 1.0
    assert not data.x_train.flags.writeable


@pytest.mark.usefixtures("needs_torch")
def test_mnist16_reduces_like_reduce_images(tmp_path):
    rng = np.random.default_rng(16)
    images = rng.integers(0, 256, size=(7, 28, 28)).astype(np.uint8)
    labels = np.arange(7, dtype=np.uint8)
    folder = tmp_path / "random"
    folder.mkdir()
    for prefix in ("train", "t10k"):
        D.write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images)
        D.write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", labels)
    data = D.load_mnist(folder, side=16, classes=D.ALL_CLASSES, use_cache=False)
    np.testing.assert_array_equal(data.x_train, D.reduce_images(images, side=16))
    assert data.name == "mnist"  # load_mnist names it "mnist" unless told; load_dataset passes the set's name


@pytest.mark.parametrize("side", [0, -3, 2.5, "16", True, None])
def test_load_mnist_rejects_bad_sides(mnist_dir, tmp_path, side):
    with pytest.raises(ConfigError, match=r"load_mnist.side: .* invalid; valid an int >= 1"):
        D.load_mnist(mnist_dir, cache_dir=tmp_path / "cache", side=side)
    assert not (tmp_path / "cache").exists()


@pytest.mark.usefixtures("needs_torch")
def test_cache_keys_separate_sides_and_classes(mnist_dir, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    ten = D.load_dataset("mnist", mnist_dir, cache_dir=cache)
    sixteen = D.load_dataset("mnist16", mnist_dir, cache_dir=cache)
    five_at_16 = D.load_mnist(mnist_dir, cache_dir=cache, side=16)  # the paper's classes at 16x16: a third entry
    names = sorted(p.name for p in cache.glob("*.npz"))
    assert len(names) == 3
    assert [n[:12] for n in names] == ["mnist-10x10-", "mnist-16x16-", "mnist-16x16-"]
    assert (ten.n_train, sixteen.n_train, five_at_16.n_train) == (11, 20, 11)
    assert five_at_16.image_shape == (16, 16) and five_at_16.classes == D.PAPER_CLASSES
    # every one is now a hit, and each hit returns its own arrays
    monkeypatch.setattr(mnist, "read_idx", _forbid)
    monkeypatch.setattr(mnist, "reduce_images", _forbid)
    for again, first in ((D.load_dataset("mnist", mnist_dir, cache_dir=cache), ten),
                         (D.load_dataset("mnist16", mnist_dir, cache_dir=cache), sixteen),
                         (D.load_mnist(mnist_dir, cache_dir=cache, side=16), five_at_16)):
        assert again.image_shape == first.image_shape and again.classes == first.classes
        for name in ("x_train", "y_train", "x_test", "y_test"):
            np.testing.assert_array_equal(getattr(again, name), getattr(first, name))
    assert D.load_dataset("mnist16", mnist_dir, cache_dir=cache).name == "mnist16"


def _rewrite_cache(entry: Path, **changes) -> None:
    with np.load(entry) as npz:
        arrays = {name: npz[name] for name in npz.files}
    arrays.update(changes)
    with entry.open("wb") as f:
        np.savez(f, **arrays)


@pytest.mark.usefixtures("needs_torch")
@pytest.mark.parametrize("damage", ["garbage", "truncated", "wrong-shape", "wrong-dtype", "out-of-range", "bad-labels"])
def test_damaged_mnist16_cache_is_rebuilt(mnist_dir, tmp_path, monkeypatch, damage):
    cache = tmp_path / "cache"
    first = D.load_dataset("mnist16", mnist_dir, cache_dir=cache)
    (entry,) = cache.iterdir()
    good = entry.read_bytes()
    if damage == "garbage":
        entry.write_bytes(b"garbage")
    elif damage == "truncated":
        entry.write_bytes(good[: len(good) // 2])
    elif damage == "wrong-shape":  # the right key, but 10x10 arrays: never handed out as 16x16
        _rewrite_cache(entry, x_train=np.zeros((20, 100), np.float32))
    elif damage == "wrong-dtype":
        _rewrite_cache(entry, x_train=first.x_train.astype(np.float64))
    elif damage == "out-of-range":
        _rewrite_cache(entry, x_test=np.full((11, 256), 2.0, np.float32))
    else:
        _rewrite_cache(entry, y_train=np.full(20, 10, np.int64))
    calls = []
    real = mnist.reduce_images
    monkeypatch.setattr(mnist, "reduce_images", lambda *a, **k: calls.append(1) or real(*a, **k))
    again = D.load_dataset("mnist16", mnist_dir, cache_dir=cache)
    assert len(calls) == 2  # rebuilt: train and test reduced again
    for name in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(again, name), getattr(first, name))
    assert entry.read_bytes() == good  # and the cache file rewritten


@pytest.mark.usefixtures("needs_torch")
def test_mnist16_crops_and_has_its_own_cache_key(mnist_dir, tmp_path):
    cache = tmp_path / "cache"
    cropped = D.load_dataset("mnist16", mnist_dir, cache_dir=cache)
    whole = D.load_mnist(mnist_dir, cache_dir=cache, side=16, classes=D.ALL_CLASSES)
    names = [p.name for p in cache.glob("*.npz")]
    assert len(names) == 2 and sum(n.startswith("mnist-16x16-crop2-") for n in names) == 1
    images = D.read_idx(mnist_dir / "train-images-idx3-ubyte.gz")
    np.testing.assert_array_equal(cropped.x_train, D.reduce_images(images, side=16, crop=2))
    np.testing.assert_array_equal(whole.x_train, D.reduce_images(images, side=16))
    # the key of an uncropped set is the one of the versions before the crop, so their cache files stay valid
    files = mnist._find_mnist_files(mnist_dir)
    assert mnist._cache_key(files, D.ALL_CLASSES, 16, 0) == mnist._cache_key(files, D.ALL_CLASSES, 16)
    assert mnist._cache_key(files, D.ALL_CLASSES, 16, 2) != mnist._cache_key(files, D.ALL_CLASSES, 16)


@pytest.mark.parametrize("crop", [-2, 2.0, "2", False])
def test_load_mnist_rejects_bad_crops(mnist_dir, tmp_path, crop):
    with pytest.raises(ConfigValueError) as info:
        D.load_mnist(mnist_dir, cache_dir=tmp_path / "cache", side=16, crop=crop)
    assert str(info.value) == f"load_mnist.crop: {crop!r} out of range; valid an int >= 0 (pixels cut off each border)"
    assert not (tmp_path / "cache").exists()
