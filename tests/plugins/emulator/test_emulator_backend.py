"""The emulator backend: agreement with the reference, the wafer's fixed pattern, the links."""

from __future__ import annotations

import numpy as np
import pytest

import hal
from hal import coordinates as C
from hal.errors import ConfigError, UnknownNameError
from hal.testing.networks import layered_network, paper_network, poisson_experiment
from hal_plugins.emulator.kernel import kernel_available, simd_levels
from hal_plugins.emulator.mismatch import UNCALIBRATED, CircuitDeviations

pytestmark = pytest.mark.skipif(not kernel_available(), reason="emulator kernel not built (pip install -e .)")


def paper_rates(n_samples, seed=0):
    rates = np.random.default_rng(seed).random((n_samples, 100))
    return rates / rates.sum(1, keepdims=True) * 2500.0


def _paths():
    """Every integration path: float64 and float32, each SIMD level this CPU runs; the default path runs in the fast suite."""
    levels = simd_levels()
    return [pytest.param(dtype, level, marks=() if (dtype, level) == ("float64", levels[-1]) else pytest.mark.slow, id=f"{dtype}-{level}")
            for dtype in ("float64", "float32") for level in levels]


@pytest.mark.parametrize(("dtype", "simd"), _paths())
def test_agrees_with_the_reference_without_mismatch_and_losses(dtype, simd):
    """Issue 4's agreement criterion: per-neuron spike counts within 2% (or 1 spike), 1 s bio per sample, on every path."""
    net = paper_network(seed=3)
    exp = poisson_experiment(net, paper_rates(6), seed=4)
    ref = hal.run(exp, hal.get_backend("reference")).spike_counts
    emu = hal.run(exp, hal.get_backend("emulator", mismatch="none", links="lossless", dtype=dtype, simd=simd)).spike_counts
    assert ref.sum() > 3000
    diff = np.abs(emu - ref)
    assert np.all(diff <= np.maximum(0.02 * ref, 1)), f"worst: {diff.max()} spikes where reference had {ref[np.unravel_index(diff.argmax(), diff.shape)]}"


def test_same_wafer_same_chip_bit_for_bit():
    net = paper_network(seed=1)
    exp = poisson_experiment(net, paper_rates(3), seed=2)
    a = hal.run(exp, hal.get_backend("emulator", wafer=3))
    b = hal.run(exp, hal.get_backend("emulator", wafer=3))
    assert a.hardware.trace == b.hardware.trace
    other = hal.run(exp, hal.get_backend("emulator", wafer=4))
    assert not np.array_equal(other.spike_counts, a.spike_counts)


def test_fixed_pattern_is_deterministic_and_has_the_declared_magnitude():
    a = CircuitDeviations.draw(UNCALIBRATED, wafer=3, hicann=100)
    b = CircuitDeviations.draw(UNCALIBRATED, wafer=3, hicann=100)
    c = CircuitDeviations.draw(UNCALIBRATED, wafer=3, hicann=101)
    assert np.array_equal(a.gain["g_l_ns"], b.gain["g_l_ns"]) and not np.array_equal(a.gain["g_l_ns"], c.gain["g_l_ns"])
    spread = np.std(np.log(a.gain["g_l_ns"]))
    assert spread == pytest.approx(UNCALIBRATED.g_l, rel=0.15)
    assert np.std(a.voltage_offset_mv["e_l_mv"]) == pytest.approx(UNCALIBRATED.voltage_offset_mv, rel=0.15)


def test_mismatch_changes_activity_but_keeps_it_plausible():
    net = paper_network(seed=1)
    exp = poisson_experiment(net, paper_rates(4), seed=2)
    ideal = hal.run(exp, hal.get_backend("emulator", mismatch="none", links="lossless")).spike_counts
    real = hal.run(exp, hal.get_backend("emulator", links="lossless")).spike_counts
    assert not np.array_equal(ideal, real)
    assert 0.2 < real.sum() / ideal.sum() < 5


def test_link_bandwidth_loss_is_counted_per_link():
    """2,500 Hz of input through one HICANN's link exceeds its 17.8 MHz (hardware) budget."""
    hicann = C.HICANNOnWafer(100)
    net = paper_network(seed=1, hicann=hicann, circuits_per_neuron=2)
    rec = hal.run(poisson_experiment(net, paper_rates(2), seed=2), hal.get_backend("emulator", mismatch="none"))
    lost = rec.lost_events
    link = f"input/hicann/{hicann.enum}/link"
    assert lost["input"].get(link, 0) > 0 and lost["total"] >= lost["input"][link]
    n_inputs = len(rec.experiment.playback())
    assert lost["input"][link] < 0.6 * n_inputs
    lossless = hal.run(poisson_experiment(net, paper_rates(2), seed=2), hal.get_backend("emulator", mismatch="none", links="lossless"))
    assert lossless.lost_events["total"] == 0


def test_low_rates_pass_the_links_without_loss():
    net = layered_network((2, 1), [np.array([[9, 9]])])
    rec = hal.run(poisson_experiment(net, np.full(2, 20.0)), hal.get_backend("emulator"))
    assert rec.lost_events["total"] == 0


def test_adaptation_reduces_firing():
    net = layered_network((1,), [])
    exp = poisson_experiment(net, np.full(1, 400.0), stop_ms=None)
    plain = hal.run(exp, hal.get_backend("emulator", mismatch="none", links="lossless")).spike_counts.sum()
    hicann, denmems = net.circuits(0, 0)
    chip = net.config.hicann(hicann)
    denmems = list(denmems)
    chip.set_neuron_parameter("I_fire", 1023, neurons=denmems)  # strongest spike-triggered adaptation b
    chip.set_neuron_parameter("I_radapt", 100, neurons=denmems)  # slow adaptation (tau_w ~ 0.3 s biological)
    adapted = hal.run(exp, hal.get_backend("emulator", mismatch="none", links="lossless")).spike_counts.sum()
    assert plain > 20 and adapted < 0.8 * plain
    with pytest.raises(hal.errors.CapabilityError, match="LIF only"):
        hal.run(exp, hal.get_backend("reference"))


@pytest.mark.parametrize(
    ("options", "error", "fragment"),
    [
        (dict(mismatch="typical"), UnknownNameError, "unknown mismatch preset 'typical'"),
        (dict(links="perfect"), UnknownNameError, "unknown links preset 'perfect'"),
        (dict(dt_ms=0.5), ConfigError, "dt_ms: 0.5 out of range"),
        (dict(dt_ms=1e-300), ConfigError, "dt_ms: 1e-300 out of range; valid 0.001 <= dt_ms <= 0.2"),
        (dict(threads=True), ConfigError, "emulator threads: True out of range; valid an integer >= 1"),
        (dict(dtype="float16"), ConfigError, "dtype: 'float16' not valid"),
        (dict(threads=0), ConfigError, "threads: 0 out of range"),
        (dict(simd="sse9"), ConfigError, "emulator simd: 'sse9' not available on this CPU; valid baseline"),
    ],
)
def test_bad_options(options, error, fragment):
    with pytest.raises(error, match=fragment):
        hal.get_backend("emulator", **options)
