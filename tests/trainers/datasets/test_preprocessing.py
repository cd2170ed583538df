"""hal_trainers.datasets.preprocessing: the antialiased bicubic reduction, against a plain-numpy Keys kernel."""

from __future__ import annotations

import numpy as np
import pytest

from hal_trainers import datasets as D

pytestmark = pytest.mark.usefixtures("needs_torch")


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


@pytest.mark.parametrize(("size_in", "side"), [(28, 10), (8, 10), (28, 16), (8, 16)])
def test_reduce_images_is_antialiased_keys_bicubic(size_in, side):
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, size=(5, size_in, size_in)).astype(np.uint8)
    got = D.reduce_images(images) if side == 10 else D.reduce_images(images, side=side)
    assert got.shape == (5, side * side) and got.dtype == np.float32
    w = keys_weights(size_in, side)
    reference = np.clip(w @ (images / 255.0) @ w.T, 0.0, 1.0).reshape(5, side * side)
    np.testing.assert_allclose(got, reference, atol=1e-6)


def test_reduce_images_range_and_overshoot_clipped():
    step = np.where(np.arange(28) >= 13, 255, 0)[None, :].repeat(28, axis=0).astype(np.uint8)  # a sharp edge rings
    images = np.stack([step, step.T, np.zeros((28, 28), np.uint8), np.full((28, 28), 255, np.uint8)])
    w = keys_weights(28, 10)
    unclipped = w @ (images / 255.0) @ w.T
    assert unclipped.max() > 1.0 and unclipped.min() < 0.0  # the cubic kernel does overshoot here
    got = D.reduce_images(images)
    assert got.min() == 0.0 and got.max() == 1.0
    np.testing.assert_array_equal(got[2], 0.0)
    np.testing.assert_array_equal(got[3], 1.0)
