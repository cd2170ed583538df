"""The :class:`Dataset` container: 10x10 images and labels, split into training and test images."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import attrs
import numpy as np

from hal.errors import ConfigError, UnknownNameError

__all__ = ["PAPER_CLASSES", "IMAGE_SIDE", "N_PIXELS", "Dataset"]

#: The digit classes the paper keeps (section III); label ``k`` stands for digit ``PAPER_CLASSES[k]``.
PAPER_CLASSES: tuple[int, ...] = (0, 1, 4, 6, 7)
#: Side of the reduced images, in pixels.
IMAGE_SIDE = 10
#: Pixels per reduced image: the size of the network's input layer.
N_PIXELS = IMAGE_SIDE * IMAGE_SIDE


def _check_images(instance: Dataset, attribute: attrs.Attribute, value: object) -> None:
    where = f"Dataset.{attribute.name}"
    if not isinstance(value, np.ndarray):
        raise ConfigError(f"{where}: must be a numpy array of shape (n, {N_PIXELS}), not {type(value).__name__}")
    if value.ndim != 2 or value.shape[1] != N_PIXELS:
        raise ConfigError(f"{where}: shape {value.shape} is not an image matrix; expected (n, {N_PIXELS}) "
                          f"(one flattened {IMAGE_SIDE}x{IMAGE_SIDE} image per row)")
    if value.dtype != np.float32:
        raise ConfigError(f"{where}: dtype {value.dtype}; expected float32 (Dataset.from_arrays converts)")
    if value.size and not (np.isfinite(value).all() and value.min() >= 0.0 and value.max() <= 1.0):
        raise ConfigError(f"{where}: values in [{value.min()}, {value.max()}]; valid grey values lie in [0, 1]")


def _check_labels(instance: Dataset, attribute: attrs.Attribute, value: object) -> None:
    where = f"Dataset.{attribute.name}"
    if not isinstance(value, np.ndarray):
        raise ConfigError(f"{where}: must be a numpy array of shape (n,), not {type(value).__name__}")
    if value.ndim != 1:
        raise ConfigError(f"{where}: shape {value.shape}; expected (n,)")
    if value.dtype != np.int64:
        raise ConfigError(f"{where}: dtype {value.dtype}; expected int64 (Dataset.from_arrays converts)")


def _check_classes(instance: Dataset, attribute: attrs.Attribute, value: tuple[int, ...]) -> None:
    if not value:
        raise ConfigError("Dataset.classes: empty; give the original class of every label, e.g. (0, 1, 4, 6, 7)")
    if len(set(value)) != len(value):
        raise ConfigError(f"Dataset.classes: {value!r} has duplicates; each label needs its own class")


@attrs.frozen(eq=False, repr=False)
class Dataset:
    """A labelled image classification data set, split into training and test images.

    Parameters
    ----------
    x_train, x_test:
        float32 arrays of shape (n, 100): one flattened 10x10 image per row, row-major, grey
        values in [0, 1] (0 = background, 1 = full ink).
    y_train, y_test:
        int64 arrays of shape (n,): labels 0..len(classes)-1.
    classes:
        The original class (digit) of each label: label ``k`` is digit ``classes[k]``.
    name:
        A short name for logs and reports.

    Notes
    -----
    ``__init__`` only validates; use :meth:`from_arrays` to convert dtypes and shapes.
    Equality is identity (the arrays are large); the loaders return read-only arrays.
    """

    x_train: np.ndarray = attrs.field(validator=_check_images)
    y_train: np.ndarray = attrs.field(validator=_check_labels)
    x_test: np.ndarray = attrs.field(validator=_check_images)
    y_test: np.ndarray = attrs.field(validator=_check_labels)
    classes: tuple[int, ...] = attrs.field(converter=lambda c: tuple(int(v) for v in c), validator=_check_classes)
    name: str = attrs.field(default="dataset", validator=attrs.validators.instance_of(str))

    def __attrs_post_init__(self) -> None:
        for split, x, y in (("train", self.x_train, self.y_train), ("test", self.x_test, self.y_test)):
            if len(x) != len(y):
                raise ConfigError(f"Dataset: x_{split} has {len(x)} images but y_{split} has {len(y)} labels; they must match")
            if y.size and (y.min() < 0 or y.max() >= len(self.classes)):
                raise ConfigError(f"Dataset.y_{split}: labels in {int(y.min())}..{int(y.max())}; "
                                  f"valid 0..{len(self.classes) - 1} (one per class of {self.classes})")

    @classmethod
    def from_arrays(cls, x_train, y_train, x_test, y_test, classes: Sequence[int], name: str = "dataset") -> Dataset:
        """Build a data set from array-likes, converting explicitly.

        Images may be given as (n, 100) or (n, 10, 10); they are cast to float32. Labels must be
        integer-valued and are cast to int64. The stored arrays are read-only copies.
        """
        arrays = []
        for field, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
            x = np.array(x, dtype=np.float32)
            if x.ndim == 3 and x.shape[1:] == (IMAGE_SIDE, IMAGE_SIDE):
                x = x.reshape(len(x), N_PIXELS)
            y_raw = np.asarray(y)
            if y_raw.dtype.kind not in "iub":
                if y_raw.dtype.kind != "f" or not np.array_equal(y_raw, np.round(y_raw)):
                    raise ConfigError(f"Dataset.y_{field}: labels of dtype {y_raw.dtype} are not integers")
            y = y_raw.astype(np.int64)  # always a copy
            x.setflags(write=False)
            y.setflags(write=False)
            arrays += [x, y]
        return cls(arrays[0], arrays[1], arrays[2], arrays[3], classes=tuple(classes), name=name)

    def __repr__(self) -> str:
        return (f"Dataset(name={self.name!r}, classes={self.classes}, n_train={self.n_train}, "
                f"n_test={self.n_test}, image_shape={self.image_shape})")

    @property
    def n_train(self) -> int:
        return len(self.y_train)

    @property
    def n_test(self) -> int:
        return len(self.y_test)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def image_shape(self) -> tuple[int, int]:
        return (IMAGE_SIDE, IMAGE_SIDE)

    def _split(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        if split == "train":
            return self.x_train, self.y_train
        if split == "test":
            return self.x_test, self.y_test
        raise UnknownNameError("split", split, ("train", "test"))

    def images(self, split: str = "train") -> np.ndarray:
        """The images of ``split`` (``"train"`` or ``"test"``) as (n, 10, 10), for plotting."""
        return self._split(split)[0].reshape(-1, IMAGE_SIDE, IMAGE_SIDE)

    def digits(self, split: str = "train") -> np.ndarray:
        """The original class (digit) of every image of ``split``: ``classes[label]``."""
        return np.asarray(self.classes, dtype=np.int64)[self._split(split)[1]]

    def class_counts(self, split: str = "train") -> dict[int, int]:
        """Number of images per original class in ``split``."""
        counts = np.bincount(self._split(split)[1], minlength=self.n_classes)
        return {digit: int(n) for digit, n in zip(self.classes, counts)}

    def batches(self, batch_size: int, rng: np.random.Generator | None = None, *, split: str = "train",
                drop_last: bool = False) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Iterate once over ``split`` in batches of ``(x, y)``.

        Parameters
        ----------
        batch_size:
            Images per batch, >= 1. The last batch is smaller unless ``drop_last``.
        rng:
            Shuffles the order for this pass; ``None`` keeps the stored order.
        split:
            ``"train"`` or ``"test"``.
        drop_last:
            Skip a last batch that is smaller than ``batch_size``.
        """
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise ConfigError(f"Dataset.batches.batch_size: {batch_size!r} is not an integer; valid >= 1")
        if batch_size < 1:
            raise ConfigError(f"Dataset.batches.batch_size: {batch_size} out of range; valid >= 1")
        if rng is not None and not isinstance(rng, np.random.Generator):
            raise ConfigError(f"Dataset.batches.rng: {type(rng).__name__} is not a numpy.random.Generator "
                              "(use np.random.default_rng(seed)) or None")
        x, y = self._split(split)
        return self._iter_batches(x, y, int(batch_size), rng, drop_last)

    @staticmethod
    def _iter_batches(x, y, batch_size, rng, drop_last) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        n = len(y)
        order = rng.permutation(n) if rng is not None else None
        stop = n - n % batch_size if drop_last else n
        for start in range(0, stop, batch_size):
            if order is None:
                yield x[start:start + batch_size], y[start:start + batch_size]
            else:
                idx = order[start:start + batch_size]
                yield x[idx], y[idx]
