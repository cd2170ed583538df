"""Fixtures of the data-set tests: optional dependencies, and a small synthetic MNIST.

Synthetic MNIST: every image is one constant grey value, so its reduction is that value / 255
everywhere (the kernel's weights sum to one) and each image can be recognised after reduction.
"""

from __future__ import annotations

from pathlib import Path

import attrs
import numpy as np
import pytest

from hal_trainers import datasets as D


@pytest.fixture
def needs_torch():
    return pytest.importorskip("torch", reason="the bicubic reduction uses torch.nn.functional.interpolate")


@pytest.fixture
def needs_sklearn():
    return pytest.importorskip("sklearn", reason="the digits stand-in ships with scikit-learn")


def constant_images(n: int, offset: int) -> np.ndarray:
    """``n`` 28x28 images, each of one grey value: ``offset``, ``offset + 7``, ... (mod 256)."""
    grey = (offset + 7 * np.arange(n)) % 256
    return np.broadcast_to(grey[:, None, None], (n, 28, 28)).astype(np.uint8)


@attrs.frozen
class FakeMnist:
    """The four MNIST files in small: 20 training and 11 test images of constant grey values."""

    train_labels: np.ndarray = attrs.field(
        factory=lambda: np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 7, 6, 5, 4, 3, 2, 1, 0, 9, 4], dtype=np.uint8))
    test_labels: np.ndarray = attrs.field(factory=lambda: np.array([9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1], dtype=np.uint8))
    train_offset: int = 3
    test_offset: int = 100

    def train_images(self) -> np.ndarray:
        return constant_images(len(self.train_labels), self.train_offset)

    def test_images(self) -> np.ndarray:
        return constant_images(len(self.test_labels), self.test_offset)

    def write(self, folder: Path, gz: bool = True) -> Path:
        """Write the four files into ``folder`` (gzip-compressed unless ``gz`` is false)."""
        folder.mkdir(parents=True, exist_ok=True)
        ext = ".gz" if gz else ""
        D.write_idx(folder / f"train-images-idx3-ubyte{ext}", self.train_images())
        D.write_idx(folder / f"train-labels-idx1-ubyte{ext}", self.train_labels)
        D.write_idx(folder / f"t10k-images-idx3-ubyte{ext}", self.test_images())
        D.write_idx(folder / f"t10k-labels-idx1-ubyte{ext}", self.test_labels)
        return folder


@pytest.fixture
def fake_mnist() -> FakeMnist:
    return FakeMnist()


@pytest.fixture
def mnist_dir(tmp_path, fake_mnist) -> Path:
    return fake_mnist.write(tmp_path / "mnist")
