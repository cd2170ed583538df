"""The Trainer's options against overfitting: image shifts, blanked pixels, hidden dropout, weight decay, a cosine learning-rate decay.

Behaviour: a shifted image really is the original moved (content kept, the vacated edge zero),
evaluation sees unshifted images, the shifts are reproducible so a resumed training equals an
uninterrupted one, weight decay shrinks weights that get no gradient, the cosine schedule ends
near zero; bad values are refused with the field, the value and the valid range.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

torch = pytest.importorskip("torch", reason="the trainer API needs torch (pip install -e '.[train]')")

from hal.errors import ConfigError, ConfigValueError, HalError  # noqa: E402
from hal_trainers.snn import LIF, LatencyCoding, LeakyIntegrator, Projection, SpikingModel, SuperSpike, Trainer, Twin  # noqa: E402
from hal_trainers.snn.augment import Distortion, distort_images, elastic_field, shift_images, square_side  # noqa: E402

pytestmark = pytest.mark.needs_torch


@given(side=st.integers(2, 8), max_shift=st.integers(0, 3), seed=st.integers(0, 2**16), n=st.integers(1, 5))
@settings(max_examples=40, deadline=None)
def test_a_shifted_image_is_the_original_moved_with_zeros_in_the_vacated_edge(side, max_shift, seed, n):
    max_shift = min(max_shift, side - 1)
    x = np.random.default_rng(seed).random((n, side * side)) + 0.01  # no zero pixels: a zero in the output comes from the edge
    before = x.copy()
    out = shift_images(x, side, max_shift, np.random.default_rng(seed))
    assert np.array_equal(x, before)  # the input is not touched
    dy, dx = np.random.default_rng(seed).integers(-max_shift, max_shift + 1, size=(2, n))
    for i in range(n):
        img, moved = x[i].reshape(side, side), out[i].reshape(side, side)
        for r in range(side):
            for c in range(side):
                r0, c0 = r - dy[i], c - dx[i]
                inside = 0 <= r0 < side and 0 <= c0 < side
                assert moved[r, c] == (img[r0, c0] if inside else 0.0)


def test_a_shift_of_one_pixel_moves_a_dot_by_one_pixel():
    x = np.zeros((200, 16))
    x[:, 5] = 1.0  # row 1, column 1 of a 4x4 image
    out = shift_images(x, 4, 1, np.random.default_rng(0))
    where = out.argmax(axis=1)
    rows, cols = where // 4, where % 4
    assert set(rows) == {0, 1, 2} and set(cols) == {0, 1, 2}  # all nine positions occur
    assert np.all(out.sum(axis=1) == 1.0)  # a pixel away from the edge is never lost


def test_shift_images_refuses_images_of_another_size():
    with pytest.raises(ConfigError, match=r"images of shape \(3, 10\); expected \(samples, 16\) for 4x4 images"):
        shift_images(np.zeros((3, 10)), 4, 1, np.random.default_rng(0))


class _Extremes:
    """A generator stand-in whose uniform draws are all at the top of their range."""

    def uniform(self, low, high, size=None):
        return np.full(size, high, dtype=float)


@given(side=st.integers(3, 8), shift=st.integers(1, 2), seed=st.integers(0, 2**16))
@settings(max_examples=30, deadline=None)
def test_a_whole_pixel_distortion_is_the_shift_of_as_many_pixels(side, shift, seed):
    x = np.random.default_rng(seed).random((4, side * side)).astype(np.float32)
    moved = distort_images(x, side, Distortion(shift_px=float(shift)), _Extremes())
    ones = type("Ones", (), {"integers": lambda self, low, high, size: np.full(size, high - 1)})()
    assert np.allclose(moved, shift_images(x, side, shift, ones), atol=1e-6)


@given(seed=st.integers(0, 2**16), rotate=st.floats(0, 30), scale=st.floats(0, 0.3), shift=st.floats(0, 2))
@settings(max_examples=40, deadline=None)
def test_a_distorted_image_stays_in_the_input_range_and_the_input_is_untouched(seed, rotate, scale, shift):
    x = np.random.default_rng(seed).random((6, 64))
    before = x.copy()
    d = Distortion(rotate_deg=rotate, scale=scale, shift_px=shift)
    out = distort_images(x, 8, d, np.random.default_rng(seed))
    assert np.array_equal(x, before) and out.shape == x.shape and out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= np.float32(x.max())  # the zeros around the image come in at the edges
    assert np.array_equal(out, distort_images(x, 8, d, np.random.default_rng(seed)))  # the same draw from the same seed


def test_a_rotation_turns_a_bar_about_the_centre_and_a_sub_pixel_shift_blends_neighbours():
    bar = np.zeros((1, 9, 9))
    bar[0, 4, :] = 1.0  # a horizontal bar through the centre of a 9x9 image
    turned = distort_images(bar.reshape(1, 81), 9, Distortion(rotate_deg=45), _Extremes()).reshape(9, 9)
    assert turned[4, 4] == pytest.approx(1.0)  # the centre stays
    assert np.allclose(np.fliplr(turned).diagonal()[2:-2], 1.0, atol=1e-6)  # now along the anti-diagonal (where the bar reaches)
    assert np.allclose(np.delete(np.diag(turned), 4), 0.0, atol=1e-6)
    assert turned[4, 0] == pytest.approx(0.0, abs=1e-6) and turned[4, 8] == pytest.approx(0.0, abs=1e-6)  # the bar has left the row
    dot = np.zeros((1, 25))
    dot[0, 12] = 1.0  # the centre of a 5x5 image
    half = distort_images(dot, 5, Distortion(shift_px=0.5), _Extremes()).reshape(5, 5)
    assert np.allclose(half[2:4, 2:4], 0.25) and half.sum() == pytest.approx(1.0)  # half a pixel down and right


def test_no_distortion_leaves_the_images_as_they_are():
    x = np.random.default_rng(0).random((3, 16))
    assert np.array_equal(distort_images(x, 4, Distortion(), np.random.default_rng(0)), x.astype(np.float32))


@pytest.mark.parametrize("fields, message", [
    ({"rotate_deg": -1}, r"Distortion.rotate_deg: -1 out of range; valid 0..45 \(degrees; 0: off\)"),
    ({"scale": 0.6}, r"Distortion.scale: 0.6 out of range; valid 0..0.5"),
    ({"shift_px": float("nan")}, r"Distortion.shift_px: nan out of range; valid 0..4 \(pixels"),
    ({"shift_px": True}, r"Distortion.shift_px: True out of range"),
    ({"elastic_px": -0.5}, r"Distortion.elastic_px: -0.5 out of range; valid 0..4 \(pixels, root-mean-square; 0: off\)"),
    ({"elastic_px": 1, "elastic_sigma_px": 0}, r"Distortion.elastic_sigma_px: 0 out of range; valid 0.5..16 \(pixels, the field's smoothness\)$"),
])
def test_bad_distortions_are_refused(fields, message):
    with pytest.raises(ConfigValueError, match=message):
        Distortion(**fields)


def test_an_elastic_field_has_unit_variance_everywhere_and_the_smoothness_asked_for():
    sigma = 2.0
    field = elastic_field(4000, 12, sigma, np.random.default_rng(0))
    assert field.shape == (2, 4000, 12, 12)
    assert np.allclose(field.std(axis=(0, 1)), 1.0, atol=0.05)  # border pixels included
    assert np.allclose(field.mean(axis=(0, 1)), 0.0, atol=0.05)
    # White noise smoothed by a Gaussian of sigma correlates at distance d as exp(-d^2 / (4 sigma^2)) (inside the image).
    for d in (1, 2, 4):
        corr = (field[:, :, 4, 4] * field[:, :, 4, 4 + d]).mean()
        assert corr == pytest.approx(np.exp(-d ** 2 / (4 * sigma ** 2)), abs=0.05)
    assert abs((field[0] * field[1]).mean()) < 0.03  # the two components are independent


def test_an_elastic_distortion_moves_a_dot_by_its_root_mean_square_and_keeps_the_images_valid():
    side, n = 15, 600
    dot = np.zeros((n, side * side))
    dot[:, 7 * side + 7] = 1.0  # the centre
    d = Distortion(elastic_px=1.0, elastic_sigma_px=3.0)
    out = distort_images(dot, side, d, np.random.default_rng(1))
    assert np.array_equal(out, distort_images(dot, side, d, np.random.default_rng(1)))  # the same draw from the same seed
    assert out.min() >= 0 and out.max() <= 1 and np.all(dot[:, 7 * side + 7] == 1.0)  # valid, the input untouched
    img = out.reshape(n, side, side)
    mass = img.sum(axis=(1, 2))
    seen = mass > 0.5  # the dot can fall between the sampled positions (a displacement field stretches the image there)
    assert seen.mean() > 0.8
    k = np.arange(side)
    rows = (img.sum(axis=2) @ k)[seen] / mass[seen] - 7
    cols = (img.sum(axis=1) @ k)[seen] / mass[seen] - 7
    assert np.sqrt(np.mean(rows ** 2)) == pytest.approx(1.0, abs=0.25) and np.sqrt(np.mean(cols ** 2)) == pytest.approx(1.0, abs=0.25)
    assert abs(np.mean(rows)) < 0.15 and abs(np.mean(cols)) < 0.15  # no drift


def test_an_elastic_distortion_draws_after_the_affine_parts_and_is_recorded_only_when_on():
    x = np.random.default_rng(0).random((5, 64))
    affine = Distortion(rotate_deg=5, scale=0.05, shift_px=0.5)
    both = Distortion(rotate_deg=5, scale=0.05, shift_px=0.5, elastic_px=0.5)
    assert not np.array_equal(distort_images(x, 8, affine, np.random.default_rng(3)), distort_images(x, 8, both, np.random.default_rng(3)))
    assert affine.settings() == {"rotate_deg": 5, "scale": 0.05, "shift_px": 0.5}  # as checkpoints before the elastic fields recorded it
    assert both.settings() == {"rotate_deg": 5, "scale": 0.05, "shift_px": 0.5, "elastic_px": 0.5, "elastic_sigma_px": 2.0}
    assert Distortion(elastic_px=0.5).active and not Distortion(elastic_sigma_px=3.0).active


def test_distort_images_refuses_images_of_another_size():
    with pytest.raises(ConfigError, match=r"images of shape \(3, 10\); expected \(samples, 16\) for 4x4 images"):
        distort_images(np.zeros((3, 10)), 4, Distortion(rotate_deg=5), np.random.default_rng(0))


def test_square_side():
    assert square_side(256) == 16 and square_side(64) == 8 and square_side(10) is None


def _model(seed=0, inputs=64):
    return SpikingModel(LatencyCoding(inputs), Projection(inputs, 16, init_mean=2.25, init_std=9.0, seed=seed), LIF(16),
                        Projection(16, 10, init_std=2.0, seed=seed + 1), LeakyIntegrator(10), dt_ms=1.0, duration_ms=25.0)


@pytest.fixture(scope="module")
def data():
    """100 random 8x8 images and labels: these tests check the mechanics, not learning."""
    rng = np.random.default_rng(3)
    return rng.random((100, 64)), rng.integers(0, 10, 100)


@pytest.fixture(scope="module")
def twin():
    return Twin.nominal(_model(), ns_per_weight_bit=0.34)


@pytest.fixture
def encoded(monkeypatch):
    """What reaches the network through the coding (every forward pass encodes), one array per call."""
    seen = []
    real_encode = LatencyCoding.encode

    def spy(self, images, seed=0):
        seen.append(np.array(images))
        return real_encode(self, images, seed)

    monkeypatch.setattr(LatencyCoding, "encode", spy)
    return seen


def test_training_sees_shifted_images_and_evaluation_the_originals(data, twin, encoded):
    x, y = data
    trainer = Trainer(_model(), learning_rate=0.5, batch_size=50, augment_shift=2)
    trainer.fit(twin, x, y, epochs=0.5)  # one step of 50 images
    trainer.evaluate(twin, x[:50], y[:50])
    order = np.random.default_rng([0, 0]).permutation(len(x))[:50]
    trained, evaluated = encoded
    assert not np.array_equal(trained, x[order])
    assert np.array_equal(trained, shift_images(x[order], 8, 2, np.random.default_rng([0, 0, 1])))
    assert np.array_equal(evaluated, x[:50])


def test_training_sees_distorted_images_and_evaluation_the_originals(data, twin, encoded):
    x, y = data
    distortion = {"rotate_deg": 8, "scale": 0.05, "shift_px": 0.5}  # as a trial setting gives it (JSON)
    trainer = Trainer(_model(), learning_rate=0.5, batch_size=50, augment_distortion=distortion)
    assert trainer.augment_distortion == Distortion(**distortion)
    trainer.fit(twin, x, y, epochs=0.5)
    trainer.evaluate(twin, x[:50], y[:50])
    order = np.random.default_rng([0, 0]).permutation(len(x))[:50]
    trained, evaluated = encoded
    assert np.array_equal(trained, distort_images(x[order], 8, Distortion(**distortion), np.random.default_rng([0, 0, 4])))
    assert not np.allclose(trained, x[order])
    assert np.array_equal(evaluated, x[:50])


def test_input_dropout_blanks_pixels_of_training_images_only(data, twin, encoded):
    x, y = data
    trainer = Trainer(_model(), learning_rate=0.5, batch_size=50, input_dropout=0.25)
    trainer.fit(twin, x, y, epochs=0.5)
    trainer.evaluate(twin, x[:50], y[:50])
    trained, evaluated = encoded
    original = x[np.random.default_rng([0, 0]).permutation(len(x))[:50]]
    blanked = trained == 0
    assert np.array_equal(trained[~blanked], original[~blanked])  # the kept pixels are untouched
    assert 0.2 < blanked.mean() < 0.3  # about a quarter of 3,200 pixels (none of the originals is 0)
    assert np.array_equal(evaluated, x[:50])


def test_hidden_dropout_masks_are_reproducible_inverted_and_drop_about_p(data):
    trainer = Trainer(_model(), hidden_dropout=0.25)
    masks = trainer._dropout(400, 7)
    assert len(masks) == 1 and masks[0].shape == (400, 16)  # one spiking layer passes spikes on
    values = np.unique(masks[0].numpy())
    assert len(values) == 2 and values[0] == 0.0 and values[1] == pytest.approx(1 / 0.75)
    assert 0.2 < float((masks[0] == 0).float().mean()) < 0.3
    assert torch.equal(masks[0], trainer._dropout(400, 7)[0]) and not torch.equal(masks[0], trainer._dropout(400, 8)[0])
    assert Trainer(_model())._dropout(400, 7) == ()


def test_a_dropped_hidden_neuron_does_not_reach_the_readout_and_its_own_spikes_are_kept(data, twin):
    from hal_trainers.snn.twin import simulate

    model = _model()
    _, grid = model.encode_grid(data[0][:20])
    fn = SuperSpike(2.0).spike_fn()
    plain = simulate(model, twin, grid, spike_fn=fn)
    assert plain.spikes[0].sum() > 0  # the hidden layer fires: the test has something to drop
    dropped = torch.ones(20, 16)
    dropped[:, :8] = 0  # the first 8 hidden neurons silenced towards the readout
    out = simulate(model, twin, grid, spike_fn=fn, dropout=(dropped,))
    assert torch.equal(out.spikes[0], plain.spikes[0])  # the layer's own spikes, as without dropout
    cut = _model()
    with torch.no_grad():
        cut.projections[1].weight[:, :8] = 0  # the same network with those neurons' readout weights removed
    expected = simulate(cut, twin, grid, spike_fn=fn)
    assert torch.allclose(out.logits, expected.logits) and not torch.allclose(out.logits, plain.logits)


def test_hidden_dropout_is_refused_in_the_loop_and_with_the_rate_estimator(data):
    from hal.testing.fakes import RecordingBackend
    from hal_trainers.snn import MappedModel, RateBased

    backend = RecordingBackend()
    mapped = MappedModel(_model(), backend)
    with pytest.raises(ConfigError, match=r"hidden_dropout 0.2 in the loop; the backend runs the whole network"):
        Trainer(mapped.model, hidden_dropout=0.2).fit(mapped, *data, epochs=1)
    assert not backend.requests  # refused before the backend ran
    with pytest.raises(ConfigError, match=r"hidden_dropout: 0.2 needs a surrogate-gradient estimator .*rate builds its own network"):
        Trainer(_model(), estimator=RateBased(), hidden_dropout=0.2)


class Crash(Exception):
    """Stands for the process dying in the middle of a training."""


def _crash_after(step: int):
    def progress(entry: dict) -> None:
        if entry["step"] == step:
            raise Crash(step)

    return progress


def test_resume_with_shifts_and_cosine_decay_equals_an_uninterrupted_run(data, twin, tmp_path):
    x, y = data
    opts = {"learning_rate": 0.5, "batch_size": 25, "augment_shift": 1, "lr_schedule": "cosine", "weight_decay": 0.01, "input_dropout": 0.2,
            "hidden_dropout": 0.3, "label_smoothing": 0.1, "checkpoint_every": 1,
            "augment_distortion": Distortion(rotate_deg=5, scale=0.05, shift_px=0.5)}
    whole = _model()
    curve = Trainer(whole, **opts).fit(twin, x, y, epochs=1)
    path = tmp_path / "ck.pt"
    with pytest.raises(Crash):
        Trainer(_model(), **opts).fit(twin, x, y, epochs=1, checkpoint=path, progress=_crash_after(2))
    resumed = _model()  # a new process: fresh model and trainer, the checkpoint of step 1
    curve2 = Trainer(resumed, **opts).fit(twin, x, y, epochs=1, checkpoint=path)
    for a, b in zip(whole.parameters(), resumed.parameters()):
        assert torch.equal(a, b)
    assert [e["loss"] for e in curve] == [e["loss"] for e in curve2]


def test_a_checkpoint_with_shifts_is_refused_by_a_trainer_without(data, twin, tmp_path):
    x, y = data
    path = tmp_path / "ck.pt"
    Trainer(_model(), batch_size=50, augment_shift=1).fit(twin, x, y, epochs=0.5, checkpoint=path)
    before = path.read_bytes()
    with pytest.raises(ConfigError, match=r"augment_shift 1 there, default now"):
        Trainer(_model(), batch_size=50).fit(twin, x, y, epochs=1, checkpoint=path)
    assert path.read_bytes() == before


def test_a_checkpoint_with_distortions_is_refused_by_a_trainer_with_others(data, twin, tmp_path):
    x, y = data
    path = tmp_path / "ck.pt"
    Trainer(_model(), batch_size=50, augment_distortion={"rotate_deg": 5}).fit(twin, x, y, epochs=0.5, checkpoint=path)
    before = path.read_bytes()
    with pytest.raises(ConfigError, match=r"augment_distortion \{'rotate_deg': 5, 'scale': 0.0, 'shift_px': 0.0\} there, "
                                          r"\{'rotate_deg': 6, 'scale': 0.0, 'shift_px': 0.0\} now"):
        Trainer(_model(), batch_size=50, augment_distortion={"rotate_deg": 6}).fit(twin, x, y, epochs=1, checkpoint=path)
    assert path.read_bytes() == before


def test_cosine_schedule_goes_from_the_learning_rate_towards_zero():
    trainer = Trainer(_model(), learning_rate=0.4, lr_schedule="cosine")
    rates = [trainer._learning_rate(step, 10) for step in range(10)]
    assert rates[0] == pytest.approx(0.4) and rates[5] == pytest.approx(0.2) and rates[-1] < 0.01
    assert all(a > b for a, b in zip(rates, rates[1:]))
    assert Trainer(_model(), learning_rate=0.4)._learning_rate(7, 10) == 0.4


def test_weight_decay_shrinks_weights_without_gradient(data, twin):
    x, y = data
    model = _model()
    silent = model.projections[1]
    with torch.no_grad():
        model.projections[0].weight.fill_(-15.0)  # hidden layer silent: no gradient reaches the readout weights
        silent.weight.fill_(10.0)
    Trainer(model, learning_rate=0.5, batch_size=50, weight_decay=0.1).fit(twin, x, y, epochs=1)
    assert torch.allclose(silent.weight, torch.full_like(silent.weight, 10.0 * (1 - 0.5 * 0.1) ** 2))


def test_label_smoothing_aims_the_cross_entropy_at_a_target_spread_over_the_classes(data, twin):
    x, y = data
    model = _model()
    out, _ = Trainer(model).forward(twin, x[:20], train=False)
    logp = torch.log_softmax(out.logits, dim=1)
    nll = -logp[torch.arange(20), torch.as_tensor(y[:20]).long()].mean()
    spread = -logp.mean()  # the cross-entropy against the uniform distribution over the classes
    plain = Trainer(model, sparsity=0.0).loss(out, y[:20])
    smoothed = Trainer(model, sparsity=0.0, label_smoothing=0.3).loss(out, y[:20])
    assert float(plain) == pytest.approx(float(nll), rel=1e-5)
    assert float(smoothed) == pytest.approx(float(0.7 * nll + 0.3 * spread), rel=1e-5)


@pytest.mark.parametrize("options, message", [
    ({"augment_shift": -1}, r"Trainer.augment_shift: -1 out of range; valid an integer >= 0"),
    ({"augment_shift": 1.5}, r"Trainer.augment_shift: 1.5 out of range; valid an integer >= 0"),
    ({"augment_shift": 8}, r"Trainer.augment_shift: 8 out of range; valid 0..7 pixels for 8x8 images"),
    ({"weight_decay": -0.1}, r"Trainer.weight_decay: -0.1 out of range; valid a finite number >= 0"),
    ({"weight_decay": float("nan")}, r"Trainer.weight_decay: nan out of range; valid a finite number >= 0"),
    ({"lr_schedule": "linear"}, r"Trainer.lr_schedule: 'linear' .*constant.*cosine"),
    ({"input_dropout": 1.0}, r"Trainer.input_dropout: 1.0 out of range; valid a probability 0 <= p < 1"),
    ({"input_dropout": -0.1}, r"Trainer.input_dropout: -0.1 out of range; valid a probability 0 <= p < 1"),
    ({"input_dropout": "0.2"}, r"Trainer.input_dropout: '0.2' out of range; valid a probability 0 <= p < 1"),
    ({"hidden_dropout": 1}, r"Trainer.hidden_dropout: 1 out of range; valid a probability 0 <= p < 1"),
    ({"hidden_dropout": float("nan")}, r"Trainer.hidden_dropout: nan out of range; valid a probability 0 <= p < 1"),
    ({"label_smoothing": 1.0}, r"Trainer.label_smoothing: 1.0 out of range; valid a probability 0 <= p < 1"),
    ({"label_smoothing": -0.1}, r"Trainer.label_smoothing: -0.1 out of range; valid a probability 0 <= p < 1"),
])
def test_bad_options_are_refused(options, message):
    with pytest.raises(ConfigValueError, match=message):
        Trainer(_model(), **options)


def test_shifts_need_square_images():
    with pytest.raises(ConfigError, match=r"augment_shift: 1 needs square images; the model has 60 inputs"):
        Trainer(_model(inputs=60), augment_shift=1)
    with pytest.raises(ConfigError, match=r"augment_distortion: .*rotate_deg=5.* needs square images; the model has 60 inputs"):
        Trainer(_model(inputs=60), augment_distortion={"rotate_deg": 5})


@pytest.mark.parametrize("value, message", [
    ({"rotation": 5}, r"unknown Distortion field 'rotation'"),
    ([5, 0, 0], r"Trainer.augment_distortion: \[5, 0, 0\] out of range; valid None, a Distortion, or a dict of rotate_deg, scale, shift_px, elastic_px, elastic_sigma_px"),
    ({"scale": -0.1}, r"Distortion.scale: -0.1 out of range"),
])
def test_bad_distortion_settings_are_refused_by_the_trainer(value, message):
    with pytest.raises(HalError, match=message):
        Trainer(_model(), augment_distortion=value)
