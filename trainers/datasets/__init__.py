"""Training data for Schmitt et al. 2017 (section III): MNIST reduced to 10x10, five classes.

The paper reduces MNIST from 28x28 to 10x10 pixels by bicubic interpolation and keeps the
digits 0, 1, 4, 6 and 7, which leaves 30,690 training and 5,083 test images. This package
builds exactly that data set from the original IDX files, and a small offline stand-in from
scikit-learn's embedded 8x8 digits for machines without the MNIST files.

Public entry points
-------------------
- :func:`load_dataset` -- by name (``"mnist"`` or ``"digits"``);
- :func:`load_mnist` -- from a folder holding the four MNIST IDX files (cached after the first
  load);
- :func:`load_digits` -- the embedded offline default;
- :func:`download_mnist` -- fetches and verifies the four files on an online machine;
- :func:`read_idx` / :func:`write_idx` -- the IDX file format;
- :func:`reduce_images` -- the antialiased bicubic reduction to 10x10.

The package's modules: :mod:`.dataset` (the container), :mod:`.idx` (the file format),
:mod:`.preprocessing` (reduction, class selection), :mod:`.mnist` (loading and cache),
:mod:`.download` (mirrors and checksums), :mod:`.digits` (the stand-in), :mod:`.errors`.

Importing this package needs only numpy, attrs and structlog; torch (for the reduction) and
scikit-learn (for the digits) are imported inside the functions that need them. A cache hit
does not need torch at all.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from hal.errors import ConfigError, UnknownNameError
from hal_trainers.datasets.dataset import IMAGE_SIDE, N_PIXELS, PAPER_CLASSES, Dataset
from hal_trainers.datasets.digits import DIGITS_SPLIT_SEED, load_digits
from hal_trainers.datasets.download import MNIST_FILES, MNIST_MIRRORS, FileDigest, download_mnist
from hal_trainers.datasets.errors import ChecksumMismatchError, DatasetNotFoundError, DownloadError
from hal_trainers.datasets.idx import read_idx, write_idx
from hal_trainers.datasets.mnist import default_cache_dir, load_mnist
from hal_trainers.datasets.preprocessing import PREPROCESSING_VERSION, reduce_images

__all__ = [
    "PAPER_CLASSES",
    "IMAGE_SIDE",
    "N_PIXELS",
    "PREPROCESSING_VERSION",
    "MNIST_MIRRORS",
    "MNIST_FILES",
    "DIGITS_SPLIT_SEED",
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

#: Names :func:`load_dataset` knows, with a one-line description.
DATASETS: Mapping[str, str] = {
    "mnist": "MNIST reduced to 10x10, classes 0, 1, 4, 6, 7 (Schmitt et al. 2017); needs data_dir",
    "digits": "scikit-learn's embedded 8x8 digits resampled to 10x10, same classes; offline",
}


def load_dataset(name: str, data_dir: str | os.PathLike | None = None, *,
                 cache_dir: str | os.PathLike | None = None) -> Dataset:
    """Load a data set by name: ``"mnist"`` (from ``data_dir``) or ``"digits"`` (embedded).

    Raises
    ------
    UnknownNameError
        ``name`` is not one of :data:`DATASETS`; the message lists the known names.
    ConfigError
        ``"mnist"`` without ``data_dir``, or ``"digits"`` with one.
    """
    if name not in DATASETS:
        raise UnknownNameError("dataset", name, DATASETS)
    if name == "mnist":
        if data_dir is None:
            raise ConfigError("dataset 'mnist' needs data_dir: the folder with the four MNIST IDX files "
                              "(download_mnist(dir) fetches them on an online machine); offline, use 'digits'")
        return load_mnist(data_dir, cache_dir=cache_dir)
    if data_dir is not None or cache_dir is not None:
        raise ConfigError(f"dataset 'digits' is embedded in scikit-learn; data_dir={data_dir!r} and "
                          f"cache_dir={cache_dir!r} must be None")
    return load_digits()
