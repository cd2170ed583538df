"""The offline stand-in: scikit-learn's embedded 8x8 digits, prepared like the paper's MNIST.

scikit-learn is imported inside :func:`load_digits`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import structlog

from hal.errors import HalError
from hal_trainers.datasets.dataset import PAPER_CLASSES, Dataset
from hal_trainers.datasets.preprocessing import check_class_subset, reduce_images, select_classes

__all__ = ["DIGITS_SPLIT_SEED", "load_digits"]

log = structlog.get_logger(__name__)

#: Seed of the fixed stratified train/test split of the digits stand-in.
DIGITS_SPLIT_SEED = 2017
_DIGITS_TRAIN_FRACTION = 0.8


def load_digits(*, classes: Sequence[int] = PAPER_CLASSES, seed: int = DIGITS_SPLIT_SEED) -> Dataset:
    """scikit-learn's embedded 8x8 digits, prepared like the paper's MNIST: the offline default.

    The 1,797 images (UCI optical digits, grey values 0..16) ship with scikit-learn. They are
    resampled to 10x10 by the same bicubic kernel as :func:`reduce_images` (here enlarging),
    scaled to [0, 1] (16 -> 1, overshoot clipped), restricted to ``classes`` and split 80/20
    per class (stratified) by a generator seeded with ``seed``; both splits keep the original
    order. With the default classes: 721 training and 180 test images.

    Much smaller and easier than MNIST: meant for tests, examples and machines without the
    MNIST files, not for reproducing the paper's accuracies.
    """
    classes = check_class_subset(classes)
    try:
        from sklearn.datasets import load_digits as _sk_load_digits
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise HalError("load_digits needs scikit-learn (pip install scikit-learn)") from exc
    t0 = time.perf_counter()
    bunch = _sk_load_digits()
    images, labels = select_classes(np.asarray(bunch.images), np.asarray(bunch.target, dtype=np.int64), classes)
    x = reduce_images(images, max_value=16.0)
    rng = np.random.default_rng(seed)
    train = np.zeros(len(labels), dtype=bool)
    for k in range(len(classes)):
        members = np.flatnonzero(labels == k)
        n_train = int(round(_DIGITS_TRAIN_FRACTION * len(members)))
        train[rng.permutation(members)[:n_train]] = True
    dataset = Dataset.from_arrays(x[train], labels[train], x[~train], labels[~train], classes=classes, name="digits")
    log.info("dataset_loaded", dataset="digits", n_train=dataset.n_train, n_test=dataset.n_test, classes=classes,
             seed=seed, cached=False, seconds=round(time.perf_counter() - t0, 3))
    return dataset
