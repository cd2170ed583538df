"""hal_trainers.datasets: data sets by name, and what importing the package needs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hal.errors import ConfigError, UnknownNameError
from hal_trainers import datasets as D


def test_known_names():
    assert list(D.DATASETS) == ["mnist", "mnist16", "digits", "digits10"]
    assert all(isinstance(text, str) and text for text in D.DATASETS.values())


def test_unknown_dataset_name():
    with pytest.raises(UnknownNameError) as info:
        D.load_dataset("mnsit")
    assert str(info.value) == "unknown dataset 'mnsit'; did you mean 'mnist'? known: digits, digits10, mnist, mnist16"
    with pytest.raises(UnknownNameError, match="did you mean 'mnist16'"):
        D.load_dataset("mnist-16")
    with pytest.raises(ConfigError, match=r"dataset name 16 is not a string; known: digits, digits10, mnist, mnist16"):
        D.load_dataset(16)


def test_load_dataset_arguments(tmp_path):
    with pytest.raises(ConfigError, match="dataset 'mnist' needs data_dir"):
        D.load_dataset("mnist")
    with pytest.raises(ConfigError, match="dataset 'digits' is embedded"):
        D.load_dataset("digits", tmp_path)
    with pytest.raises(D.DatasetNotFoundError, match="does not exist"):
        D.load_dataset("mnist", tmp_path / "nowhere", cache_dir=tmp_path / "cache")


def test_load_dataset_arguments_of_the_new_sets(tmp_path, fake_mnist):
    with pytest.raises(ConfigError, match=r"dataset 'mnist16' needs data_dir: .* offline, use 'digits10'"):
        D.load_dataset("mnist16")
    with pytest.raises(ConfigError, match=r"dataset 'digits10' is embedded in scikit-learn; data_dir=.* must be None"):
        D.load_dataset("digits10", tmp_path)
    with pytest.raises(ConfigError, match=r"dataset 'digits10' is embedded .*cache_dir=.*cache.* must be None"):
        D.load_dataset("digits10", cache_dir=tmp_path / "cache")
    with pytest.raises(D.DatasetNotFoundError, match="does not exist") as info:
        D.load_dataset("mnist16", tmp_path / "nowhere", cache_dir=tmp_path / "cache")
    assert "'digits10'" in str(info.value)
    folder = fake_mnist.write(tmp_path / "mnist")
    (folder / "train-images-idx3-ubyte.gz").unlink()
    with pytest.raises(D.DatasetNotFoundError, match=r"missing in .*: train-images-idx3-ubyte\[.gz\]") as info:
        D.load_dataset("mnist16", folder, cache_dir=tmp_path / "cache")
    assert info.value.missing == ("train-images-idx3-ubyte.gz",)


@pytest.mark.usefixtures("needs_torch", "needs_sklearn")
def test_load_dataset_by_name(mnist_dir, tmp_path):
    assert D.load_dataset("mnist", mnist_dir, cache_dir=tmp_path / "cache").n_train == 11
    assert D.load_dataset("digits").name == "digits"
    assert D.load_dataset("mnist16", mnist_dir, cache_dir=tmp_path / "cache").image_shape == (16, 16)
    assert D.load_dataset("digits10").image_shape == (8, 8)


def test_import_needs_neither_torch_nor_sklearn():
    code = "import sys, hal_trainers.datasets; print('torch' in sys.modules, 'sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[3])
    assert out.stdout.split() == ["False", "False"]


@pytest.mark.usefixtures("needs_sklearn")
def test_digits10_does_not_need_torch():
    code = "import sys, hal_trainers.datasets as D; D.load_dataset('digits10'); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[3])
    assert out.stdout.split()[-1] == "False"
