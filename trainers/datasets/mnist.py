"""MNIST from the four IDX files found in a folder, reduced and restricted to some classes, cached.

By default as Schmitt et al. 2017 use it (10x10, digits 0, 1, 4, 6, 7); ``side=16`` with all
ten classes is the input of Cramer et al.'s 256-246-10 network (``load_dataset("mnist16")``).

The reduced data set is cached as an ``.npz`` file keyed by the content of the source files,
the side, the classes and :data:`~hal_trainers.datasets.preprocessing.PREPROCESSING_VERSION`;
a cache hit needs neither the IDX reader nor torch. A cache file that cannot be read, holds
another key, or holds arrays of the wrong kind is ignored (with a warning) and rewritten.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from hal.errors import ConfigError, FileFormatError
from hal.files import atomic_write
from hal.logging import get_logger
from hal_trainers.datasets.dataset import IMAGE_SIDE, PAPER_CLASSES, Dataset
from hal_trainers.datasets.download import file_sha256
from hal_trainers.datasets.errors import DatasetNotFoundError
from hal_trainers.datasets.idx import read_idx
from hal_trainers.datasets.preprocessing import (PREPROCESSING_VERSION, check_class_subset, check_crop, check_side,
                                                 reduce_images, select_classes)

__all__ = ["load_mnist", "default_cache_dir"]

log = get_logger(__name__)

# (split, kind) -> stem of the file name; the file may be plain or end in ".gz".
_MNIST_STEMS = {
    ("train", "images"): "train-images-idx3-ubyte",
    ("train", "labels"): "train-labels-idx1-ubyte",
    ("test", "images"): "t10k-images-idx3-ubyte",
    ("test", "labels"): "t10k-labels-idx1-ubyte",
}


def default_cache_dir() -> Path:
    """Where reduced data sets are cached unless ``cache_dir`` is given.

    ``$WAFER_HAL_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/wafer-hal/datasets``, else
    ``~/.cache/wafer-hal/datasets``. A user cache rather than the data folder, because data
    folders are often shared and read-only; entries are keyed by content, so one cache serves
    every copy of the files.
    """
    env = os.environ.get("WAFER_HAL_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "wafer-hal" / "datasets"


def _missing_message(data_dir: Path, missing: Sequence[str], *, dir_missing: bool) -> str:
    names = ", ".join(f"{stem}.gz" for stem in _MNIST_STEMS.values())
    where = (f"MNIST data directory {data_dir} does not exist" if dir_missing else
             f"MNIST file(s) missing in {data_dir}: " + ", ".join(f"{m}[.gz]" for m in missing))
    return (f"{where}. Put the four original IDX files ({names}; plain or gzip-compressed) in that directory, "
            f"or run hal_trainers.datasets.download_mnist({str(data_dir)!r}) on a machine with internet access "
            f"and copy them over. Offline, load_dataset('digits') (or 'digits10', all ten classes) gives a small "
            f"embedded stand-in.")


def _find_mnist_files(data_dir: Path) -> dict[tuple[str, str], Path]:
    if not data_dir.is_dir():
        raise DatasetNotFoundError(_missing_message(data_dir, list(_MNIST_STEMS.values()), dir_missing=True),
                                   path=data_dir, missing=[f"{s}.gz" for s in _MNIST_STEMS.values()])
    found, missing = {}, []
    for key, stem in _MNIST_STEMS.items():
        # the hyphenated official names, and the dotted ones some archives unpack to
        dotted = stem.replace("-idx", ".idx")
        candidates = [data_dir / f"{name}{ext}" for name in (stem, dotted) for ext in (".gz", "")]
        hit = next((c for c in candidates if c.is_file()), None)
        if hit is None:
            missing.append(stem)
        else:
            found[key] = hit
    if missing:
        raise DatasetNotFoundError(_missing_message(data_dir, missing, dir_missing=False), path=data_dir,
                                   missing=[f"{m}.gz" for m in missing])
    return found


def _cache_key(files: Mapping[tuple[str, str], Path], classes: tuple[int, ...], side: int, crop: int = 0) -> str:
    # With side 10 this is the spec of the first version, so existing 10x10 cache files stay valid;
    # "crop" enters only when it is not 0, for the same reason.
    spec = {
        "preprocessing_version": PREPROCESSING_VERSION,
        "reduction": "torch-bicubic-antialias-a-0.5",
        "side": side,
        "classes": list(classes),
        "files": {f"{split}-{kind}": [p.stat().st_size, file_sha256(p)] for (split, kind), p in sorted(files.items())},
    }
    if crop:
        spec["crop"] = crop
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()


def _read_cache(path: Path, key: str, n_pixels: int) -> dict[str, np.ndarray] | None:
    """The arrays cached in ``path`` under ``key``, or ``None`` (a miss) if absent, unreadable or malformed."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            if str(npz["key"]) != key:
                log.warning("dataset_cache_key_mismatch", path=str(path))
                return None
            arrays = {name: npz[name] for name in ("x_train", "y_train", "x_test", "y_test")}
    except Exception as exc:  # noqa: BLE001 - any unreadable cache file is just a miss
        log.warning("dataset_cache_unreadable", path=str(path), error=f"{type(exc).__name__}: {exc}")
        return None
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if not (x.dtype == np.float32 and x.ndim == 2 and x.shape[1] == n_pixels
                and y.dtype == np.int64 and y.shape == (len(x),)):
            log.warning("dataset_cache_malformed", path=str(path), split=split, x=f"{x.dtype}{x.shape}",
                        y=f"{y.dtype}{y.shape}", expected=f"float32(n, {n_pixels}), int64(n,)")
            return None
    return arrays


def _write_cache(path: Path, key: str, arrays: Mapping[str, np.ndarray]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda f: np.savez(f, key=np.array(key), **arrays))
    except OSError as exc:
        # The cache only saves time; a read-only or full disk must not stop training.
        log.warning("dataset_cache_write_failed", path=str(path), error=str(exc))
    else:
        log.debug("dataset_cache_written", path=str(path))


def _read_mnist_pair(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise FileFormatError(images_path, f"holds {images.ndim}-D {images.dtype} data of shape {images.shape}; "
                                           "expected 3-D uint8 images (n, height, width), magic 0x00000803")
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise FileFormatError(labels_path, f"holds {labels.ndim}-D {labels.dtype} data of shape {labels.shape}; "
                                           "expected 1-D uint8 labels (n,), magic 0x00000801")
    if len(images) != len(labels):
        raise FileFormatError(labels_path, f"{len(labels)} labels for {len(images)} images in {images_path.name}; "
                                           "the counts must match")
    if labels.size and labels.max() > 9:
        raise FileFormatError(labels_path, f"label {int(labels.max())} out of range; valid 0..9")
    return images, labels


def load_mnist(data_dir: str | os.PathLike, *, cache_dir: str | os.PathLike | None = None, use_cache: bool = True,
               classes: Sequence[int] = PAPER_CLASSES, side: int = IMAGE_SIDE, name: str = "mnist",
               crop: int = 0) -> Dataset:
    """Load MNIST from ``data_dir``, reduced to ``side`` x ``side`` and restricted to ``classes``.

    Reads ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``
    and ``t10k-labels-idx1-ubyte`` (each plain or ``.gz``) from ``data_dir``, keeps the images
    of ``classes`` in their original order, reduces them with :func:`reduce_images` and maps
    the labels to 0..len(classes)-1 (label ``k`` is digit ``classes[k]``). The defaults are
    the paper's: 10x10, digits 0, 1, 4, 6, 7, which gives 30,690 training and 5,083 test
    images. ``side=16, classes=ALL_CLASSES`` keeps all 60,000 and 10,000 images at 16x16 (the
    data set ``"mnist16"`` adds ``crop=2``). ``crop`` pixels are cut off each border of the
    28x28 images before the reduction (:func:`reduce_images`). ``name`` names the result in logs.

    The result is cached as an ``.npz`` file in ``cache_dir`` (default
    :func:`default_cache_dir`), keyed by the SHA-256 of the source files, the side, the
    classes and :data:`PREPROCESSING_VERSION`, so different sides or classes never share an
    entry; a second load reads only that file and does not need torch. A corrupt or
    malformed cache file is ignored and rebuilt.

    Raises
    ------
    DatasetNotFoundError
        ``data_dir`` or one of the files is missing; the message names them and where to put them.
    FileFormatError
        A file is truncated, corrupt or not the expected IDX content.
    ConfigError
        ``classes``, ``side`` or ``crop`` is invalid (``crop`` beyond 13 leaves no pixel of 28x28).
    """
    classes = check_class_subset(classes)
    side = check_side(side, "load_mnist")
    crop = check_crop(crop, None, "load_mnist")
    if not isinstance(name, str):
        raise ConfigError(f"load_mnist.name: {name!r} is not a string; e.g. 'mnist'")
    data_dir = Path(data_dir).expanduser()
    t0 = time.perf_counter()
    files = _find_mnist_files(data_dir)
    arrays = None
    cache_path = None
    dataset = None
    if use_cache:
        key = _cache_key(files, classes, side, crop)
        cache_path = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
        cache_path = cache_path / f"mnist-{side}x{side}{f'-crop{crop}' if crop else ''}-{key[:20]}.npz"
        arrays = _read_cache(cache_path, key, side * side)
        if arrays is not None:
            try:  # the values and labels too: a cache file is rebuilt, never trusted
                dataset = _make_dataset(arrays, classes, side, name)
            except ConfigError as exc:
                log.warning("dataset_cache_malformed", path=str(cache_path), error=str(exc))
    cached = dataset is not None
    if dataset is None:
        arrays = {}
        for split in ("train", "test"):
            images, labels = _read_mnist_pair(files[(split, "images")], files[(split, "labels")])
            images, labels = select_classes(images, labels, classes)
            arrays[f"x_{split}"] = reduce_images(images, side=side, crop=crop)
            arrays[f"y_{split}"] = labels
        if use_cache:
            _write_cache(cache_path, key, arrays)
        dataset = _make_dataset(arrays, classes, side, name)
    log.info("dataset_loaded", dataset=name, data_dir=str(data_dir), side=side, crop=crop, n_train=dataset.n_train,
             n_test=dataset.n_test, classes=classes, cached=cached, cache=str(cache_path) if cache_path else None,
             seconds=round(time.perf_counter() - t0, 3))
    return dataset


def _make_dataset(arrays: Mapping[str, np.ndarray], classes: tuple[int, ...], side: int, name: str) -> Dataset:
    return Dataset.from_arrays(arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"],
                               classes=classes, name=name, image_shape=(side, side))
