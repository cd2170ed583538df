"""The original data sets ("mnist", "digits") stay bit-identical while the loaders are generalised.

The SHA-256 digests below were recorded from the implementation *before* ``side=`` and
``image_shape`` were added (commit 739ff21; torch 2.13.0+cpu, numpy 2.4.6, scikit-learn
1.9.1). A failure here means the arrays changed. If that happened after upgrading torch (its
rounding in ``interpolate``), check test_preprocessing's comparison with the plain-numpy
Keys kernel first; only re-record if the change is understood.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from hal_trainers import datasets as D

pytestmark = pytest.mark.usefixtures("needs_torch")

PATTERN_MNIST_SHA256 = "73f297d688046638cc01e3c6855fc82ba285c35d0837fba62a54beb47d120a03"
DIGITS_SHA256 = "f860a604e87e9dbc8edad1143926e80b93acd98330799a70db8805c0a4f207e0"


def digest(data: D.Dataset) -> str:
    """SHA-256 over the four arrays: their names, dtypes, shapes and bytes."""
    h = hashlib.sha256()
    for name in ("x_train", "y_train", "x_test", "y_test"):
        a = np.ascontiguousarray(getattr(data, name))
        h.update(f"{name}{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def pattern_images(n: int, offset: int) -> np.ndarray:
    """``n`` 28x28 uint8 images of wrapping stripes (sharp edges, so the clipping is exercised too); no RNG."""
    i = np.arange(n)[:, None, None]
    r = np.arange(28)[None, :, None]
    c = np.arange(28)[None, None, :]
    return ((offset + 37 * i + 3 * r * r + 11 * c + 19 * ((r * c) % 7)) % 256).astype(np.uint8)


@pytest.fixture
def pattern_mnist_dir(tmp_path):
    folder = tmp_path / "pattern"
    folder.mkdir()
    D.write_idx(folder / "train-images-idx3-ubyte.gz", pattern_images(40, 5))
    D.write_idx(folder / "train-labels-idx1-ubyte.gz", (np.arange(40) * 3 % 10).astype(np.uint8))
    D.write_idx(folder / "t10k-images-idx3-ubyte.gz", pattern_images(23, 200))
    D.write_idx(folder / "t10k-labels-idx1-ubyte.gz", (np.arange(23) * 7 % 10).astype(np.uint8))
    return folder


def test_mnist_is_bit_identical_to_the_original(pattern_mnist_dir, tmp_path):
    built = D.load_dataset("mnist", pattern_mnist_dir, cache_dir=tmp_path / "cache")
    assert built.image_shape == (10, 10) and built.x_train.shape == (40 * 5 // 10, 100)
    assert digest(built) == PATTERN_MNIST_SHA256
    cached = D.load_dataset("mnist", pattern_mnist_dir, cache_dir=tmp_path / "cache")
    assert digest(cached) == PATTERN_MNIST_SHA256
    assert digest(D.load_mnist(pattern_mnist_dir, use_cache=False)) == PATTERN_MNIST_SHA256


@pytest.mark.usefixtures("needs_sklearn")
def test_digits_is_bit_identical_to_the_original():
    assert digest(D.load_dataset("digits")) == DIGITS_SHA256
    assert digest(D.load_digits()) == DIGITS_SHA256
