"""run_trial refuses settings it does not know, naming them and the valid ones."""

import pytest

torch = pytest.importorskip("torch")

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
    ("excitatory_divisor", 0, "integers 1..15"),
    ("excitatory_divisor", 16, "integers 1..15"),
    ("excitatory_divisor", 2.0, "integers 1..15"),
    ("latency_tau_ms", 0.0, "finite numbers > 0"),
    ("latency_tau_ms", float("nan"), "finite numbers > 0"),
    ("latency_from_brightest", 1, "True or False"),
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


@pytest.mark.parametrize("divisor", [0, 16, 2.0, True, "2"])
def test_build_model_refuses_an_excitatory_divisor_no_row_has(divisor):
    from hal.errors import ConfigValueError
    from hal_trainers.cramer2020.trial import build_model

    with pytest.raises(ConfigValueError, match=rf"build_model\.excitatory_divisor: {divisor!r} out of range; valid integers 1\.\.15"):
        build_model(16, 3, hidden=8, excitatory_divisor=divisor)


def test_the_excitatory_divisor_makes_a_weight_step_excite_that_many_times_less_than_it_inhibits_on_the_chip():
    import hal
    from hal_trainers.cramer2020.trial import build_model
    from hal_trainers.snn import MappedModel

    units = {}
    for divisor in (1, 3):
        twin = MappedModel(build_model(16, 3, hidden=8, excitatory_divisor=divisor), hal.get_backend("reference", wafer=0), wafer=0).twin
        units[divisor] = twin
        for e, i in zip(twin.unit_e, twin.unit_i):  # as the mapping realised the rows' gmax divisors
            assert torch.allclose(e * divisor, i, rtol=1e-6)
    for j in range(2):  # the inhibitory rows keep the network's scale
        assert torch.equal(units[3].unit_i[j], units[1].unit_i[j])


def test_divisor_1_leaves_the_scales_to_the_network_as_before():
    from hal_trainers.cramer2020.trial import build_model

    net, _ = build_model(16, 3, hidden=8).network()
    assert all(p.ns_per_weight_bit is None for p in net.projections)  # the same network, so the same registers, as before the option


def test_build_model_hands_the_latency_settings_to_the_input_code():
    from hal_trainers.cramer2020.trial import DEFAULTS, build_model

    default = build_model(16, 3, hidden=8).coding
    assert (default.tau_ms, default.from_brightest) == (DEFAULTS["latency_tau_ms"], DEFAULTS["latency_from_brightest"])
    coding = build_model(16, 3, hidden=8, latency_tau_ms=8.0, latency_from_brightest=True).coding
    assert (coding.tau_ms, coding.from_brightest) == (8.0, True)
