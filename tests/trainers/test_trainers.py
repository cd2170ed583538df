"""Trainers: the software model learns, conversion is as documented, in-the-loop steps follow the gradient."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="trainers need torch (pip install torch==2.13.0)")
pytest.importorskip("sklearn", reason="the digits dataset needs scikit-learn")

import hal  # noqa: E402
from hal.errors import ConfigError, ConfigValueError, UnknownPluginError  # noqa: E402
from hal_plugins.emulator.kernel import kernel_available  # noqa: E402
from hal_trainers.ann import ANNResult, ANNTrainer, initial_weights, silent_label_units  # noqa: E402
from hal_trainers.conversion import SpikingNetwork, pixel_rates, quantize  # noqa: E402
from hal_trainers.datasets import load_digits  # noqa: E402
from hal_trainers.in_the_loop import InTheLoopTrainer  # noqa: E402

needs_kernel = pytest.mark.skipif(not kernel_available(), reason="emulator kernel not built (pip install -e .)")


@pytest.fixture(scope="module")
def digits():
    return load_digits()


@pytest.fixture(scope="module")
def trained(digits):
    return ANNTrainer(steps=2000, eval_every=2000, seed=0).fit(digits)


def test_software_model_learns_and_is_deterministic(digits, trained):
    assert trained.test_accuracy > 0.9  # chance is 0.2
    again = ANNTrainer(steps=2000, eval_every=2000, seed=0).fit(digits)
    assert all(np.array_equal(a, b) for a, b in zip(trained.weights, again.weights))
    assert all(np.abs(w).max() <= 1.0 for w in trained.weights)


def test_silent_label_units_are_found(digits, trained):
    assert silent_label_units(trained.weights, digits.x_train) == []
    dead = [w.copy() for w in trained.weights]
    dead[-1][3] = -1.0  # only inhibition from a non-negative layer: label unit 3 never fires
    assert silent_label_units(dead, digits.x_train) == [3]


def test_a_trial_redraws_a_software_model_with_a_silent_label_unit(digits, trained, monkeypatch):
    import hal_trainers.schmitt2017.trial as S

    seeds = []

    def fit(self, dataset):
        seeds.append(self.seed)
        weights = [w.copy() for w in trained.weights]
        if len(seeds) == 1:
            weights[-1][2] = -1.0
        return ANNResult(weights, 0.0, 0.0, np.zeros((0, 3)), self.seed)

    monkeypatch.setattr(S.ANNTrainer, "fit", fit)
    ann, redraws = S._software_model(digits, 5, 10, lambda message: None)
    assert redraws == 1 and seeds == [5, 5 + 1_000_003]
    assert silent_label_units(ann.weights, digits.x_train) == []


def test_initial_weights_are_truncated_normal():
    w = initial_weights((100, 15, 15, 5), np.random.default_rng(0))
    assert [m.shape for m in w] == [(15, 100), (15, 15), (5, 15)]
    for m, n_pre in zip(w, (100, 15, 15)):
        assert np.abs(m).max() <= 2 / np.sqrt(n_pre)
    big = initial_weights((400, 2000), np.random.default_rng(1))[0]
    assert np.std(big) == pytest.approx(0.88 / np.sqrt(400), rel=0.05)  # std of a normal truncated at 2 sigma


@pytest.mark.parametrize("value", [-0.1, float("nan"), float("inf"), "0.1"])
def test_software_weight_noise_must_be_a_finite_number_at_least_zero(value):
    with pytest.raises(ConfigValueError) as info:
        ANNTrainer(weight_noise=value)
    assert str(info.value) == f"ANNTrainer.weight_noise: {value!r} out of range; valid a finite number >= 0"


def test_conversion_rules():
    w = [np.array([[0.5, -0.2, 1.2, -1.0, 0.0333]])]
    assert quantize(w)[0].tolist() == [[8.0, -3.0, 15.0, -15.0, 0.0]]
    x = np.array([[0.0, 1.0, 3.0], [0.0, 0.0, 0.0]])
    rates = pixel_rates(x)
    assert rates[0].tolist() == [0.0, 625.0, 1875.0] and rates[1].sum() == 0
    with pytest.raises(ConfigError, match="expected \\(n, pixels\\)"):
        pixel_rates(np.ones(3))


def test_converted_network_holds_the_4bit_weights_in_its_registers(trained):
    net = SpikingNetwork(hal.get_backend("reference"), quantize(trained.weights))
    q = quantize(trained.weights)
    for k in range(3):
        for j, sign in ((1 + 2 * k, 1), (2 + 2 * k, -1)):
            hic, row, col = net.mapping.synapse_location[j]
            proj = net.network.projections[j]
            pre, post = proj.edges(net.network.size(proj.pre), net.network.size(proj.post))
            stored = np.array([net.config.hicann(hal.coordinates.HICANNOnWafer(int(h))).weights[r, c] for h, r, c in zip(hic, row, col)])
            expected = np.where(sign * q[k][post, pre] > 0, np.abs(q[k][post, pre]), 0)
            assert np.array_equal(stored, expected)


@needs_kernel
@pytest.mark.parametrize("leak", [0.0, 0.1])
def test_in_the_loop_step_follows_the_gradient_and_writes_only_weights(digits, trained, leak):
    backend = hal.get_backend("emulator", wafer=3)
    net = SpikingNetwork(backend, quantize(trained.weights))
    predicted, rates = net.classify(digits.x_test[:60])
    assert predicted.shape == (60,) and set(rates) >= {"input", "hidden1", "hidden2", "label", "lost_events"}
    before = len(backend.write_log)
    trainer = InTheLoopTrainer(backend, batch_size=150, steps=1, leak=leak)
    result = trainer.fit(digits, trained.weights, network=net)
    written = {w.register for w in backend.write_log[before:]}
    assert written <= {"synapse_weight"}, written
    # The step is -eta x the gradient of the software model's cost with the *measured* activities forward
    # and the ReLU derivative of the model's own pre-activations backward, ``leak`` below zero
    # (computed here by hand).
    rng = np.random.default_rng([0, 0])
    idx = rng.choice(len(digits.x_train), size=150, replace=False)
    x, labels = digits.x_train[idx].astype(float), digits.y_train[idx]
    probe = SpikingNetwork(hal.get_backend("emulator", wafer=3), quantize(trained.weights), seed=0)
    rates = probe.run(x)  # the trainer's step 0 uses seed 0 * 7919 + 0 = 0: the same spikes
    m = [rates[k] / 30.0 for k in ("hidden1", "hidden2", "label")]
    w = trained.weights
    acts = [x, *m]
    delta = 2 * (m[2] - np.eye(5)[labels]) / 5
    grads = [None] * 3
    for k in (2, 1, 0):
        z = acts[k] @ w[k].T
        delta = delta * np.where(z > 0, 1.0, leak)
        grads[k] = delta.T @ acts[k] + 0.001 * w[k]
        delta = delta @ w[k]
    for k in range(3):
        step = np.clip(0.05 * grads[k] / 150 * trainer.gradient_samples, -trainer.max_step, trainer.max_step)
        expected = np.clip(w[k] - step, -1, 1)
        assert np.allclose(result.weights[k], expected, atol=1e-9)


@needs_kernel
def test_a_silenced_label_unit_gets_a_gradient_only_with_a_leak(digits, trained):
    # Label unit 2 with all-negative weights never fires: with the paper's ReLU derivative its
    # weights get no gradient and it stays silent for good; the leak lets its images pull it up.
    weights = [w.copy() for w in trained.weights]
    weights[2][2] = -1.0

    def after_one_step(leak):
        backend = hal.get_backend("emulator", wafer=3)
        return InTheLoopTrainer(backend, batch_size=150, steps=1, leak=leak).fit(digits, weights).weights[2][2]

    paper, leaky = after_one_step(0.0), after_one_step(0.1)
    assert np.allclose(paper, weights[2][2] * (1 - 0.05 * 0.001 * 10 / 150), rtol=0, atol=1e-12)  # only the l2 decay
    assert (leaky >= paper - 1e-12).all() and leaky.mean() > paper.mean() + 5e-4  # pulled up, never pushed down


@needs_kernel
def test_linear_schedule_shrinks_the_steps_to_zero(digits, trained):
    # Step k of n moves each weight by at most (1 - k/n) x max_step: the first step is the
    # constant schedule's, the second of two at most half a trust region.
    def fit(steps, schedule):
        backend = hal.get_backend("emulator", wafer=3)
        return InTheLoopTrainer(backend, batch_size=150, steps=steps, schedule=schedule).fit(digits, trained.weights).weights

    first = fit(1, "constant")
    linear, constant = fit(2, "linear"), fit(2, "constant")
    limit = InTheLoopTrainer(None).max_step
    assert max(np.abs(b - a).max() for a, b in zip(first, linear)) <= limit / 2 + 1e-12
    assert max(np.abs(b - a).max() for a, b in zip(first, constant)) > limit / 2


@needs_kernel
def test_in_the_loop_improves_a_badly_converted_network(digits, trained):
    backend = hal.get_backend("emulator", wafer=3)
    net = SpikingNetwork(backend, quantize(trained.weights))
    converted = net.accuracy(digits.x_test[:150], digits.y_test[:150])
    trainer = InTheLoopTrainer(backend, batch_size=300, steps=8, seed=1)
    result = trainer.fit(digits, trained.weights, network=net, test_subset=150)
    assert result.test_accuracy > converted + 0.1, (converted, result.test_accuracy, [c["train_accuracy"] for c in result.curve])


def test_bad_inputs():
    with pytest.raises(UnknownPluginError, match="unknown backend 'nope'"):
        hal.get_trainer("in_the_loop", backend="nope")
    with pytest.raises(ConfigError, match="batch_size: 0 out of range"):
        hal.get_trainer("in_the_loop", backend="reference", batch_size=0)
    with pytest.raises(UnknownPluginError, match="unknown trainer 'itl'"):
        hal.get_trainer("itl")
    with pytest.raises(ConfigError):
        ANNTrainer(sizes=(10, 5)).fit(load_digits())


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ANNTrainer(steps=0), "ANNTrainer.steps: 0 out of range; valid an integer >= 1"),
        (lambda: ANNTrainer(batch_size=2.5), "ANNTrainer.batch_size: 2.5 out of range; valid an integer >= 1"),
        (lambda: ANNTrainer(learning_rate=float("nan")), "ANNTrainer.learning_rate: nan out of range; valid a finite learning rate > 0"),
        (lambda: InTheLoopTrainer(None, steps=-1), "InTheLoopTrainer.steps: -1 out of range; valid an integer >= 0"),
        (lambda: InTheLoopTrainer(None, batch_size=True), "InTheLoopTrainer.batch_size: True out of range; valid an integer >= 1"),
        (lambda: InTheLoopTrainer(None, rate_scale_hz=0.0), "InTheLoopTrainer.rate_scale_hz: 0.0 out of range; valid a finite rate > 0 Hz"),
        (lambda: InTheLoopTrainer(None, schedule="cosine"), "InTheLoopTrainer.schedule: 'cosine' out of range; valid one of constant, linear"),
        (lambda: InTheLoopTrainer(None, leak=1.5), "InTheLoopTrainer.leak: 1.5 out of range; valid a derivative 0..1"),
        (lambda: InTheLoopTrainer(None, leak=float("nan")), "InTheLoopTrainer.leak: nan out of range; valid a finite derivative"),
    ],
)
def test_hyperparameters_are_checked_with_hals_validators(make, message):
    with pytest.raises(ConfigError) as info:
        make()
    assert str(info.value) == message


RESUME_SCRIPT = """
import sys, numpy as np, hal
from hal_trainers.ann import ANNTrainer
from hal_trainers.datasets import load_digits
from hal_trainers.in_the_loop import InTheLoopTrainer
digits = load_digits()
weights = ANNTrainer(steps=300, eval_every=300, seed=1).fit(digits).weights
trainer = InTheLoopTrainer(hal.get_backend("emulator", wafer=2), batch_size=100, steps=4, seed=5, checkpoint=sys.argv[1])
result = trainer.fit(digits, weights, test_subset=40, progress=lambda e: print("step", e["step"], flush=True))
np.save(sys.argv[2], np.concatenate([w.ravel() for w in result.weights]))
"""


@needs_kernel
@pytest.mark.slow
def test_resume_after_kill_gives_the_same_result(tmp_path):
    script = tmp_path / "itl.py"
    script.write_text(RESUME_SCRIPT)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    straight = tmp_path / "straight.npy"
    subprocess.run([sys.executable, str(script), str(tmp_path / "a.ckpt"), str(straight)], check=True, env=env, capture_output=True)
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path / "b.ckpt"), str(tmp_path / "b.npy")], stdout=subprocess.PIPE, text=True, env=env)
    while True:
        line = proc.stdout.readline()
        if line.startswith("step 2"):
            break
        assert line, "the training process ended before step 2"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    resumed = tmp_path / "b.npy"
    subprocess.run([sys.executable, str(script), str(tmp_path / "b.ckpt"), str(resumed)], check=True, env=env, capture_output=True)
    assert np.array_equal(np.load(straight), np.load(resumed))
