"""Data augmentation for training: random small shifts of the images, drawn reproducibly.

A network trained on MNIST's centred digits learns their exact pixel positions; shifting each
training image by a pixel or two (zeros fill the edge it leaves) makes it learn the strokes
instead (the standard remedy for the gap between training and test accuracy). The shifts are
drawn from a generator the caller seeds, so a resumed training draws the same ones.
"""

from __future__ import annotations

import numpy as np

from hal.errors import ConfigError

__all__ = ["shift_images", "square_side"]


def square_side(pixels: int) -> int | None:
    """The side of a square image of ``pixels`` pixels, or None when ``pixels`` is not a square."""
    side = int(round(np.sqrt(pixels)))
    return side if side * side == pixels else None


def shift_images(x: np.ndarray, side: int, max_shift: int, rng: np.random.Generator) -> np.ndarray:
    """Each image of ``x`` (samples, side * side) moved by its own (dy, dx), each uniform in
    ``-max_shift..max_shift`` pixels; returns a new array, ``x`` is unchanged."""
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[1] != side * side:
        raise ConfigError(f"shift_images: images of shape {x.shape}; expected (samples, {side * side}) for {side}x{side} images")
    if max_shift == 0 or len(x) == 0:
        return x.copy()
    n = len(x)
    padded = np.pad(x.reshape(n, side, side), ((0, 0), (max_shift, max_shift), (max_shift, max_shift)))
    dy, dx = rng.integers(-max_shift, max_shift + 1, size=(2, n))
    # Output pixel (r, c) is input pixel (r - dy, c - dx): a positive dy moves the image down.
    rows = np.arange(side)[None, :] + max_shift - dy[:, None]
    cols = np.arange(side)[None, :] + max_shift - dx[:, None]
    out = padded[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]
    return out.reshape(n, side * side)
