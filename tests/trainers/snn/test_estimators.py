"""Estimators by name: unknown names and options are refused, naming them."""

import pytest

pytest.importorskip("torch")

from hal.errors import ConfigError, UnknownNameError  # noqa: E402
from hal_trainers.snn import StraightThrough, SuperSpike, estimator  # noqa: E402


def test_estimators_by_name():
    assert estimator("superspike", steepness=1.5) == SuperSpike(1.5)
    assert estimator("straight_through") == StraightThrough()


def test_an_unknown_estimator_lists_the_known_ones():
    with pytest.raises(UnknownNameError, match="superspike"):
        estimator("superspik")


def test_a_bad_option_or_value_is_named():
    with pytest.raises(ConfigError, match="slope"):
        estimator("superspike", slope=2.0)
    with pytest.raises(ConfigError, match="-1"):
        SuperSpike(-1.0)
