"""The reference backend reads registers the way the chip would and integrates them exactly."""

from __future__ import annotations

import numpy as np
import pytest

import hal
from hal import coordinates as C
from hal.configuration.configurator import RegisterWrite
from hal.errors import BackendError, CapabilityError
from hal.network.parameters import SCHMITT2017
from hal.testing.networks import layered_network, paper_network, poisson_experiment
from hal.analog.transfer import C_BIG_PF, K_SYN_NS_PER_NA, dac_to_current_na
from hal.netlist.bio import L1_DELAY_HW_S
from hal.mapping import MappingOptions, map_network
from hal.network import Network, Population, Projection, SourcePopulation
from hal_plugins.reference import backend as reference_backend
from hal_plugins.reference.integrator import Connections, NeuronParameters, SpikeTrains, simulate


@pytest.fixture
def backend():
    return hal.get_backend("reference")


def single_neuron(weight=15):
    return layered_network((1,), [], input_weight=weight, circuits_per_neuron=2)


def test_listed_and_created_through_the_registry():
    assert "reference" in hal.list_backends()
    assert hal.get_backend("reference").capabilities.membrane_readout


def test_single_neuron_matches_the_integrator_with_table_ii_parameters(backend):
    """Registers -> nominal transfer functions -> domains gives back Table II (up to DAC rounding)."""
    net = single_neuron()
    spikes_ms = np.array([10.0, 30.0, 31.0, 32.0, 33.0, 200.0, 400.0, 401.0, 402.0])
    target = net.inputs[0]
    exp = hal.Experiment(net.config, 600.0, [hal.SpikeArrayInput([target], [(spikes_ms, np.zeros(9, int))])],
                         record_membrane=[net.neuron(0, 0)])
    rec = hal.run(exp, backend)

    # The same neuron built by hand from Table II: two big-capacitance circuits, weight 15 on V_gmax0 = 1000.
    c_pf = 2 * C_BIG_PF
    g_syn_hw = 15 * K_SYN_NS_PER_NA * float(dac_to_current_na(1000))
    p = SCHMITT2017
    params = NeuronParameters.uniform(
        1, c_m_pf=c_pf, g_l_ns=c_pf / p.tau_m_ms, e_l_mv=p.e_l_mv, v_th_mv=p.v_th_mv, v_reset_mv=p.v_reset_mv,
        e_rev_e_mv=p.e_rev_e_mv, e_rev_i_mv=p.e_rev_i_mv, tau_syn_e_ms=p.tau_syn_e_ms, tau_syn_i_ms=p.tau_syn_i_ms,
        t_ref_ms=17.3 / 1023 * 10,  # I_pl = 1023: the shortest refractory period
    )
    conn = Connections(pre=[0], post=[0], weight_ns=[g_syn_hw / 1e4], excitatory=[True], delay_ms=[0.1])
    ticks_ms = np.round(spikes_ms / 0.04) * 0.04
    expected = simulate(params, conn, 1, [SpikeTrains(ticks_ms, np.zeros(9, int))], 600.0, dt_ms=0.04,
                        record_membrane=[0], membrane_dt_ms=0.08)
    got_t, got_v = rec.membrane(*net.neuron(0, 0))
    assert got_v.shape == expected.membrane[:, 0, :].shape
    assert rec.spike_counts[0, 0] == len(expected.spikes[0].times_ms) > 0
    assert np.allclose(rec.spike_trains(0)[0], expected.spikes[0].times_ms, atol=0.08)
    # Away from spikes (where a tick of timing difference means a reset), DAC rounding
    # moves the membrane by less than a few DAC steps (one step: 1.76 mV hw = 0.088 mV bio).
    far = np.all(np.abs(got_t[:, None] - expected.spikes[0].times_ms[None, :]) > 3.0, axis=1)
    assert far.sum() > 0.9 * far.size
    assert np.max(np.abs(got_v[0, far] - expected.membrane[0, 0, far])) < 0.3


def test_paper_network_runs_deterministically_and_batches_are_independent(backend):
    net = paper_network(seed=3)
    rates = np.random.default_rng(0).random((3, 100))
    rates = rates / rates.sum(1, keepdims=True) * 2500.0
    rec = hal.run(poisson_experiment(net, rates, seed=4), backend)
    counts = rec.spike_counts
    assert counts.shape == (3, 135)
    assert np.all(counts[:, :100].sum(1) > 100)  # the input layer relays its Poisson drive
    assert rec.lost_events["total"] == 0 and rec.lost_events["unattributed"] == 0
    again = hal.run(poisson_experiment(net, rates, seed=4), hal.get_backend("reference"))
    assert np.array_equal(again.spike_counts, counts)


def test_sample_k_of_a_batch_equals_the_same_input_alone(backend):
    net = paper_network(seed=1)
    rates = np.full((2, 100), 25.0)
    batch = hal.run(poisson_experiment(net, rates, seed=7), backend)
    inp = batch.experiment.inputs[0]
    times, index = inp.spikes(1, 1000.0)
    targets = inp.targets
    single = hal.Experiment(net.config, 1000.0, [hal.SpikeArrayInput(targets, [(times, index)])])
    alone = hal.run(single, hal.get_backend("reference"))
    assert np.array_equal(alone.spike_counts[0], batch.spike_counts[1])


def test_weight_change_changes_activity_and_writes_only_weights(backend):
    net = paper_network(seed=2)
    rates = np.full(100, 25.0)
    first = hal.run(poisson_experiment(net, rates, seed=1), backend)
    n_writes = len(backend.write_log)
    for layer in range(len(net.sizes) - 1):
        net.set_weights(layer, np.zeros((net.sizes[layer + 1], net.sizes[layer]), dtype=int))
    second = hal.run(poisson_experiment(net, rates, seed=1), backend)
    assert {w.register for w in backend.write_log[n_writes:]} == {"synapse_weight"}
    hidden = [first.column(*net.neuron(layer, i)) for layer in range(1, len(net.sizes)) for i in range(net.sizes[layer])]
    assert second.spike_counts[0, hidden].sum() == 0  # hidden layers receive nothing now
    assert first.spike_counts[0, hidden].sum() > 0


def test_unlocked_repeaters_are_refused(backend):
    net = single_neuron()
    hal.run(poisson_experiment(net, np.full(1, 10.0), duration_ms=100.0, stop_ms=None), backend)
    chip = net.neuron(0, 0)[0]
    backend.write_registers(RegisterWrite("expert", "l1_routing", chip, "h_repeater", [0], [1]))
    with pytest.raises(BackendError, match="L1 repeaters not locked since their last change"):
        backend.run(poisson_experiment(net, np.full(1, 10.0), duration_ms=100.0, stop_ms=None).request())


def test_adaptation_is_a_missing_capability(backend):
    net = single_neuron()
    hicann, firing = net.neuron(0, 0)
    net.config.hicann(hicann).set_neuron_parameter("I_gladapt", 100, neurons=[firing])
    with pytest.raises(CapabilityError, match="implements LIF only \\(capability adaptation_and_exponential\\)"):
        hal.run(poisson_experiment(net, np.full(1, 10.0), duration_ms=100.0, stop_ms=None), backend)


CHAIN_INPUT_MS = np.array([10.0, 200.0, 400.0])  # on the 0.04 ms tick grid


@pytest.fixture(scope="module")
def chain():
    """Source -> a -> b at full weight, mapped as users map it: each spike relays to the next neuron (a, b on two HICANNs)."""
    net = Network([Population("a", 1), Population("b", 1)], [SourcePopulation("in", 1)],
                  [Projection("in", "a", "excitatory", "one_to_one", weight_bits=15), Projection("a", "b", "excitatory", "one_to_one", weight_bits=15)])
    config, mapping = map_network(net, C.Wafer(0), MappingOptions())
    return hal.Experiment(config, 600.0, [hal.SpikeArrayInput(mapping.source_address["in"], [(CHAIN_INPUT_MS, np.zeros(3, int))])]), mapping


def test_every_l1_hop_takes_the_l1_delay(chain, monkeypatch):
    experiment, _ = chain
    a, b = hal.run(experiment, hal.get_backend("reference")).spike_trains(0)
    assert a.size == b.size == 3
    assert np.allclose(b - a, a - CHAIN_INPUT_MS, atol=1e-9)  # FPGA -> a and a -> b: one hop each
    monkeypatch.setattr(reference_backend, "L1_DELAY_HW_S", L1_DELAY_HW_S + 40e-9)  # 0.4 ms biological more per hop
    slow_a, slow_b = hal.run(experiment, hal.get_backend("reference")).spike_trains(0)
    assert np.allclose(slow_a, a + 0.4, atol=0.041) and np.allclose(slow_b, b + 0.8, atol=0.041)  # up to a 0.04 ms tick


def test_trace_events_carry_the_firing_neurons_hardware_coordinates(chain):
    experiment, mapping = chain
    trace = hal.run(experiment, hal.get_backend("reference")).hardware.trace
    ((hicann_a, _),) = mapping.placement["a"]
    ((hicann_b, _),) = mapping.placement["b"]
    assert hicann_a != hicann_b
    assert sorted(trace.hicann.tolist()) == sorted([hicann_a.enum] * 3 + [hicann_b.enum] * 3)
    assert trace.time[trace.hicann == hicann_b.enum][0] > trace.time[trace.hicann == hicann_a.enum][0]  # b fires after a


def test_bad_option():
    with pytest.raises(hal.errors.ConfigError, match="dt_ms: 1.0 out of range; valid 0.001 <= dt_ms <= 0.1"):
        hal.get_backend("reference", dt_ms=1.0)


def test_paper_network_on_one_hicann_uses_that_hicann():
    net = paper_network(hicann=C.HICANNOnWafer(100), circuits_per_neuron=2)
    assert net.mapping.hicanns_used == (C.HICANNOnWafer(100),)
    assert {a.hicann for a in net.inputs} == {C.HICANNOnWafer(100)}
