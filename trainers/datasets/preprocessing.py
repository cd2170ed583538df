"""The preparation of images: the antialiased bicubic reduction (to 10x10 for the paper, 16x16 for
Cramer et al.), optionally after cropping a border, the check of a side length, and the choice
of classes.

Importing this module needs only numpy; torch is imported inside :func:`reduce_images`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hal.errors import ConfigError, ConfigValueError, HalError
from hal_trainers.datasets.dataset import IMAGE_SIDE, PAPER_CLASSES

__all__ = ["PREPROCESSING_VERSION", "reduce_images", "check_side", "check_crop", "check_class_subset", "select_classes"]

#: Bumped whenever the reduction changes, so that old cache files are not reused. (The crop is a
#: new option, not a change: an uncropped reduction is computed as before, and the cache key holds
#: the crop whenever it is not 0.)
PREPROCESSING_VERSION = 1


def reduce_images(images: np.ndarray, *, side: int = IMAGE_SIDE, max_value: float = 255.0,
                  chunk: int = 8192, crop: int = 0) -> np.ndarray:
    """Reduce images to ``side`` x ``side`` pixels by antialiased bicubic interpolation, after
    cutting ``crop`` pixels off each border.

    Uses ``torch.nn.functional.interpolate(mode="bicubic", antialias=True,
    align_corners=False)``. That variant is the Keys cubic convolution kernel with
    ``a = -0.5``, pixel-centre aligned, whose support is widened by the scale factor when
    shrinking (28 -> 10: 2.8 input pixels per output pixel, about 12 taps per axis). It is
    what PIL's ``Image.resize(..., BICUBIC)`` and MATLAB's ``imresize(..., "bicubic")``
    compute. The paper does not name its tool; these common tools all antialias when
    shrinking, and without antialiasing a 4-tap kernel at 2.8x would skip input pixels and
    alias thin strokes away. Torch's non-antialiased bicubic also uses ``a = -0.75``.

    Parameters
    ----------
    images:
        (n, h, w) array of grey values in [0, ``max_value``].
    side:
        Output side length, pixels.
    max_value:
        The input value that maps to 1.0 (255 for MNIST's uint8, 16 for scikit-learn's digits).
    chunk:
        Images per interpolation call (bounds memory).
    crop:
        Pixels removed from each of the four borders before the reduction (0: none). With
        ``crop=2`` a 28x28 MNIST digit keeps its central 24x24 pixels, so it fills more of the
        reduced image (Cramer et al.'s 16x16 MNIST, see :mod:`hal_trainers.datasets`).

    Returns
    -------
    numpy.ndarray
        float32, shape (n, side*side), row-major, in [0, 1]. The cubic kernel's small
        overshoot beyond [0, 1] at sharp edges is clipped.
    """
    try:
        import torch
        import torch.nn.functional as F
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise HalError("reduce_images needs torch (pip install torch); a cached data set loads without it") from exc
    images = np.asarray(images)
    if images.ndim != 3:
        raise ConfigError(f"reduce_images: images of shape {images.shape}; expected (n, height, width)")
    crop = check_crop(crop, images.shape[1:], "reduce_images")
    if crop:
        images = images[:, crop:images.shape[1] - crop, crop:images.shape[2] - crop]
    out = np.empty((len(images), side * side), dtype=np.float32)
    with torch.no_grad():
        for start in range(0, len(images), chunk):
            block = torch.from_numpy(np.ascontiguousarray(images[start:start + chunk], dtype=np.float64) / max_value)
            small = F.interpolate(block[:, None], size=(side, side), mode="bicubic", antialias=True, align_corners=False)
            out[start:start + chunk] = small.reshape(len(block), side * side).clamp_(0.0, 1.0).numpy()
    return out


def check_side(side: object, where: str) -> int:
    """``side`` as an int >= 1 (a :class:`ConfigError` naming ``where`` otherwise)."""
    if isinstance(side, bool) or not isinstance(side, (int, np.integer)) or side < 1:
        raise ConfigError(f"{where}.side: {side!r} invalid; valid an int >= 1 (pixels per image side, "
                          f"e.g. {IMAGE_SIDE} or 16)")
    return int(side)


def check_crop(crop: object, shape: tuple[int, int] | None, where: str) -> int:
    """``crop`` as an int >= 0 that leaves at least one pixel of an image of ``shape`` (height,
    width; ``None``: not known yet); a :class:`ConfigValueError` naming ``where`` otherwise."""
    limit = None if shape is None else (min(shape) - 1) // 2
    valid = "an int >= 0 (pixels cut off each border)" + (f" up to {limit} for {shape[0]}x{shape[1]} images"
                                                          if limit is not None else "")
    if isinstance(crop, bool) or not isinstance(crop, (int, np.integer)) or crop < 0 or (limit is not None and crop > limit):
        raise ConfigValueError(where, "crop", crop, valid)
    return int(crop)


def check_class_subset(classes: Sequence[int], n_classes: int = 10) -> tuple[int, ...]:
    """``classes`` as a tuple of distinct ints in 0..``n_classes`` - 1; a :class:`ConfigError` otherwise."""
    try:
        classes = tuple(int(c) for c in classes)
    except (TypeError, ValueError):
        raise ConfigError(f"classes: {classes!r} is not a sequence of digits; e.g. {PAPER_CLASSES}") from None
    bad = [c for c in classes if not 0 <= c < n_classes]
    if not classes or bad or len(set(classes)) != len(classes):
        raise ConfigError(f"classes: {classes!r} invalid; give distinct digits in 0..{n_classes - 1}, e.g. {PAPER_CLASSES}")
    return classes


def select_classes(images: np.ndarray, labels: np.ndarray, classes: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Keep the images of ``classes`` (in their original order); labels become indices into ``classes``."""
    lookup = np.full(max(int(labels.max(initial=0)), max(classes)) + 1, -1, dtype=np.int64)
    lookup[list(classes)] = np.arange(len(classes))
    remapped = lookup[labels]
    keep = remapped >= 0
    return images[keep], remapped[keep]
