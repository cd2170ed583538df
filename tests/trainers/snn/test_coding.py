"""Input codings: latency times by the formula, Poisson trains seeded and at the right rate, the grid binning."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the trainer API needs torch (pip install -e '.[train]')")

from hal.errors import ConfigError  # noqa: E402
from hal_trainers.snn import LatencyCoding, PoissonCoding, spike_grid  # noqa: E402

pytestmark = pytest.mark.needs_torch


# -- latency -----------------------------------------------------------------------------------------


def test_latency_times_follow_the_formula():
    coding = LatencyCoding(5, tau_ms=4.0, threshold=0.25, t_offset_ms=1.0)
    x = np.array([[1.0, 0.8, 0.5, 0.3, 0.0]])
    t = coding.times(x)[0]
    expected = 1.0 + 4.0 * np.log(x[0, :3] / (x[0, :3] - 0.25))
    np.testing.assert_allclose(t[:3], expected, rtol=1e-12)
    assert t[0] == pytest.approx(1.0 + 4.0 * np.log(1 / 0.75))
    # 0.3 is 20 % above the threshold: 1 + 4 ln 6 = 8.17 ms, before the latest time (offset + 3 tau = 13 ms): kept
    assert t[3] == pytest.approx(1.0 + 4.0 * np.log(0.3 / 0.05))
    assert np.isnan(t[4])
    assert coding.latest_ms == 1.0 + 3 * 4.0


def test_latency_falls_with_intensity_and_is_cut_near_the_threshold():
    coding = LatencyCoding(1, tau_ms=5.0, threshold=0.2, t_offset_ms=0.5)
    x = np.linspace(0.0, 1.0, 2001)[:, None]
    t = coding.times(x)[:, 0]
    spiking = np.isfinite(t)
    assert np.all(np.diff(t[spiking]) < 0)  # brighter: earlier
    assert np.all(t[spiking] >= 0.5) and np.all(t[spiking] <= coding.latest_ms)
    # Below and at the threshold no spike; just above it the latency diverges and is cut at 3 tau,
    # i.e. below x = threshold e^3 / (e^3 - 1) = 1.052 threshold.
    cut = 0.2 * np.e ** 3 / (np.e ** 3 - 1)
    assert not spiking[x[:, 0] <= cut - 1e-9].any()
    assert spiking[x[:, 0] > cut + 1e-9].all()


def test_dark_pixels_do_not_spike():
    coding = LatencyCoding(4)
    spikes = coding.encode(np.array([[0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0], [0.2, 0.1, 0.0, 0.9]]))
    assert [s[1].tolist() for s in spikes] == [[2], [], [3]]
    assert all(len(t) == len(i) for t, i in spikes)


def test_latency_encode_is_sorted_and_deterministic():
    rng = np.random.default_rng(5)
    x = rng.random((4, 20))
    coding = LatencyCoding(20)
    a, b = coding.encode(x, seed=1), coding.encode(x, seed=99)
    for (t, i), (t2, i2), row in zip(a, b, x):
        assert np.all(np.diff(t) >= 0)
        np.testing.assert_array_equal(t, t2)
        np.testing.assert_array_equal(i, i2)
        np.testing.assert_allclose(t, coding.times(row[None])[0][i])


# -- Poisson -----------------------------------------------------------------------------------------


def test_poisson_is_reproducible_per_seed_and_sample():
    coding = PoissonCoding(10, max_rate_hz=200.0, window_ms=50.0)
    x = np.full((3, 10), 0.8)
    a, b, c = coding.encode(x, seed=4), coding.encode(x, seed=4), coding.encode(x, seed=5)
    for (t, i), (t2, i2) in zip(a, b):
        np.testing.assert_array_equal(t, t2)
        np.testing.assert_array_equal(i, i2)
    assert any(len(t) != len(t3) or not np.array_equal(t, t3) for (t, _), (t3, _) in zip(a, c))
    assert not np.array_equal(a[0][0], a[1][0])  # samples draw from their own streams
    # Sample k draws from default_rng([seed, k]) whatever the batch it is in.
    alone = coding.encode(x[2:], seed=4)[0]  # the same image, now sample 0 of its batch
    np.testing.assert_array_equal(alone[0], a[0][0])
    assert not np.array_equal(alone[0], a[2][0])


def test_poisson_mean_rate_and_window():
    coding = PoissonCoding(4, max_rate_hz=100.0, window_ms=40.0)
    x = np.tile(np.array([[0.0, 0.25, 0.5, 1.0]]), (2000, 1))
    spikes = coding.encode(x, seed=0)
    counts = np.zeros(4)
    for t, i in spikes:
        assert np.all((t >= 0) & (t < 40.0))
        assert np.all(np.diff(t) >= 0)
        counts += np.bincount(i, minlength=4)
    expected = x[0] * 100.0 * 0.040 * len(spikes)  # rate x window x samples: 0, 2000, 4000, 8000
    assert counts[0] == 0
    np.testing.assert_allclose(counts[1:], expected[1:], rtol=0.05)  # Poisson: sd 1.1 % .. 2.2 %


# -- the grid ------------------------------------------------------------------------------------------


def test_spike_grid_bins_by_floor_of_arrival_and_counts():
    spikes = [(np.array([0.0, 0.49, 0.5, 0.5, 1.2, 9.9, 10.0]), np.array([0, 1, 1, 1, 2, 0, 0])),
              (np.array([]), np.array([], dtype=np.int64))]
    grid = spike_grid(spikes, size=3, steps=20, dt_ms=0.5)
    assert grid.shape == (2, 20, 3) and grid.dtype == torch.float32
    expected = np.zeros((2, 20, 3), dtype=np.float32)
    expected[0, 0, 0] = 1  # 0.0
    expected[0, 0, 1] = 1  # 0.49
    expected[0, 1, 1] = 2  # 0.5 twice: counted
    expected[0, 2, 2] = 1  # 1.2
    expected[0, 19, 0] = 1  # 9.9; 10.0 is beyond the last step and dropped
    np.testing.assert_array_equal(grid.numpy(), expected)


def test_spike_grid_adds_the_delay():
    grid = spike_grid([(np.array([0.95]), np.array([0]))], size=1, steps=4, dt_ms=0.5, delay_ms=0.1)
    assert grid[0, :, 0].tolist() == [0.0, 0.0, 1.0, 0.0]  # arrives at 1.05 ms: step 2
    dropped = spike_grid([(np.array([1.95]), np.array([0]))], size=1, steps=4, dt_ms=0.5, delay_ms=0.1)
    assert dropped.sum() == 0


def test_model_grid_uses_the_l1_delay(build_model):
    from hal_trainers.snn.model import DEFAULT_DELAY_MS

    model = build_model()
    x = np.zeros((1, 64))
    x[0, 7] = 1.0
    spikes, grid = model.encode_grid(x)
    (t,), (i,) = spikes[0]
    assert i == 7
    assert grid.shape == (1, model.steps, 64)
    assert grid[0, :, 7].nonzero().flatten().tolist() == [int(np.floor((t + DEFAULT_DELAY_MS) / model.dt_ms))]
    assert grid.sum() == 1


# -- bad input ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("coding", [LatencyCoding(3), PoissonCoding(3)], ids=["latency", "poisson"])
@pytest.mark.parametrize(("value", "shown"), [(np.nan, "nan"), (1.5, "1.5"), (-0.25, "-0.25"), (np.inf, "inf")])
def test_bad_intensities_are_named(coding, value, shown):
    x = np.array([[0.2, value, 0.4]])
    with pytest.raises(ConfigError, match=rf"intensity \S*{shown}\S* out of range; valid 0..1"):
        coding.encode(x)


def test_bad_intensity_message_shows_the_plain_value():
    with pytest.raises(ConfigError, match=r"input coding: intensity 1\.5 out of range; valid 0\.\.1"):
        LatencyCoding(3).encode(np.array([[0.2, 1.5, 0.4]]))


@pytest.mark.parametrize("coding", [LatencyCoding(3), PoissonCoding(3)], ids=["latency", "poisson"])
@pytest.mark.parametrize("shape", [(2, 4), (3,), (1, 1, 3)])
def test_wrong_image_shapes_are_named(coding, shape):
    with pytest.raises(ConfigError, match=rf"images of shape \({', '.join(map(str, shape))},?\); expected \(samples, 3\)"):
        coding.encode(np.zeros(shape))


@pytest.mark.parametrize(("kwargs", "match"), [({"threshold": 1.0}, "LatencyCoding.threshold: 1.0 out of range"),
                                               ({"threshold": -0.1}, "LatencyCoding.threshold: -0.1 out of range"),
                                               ({"t_offset_ms": -1.0}, "LatencyCoding.t_offset_ms: -1.0 out of range")])
def test_bad_latency_settings_are_named(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        LatencyCoding(3, **kwargs)


def test_from_brightest_moves_every_spike_earlier_by_the_latency_of_intensity_one():
    x = np.array([[1.0, 0.6, 0.3, 0.205, 0.1]])
    plain = LatencyCoding(5, tau_ms=8.0, t_offset_ms=0.5)
    shifted = LatencyCoding(5, tau_ms=8.0, t_offset_ms=0.5, from_brightest=True)
    shift = 8.0 * np.log(1 / 0.8)
    assert shifted.times(x)[0, 0] == pytest.approx(0.5)  # intensity 1 spikes at the offset
    np.testing.assert_allclose(shifted.times(x), plain.times(x) - shift)  # NaN (no spike) where plain has none
    assert np.isnan(shifted.times(x)[0, 3:]).all()  # the same pixels are cut: near and below the threshold
    assert shifted.latest_ms == pytest.approx(plain.latest_ms - shift)


def test_from_brightest_must_be_a_bool():
    with pytest.raises(ConfigError, match=r"^LatencyCoding.from_brightest: 1 invalid; valid True or False$"):
        LatencyCoding(3, from_brightest=1)
