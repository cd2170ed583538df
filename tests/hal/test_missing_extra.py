"""One error for a missing optional package, wherever hal needs one (Neo export, NIR)."""

import sys

import pytest

from hal.errors import ConfigError, MissingExtraError
from hal.experiment import neo as neo_export
from hal.nir import _extra


def test_message_names_feature_package_and_extra():
    error = MissingExtraError("nir", "hal.nir.to_nir")
    assert isinstance(error, ConfigError)
    assert str(error) == ("hal.nir.to_nir needs the optional package 'nir', which is not installed; "
                          "install hal's optional extra 'interop' (pip install 'wafer-hal[interop]') or nir itself")
    assert (error.package, error.feature, error.extra) == ("nir", "hal.nir.to_nir", "interop")


@pytest.mark.parametrize("require", [neo_export.require, _extra.require], ids=["neo", "nir"])
def test_both_requires_raise_the_same_type(require, monkeypatch):
    monkeypatch.setitem(sys.modules, "hal_no_such_pkg", None)  # None in sys.modules makes the import fail
    with pytest.raises(MissingExtraError, match="feature X needs the optional package 'hal_no_such_pkg'"):
        require("hal_no_such_pkg", "feature X")


def test_neo_names_its_own_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynwb", None)
    with pytest.raises(MissingExtraError, match="which is not installed; pip install pynwb$"):
        neo_export.require("pynwb", "--out run.nwb")
