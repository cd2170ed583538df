"""The rate-based estimator (Schmitt et al. 2017) on the trainer API: its gradient is the paper's rule, it trains a
rate-coded network in the loop, and what it cannot train is refused before anything runs.

Training tests: a 64-32-10 network of LIF layers, Poisson-coded digits (30 ms at up to 300 Hz, dt 1 ms), the
cross-entropy cost, trained in the loop from its initial weights on 120 training images, batch 40. Measured when
written (training accuracy on those images, before -> after 3 steps): reference 0.075 -> 0.308, noisy
0.083 -> 0.358. The slow version trains 15 steps of 50 on 300 images and tests on the 359 test images.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the trainer API needs torch (pip install -e '.[train]')")

from hypothesis import given, settings, strategies as st  # noqa: E402
from hypothesis.extra.numpy import arrays  # noqa: E402

import hal  # noqa: E402
from hal.errors import ConfigError, ConfigValueError, UnknownNameError  # noqa: E402
from hal.testing.fakes import RecordingBackend  # noqa: E402
from hal_trainers.snn import (LIF, LatencyCoding, LeakyIntegrator, MappedModel, PoissonCoding, Projection, RateBased,  # noqa: E402
                              SpikingModel, Trainer, estimator)
from hal_trainers.snn.twin import Measured  # noqa: E402

pytestmark = pytest.mark.needs_torch

#: The training tests' backends: the ideal chip and the noisy one, at the reproduction's 0.1 ms step.
BACKEND_OPTIONS = {"reference": {"dt_ms": 0.1}, "noisy": {"dt_ms": 0.1}}


def rate_model(seed: int = 0, coding=None, readout=None, recurrent: bool = False) -> SpikingModel:
    coding = coding or PoissonCoding(64, max_rate_hz=300.0, window_ms=30.0)
    return SpikingModel(coding,
                        Projection(64, 32, init_mean=1.0, init_std=3.0, seed=seed),
                        LIF(32, recurrent=Projection(32, 32, seed=seed + 2) if recurrent else None),
                        Projection(32, 10, init_mean=0.5, init_std=3.0, seed=seed + 1), readout or LIF(10), dt_ms=1.0)


# -- the gradient ------------------------------------------------------------------------------------


def _matrix(rows, cols, lo=-16, hi=16):
    # Multiples of 1/8: every sum and product is exact, so a pre-activation of exactly 0 is 0 in both computations.
    return arrays(np.float64, (rows, cols), elements=st.integers(lo, hi).map(lambda k: k / 8))


@settings(max_examples=25, deadline=None)
@given(x=_matrix(4, 3, 0, 8), w1=_matrix(5, 3), w2=_matrix(2, 5), r1=arrays(np.float64, (4, 5), elements=st.integers(0, 90).map(float)),
       r2=arrays(np.float64, (4, 2), elements=st.integers(0, 90).map(float)), labels=arrays(np.int64, 4, elements=st.integers(0, 1)),
       leak=st.sampled_from([0.0, 0.125, 0.5]))  # exact in float32, the precision of the derivative's constants
def test_the_gradient_of_a_two_layer_rate_model_is_the_papers_rule(x, w1, w2, r1, r2, labels, leak):
    est = RateBased(rate_scale_hz=32.0, leak=leak)  # a power of two: a1 = r1 / 32 exact, z2 = 0 exactly where it should be
    w = [torch.tensor(m, requires_grad=True) for m in (w1, w2)]
    out = est.activations(torch.tensor(x), w, [torch.tensor(r1), torch.tensor(r2)])
    # Forward: the measured rates per 32 Hz, whatever the weights.
    np.testing.assert_array_equal(out.detach().numpy(), r2 / 32.0)
    cost = est.squared_error(out, torch.tensor(labels))
    g1, g2 = torch.autograd.grad(cost, w)
    # By hand: the ReLU network's backpropagation with measured activations a1 = r1 / 32, a2 = r2 / 32 and the
    # pre-activations z computed from the measured activations of the layer before.
    a1, a2 = r1 / 32.0, r2 / 32.0
    relu_prime = lambda z: np.where(z > 0, 1.0, leak)  # noqa: E731
    target = np.eye(2)[labels]
    delta2 = 2 * (a2 - target) / 2 * relu_prime(a1 @ w2.T)
    delta1 = (delta2 @ w2) * relu_prime(x @ w1.T)
    np.testing.assert_allclose(g2.numpy(), delta2.T @ a1, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(g1.numpy(), delta1.T @ x, rtol=1e-12, atol=1e-12)


def test_the_response_is_the_measured_rates_and_the_cost_is_per_sample():
    model = rate_model()
    est = RateBased(rate_scale_hz=20.0)
    twin = MappedModel(model, RecordingBackend()).twin
    x = np.random.default_rng(0).random((3, 64))
    grid = torch.zeros(3, model.steps, 64)
    spikes = tuple(torch.zeros(3, model.steps, n) for n in (32, 10))
    spikes[1][0, :12, 4] = 1.0  # sample 0, label neuron 4: 12 spikes in the run
    out = est.response(model, twin, grid, Measured(spikes, ()), x=x)
    rate_hz = 12 / (model.duration_ms * 1e-3)
    assert out.logits.shape == (3, 10)
    assert out.logits[0, 4].item() == pytest.approx(rate_hz / 20.0)
    assert out.logits.detach().abs().sum().item() == pytest.approx(rate_hz / 20.0)
    assert out.logits.requires_grad  # the gradient reaches the weights through the ReLU chain
    labels = [4, 0, 1]
    a = out.logits.detach().numpy()
    expected = ((a - np.eye(10)[labels]) ** 2).sum() / 10 / 3
    assert est.loss(out, labels).item() == pytest.approx(expected)
    ce = RateBased(rate_scale_hz=20.0, cost="cross_entropy")
    assert ce.loss(out, labels).item() == pytest.approx(torch.nn.functional.cross_entropy(out.logits, torch.tensor(labels)).item())


# -- bad options and models ----------------------------------------------------------------------------


@pytest.mark.parametrize("options, field, value, valid", [
    ({"rate_scale_hz": 0.0}, "rate_scale_hz", "0.0", "> 0"),
    ({"rate_scale_hz": float("nan")}, "rate_scale_hz", "nan", "finite"),
    ({"leak": 1.5}, "leak", "1.5", "0..1"),
    ({"leak": -0.1}, "leak", "-0.1", "0..1"),
    ({"cost": "mse"}, "cost", "'mse'", "squared_error, cross_entropy"),
])
def test_bad_options_are_typed_errors_naming_field_value_and_range(options, field, value, valid):
    with pytest.raises(ConfigValueError) as info:
        RateBased(**options)
    message = str(info.value)
    assert f"RateBased.{field}" in message and value in message and valid in message
    assert "\n" not in message


def test_the_estimator_by_name():
    assert estimator("rate", leak=0.0, rate_scale_hz=25.0) == RateBased(25.0, 0.0)
    with pytest.raises(ConfigError, match="'rate'.*leek"):
        estimator("rate", leek=0.0)
    with pytest.raises(UnknownNameError, match="rate"):
        estimator("rates")


@pytest.mark.parametrize("model, words", [
    (lambda: rate_model(coding=LatencyCoding(64)), ["LatencyCoding", "not a rate code", "PoissonCoding, StepRateCoding"]),
    (lambda: rate_model(readout=LeakyIntegrator(10)), ["'layer2'", "LeakyIntegrator", "spiking LIF layers only"]),
    (lambda: rate_model(recurrent=True), ["'layer1'", "recurrent projection"]),
])
def test_a_model_it_cannot_train_is_refused_before_the_backend_runs(model, words):
    model = model()
    backend = RecordingBackend()
    mapped = MappedModel(model, backend)
    before = [p.bits().copy() for p in model.all_projections()]
    trainer = Trainer(model, estimator=RateBased())
    x = np.full((4, 64), 0.5)
    for target in (mapped, mapped.twin):
        with pytest.raises(ConfigError) as info:
            trainer.fit(target, x, np.arange(4))
        assert all(w in str(info.value) for w in words), str(info.value)
    assert all(np.array_equal(b, p.bits()) for b, p in zip(before, model.all_projections()))
    assert backend.requests == []  # refused before anything ran


# -- training ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def images():
    pytest.importorskip("sklearn", reason="the digits10 data set needs scikit-learn")
    from hal_trainers.datasets import load_dataset

    return load_dataset("digits10")


def _train(backend: str, images, steps: int, n: int = 120, batch: int = 40):
    model = rate_model()
    mapped = MappedModel(model, hal.get_backend(backend, **BACKEND_OPTIONS[backend]))
    trainer = Trainer(model, estimator=RateBased(rate_scale_hz=15.0, cost="cross_entropy"), learning_rate=0.3, batch_size=batch)
    x, y = np.asarray(images.x_train[:n]), np.asarray(images.y_train[:n])
    before = trainer.evaluate(mapped, x, y).accuracy
    curve = trainer.fit(mapped, x, y, epochs=steps * batch / n)
    return model, mapped, trainer, before, trainer.evaluate(mapped, x, y).accuracy, curve


@pytest.mark.parametrize("backend", ["reference", "noisy"])
def test_trains_in_the_loop(backend, images):
    _, mapped, _, before, after, curve = _train(backend, images, steps=3)
    assert len(curve) == 3 and all(np.isfinite(c["loss"]) for c in curve)
    assert before < 0.2 and after >= before + 0.1, (before, after)
    # The trained weights are what the backend holds.
    assert mapped.write_weights() == 0


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["reference", "noisy"])
def test_trains_in_the_loop_longer(backend, images):
    _, mapped, trainer, before, after, _ = _train(backend, images, steps=15, n=300, batch=50)
    test = trainer.evaluate(mapped, images.x_test, images.y_test).accuracy
    assert after >= 0.5 and test >= 0.4, (before, after, test)
