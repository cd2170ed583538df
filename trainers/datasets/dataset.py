"""The :class:`Dataset` container: grey images and labels, split into training and test images.

The images are flattened, one per row; :attr:`Dataset.image_shape` says how to fold them back
((10, 10) for Schmitt et al. 2017's data, the default; (16, 16) or (8, 8) for other sets).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import attrs
import numpy as np

from hal.errors import ConfigError, UnknownNameError

__all__ = ["PAPER_CLASSES", "ALL_CLASSES", "IMAGE_SIDE", "N_PIXELS", "Dataset"]

#: The digit classes the paper keeps (section III); label ``k`` stands for digit ``PAPER_CLASSES[k]``.
PAPER_CLASSES: tuple[int, ...] = (0, 1, 4, 6, 7)
#: All ten digits, label ``k`` = digit ``k`` (the data sets for surrogate-gradient training).
ALL_CLASSES: tuple[int, ...] = tuple(range(10))
#: Side of the paper's reduced images, in pixels (the default of :class:`Dataset` and the loaders).
IMAGE_SIDE = 10
#: Pixels per reduced image of the paper: the size of its network's input layer.
N_PIXELS = IMAGE_SIDE * IMAGE_SIDE


def _to_image_shape(value: object) -> tuple[int, int]:
    """``value`` as ``(height, width)`` of positive ints; converts, so it runs before the validators."""
    try:
        shape = tuple(value)  # type: ignore[arg-type]
    except TypeError:
        shape = None
    if (shape is None or len(shape) != 2
            or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1 for v in shape)):
        raise ConfigError(f"Dataset.image_shape: {value!r} invalid; valid (height, width), two ints >= 1, "
                          f"e.g. ({IMAGE_SIDE}, {IMAGE_SIDE})")
    return (int(shape[0]), int(shape[1]))


def _check_images(instance: Dataset, attribute: attrs.Attribute, value: object) -> None:
    # attrs runs the validators after every field (and converter) is set: image_shape is checked here
    where = f"Dataset.{attribute.name}"
    height, width = instance.image_shape
    if not isinstance(value, np.ndarray):
        raise ConfigError(f"{where}: must be a numpy array of shape (n, {height * width}), not {type(value).__name__}")
    if value.ndim != 2 or value.shape[1] != height * width:
        raise ConfigError(f"{where}: shape {value.shape} is not an image matrix; expected (n, {height * width}) "
                          f"(one flattened {height}x{width} image per row)")
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
        float32 arrays of shape (n, height * width): one flattened image per row, row-major,
        grey values in [0, 1] (0 = background, 1 = full ink).
    y_train, y_test:
        int64 arrays of shape (n,): labels 0..len(classes)-1.
    classes:
        The original class (digit) of each label: label ``k`` is digit ``classes[k]``.
    name:
        A short name for logs and reports.
    image_shape:
        ``(height, width)`` of the images, keyword only; default ``(10, 10)``, the paper's
        reduced MNIST (100 inputs).

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
    image_shape: tuple[int, int] = attrs.field(default=(IMAGE_SIDE, IMAGE_SIDE), kw_only=True, converter=_to_image_shape)

    def __attrs_post_init__(self) -> None:
        for split, x, y in (("train", self.x_train, self.y_train), ("test", self.x_test, self.y_test)):
            if len(x) != len(y):
                raise ConfigError(f"Dataset: x_{split} has {len(x)} images but y_{split} has {len(y)} labels; they must match")
            if y.size and (y.min() < 0 or y.max() >= len(self.classes)):
                raise ConfigError(f"Dataset.y_{split}: labels in {int(y.min())}..{int(y.max())}; "
                                  f"valid 0..{len(self.classes) - 1} (one per class of {self.classes})")

    @classmethod
    def from_arrays(cls, x_train, y_train, x_test, y_test, classes: Sequence[int], name: str = "dataset", *,
                    image_shape: Sequence[int] = (IMAGE_SIDE, IMAGE_SIDE)) -> Dataset:
        """Build a data set from array-likes, converting explicitly.

        Images may be given as (n, height * width) or (n, height, width) with ``(height,
        width) = image_shape`` (default (10, 10)); they are cast to float32. Labels must be
        integer-valued and are cast to int64. The stored arrays are read-only copies.
        """
        image_shape = _to_image_shape(image_shape)
        arrays = []
        for field, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
            x = np.array(x, dtype=np.float32)
            if x.ndim == 3 and x.shape[1:] == image_shape:
                x = x.reshape(len(x), image_shape[0] * image_shape[1])
            y_raw = np.asarray(y)
            if y_raw.dtype.kind not in "iub":
                if y_raw.dtype.kind != "f" or not np.array_equal(y_raw, np.round(y_raw)):
                    raise ConfigError(f"Dataset.y_{field}: labels of dtype {y_raw.dtype} are not integers")
            y = y_raw.astype(np.int64)  # always a copy
            x.setflags(write=False)
            y.setflags(write=False)
            arrays += [x, y]
        return cls(arrays[0], arrays[1], arrays[2], arrays[3], classes=tuple(classes), name=name,
                   image_shape=image_shape)

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
    def n_pixels(self) -> int:
        """Pixels per image, height * width: the size of a network's input layer."""
        return self.image_shape[0] * self.image_shape[1]

    def _split(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        if split == "train":
            return self.x_train, self.y_train
        if split == "test":
            return self.x_test, self.y_test
        raise UnknownNameError("split", split, ("train", "test"))

    def images(self, split: str = "train") -> np.ndarray:
        """The images of ``split`` (``"train"`` or ``"test"``) as (n, height, width), for plotting."""
        return self._split(split)[0].reshape(-1, *self.image_shape)

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
