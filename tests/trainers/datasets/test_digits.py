"""hal_trainers.datasets.digits: the offline stand-in from scikit-learn's digits."""

from __future__ import annotations

import numpy as np
import pytest

from hal.errors import ConfigError
from hal_trainers import datasets as D

pytestmark = pytest.mark.usefixtures("needs_sklearn", "needs_torch")


def test_digits_dataset():
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
    a, b = D.load_digits(), D.load_digits()
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    c = D.load_digits(seed=1)
    assert not np.array_equal(a.y_train, c.y_train) or not np.array_equal(a.x_train, c.x_train)


def test_digits10_is_all_ten_classes_at_8x8():
    from sklearn.datasets import load_digits as sk_load_digits

    data = D.load_dataset("digits10")
    assert data.name == "digits10" and data.classes == tuple(range(10))
    assert data.image_shape == (8, 8) and data.n_pixels == 64
    assert data.x_train.shape == (1438, 64) and data.x_test.shape == (359, 64)
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int64
    assert data.images("test").shape == (359, 8, 8)
    assert data.x_train.min() == 0.0 and data.x_train.max() == 1.0
    assert 0.0 <= data.x_test.min() and data.x_test.max() <= 1.0
    # not resampled: exactly scikit-learn's grey values / 16, every image once
    assert np.array_equal(data.x_train * 16, np.round(data.x_train * 16))
    sk = sk_load_digits()
    both = np.concatenate([data.x_train, data.x_test]) * 16
    order = np.lexsort(both.T)
    sk_order = np.lexsort(sk.data.T)
    np.testing.assert_array_equal(both[order], sk.data[sk_order])
    np.testing.assert_array_equal(np.concatenate([data.y_train, data.y_test])[order], sk.target[sk_order])
    train, test = data.class_counts("train"), data.class_counts("test")
    assert sorted(train) == list(range(10))
    for digit in data.classes:  # stratified 80/20: balanced as the source (174..183 per class)
        assert abs(train[digit] - 0.8 * (train[digit] + test[digit])) <= 0.5
        assert 170 <= train[digit] + test[digit] <= 185


def test_digits10_split_is_fixed_and_seeded():
    a, b = D.load_dataset("digits10"), D.load_digits(side=8, classes=D.ALL_CLASSES, name="digits10")
    for name in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    c = D.load_digits(side=8, classes=D.ALL_CLASSES, seed=1)
    assert not np.array_equal(a.y_train, c.y_train) or not np.array_equal(a.x_train, c.x_train)


def test_digits_at_other_sides_and_bad_sides():
    data = D.load_digits(side=16)
    assert data.image_shape == (16, 16) and data.x_train.shape == (721, 256) and data.name == "digits"
    with pytest.raises(ConfigError, match=r"load_digits.side: 0 invalid; valid an int >= 1"):
        D.load_digits(side=0)
    with pytest.raises(ConfigError, match="load_digits.name"):
        D.load_digits(name=None)
