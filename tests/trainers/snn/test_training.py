"""The 64-32-10 network trains through the API, unchanged, on every backend; in the loop it learns.

Fast versions: 150 training images, batch 50, 6 in-the-loop steps from the initial weights; the
training accuracy (on those 150 images) before and after. Measured when written:
reference (dt 0.1 ms) 0.10 -> 0.41, emulator 0.14 -> 0.35, noisy 0.05 -> 0.43, torch (dt 0.1 ms)
0.10 -> 0.38; the twin alone 0.09 -> 0.49. The slow versions train 36 steps on 600 images
and test on the 359 test images.
"""

from __future__ import annotations

import collections

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the trainer API needs torch (pip install -e '.[train]')")

import hal  # noqa: E402
from hal.errors import ConfigError, UnknownPluginError  # noqa: E402
from hal.testing.fakes import RecordingBackend  # noqa: E402
from hal_trainers.snn import Evaluation, MappedModel, StraightThrough, Trainer, Twin  # noqa: E402

pytestmark = pytest.mark.needs_torch

#: Backend options of the fast tests: the reference and torch integrate at 0.1 ms (their largest step) and torch
#: runs on one thread; the emulator and noisy backends as they come.
FAST_OPTIONS = {"reference": {"dt_ms": 0.1}, "torch": {"dt_ms": 0.1, "threads": 1}, "emulator": {}, "noisy": {}}

#: The slow tests' options: the reference at its default step, torch at 0.05 ms (0.02 ms, its default, takes 30 s
#: per 100 images on one core).
SLOW_OPTIONS = {"reference": {}, "torch": {"dt_ms": 0.05, "threads": 1}, "emulator": {}, "noisy": {}}


def get_backend(name: str, **options):
    """The registered backend ``name``, or a skip saying it is not registered (yet)."""
    try:
        return hal.get_backend(name, **options)
    except UnknownPluginError as error:
        pytest.skip(f"backend {name!r} is not registered in this installation ({error}); "
                    f"the torch backend comes with the hal_plugins.torch entry point")


def chip_bits(mapped: MappedModel, layer: int) -> np.ndarray:
    """Projection ``layer``'s signed weights as the backend holds them in its synapse registers; 0 where lost."""
    proj = mapped.model.projections[layer]
    held = {h: mapped.backend.wafer_config().hicann(h).weights for h in mapped.mapping.hicanns_used}
    signed = []
    for j in mapped.index.feedforward[layer]:
        hic, row, col = mapped.mapping.synapse_location[j]
        values = np.zeros(hic.shape, dtype=np.int64)
        for enum in np.unique(hic[hic >= 0]):
            sel = hic == enum
            (chip,) = [h for h in held if h.enum == enum]
            values[sel] = held[chip][row[sel], col[sel]]
        signed.append(values.reshape(proj.out_features, proj.in_features))
    return signed[0] - signed[1]


def check_evaluation(ev: Evaluation, y: np.ndarray) -> None:
    assert ev.samples == len(y) == ev.confusion.sum()
    np.testing.assert_array_equal(ev.confusion.sum(axis=1), np.bincount(y, minlength=ev.confusion.shape[0]))
    assert ev.accuracy == np.trace(ev.confusion) / len(y)


# -- fast: learning in the loop on every backend ---------------------------------------------------------


@pytest.mark.parametrize("backend", ["reference", "emulator", "noisy", "torch"])
def test_in_the_loop_training_learns(backend, build_model, small, fast):
    x, y = small
    model = build_model()
    mapped = MappedModel(model, get_backend(backend, **FAST_OPTIONS[backend]))
    assert mapped.scheme == "membrane"
    trainer = Trainer(model, **fast)
    before = trainer.evaluate(mapped, x, y)
    assert before.hidden_spikes_per_sample > 10  # the hidden layer is active from the start (measured 32..37)
    start = [p.bits().copy() for p in model.projections]
    curve = trainer.fit(mapped, x, y, epochs=2)
    after = trainer.evaluate(mapped, x, y)
    check_evaluation(before, y)
    check_evaluation(after, y)
    assert [e["step"] for e in curve] == [1, 2, 3, 4, 5, 6]
    assert curve[-1]["epoch"] == 2.0
    assert all(np.isfinite(e["loss"]) and "backend_s" in e and e["lost_events"] == 0 for e in curve)
    assert after.accuracy >= before.accuracy + 0.12  # measured +0.20 .. +0.38 (chance 0.10)
    assert after.accuracy >= 0.25
    # The trained weights are on the chip: its synapse registers hold the model's signed 4-bit weights.
    for layer, proj in enumerate(model.projections):
        assert not np.array_equal(proj.bits(), start[layer])
        np.testing.assert_array_equal(chip_bits(mapped, layer), proj.bits())


def test_mock_training_on_the_twin_learns(build_model, small, fast):
    x, y = small
    model = build_model()
    twin = Twin.nominal(model, ns_per_weight_bit=0.34)  # the conductance per step the mapping realises (test_twin)
    trainer = Trainer(model, **fast)
    before = trainer.evaluate(twin, x, y)
    curve = trainer.fit(twin, x, y, epochs=2)
    after = trainer.evaluate(twin, x, y)
    assert before.on == "twin (nominal)" and "backend_s" not in curve[0]
    assert after.accuracy >= before.accuracy + 0.2  # measured 0.09 -> 0.49
    assert curve[-1]["loss"] < curve[0]["loss"]


def test_straight_through_estimator_trains_too(build_model, small, fast):
    x, y = small
    model = build_model()
    twin = Twin.nominal(model, ns_per_weight_bit=0.34)
    trainer = Trainer(model, estimator=StraightThrough(width_mv=2.0), **fast)
    before = trainer.evaluate(twin, x, y).accuracy
    trainer.fit(twin, x, y, epochs=2)
    assert trainer.evaluate(twin, x, y).accuracy >= before + 0.1


# -- the pytest plugin's fake backend: silent, must run -----------------------------------------------------


def test_training_runs_on_the_recording_fake(build_model, small, fast, hal_recording_backend):
    x, y = small
    model = build_model()
    fake = hal_recording_backend
    assert isinstance(fake, RecordingBackend)
    mapped = MappedModel(model, fake)
    assert mapped.scheme == "membrane"
    trainer = Trainer(model, **fast)
    mapped.run(x[:2])  # the first run writes the whole configuration
    configured = len(fake.write_log)
    curve = trainer.fit(mapped, x, y, epochs=1)
    ev = trainer.evaluate(mapped, x, y)
    assert len(curve) == 3 and all(np.isfinite(e["loss"]) for e in curve)
    # One run per step and one for the evaluation; each asks for every neuron's membrane.
    assert [r.n_samples for r in fake.requests] == [2, 50, 50, 50, 150]
    assert all(len(r.membrane) == 42 for r in fake.requests)
    # A silent chip: no hidden spikes, a flat readout, every image in class 0.
    assert all(e["hidden_spikes_per_sample"] == 0 for e in curve) and ev.hidden_spikes_per_sample == 0
    check_evaluation(ev, y)
    assert ev.confusion[:, 1:].sum() == 0 and ev.accuracy == np.mean(y == 0)
    # Nothing to learn from (flat readout: zero gradient), and nothing but weights would be rewritten.
    rewrites = collections.Counter(w.register for w in fake.write_log[configured:])
    assert set(rewrites) <= {"synapse_weight"}
    for layer, proj in enumerate(model.projections):
        np.testing.assert_array_equal(chip_bits(mapped, layer), proj.bits())


def test_unchanged_weights_are_not_rewritten(build_model, hal_recording_backend):
    model = build_model()
    mapped = MappedModel(model, hal_recording_backend)
    x = np.zeros((2, 64))
    mapped.run(x)
    written = len(hal_recording_backend.write_log)
    assert mapped.write_weights() == 0
    mapped.run(x)
    assert len(hal_recording_backend.write_log) == written
    with torch.no_grad():
        model.projections[1].weight[3, 4] += 3.0
    assert mapped.write_weights() == 1  # into the configuration; the next run sends it
    assert len(hal_recording_backend.write_log) == written
    mapped.run(x)
    assert [w.register for w in hal_recording_backend.write_log[written:]] == ["synapse_weight"]


# -- the API's checks -----------------------------------------------------------------------------------


def test_train_and_evaluate_refuse_bad_targets_and_data(build_model, hal_recording_backend):
    model = build_model()
    trainer = Trainer(model)
    x, y = np.zeros((4, 64)), np.zeros(4, dtype=int)
    with pytest.raises(ConfigError, match="a MappedModel \\(in the loop\\) or a Twin \\(mock\\), got RecordingBackend"):
        trainer.fit(hal_recording_backend, x, y)
    twin = Twin.nominal(model)
    with pytest.raises(ConfigError, match="Trainer.fit: 4 images and 3 labels"):
        trainer.fit(twin, x, y[:3])
    with pytest.raises(ConfigError, match="Trainer.fit: epochs 0 out of range"):
        trainer.fit(twin, x, y, epochs=0)
    with pytest.raises(ConfigError, match="Trainer.evaluate: 0 images and 0 labels"):
        trainer.evaluate(twin, x[:0], y[:0])
    with pytest.raises(ConfigError, match="Trainer.model: expected a SpikingModel, got Projection"):
        Trainer(model.projections[0])
    with pytest.raises(ConfigError, match="Trainer.sparsity: -1.0 out of range"):
        Trainer(model, sparsity=-1.0)
    with pytest.raises(ConfigError, match="MappedModel: backend must be a hal Backend or a backend name, got int"):
        MappedModel(model, 3)


# -- slow: a real threshold ---------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["reference", "emulator", "noisy", "torch"])
def test_in_the_loop_training_reaches_a_real_accuracy(backend, build_model, digits, fast):
    x, y = np.asarray(digits.x_train[:600]), np.asarray(digits.y_train[:600])
    x_test, y_test = np.asarray(digits.x_test), np.asarray(digits.y_test)
    model = build_model()
    mapped = MappedModel(model, get_backend(backend, **SLOW_OPTIONS[backend]))
    trainer = Trainer(model, **fast)
    before = trainer.evaluate(mapped, x_test, y_test)
    trainer.fit(mapped, x, y, epochs=3)
    after = trainer.evaluate(mapped, x_test, y_test)
    check_evaluation(after, y_test)
    assert before.accuracy < 0.2
    assert after.accuracy >= 0.5


@pytest.mark.slow
def test_mock_then_in_the_loop_on_noisy(build_model, digits, fast):
    """The Cramer et al. sequence: train the twin, run on the chip (transfer), train in the loop."""
    x, y = np.asarray(digits.x_train), np.asarray(digits.y_train)
    x_test, y_test = np.asarray(digits.x_test), np.asarray(digits.y_test)
    model = build_model()
    mapped = MappedModel(model, get_backend("noisy"))
    mock = Trainer(model, **fast)
    mock.fit(mapped.twin, x, y, epochs=2)
    software = mock.evaluate(mapped.twin, x_test, y_test)
    transfer = mock.evaluate(mapped, x_test, y_test)
    itl = Trainer(model, **{**fast, "learning_rate": 0.3}, seed=1)
    itl.fit(mapped, x, y, epochs=1)
    final = itl.evaluate(mapped, x_test, y_test)
    assert software.accuracy >= 0.6
    assert final.accuracy >= transfer.accuracy - 0.02
    assert final.accuracy >= 0.6
