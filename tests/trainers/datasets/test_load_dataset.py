"""hal_trainers.datasets: data sets by name, and what importing the package needs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hal.errors import ConfigError, UnknownNameError
from hal_trainers import datasets as D


def test_unknown_dataset_name():
    with pytest.raises(UnknownNameError) as info:
        D.load_dataset("mnsit")
    assert str(info.value) == "unknown dataset 'mnsit'; did you mean 'mnist'? known: digits, mnist"


def test_load_dataset_arguments(tmp_path):
    with pytest.raises(ConfigError, match="dataset 'mnist' needs data_dir"):
        D.load_dataset("mnist")
    with pytest.raises(ConfigError, match="dataset 'digits' is embedded"):
        D.load_dataset("digits", tmp_path)
    with pytest.raises(D.DatasetNotFoundError, match="does not exist"):
        D.load_dataset("mnist", tmp_path / "nowhere", cache_dir=tmp_path / "cache")


@pytest.mark.usefixtures("needs_torch", "needs_sklearn")
def test_load_dataset_by_name(mnist_dir, tmp_path):
    assert D.load_dataset("mnist", mnist_dir, cache_dir=tmp_path / "cache").n_train == 11
    assert D.load_dataset("digits").name == "digits"


def test_import_needs_neither_torch_nor_sklearn():
    code = "import sys, hal_trainers.datasets; print('torch' in sys.modules, 'sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[3])
    assert out.stdout.split() == ["False", "False"]
