"""hal_trainers.datasets.digits: the offline stand-in from scikit-learn's digits."""

from __future__ import annotations

import numpy as np
import pytest

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
