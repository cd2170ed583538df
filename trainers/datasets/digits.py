"""The offline stand-ins: scikit-learn's embedded 8x8 digits, resampled to 10x10 like the paper's MNIST
(``"digits"``), or kept at 8x8 with all ten classes (``"digits10"``).

scikit-learn is imported inside :func:`load_digits`; torch only when the images are resampled.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from hal.errors import ConfigError, HalError
from hal.logging import get_logger
from hal_trainers.datasets.dataset import IMAGE_SIDE, PAPER_CLASSES, Dataset
from hal_trainers.datasets.preprocessing import check_class_subset, check_side, reduce_images, select_classes

__all__ = ["DIGITS_SPLIT_SEED", "DIGITS_SIDE", "load_digits"]

log = get_logger(__name__)

#: Seed of the fixed stratified train/test split of the digits stand-in.
DIGITS_SPLIT_SEED = 2017
#: Side of scikit-learn's digits as they ship, in pixels.
DIGITS_SIDE = 8
_DIGITS_MAX_VALUE = 16.0
_DIGITS_TRAIN_FRACTION = 0.8


def load_digits(*, classes: Sequence[int] = PAPER_CLASSES, seed: int = DIGITS_SPLIT_SEED, side: int = IMAGE_SIDE,
                name: str = "digits") -> Dataset:
    """scikit-learn's embedded 8x8 digits, prepared like the paper's MNIST: the offline default.

    The 1,797 images (UCI optical digits, grey values 0..16) ship with scikit-learn. They are
    scaled to [0, 1] (16 -> 1), resampled to ``side`` x ``side`` by the same bicubic kernel as
    :func:`reduce_images` unless ``side`` is 8 (then kept as they are: 64 inputs, exact
    multiples of 1/16), restricted to ``classes`` and split 80/20 per class (stratified) by a
    generator seeded with ``seed``; both splits keep the original order.

    The defaults (10x10, digits 0, 1, 4, 6, 7: 721 training and 180 test images) are the
    stand-in for the paper's MNIST, ``"digits"``; ``side=8, classes=ALL_CLASSES`` (1,438
    training and 359 test images) is ``"digits10"``. ``name`` names the result in logs.

    Much smaller and easier than MNIST: meant for tests, examples and machines without the
    MNIST files, not for reproducing the papers' accuracies.
    """
    classes = check_class_subset(classes)
    side = check_side(side, "load_digits")
    if not isinstance(name, str):
        raise ConfigError(f"load_digits.name: {name!r} is not a string; e.g. 'digits'")
    try:
        from sklearn.datasets import load_digits as _sk_load_digits
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise HalError("load_digits needs scikit-learn (pip install scikit-learn)") from exc
    t0 = time.perf_counter()
    bunch = _sk_load_digits()
    images, labels = select_classes(np.asarray(bunch.images), np.asarray(bunch.target, dtype=np.int64), classes)
    if side == DIGITS_SIDE:
        x = (images / _DIGITS_MAX_VALUE).astype(np.float32).reshape(len(images), side * side)
    else:
        x = reduce_images(images, side=side, max_value=_DIGITS_MAX_VALUE)
    rng = np.random.default_rng(seed)
    train = np.zeros(len(labels), dtype=bool)
    for k in range(len(classes)):
        members = np.flatnonzero(labels == k)
        n_train = int(round(_DIGITS_TRAIN_FRACTION * len(members)))
        train[rng.permutation(members)[:n_train]] = True
    dataset = Dataset.from_arrays(x[train], labels[train], x[~train], labels[~train], classes=classes, name=name,
                                  image_shape=(side, side))
    log.info("dataset_loaded", dataset=name, side=side, n_train=dataset.n_train, n_test=dataset.n_test,
             classes=classes, seed=seed, cached=False, seconds=round(time.perf_counter() - t0, 3))
    return dataset
