"""The emulator's perturbation interface: when each part is called, what it changes, what it may return."""

from __future__ import annotations

import numpy as np
import pytest

import hal
from hal.coordinates import Wafer
from hal.errors import BackendError, ConfigError
from hal.mapping import MappingOptions, map_network
from hal.network import Network, Population, Projection, SourcePopulation, paper_network_description
from hal_plugins.emulator import FLOATING_GATE_CELLS, Events, Perturbation, RunContext, Trial
from hal_plugins.emulator.kernel import kernel_available

needs_kernel = pytest.mark.skipif(not kernel_available(), reason="emulator kernel not built (pip install -e .)")
EXACT = dict(mismatch="none", links="lossless")
INPUT_MS = np.array([10.0, 200.0, 400.0])


@pytest.fixture(scope="module")
def one_neuron():
    """One neuron driven by one source at full weight: every input spike makes it fire once, about 4 ms later."""
    net = Network([Population("n", 1)], [SourcePopulation("in", 1)], [Projection("in", "n", "excitatory", "one_to_one", weight_bits=15)])
    config, mapping = map_network(net, Wafer(0), MappingOptions())
    return hal.Experiment(config, 600.0, [hal.SpikeArrayInput(mapping.source_address["in"], [(INPUT_MS, np.zeros(3, int))])])


@pytest.fixture(scope="module")
def paper():
    config, mapping = map_network(paper_network_description(seed=0), Wafer(3), MappingOptions())
    rates = np.random.default_rng(7).uniform(0, 50, size=(3, 100))
    return hal.Experiment(config, 200.0, [hal.PoissonInput(mapping.source_address["pixels"], rates, stop_ms=180.0, seed=11)])


class Fixed(Perturbation):
    """The same trial in every run."""

    def __init__(self, **callables):
        self.callables = callables

    def trial(self, run):
        return Trial(**self.callables)


def run(experiment, perturbation=None, **options):
    return hal.run(experiment, hal.get_backend("emulator", perturbation=perturbation, **options))


@needs_kernel
def test_the_base_perturbation_changes_nothing(paper):
    plain = run(paper)
    assert plain.spike_counts.sum() > 500
    assert run(paper, Perturbation()).hardware.trace == plain.hardware.trace
    assert run(paper, Fixed()).hardware.trace == plain.hardware.trace


@needs_kernel
def test_dropping_a_known_input_event_removes_the_spike_it_caused(one_neuron):
    plain = run(one_neuron, **EXACT).spikes(0)[0]
    assert plain.size == 3 and np.all((plain - INPUT_MS > 0) & (plain - INPUT_MS < 10))
    around_200_ms = lambda events: events.drop((events.tick > 4500) & (events.tick < 5500))  # noqa: E731 - 1 tick = 0.04 ms
    dropped = run(one_neuron, Fixed(input_events=around_200_ms), **EXACT).spikes(0)[0]
    assert dropped.size == 2 and np.allclose(dropped, plain[[0, 2]], atol=0.1)  # within 2 ticks: the state left by a spike


@needs_kernel
def test_shifted_output_spikes_arrive_later_by_exactly_the_shift(one_neuron):
    plain = run(one_neuron, **EXACT).hardware.trace
    later = run(one_neuron, Fixed(output_spikes=lambda events: events.shifted(events.tick + 25)), **EXACT).hardware.trace
    assert np.array_equal(later.time, plain.time + 25)
    beyond = run(one_neuron, Fixed(output_spikes=lambda events: events.shifted(events.tick + 5000)), **EXACT).hardware.trace
    assert np.array_equal(beyond.time, plain.time[:2] + 5000)  # the last spike now falls after the run's end


@needs_kernel
def test_scaled_weights_reach_the_kernel(one_neuron, paper):
    seen = []
    record = lambda weights: seen.append(weights.copy()) or weights * 0.0  # noqa: E731
    silent = run(one_neuron, Fixed(synapse_weights=record), **EXACT)
    assert silent.spike_counts.sum() == 0
    assert seen[0].shape == (silent.hardware.info["synapses"],) and np.all(seen[0] > 0)
    plain = run(paper).spike_counts[:, 100:].sum()
    stronger = run(paper, Fixed(synapse_weights=lambda w: 2.0 * w)).spike_counts[:, 100:].sum()
    assert stronger > plain


@needs_kernel
def test_neuron_parameters_are_biological_per_neuron_and_take_effect(one_neuron):
    seen = {}

    def higher_threshold(params):
        seen.update(params)
        return {**params, "v_th_mv": params["v_th_mv"] + 100.0}

    rec = run(one_neuron, Fixed(neuron_parameters=higher_threshold), **EXACT)
    assert rec.spike_counts.sum() == 0
    assert {"c_m_pf", "g_l_ns", "e_l_mv", "v_th_mv", "tau_syn_e_ms", "t_ref_ms"} <= set(seen)
    assert seen["v_th_mv"].shape == (1,) and -45 < seen["v_th_mv"][0] < -30  # Table II: -37.5 mV


class Recorder(Perturbation):
    def __init__(self):
        self.programmed, self.resets, self.runs = [], 0, []

    def floating_gates_programmed(self, write):
        self.programmed.append(write)

    def reset(self):
        self.resets += 1

    def trial(self, run):
        self.runs.append(run)
        return Trial()


@needs_kernel
def test_calls_follow_the_chip_floating_gates_resets_and_runs(one_neuron):
    recorder = Recorder()
    backend = hal.get_backend("emulator", wafer=2, perturbation=recorder)
    hal.run(one_neuron, backend)
    fg_writes = [w for w in backend.write_log if w.register == FLOATING_GATE_CELLS]
    assert fg_writes and recorder.programmed == fg_writes
    hal.run(one_neuron, backend)  # nothing changed: nothing written, but a second run
    assert len(recorder.programmed) == len(fg_writes) and recorder.resets == 0
    request = one_neuron.request()
    assert recorder.runs == [RunContext(wafer=2, seed=request.seed, n_samples=1, duration=request.duration, domains=backend.domains)] * 2
    backend.reset()
    assert recorder.resets == 1


@needs_kernel
@pytest.mark.parametrize(
    ("callables", "fragment"),
    [
        (dict(synapse_weights=lambda w: w[:-1]), r"synapse_weights returned shape \(0,\) .*valid \(1,\) finite values >= 0"),
        (dict(synapse_weights=lambda w: -w), r"synapse_weights returned shape \(1,\) \(min -"),
        (dict(neuron_parameters=lambda p: {k: v for k, v in p.items() if k != "g_l_ns"}), r"neuron_parameters returned \[.*valid a mapping with the names"),
        (dict(neuron_parameters=lambda p: {**p, "e_l_mv": np.full(2, -40.0)}), r"neuron parameter e_l_mv has shape \(2,\); valid \(1,\) finite"),
        (dict(input_events=lambda e: e.shifted(e.tick - 500)), r"input_events returned tick -250; valid >= 0"),
        (dict(input_events=lambda e: Events(e.sample + 1, e.tick, e.index, e.delivered)), r"input_events returned sample 1; valid 0..0"),
        (dict(output_spikes=lambda e: e.tick), r"output_spikes returned ndarray; valid hal_plugins.emulator.Events"),
    ],
)
def test_what_a_trial_returns_is_checked(one_neuron, callables, fragment):
    with pytest.raises(BackendError, match=r"perturbation <Fixed>: " + fragment):
        run(one_neuron, Fixed(**callables), **EXACT)


@needs_kernel
def test_a_trial_must_be_a_trial(one_neuron):
    class Wrong(Perturbation):
        def trial(self, run):
            return lambda w: w

    with pytest.raises(BackendError, match=r"perturbation <Wrong>: trial\(\) returned <function .*valid a hal_plugins.emulator.Trial"):
        run(one_neuron, Wrong())


def test_the_perturbation_option_must_be_a_perturbation():
    with pytest.raises(ConfigError, match="emulator perturbation: 'jitter' is not valid; valid None or an instance of hal_plugins.emulator.Perturbation"):
        hal.get_backend("emulator", perturbation="jitter")


def test_events_are_integer_arrays_of_one_length():
    events = Events([0, 0, 1], [5, 9, 2], [3, 3, 0], [True, True, True])
    assert len(events) == 3 and events.tick.dtype == np.int64
    assert np.array_equal(events.drop([False, True, False]).delivered, [True, False, True])
    assert np.array_equal(events.drop([False, True, False]).drop([True, False, False]).delivered, [False, False, True])
    with pytest.raises(BackendError, match="Events: float64 values given; valid integer arrays"):
        events.shifted(events.tick + 0.5)
    with pytest.raises(BackendError, match=r"Events: array shapes .*'tick': \(2,\).*valid four 1-d arrays of one length"):
        Events([0, 0, 1], [5, 9], [3, 3, 0], [True, True, True])
    with pytest.raises(BackendError, match="Events.delivered: int64 values given; valid a boolean array"):
        Events([0], [1], [2], [1])
