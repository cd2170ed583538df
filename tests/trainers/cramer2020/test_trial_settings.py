"""run_trial refuses settings it does not know, naming them and the valid ones."""

import pytest

pytest.importorskip("torch")

from hal.errors import ConfigError  # noqa: E402
from hal_trainers.cramer2020.trial import run_trial  # noqa: E402
from hal_trainers.datasets import load_dataset  # noqa: E402


def test_an_unknown_setting_is_refused_before_any_work():
    with pytest.raises(ConfigError, match=r"unknown setting\(s\) hiden; valid .*hidden"):
        run_trial(load_dataset("digits10"), backend="reference", hiden=16)


@pytest.mark.parametrize("setting, value, valid", [
    ("augment_shift", -1, "integers >= 0"),
    ("augment_shift", 1.5, "integers >= 0"),
    ("weight_decay", -0.01, "finite numbers >= 0"),
    ("weight_decay", float("inf"), "finite numbers >= 0"),
    ("lr_schedule", "linear", "one of constant, cosine"),
])
def test_reproduce_refuses_bad_regularisation_settings_before_any_work(tmp_path, setting, value, valid):
    from hal.errors import ConfigValueError
    from hal_trainers.cramer2020.reproduce import reproduce

    out = tmp_path / "out"
    with pytest.raises(ConfigValueError, match=rf"reproduce cramer2020\.{setting}: {value!r} out of range; valid {valid}".replace("(", r"\(")):
        reproduce(dataset="digits10", trials=1, out=str(out), **{setting: value})
    assert not out.exists()  # refused before the output folder is made


def test_the_trial_defaults_carry_the_regularisation_and_the_trainer_takes_them():
    from hal_trainers.cramer2020.trial import DEFAULTS, build_model
    from hal_trainers.snn import Trainer

    trainer = Trainer(build_model(256, 10), augment_shift=DEFAULTS["augment_shift"], lr_schedule=DEFAULTS["lr_schedule"],
                      weight_decay=DEFAULTS["weight_decay"])
    assert trainer.augment_shift == DEFAULTS["augment_shift"] and trainer.lr_schedule == DEFAULTS["lr_schedule"]
