"""The twin built from the mapping and the ``reference`` backend (the ideal chip) agree for the same weights.

Measured when written, on the first 200 digits10 test images with the weights of the ``pretrained``
fixture (12 twin steps): twin 51.0 %, reference 50.5 %, 99.5 % of the images in the same class,
99.6 % of the (image, hidden neuron) spike counts equal, 6.02 vs 6.11 hidden spikes per image,
confusion matrices 2 counts apart; the measured readout membranes differ from the twin's by
0.03 mV on average. (All 359 images: 52.6 / 52.1 %, 98.9 % the same class. After 24 twin steps:
70.2 / 69.1 %, 97.2 % the same class, 99.0 % equal counts.)
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the trainer API needs torch (pip install -e '.[train]')")

import hal  # noqa: E402
from hal_trainers.snn import Evaluation, MappedModel, Trainer  # noqa: E402

pytestmark = pytest.mark.needs_torch

#: Test images compared (of 359): the reference's cost is mostly per run, not per image.
N_TEST = 200


@pytest.fixture(scope="module")
def on_reference(build_model, pretrained):
    model = build_model()
    model.load_state_dict(pretrained)
    return MappedModel(model, hal.get_backend("reference"))


@pytest.fixture(scope="module")
def responses(on_reference, digits, fast):
    """The twin's and the reference's response to the test images, and both evaluations."""
    trainer = Trainer(on_reference.model, **fast)
    x, y = np.asarray(digits.x_test[:N_TEST]), np.asarray(digits.y_test[:N_TEST])
    twin_out, _ = trainer.forward(on_reference.twin, x, seed=7, train=False)
    chip_out, info = trainer.forward(on_reference, x, seed=7, train=False)
    return {"twin": twin_out, "chip": chip_out, "info": info, "y": y,
            "twin_eval": trainer.evaluate(on_reference.twin, x, y), "chip_eval": trainer.evaluate(on_reference, x, y)}


def test_twin_and_reference_classify_alike(responses):
    twin, chip, y = responses["twin"], responses["chip"], responses["y"]
    p_twin, p_chip = twin.logits.argmax(1).numpy(), chip.logits.argmax(1).numpy()
    assert (p_twin == y).mean() > 0.4  # trained well above chance (0.1); measured 0.51
    assert (p_twin == p_chip).mean() >= 0.93  # measured 0.995
    assert abs((p_twin == y).mean() - (p_chip == y).mean()) <= 0.04  # measured 0.005


def test_twin_and_reference_spike_alike(responses):
    twin, chip = responses["twin"], responses["chip"]
    counts_twin, counts_chip = twin.spikes[0].sum(1), chip.spikes[0].sum(1)
    assert float(counts_chip.sum()) > 2 * len(responses["y"])  # measured 6.1 per image
    assert float((counts_twin == counts_chip).float().mean()) >= 0.97  # measured 0.996
    assert abs(float(counts_twin.sum() / counts_chip.sum()) - 1) < 0.06  # measured 1.5 %
    assert responses["info"]["lost_events"] == 0


def test_measured_readout_membranes_are_the_twins(on_reference, responses):
    assert on_reference.scheme == "membrane" and on_reference.readout_source == "measured membrane"
    twin, chip = responses["twin"], responses["chip"]
    assert chip.v[-1].shape == twin.v[-1].shape == (len(responses["y"]), on_reference.model.steps, 10)
    assert float((chip.v[-1] - twin.v[-1]).abs().mean()) < 0.3  # mV; measured 0.03


def test_evaluations_on_twin_and_chip(responses):
    n = len(responses["y"])
    assert n == N_TEST
    for key, where in (("twin_eval", "twin (mapping)"), ("chip_eval", "backend reference (membrane scheme)")):
        ev = responses[key]
        assert isinstance(ev, Evaluation)
        assert ev.on == where
        assert ev.samples == n and ev.confusion.shape == (10, 10)
        assert ev.confusion.sum() == n
        np.testing.assert_array_equal(ev.confusion.sum(axis=1), np.bincount(responses["y"], minlength=10))
        assert ev.accuracy == np.trace(ev.confusion) / n
        assert ev.samples_per_s > 0
        assert ev.as_dict()["confusion"] == ev.confusion.tolist()
    a, b = responses["twin_eval"], responses["chip_eval"]
    assert abs(a.accuracy - b.accuracy) <= 0.04
    assert abs(a.hidden_spikes_per_sample / b.hidden_spikes_per_sample - 1) < 0.06
    assert np.abs(a.confusion - b.confusion).sum() <= 0.1 * n  # measured 2 of 200


def test_the_loop_sees_the_crossing_at_a_measured_spike(on_reference, digits):
    """A sampled membrane shows the reset at a spike's step; the twin's replaced membrane shows the
    crossing there (>= V_th), so the surrogate derivative at a measured spike is at its peak."""
    from hal_trainers.snn import SuperSpike, simulate

    measured, grid, _ = on_reference.run(digits.x_test[:50], seed=3)
    spikes, v = measured.spikes[0], measured.v[0]
    assert spikes.sum() > 100
    v_th = on_reference.twin.neurons[0].v_th_mv.expand_as(v)
    assert float(torch.median(v[spikes > 0] - v_th[spikes > 0])) < -5  # the measurement: reset
    out = simulate(on_reference.model, on_reference.twin, grid, spike_fn=SuperSpike(2.0).spike_fn(), measured=measured)
    assert torch.equal(out.spikes[0], spikes)
    assert float((out.v[0].detach()[spikes > 0] - v_th[spikes > 0]).min()) >= 0
    quiet = spikes == 0
    assert torch.equal(out.v[0][quiet], v[quiet])
