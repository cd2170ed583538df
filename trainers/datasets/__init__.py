"""Training data for the trainers: MNIST and an offline stand-in, as two papers prepare them.

Schmitt et al. 2017 (section III) reduce MNIST from 28x28 to 10x10 pixels by bicubic
interpolation and keep the digits 0, 1, 4, 6 and 7, which leaves 30,690 training and 5,083
test images. Cramer et al. (2020; PNAS 2022), training by surrogate gradients, down-scale all
of MNIST to 16x16 for their 256-246-10 network: 60,000 training and 10,000 test images, ten
classes. Their published training code (the ``strobe`` project) first cuts 2 pixels off each
border (28x28 -> the central 24x24, where the digits are) and then zooms to 16x16, so a digit
covers more of the 16x16 pixels; ``mnist16`` does the same crop before our reduction. This
package builds both from the original IDX files, and small offline stand-ins from
scikit-learn's embedded 8x8 digits for machines without the MNIST files.

Data sets by name (:data:`DATASETS`, :func:`load_dataset`):

========== ========= ================== ============ ===============================
name       images    classes            train/test   source
========== ========= ================== ============ ===============================
mnist      10x10     0, 1, 4, 6, 7      30690/5083   MNIST IDX files in ``data_dir``
mnist16    16x16     0..9               60000/10000  MNIST IDX files, central 24x24
digits     10x10     0, 1, 4, 6, 7      721/180      scikit-learn, resampled
digits10   8x8       0..9               1438/359     scikit-learn, as shipped
========== ========= ================== ============ ===============================

All hold grey values in [0, 1], one flattened image per row (:attr:`Dataset.image_shape`
folds them back); label ``k`` is digit ``classes[k]``.

Public entry points
-------------------
- :func:`load_dataset` -- by name (see the table);
- :func:`load_mnist` -- from a folder holding the four MNIST IDX files, at any ``side`` and
  ``classes`` (cached after the first load);
- :func:`load_digits` -- the embedded offline sets, at any ``side`` and ``classes``;
- :func:`download_mnist` -- fetches and verifies the four files on an online machine;
- :func:`read_idx` / :func:`write_idx` -- the IDX file format;
- :func:`reduce_images` -- the antialiased bicubic reduction (to 10x10 by default).

The package's modules: :mod:`.dataset` (the container), :mod:`.idx` (the file format),
:mod:`.preprocessing` (reduction, class selection), :mod:`.mnist` (loading and cache),
:mod:`.download` (mirrors and checksums), :mod:`.digits` (the stand-ins), :mod:`.errors`.

Importing this package needs only numpy, attrs and structlog; torch (for the reduction) and
scikit-learn (for the digits) are imported inside the functions that need them. A cache hit
does not need torch at all, nor does ``"digits10"``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import attrs

from hal.errors import ConfigError, UnknownNameError
from hal_trainers.datasets.dataset import ALL_CLASSES, IMAGE_SIDE, N_PIXELS, PAPER_CLASSES, Dataset
from hal_trainers.datasets.digits import DIGITS_SIDE, DIGITS_SPLIT_SEED, load_digits
from hal_trainers.datasets.download import MNIST_FILES, MNIST_MIRRORS, FileDigest, download_mnist
from hal_trainers.datasets.errors import ChecksumMismatchError, DatasetNotFoundError, DownloadError
from hal_trainers.datasets.idx import read_idx, write_idx
from hal_trainers.datasets.mnist import default_cache_dir, load_mnist
from hal_trainers.datasets.preprocessing import PREPROCESSING_VERSION, reduce_images

__all__ = [
    "PAPER_CLASSES",
    "ALL_CLASSES",
    "IMAGE_SIDE",
    "N_PIXELS",
    "PREPROCESSING_VERSION",
    "MNIST_MIRRORS",
    "MNIST_FILES",
    "DIGITS_SPLIT_SEED",
    "DIGITS_SIDE",
    "DATASETS",
    "FileDigest",
    "Dataset",
    "DatasetNotFoundError",
    "DownloadError",
    "ChecksumMismatchError",
    "read_idx",
    "write_idx",
    "reduce_images",
    "load_mnist",
    "download_mnist",
    "load_digits",
    "load_dataset",
    "default_cache_dir",
]

@attrs.frozen
class _Recipe:
    """How :func:`load_dataset` builds a named data set."""

    source: str  # "mnist" (IDX files in data_dir) or "digits" (embedded in scikit-learn)
    side: int
    classes: tuple[int, ...]
    description: str
    offline: str = ""  # for "mnist" sources: the embedded set to use without the files
    crop: int = 0  # for "mnist" sources: pixels cut off each border of the 28x28 images before the reduction


_RECIPES: dict[str, _Recipe] = {
    "mnist": _Recipe("mnist", IMAGE_SIDE, PAPER_CLASSES, offline="digits", description=(
        "MNIST reduced to 10x10, classes 0, 1, 4, 6, 7 (Schmitt et al. 2017); needs data_dir")),
    "mnist16": _Recipe("mnist", 16, ALL_CLASSES, offline="digits10", crop=2, description=(
        "MNIST's central 24x24 reduced to 16x16, all ten classes (Cramer et al. 2022, 256-246-10 network); "
        "needs data_dir")),
    "digits": _Recipe("digits", IMAGE_SIDE, PAPER_CLASSES, description=(
        "scikit-learn's embedded 8x8 digits resampled to 10x10, classes 0, 1, 4, 6, 7; offline")),
    "digits10": _Recipe("digits", DIGITS_SIDE, ALL_CLASSES, description=(
        "scikit-learn's embedded 8x8 digits kept at 8x8 (64 inputs), all ten classes; offline")),
}

#: Names :func:`load_dataset` knows, with a one-line description.
DATASETS: Mapping[str, str] = {name: recipe.description for name, recipe in _RECIPES.items()}


def load_dataset(name: str, data_dir: str | os.PathLike | None = None, *,
                 cache_dir: str | os.PathLike | None = None) -> Dataset:
    """Load a data set by name (one of :data:`DATASETS`).

    ``"mnist"`` and ``"mnist16"`` are read from the MNIST IDX files in ``data_dir`` and cached
    in ``cache_dir`` (see :func:`load_mnist`); ``"digits"`` and ``"digits10"`` are embedded and
    take neither.

    Raises
    ------
    UnknownNameError
        ``name`` is not one of :data:`DATASETS`; the message lists the known names.
    ConfigError
        ``name`` is not a string; an MNIST set without ``data_dir``; an embedded set with
        ``data_dir`` or ``cache_dir``.
    DatasetNotFoundError
        ``data_dir`` or one of its files is missing (see :func:`load_mnist`).
    """
    if not isinstance(name, str):
        raise ConfigError(f"dataset name {name!r} is not a string; known: {', '.join(sorted(DATASETS))}")
    recipe = _RECIPES.get(name)
    if recipe is None:
        raise UnknownNameError("dataset", name, DATASETS)
    if recipe.source == "mnist":
        if data_dir is None:
            raise ConfigError(f"dataset {name!r} needs data_dir: the folder with the four MNIST IDX files "
                              f"(download_mnist(dir) fetches them on an online machine); offline, use {recipe.offline!r}")
        return load_mnist(data_dir, cache_dir=cache_dir, side=recipe.side, classes=recipe.classes, name=name,
                          crop=recipe.crop)
    if data_dir is not None or cache_dir is not None:
        raise ConfigError(f"dataset {name!r} is embedded in scikit-learn; data_dir={data_dir!r} and "
                          f"cache_dir={cache_dir!r} must be None")
    return load_digits(side=recipe.side, classes=recipe.classes, name=name)
