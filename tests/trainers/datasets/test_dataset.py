"""hal_trainers.datasets.dataset: the Dataset container's checks, splits and batches."""

from __future__ import annotations

import numpy as np
import pytest

from hal.errors import ConfigError, UnknownNameError
from hal_trainers import datasets as D


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


def test_image_shape_defaults_to_10x10_and_follows_the_data():
    data = small_dataset()
    assert data.image_shape == (10, 10) and data.n_pixels == 100
    rng = np.random.default_rng(1)
    big = D.Dataset.from_arrays(rng.random((4, 16, 16)), [0, 1, 2, 9], rng.random((2, 256)), [3, 4],
                                classes=range(10), name="b", image_shape=(16, 16))
    assert big.image_shape == (16, 16) and big.x_train.shape == (4, 256) and big.n_pixels == 256
    np.testing.assert_array_equal(big.images("test").reshape(2, 256), big.x_test)
    assert repr(big) == "Dataset(name='b', classes=(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), n_train=4, n_test=2, image_shape=(16, 16))"
    wide = D.Dataset.from_arrays(np.zeros((1, 3, 5)), [0], np.zeros((1, 15)), [0], classes=(7,), image_shape=(3, 5))
    assert wide.images().shape == (1, 3, 5)


def test_images_must_match_image_shape():
    with pytest.raises(ConfigError, match=r"Dataset.x_train: shape \(2, 100\) .*expected \(n, 256\) "
                                          r"\(one flattened 16x16 image per row\)"):
        D.Dataset.from_arrays(np.zeros((2, 100)), [0, 1], np.zeros((1, 256)), [0], classes=(0, 1), image_shape=(16, 16))
    with pytest.raises(ConfigError, match=r"Dataset.x_test: shape \(1, 16, 16\) .*expected \(n, 64\)"):
        D.Dataset.from_arrays(np.zeros((2, 8, 8)), [0, 1], np.zeros((1, 16, 16)), [0], classes=(0, 1), image_shape=(8, 8))
    good = small_dataset()
    with pytest.raises(ConfigError, match=r"expected \(n, 64\)"):
        D.Dataset(good.x_train, good.y_train, good.x_test, good.y_test, classes=good.classes, image_shape=(8, 8))


@pytest.mark.parametrize("bad", [(0, 10), (10,), (10, 10, 1), "10x10", 10, (10.0, 10), (True, 10), None])
def test_bad_image_shapes(bad):
    good = small_dataset()
    with pytest.raises(ConfigError, match=r"Dataset.image_shape: .* invalid; valid \(height, width\), two ints >= 1"):
        D.Dataset(good.x_train, good.y_train, good.x_test, good.y_test, classes=good.classes, image_shape=bad)
    with pytest.raises(ConfigError, match=r"Dataset.image_shape: .* invalid"):
        D.Dataset.from_arrays(good.x_train, good.y_train, good.x_test, good.y_test, classes=good.classes, image_shape=bad)
