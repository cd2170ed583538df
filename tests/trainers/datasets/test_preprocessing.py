"""hal_trainers.datasets.preprocessing: the antialiased bicubic reduction, against a plain-numpy Keys kernel."""

from __future__ import annotations

import numpy as np
import pytest

from hal.errors import ConfigValueError
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


def test_crop_reduces_the_central_part():
    rng = np.random.default_rng(5)
    images = rng.integers(0, 256, size=(4, 28, 28)).astype(np.uint8)
    got = D.reduce_images(images, side=16, crop=2)
    assert got.shape == (4, 256) and got.dtype == np.float32
    # the same as reducing the central 24x24 (the kernel for 24 -> 16, not 28 -> 16)
    w = keys_weights(24, 16)
    reference = np.clip(w @ (images[:, 2:26, 2:26] / 255.0) @ w.T, 0.0, 1.0).reshape(4, 256)
    np.testing.assert_allclose(got, reference, atol=1e-6)
    np.testing.assert_array_equal(D.reduce_images(images, side=16, crop=0), D.reduce_images(images, side=16))


def test_crop_removes_the_border():
    frame = np.zeros((28, 28), np.uint8)
    frame[:2, :] = frame[-2:, :] = frame[:, :2] = frame[:, -2:] = 255  # ink only in the 2-pixel border
    assert D.reduce_images(frame[None], side=16).max() > 0.5
    np.testing.assert_array_equal(D.reduce_images(frame[None], side=16, crop=2), 0.0)


@pytest.mark.parametrize("crop", [-1, 14, 1.5, "2", True, None])
def test_bad_crop_is_refused_naming_value_and_range(crop):
    images = np.zeros((2, 28, 28), np.uint8)
    with pytest.raises(ConfigValueError) as info:
        D.reduce_images(images, side=16, crop=crop)
    assert str(info.value) == (f"reduce_images.crop: {crop!r} out of range; valid an int >= 0 "
                               "(pixels cut off each border) up to 13 for 28x28 images")
    assert (info.value.field, info.value.value) == ("crop", crop)
    np.testing.assert_array_equal(images, 0)  # the input is not touched
