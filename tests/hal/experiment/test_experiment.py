"""Experiments in biological units, the capability checks, and recordings."""

from __future__ import annotations

import numpy as np
import pytest

import hal
from hal import coordinates as C
from hal.backend import Capabilities, RunRequest
from hal.analog.domains import PAPER_DOMAINS
from hal.errors import CapabilityError, ConfigError
from hal.backend.events import HardwareEvents
from hal.testing.fakes import RecordingBackend
from hal.testing.networks import layered_network, poisson_experiment


@pytest.fixture(scope="module")
def net():
    return layered_network((3, 2), [np.array([[5, -5, 0], [0, 7, 7]])])


def test_domains_follow_the_paper():
    d = PAPER_DOMAINS
    assert float(d.mv_to_hw_mv(-40.0)) == 1000.0  # resting potential at 1 V
    assert float(d.hw_mv_to_mv(1800.0)) == 0.0
    assert d.tick_ms == pytest.approx(0.04)
    assert int(d.ms_to_ticks(1000.0)) == 25_000
    assert float(d.tau_to_hw_us(20.0)) == pytest.approx(2.0)
    g = d.conductance_to_bio(100.0, c_hw_pf=4.0, c_bio_nf=0.2)
    assert float(d.conductance_to_hw(g, c_hw_pf=4.0, c_bio_nf=0.2)) == pytest.approx(100.0)
    with pytest.raises(ConfigError, match="Domains.speedup: -1 out of range"):
        hal.Domains(speedup=-1)


def test_poisson_input_is_seeded_per_sample(net):
    targets = net.inputs
    inp = hal.PoissonInput(targets, np.full((4, 3), 50.0), seed=9)
    t1, i1 = inp.spikes(2, 1000.0)
    t2, i2 = hal.PoissonInput(targets, np.full((7, 3), 50.0), seed=9).spikes(2, 1000.0)
    assert np.array_equal(t1, t2) and np.array_equal(i1, i2)  # independent of the batch it is in
    assert abs(t1.size - 150) < 60 and np.all(np.diff(t1) >= 0)


def test_playback_is_in_ticks_and_hardware_addresses(net):
    exp = poisson_experiment(net, np.full((2, 3), 40.0), seed=1)
    pb = exp.playback()
    assert set(pb.sample.tolist()) == {0, 1}
    assert pb.time.max() < PAPER_DOMAINS.ms_to_ticks(900.0)
    target = net.inputs[0]
    assert (target.hicann.enum, target.channel, target.address) in set(zip(pb.hicann.tolist(), pb.channel.tolist(), pb.address.tolist()))


@pytest.mark.parametrize(
    ("build", "fragment"),
    [
        (lambda n, t: hal.Experiment(n.config, -5.0), "Experiment.duration_ms: -5.0 out of range; valid a finite time > 0 ms"),
        (lambda n, t: hal.PoissonInput(t, [-1.0, 1.0, 1.0]), "PoissonInput.rates_hz: -1.0 Hz out of range; valid a finite rate >= 0"),
        (lambda n, t: hal.PoissonInput(t, [1.0, 1.0]), "PoissonInput.rates_hz: shape (2,); expected (3,) or (samples, 3)"),
        (lambda n, t: hal.Experiment(n.config, 100.0, [hal.PoissonInput(t, [1.0] * 3, stop_ms=200.0)]), "stimulus until 200.0 ms outside the experiment"),
        (lambda n, t: hal.Experiment(n.config, 100.0, [hal.SpikeArrayInput(t, [([5.0, 150.0], [0, 1])])]), "spike at 150.0 ms outside the experiment; valid 0 <= t < 100.0 ms"),
        (lambda n, t: hal.SpikeArrayInput(t, [([5.0], [3])]), "target index 3 out of range; valid 0..2"),
        (lambda n, t: hal.InputAddress(C.HICANNOnWafer(1), 8, 3), "InputAddress.channel: 8 out of range; valid 0..7"),
        (lambda n, t: hal.InputAddress(C.HICANNOnWafer(1), 1, 64), "InputAddress.address: 64 out of range; valid 0..63"),
        (lambda n, t: hal.Experiment(n.config, 100.0, [hal.PoissonInput(t, np.ones((2, 3))), hal.PoissonInput(t, np.ones((3, 3)))]), "inputs disagree on the number of samples"),
        (lambda n, t: hal.Experiment(n.config, 100.0, n_samples=0), "Experiment.n_samples: 0 out of range"),
    ],
)
def test_bad_experiments(net, build, fragment):
    targets = net.inputs
    with pytest.raises(ConfigError) as info:
        build(net, targets)
    assert fragment in str(info.value)


def test_input_that_the_configuration_does_not_accept(net):
    hicann, firing = net.neuron(0, 0)
    block = firing.to_neuron_block().value
    wrong = hal.InputAddress(hicann, block, 5)  # this channel carries the neuron's block to the FPGA
    exp = hal.Experiment(net.config, 100.0, [hal.PoissonInput([wrong], [10.0])])
    with pytest.raises(ConfigError, match=rf"channel {block} does not accept FPGA events in this configuration \(needs gbit_link\[{block}\].direction TO_HICANN"):
        hal.run(exp, RecordingBackend())


def test_membrane_of_an_unknown_neuron(net):
    exp = poisson_experiment(net, np.ones(3), record_membrane=[(net.neuron(0, 0)[0], C.NeuronOnHICANN(x=200, y=0))])
    with pytest.raises(ConfigError, match="belongs to no logical neuron"):
        hal.run(exp, RecordingBackend())


class NoReadout(RecordingBackend):
    name = "no-readout"
    capabilities = Capabilities(membrane_readout=False, max_batch_size=2)


def test_missing_capabilities_fail_before_anything_is_written(net):
    backend = NoReadout()
    exp = poisson_experiment(net, np.ones(3), record_membrane=[net.neuron(0, 0)])
    with pytest.raises(CapabilityError, match="backend 'no-readout' has no membrane readout \\(capability membrane_readout\\)"):
        hal.run(exp, backend)
    with pytest.raises(CapabilityError, match="runs at most 2 samples per run \\(capability max_batch_size\\); 5 requested"):
        hal.run(poisson_experiment(net, np.ones((5, 3))), backend)
    assert backend.write_log == []  # nothing reached the backend


def test_run_request_validation():
    with pytest.raises(ConfigError, match="RunRequest.duration: -3 ticks out of range"):
        RunRequest(HardwareEvents.empty(), 1, -3)
    events = HardwareEvents([0], [500], [1], [2], [3])
    with pytest.raises(ConfigError, match="playback event at tick 500 outside the run; valid 0..99"):
        RunRequest(events, 1, 100)
    with pytest.raises(ConfigError, match="playback sample index 0 out of range|RunRequest.n_samples: 0 out of range"):
        RunRequest(events, 0, 1000)


def test_recording_backend_sees_only_register_writes(net):
    backend = RecordingBackend()
    exp = poisson_experiment(net, np.full((2, 3), 10.0))
    rec = hal.run(exp, backend)
    assert rec.spike_counts.shape == (2, 5) and rec.spike_counts.sum() == 0
    assert {w.register for w in backend.write_log} >= {"synapse_weight", "neuron", "fg_cell"}
    assert backend.requests[0].n_samples == 2
    # A weights-only change reaches the backend as synapse-weight writes only.
    before = len(backend.write_log)
    net.set_weights(0, np.array([[4, -4, 0], [0, 6, 6]]))
    hal.run(exp, backend)
    assert {w.register for w in backend.write_log[before:]} == {"synapse_weight"}


def test_recording_queries(net):
    exp = poisson_experiment(net, np.full((2, 3), 10.0))
    rec = hal.run(exp, RecordingBackend())
    with pytest.raises(ConfigError, match="sample 5 out of range; valid 0..1"):
        rec.spikes(5)
    with pytest.raises(ConfigError, match="rate window"):
        rec.rates_hz(500.0, 100.0)
    with pytest.raises(ConfigError, match="membrane not recorded"):
        rec.membrane(*net.neuron(0, 0))
    with pytest.raises(ConfigError, match="is not a recorded neuron"):
        rec.column(net.neuron(0, 0)[0], C.NeuronOnHICANN(x=250, y=0))
    assert rec.column(*net.neuron(1, 0)) == 3  # columns follow the layers
    assert rec.lost_events == {"input": {}, "output": {}, "unattributed": 0, "total": 0}
