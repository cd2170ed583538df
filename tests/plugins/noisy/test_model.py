"""The trial-to-trial noise model, driven through the emulator's perturbation interface."""

from __future__ import annotations

import ast
import pathlib

import numpy as np
import pytest

from hal.analog.domains import PAPER_DOMAINS, TICK_HW_S
from hal.configuration.configurator import RegisterWrite
from hal.coordinates import HICANNOnWafer
from hal_plugins.emulator import Events, RunContext, Trial
from hal_plugins.noisy.model import PAPER_TRIAL_NOISE, TrialNoise, TrialToTrialNoise

RUN = RunContext(wafer=3, seed=5, n_samples=2, duration=10_000, domains=PAPER_DOMAINS)
N = 400


def parameters() -> dict:
    p = {k: np.full(N, v) for k, v in dict(c_m_pf=0.2, g_l_ns=10.0, e_l_mv=-40.0, v_th_mv=-37.5, v_reset_mv=-64.0,
                                           e_rev_e_mv=0.0, e_rev_i_mv=-80.0, tau_syn_e_ms=5.0, tau_syn_i_ms=5.0, t_ref_ms=0.2).items()}
    return p


def fg_write() -> RegisterWrite:
    return RegisterWrite("test", "neurons", HICANNOnWafer(0), "fg_cell", [0], [1])


def test_parameters_hold_until_the_floating_gates_are_programmed_again():
    noise = TrialToTrialNoise(seed=2)
    first = noise.trial(RUN).neuron_parameters(parameters())
    assert noise.trial(RUN).neuron_parameters(parameters())["e_l_mv"] == pytest.approx(first["e_l_mv"])
    noise.floating_gates_programmed(fg_write())
    reprogrammed = noise.trial(RUN).neuron_parameters(parameters())
    assert not np.allclose(reprogrammed["e_l_mv"], first["e_l_mv"])
    noise.reset()  # the chip is back to its first programming
    assert noise.trial(RUN).neuron_parameters(parameters())["g_l_ns"] == pytest.approx(first["g_l_ns"])


def test_parameter_spreads_have_the_declared_magnitudes():
    p = TrialToTrialNoise(seed=1).trial(RUN).neuron_parameters(parameters())
    for key, spread_mv in PAPER_TRIAL_NOISE.voltage_bio_mv.items():
        assert np.std(p[key]) == pytest.approx(spread_mv, rel=0.15), key
    assert np.std(np.log(p["g_l_ns"] / 10.0)) == pytest.approx(PAPER_TRIAL_NOISE.g_l, rel=0.15)
    assert np.std(np.log(p["tau_syn_i_ms"] / 5.0)) == pytest.approx(PAPER_TRIAL_NOISE.tau_syn, rel=0.15)
    assert np.array_equal(p["c_m_pf"], parameters()["c_m_pf"]) and np.array_equal(p["t_ref_ms"], parameters()["t_ref_ms"])


def test_weights_and_event_times_vary_per_run_with_the_declared_magnitudes():
    noise = TrialToTrialNoise(seed=1)
    weights = np.full(5000, 0.01)
    a, b = noise.trial(RUN), noise.trial(RUN)
    wa, wb = a.synapse_weights(weights), b.synapse_weights(weights)
    assert not np.array_equal(wa, wb) and np.std(np.log(wa / weights)) == pytest.approx(0.02, rel=0.1)
    events = Events(np.zeros(5000, int), np.linspace(0, 9999, 5000).astype(int), np.zeros(5000, int), np.ones(5000, bool))
    moved = a.input_events(events)
    shift = moved.tick - events.tick
    assert np.std(shift[100:-100]) == pytest.approx(18e-9 / TICK_HW_S, rel=0.1)
    assert moved.tick.min() >= 0 and moved.tick.max() <= RUN.duration - 1  # input stays inside the run
    assert np.array_equal(moved.delivered, events.delivered) and np.array_equal(moved.index, events.index)
    assert not np.array_equal(a.output_spikes(events).tick, events.tick)


def test_the_same_seed_and_calls_give_the_same_noise():
    def draws(seed):
        noise = TrialToTrialNoise(seed=seed)
        trial = noise.trial(RUN)
        return trial.neuron_parameters(parameters())["v_th_mv"], trial.synapse_weights(np.ones(10))

    assert all(np.array_equal(x, y) for x, y in zip(draws(4), draws(4)))
    assert not np.array_equal(draws(4)[1], draws(5)[1])


def test_zero_noise_is_the_identity():
    silent = TrialToTrialNoise(TrialNoise(voltage_bio_mv={}, g_l=0.0, tau_syn=0.0, synapse=0.0, spike_jitter_hw_s=0.0))
    trial = silent.trial(RUN)
    assert isinstance(trial, Trial)
    p = trial.neuron_parameters(parameters())
    assert all(np.array_equal(p[k], v) for k, v in parameters().items())
    events = Events([0, 1], [7, 9000], [0, 0], [True, False])
    assert np.array_equal(trial.input_events(events).tick, events.tick)


def test_the_noisy_plugin_uses_only_public_names_of_the_emulator():
    """No private module or name imported from the emulator, and no `._x` attribute at all
    (the noisy plugin has no private attributes of its own, so one would be another plugin's)."""
    root = pathlib.Path(__file__).resolve().parents[3] / "plugins" / "noisy"
    for path in sorted(root.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert not any("._" in a.name for a in node.names), f"{path.name}: imports {[a.name for a in node.names]}"
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("hal_plugins.emulator"):
                assert not any(part.startswith("_") for part in node.module.split(".")), f"{path.name}: imports {node.module}"
                assert not any(a.name.startswith("_") for a in node.names), f"{path.name}: imports a private name from {node.module}"
            if isinstance(node, ast.Attribute):
                name = node.attr
                assert not (name.startswith("_") and not name.startswith("__")), f"{path.name}:{node.lineno}: uses .{name}"
