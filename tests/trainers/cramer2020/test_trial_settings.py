"""run_trial refuses settings it does not know, naming them and the valid ones."""

import pytest

pytest.importorskip("torch")

from hal.errors import ConfigError  # noqa: E402
from hal_trainers.cramer2020.trial import run_trial  # noqa: E402
from hal_trainers.datasets import load_dataset  # noqa: E402


def test_an_unknown_setting_is_refused_before_any_work():
    with pytest.raises(ConfigError, match=r"unknown setting\(s\) hiden; valid .*hidden"):
        run_trial(load_dataset("digits10"), backend="reference", hiden=16)
