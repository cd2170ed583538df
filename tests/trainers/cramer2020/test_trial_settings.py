"""run_trial refuses settings it does not know, naming them and the valid ones."""

import re

import numpy as np
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
    ("itl_lr_schedule", "step", "one of constant, cosine"),
    ("excitatory_divisor", 0, "integers 1..15"),
    ("excitatory_divisor", 16, "integers 1..15"),
    ("excitatory_divisor", 2.0, "integers 1..15"),
    ("latency_tau_ms", 0.0, "finite numbers > 0"),
    ("latency_tau_ms", float("nan"), "finite numbers > 0"),
    ("latency_from_brightest", 1, "True or False"),
    ("readout_divisor", 16, "integers 1..15"),
    ("fine_divisor", 1, "None or integers 2..15 (the fine rows' gmax divisor)"),
    ("fine_divisor", 16, "None or integers 2..15 (the fine rows' gmax divisor)"),
    ("circuits_per_neuron", 3, "one of 1, 2, 4, 8, 16, 32, 64"),
    ("input_dropout", 1.0, "probabilities 0 <= p < 1"),
    ("input_dropout", -0.5, "probabilities 0 <= p < 1"),
    ("hidden_dropout", 1.0, "probabilities 0 <= p < 1"),
    ("label_smoothing", 1.0, "probabilities 0 <= p < 1"),
    ("e_rev_i_mv", -95.0, "-90..0 mV (the chip's voltage range)"),
    ("e_l_mv", float("nan"), "-90..0 mV (the chip's voltage range)"),
    ("v_th_mv", 5.0, "-90..0 mV (the chip's voltage range)"),
    ("tau_m_ms", 2.0, "5.41..503.3 ms (what the chip's calibrated range reaches)"),
    ("readout_tau_m_ms", float("nan"), "5.41..503.3 ms (what the chip's calibrated range reaches)"),
    ("tau_syn_ms", 20.0, "1.3..15.1 ms (what the chip's calibrated range reaches)"),
    ("tau_syn_ms", "5", "1.3..15.1 ms (what the chip's calibrated range reaches)"),
    ("augment_distortion", {"rotate_deg": 90}, "None or a dict of rotate_deg, scale, shift_px, elastic_px, elastic_sigma_px (Distortion.rotate_deg: 90 out of range"),
    ("augment_distortion", {"shift": 1}, "None or a dict of rotate_deg, scale, shift_px, elastic_px, elastic_sigma_px (unknown Distortion field 'shift'"),
    ("augment_distortion", 0.5, "None or a dict of rotate_deg, scale, shift_px, elastic_px, elastic_sigma_px"),
])
def test_reproduce_refuses_bad_regularisation_settings_before_any_work(tmp_path, setting, value, valid):
    from hal.errors import ConfigValueError
    from hal_trainers.cramer2020.reproduce import reproduce

    out = tmp_path / "out"
    with pytest.raises(ConfigValueError, match=rf"reproduce cramer2020\.{setting}: {re.escape(repr(value))} out of range; valid {re.escape(valid)}"):
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


def test_reproduce_refuses_a_threshold_at_or_below_rest_before_any_work(tmp_path):
    from hal.errors import ConfigValueError
    from hal_trainers.cramer2020.reproduce import reproduce

    out = tmp_path / "out"
    with pytest.raises(ConfigValueError, match=r"reproduce cramer2020\.v_th_mv: -60\.0 out of range; valid voltages above e_l_mv -55\.0 mV"):
        reproduce(dataset="digits10", trials=1, out=str(out), e_l_mv=-55.0, v_th_mv=-60.0)
    assert not out.exists()


def test_the_voltage_settings_reach_the_neurons_the_chip_realises():
    import hal
    from hal_trainers.cramer2020.trial import build_model
    from hal_trainers.snn import MappedModel

    model = build_model(16, 3, hidden=8, e_l_mv=-55.0, v_th_mv=-40.0, e_rev_i_mv=-88.0)
    hidden, readout = model.layers
    assert (hidden.params.e_l_mv, hidden.params.v_reset_mv, hidden.params.v_th_mv, hidden.params.e_rev_i_mv) == (-55.0, -55.0, -40.0, -88.0)
    assert readout.params.v_th_mv == readout.params.e_rev_e_mv and readout.params.e_rev_i_mv == -88.0
    twin = MappedModel(model, hal.get_backend("reference", wafer=0), wafer=0).twin
    for neurons in twin.neurons:  # read back from the mapped configuration: within a DAC step (1.8 V / 1023 / 20 = 0.09 mV)
        assert torch.allclose(neurons.e_l_mv, torch.tensor(-55.0, dtype=neurons.e_l_mv.dtype), atol=0.1)
        assert torch.allclose(neurons.e_rev_i_mv, torch.tensor(-88.0, dtype=neurons.e_rev_i_mv.dtype), atol=0.1)
    assert torch.allclose(twin.neurons[0].v_th_mv, torch.tensor(-40.0, dtype=twin.neurons[0].v_th_mv.dtype), atol=0.1)


def test_the_time_constant_settings_reach_the_neurons_the_chip_realises():
    import hal
    from hal_trainers.cramer2020.trial import build_model
    from hal_trainers.snn import MappedModel

    model = build_model(16, 3, hidden=8, tau_m_ms=20.0, tau_syn_ms=8.0, readout_tau_m_ms=30.0)
    hidden, readout = model.layers
    assert (hidden.params.tau_m_ms, hidden.params.tau_syn_e_ms, hidden.params.tau_syn_i_ms) == (20.0, 8.0, 8.0)
    assert (readout.params.tau_m_ms, readout.params.tau_syn_e_ms, readout.params.tau_syn_i_ms) == (30.0, 8.0, 8.0)
    twin = MappedModel(model, hal.get_backend("reference", wafer=0), wafer=0).twin
    for neurons, tau_m in zip(twin.neurons, (20.0, 30.0)):  # read back from the mapped configuration, within 1 %
        np.testing.assert_allclose((neurons.c_m_pf / neurons.g_l_ns).numpy(), tau_m, rtol=0.01)
        np.testing.assert_allclose(neurons.tau_syn_e_ms.numpy(), 8.0, rtol=0.01)
        np.testing.assert_allclose(neurons.tau_syn_i_ms.numpy(), 8.0, rtol=0.01)


def test_the_readout_divisor_makes_the_readout_weight_step_that_many_times_finer_on_the_chip():
    import hal
    from hal_trainers.cramer2020.trial import build_model
    from hal_trainers.snn import MappedModel

    plain = MappedModel(build_model(16, 3, hidden=8), hal.get_backend("reference", wafer=0), wafer=0).twin
    finer = MappedModel(build_model(16, 3, hidden=8, readout_divisor=3), hal.get_backend("reference", wafer=0), wafer=0).twin
    assert torch.equal(finer.unit_e[0], plain.unit_e[0]) and torch.equal(finer.unit_i[0], plain.unit_i[0])  # hidden unchanged
    for sign in ("unit_e", "unit_i"):  # both signs of the readout projection, as the mapping realised them
        assert torch.allclose(getattr(finer, sign)[1] * 3, getattr(plain, sign)[1], rtol=1e-6)


@pytest.mark.parametrize("readout, excitatory, message", [
    (0, 1, r"build_model\.readout_divisor: 0 out of range; valid integers 1\.\.15"),
    (2.0, 1, r"build_model\.readout_divisor: 2\.0 out of range; valid integers 1\.\.15"),
    (8, 2, r"build_model\.readout_divisor: 8 out of range; valid integers with excitatory_divisor x readout_divisor <= 15 "
           r"\(here excitatory_divisor 2\)"),
])
def test_build_model_refuses_a_readout_divisor_no_row_has(readout, excitatory, message):
    from hal.errors import ConfigValueError
    from hal_trainers.cramer2020.trial import build_model

    with pytest.raises(ConfigValueError, match=message):
        build_model(16, 3, hidden=8, readout_divisor=readout, excitatory_divisor=excitatory)


@pytest.mark.parametrize("schedule", ["constant", "cosine"])
def test_the_in_the_loop_phase_trains_with_its_own_schedule(monkeypatch, schedule):
    from hal_trainers.cramer2020 import trial
    from hal_trainers.snn.augment import Distortion

    made = []

    class Recording(trial.Trainer):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(trial, "Trainer", Recording)
    run_trial(load_dataset("digits10"), backend="reference", test_subset=20, hidden=8, mock_epochs=0.05, itl_epochs=0.05,
              itl_lr_schedule=schedule, label_smoothing=0.05, augment_distortion={"rotate_deg": 6, "shift_px": 0.5})
    mock, itl = made
    assert mock.lr_schedule == trial.DEFAULTS["lr_schedule"]  # the mock phase keeps its own
    assert itl.lr_schedule == schedule and itl.learning_rate == trial.DEFAULTS["itl_learning_rate"]
    assert mock.label_smoothing == itl.label_smoothing == 0.05  # one loss for both phases
    assert mock.augment_distortion == itl.augment_distortion == Distortion(rotate_deg=6, shift_px=0.5)  # and one distortion


def test_fine_rows_and_larger_neurons_widen_the_trial_mapping():
    from hal.mapping.hicanns import DEFAULT_CHAIN
    from hal_trainers.cramer2020.trial import DEFAULTS, WIDE_HICANNS, build_model, mapping_options, model_settings

    plain = mapping_options({**DEFAULTS, "fine_divisor": None, "circuits_per_neuron": 4})
    assert plain.circuits_per_neuron == 4 and plain.hicanns == DEFAULT_CHAIN and plain.allow_loss
    wide = mapping_options({**DEFAULTS, "fine_divisor": 15, "circuits_per_neuron": 16})
    assert wide.circuits_per_neuron == 16 and len(wide.hicanns) == WIDE_HICANNS
    assert (DEFAULTS["fine_divisor"], DEFAULTS["circuits_per_neuron"]) == (15, 8)
    assert mapping_options(DEFAULTS).circuits_per_neuron == 8
    model = build_model(256, 10, **model_settings(DEFAULTS))
    assert [p.fine_divisor for p in model.projections] == [15, 15]
