"""hal.pynn builds hal networks from PyNN models: connectors' edges, weights in uS, and what the wafer refuses."""

from __future__ import annotations

import numpy as np
import pytest

sim = pytest.importorskip("hal.pynn")

from hal.errors import CapabilityError, ConfigError, UnknownNameError
from hal.pynn.network import NF_PER_CIRCUIT, build_network


@pytest.fixture
def pynn():
    sim.setup(backend="reference")
    yield sim
    sim.end()


def built():
    state = sim.simulator.state
    return build_network(state.populations, state.projections, delay_ms=state.min_delay,
                         circuits_per_neuron=state.hardware.options.circuits_per_neuron)


def hal_edges(b, prj):
    """(pre, post) root indices of the hal synapse each PyNN connection became."""
    j, position = b.synapse_of[prj]
    return [tuple(b.network.projections[a].pairs[p]) for a, p in zip(j, position)]


def test_connectors_produce_the_right_edges(pynn):
    src = sim.Population(6, sim.SpikeSourceArray(spike_times=[]), label="src")
    a = sim.Population(6, sim.IF_cond_exp(), label="a")
    rng = sim.NumpyRNG(seed=3)
    w = sim.StaticSynapse(weight=0.004)
    projections = {
        "all": sim.Projection(src, a, sim.AllToAllConnector(), w),
        "one": sim.Projection(src, a, sim.OneToOneConnector(), w, receptor_type="inhibitory"),
        "p": sim.Projection(a, a, sim.FixedProbabilityConnector(0.5, rng=rng), w),
        "pre": sim.Projection(src, a, sim.FixedNumberPreConnector(2, rng=rng), w),
        "post": sim.Projection(src, a, sim.FixedNumberPostConnector(3, rng=rng), w),
        "list": sim.Projection(src, a, sim.FromListConnector([(0, 5), (5, 0), (2, 2)]), w),
    }
    b = built()
    for prj in projections.values():
        pairs = [(int(i), int(j)) for i, j, _ in prj.get("weight", format="list")]
        assert hal_edges(b, prj) == pairs
    assert len(projections["all"]) == 36 and len(projections["one"]) == 6 and len(projections["list"]) == 3
    post_of_pre = np.bincount([int(j) for _, j, _ in projections["pre"].get("weight", format="list")], minlength=6)
    assert (post_of_pre == 2).all()  # every post neuron has 2 sources
    assert (np.bincount([int(i) for i, _, _ in projections["post"].get("weight", format="list")], minlength=6) == 3).all()
    # excitatory projections from src onto a are one hal projection; the inhibitory one another
    receptors = sorted((p.pre, p.post, p.receptor) for p in b.network.projections)
    assert receptors == [("a", "a", "excitatory"), ("src", "a", "excitatory"), ("src", "a", "inhibitory")]


def test_views_and_assemblies_connect_their_root_neurons(pynn):
    a = sim.Population(5, sim.IF_cond_exp(), label="a")
    c = sim.Population(3, sim.IF_cond_exp(), label="c")
    view = a[[4, 1]]
    prj = sim.Projection(view, a + c, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.002))
    b = built()
    j, _ = b.synapse_of[prj]
    targets = sorted({(b.network.projections[k].pre, b.network.projections[k].post) for k in j})
    assert targets == [("a", "a"), ("a", "c")]
    pairs = {(b.network.projections[k].post, *b.network.projections[k].pairs[p]) for k, p in zip(*b.synapse_of[prj])}
    assert pairs == {(post, pre, q) for pre in (4, 1) for post, n in (("a", 5), ("c", 3)) for q in range(n)}


def test_duplicate_connections_add_up(pynn):
    src = sim.Population(2, sim.SpikeSourceArray(spike_times=[]), label="src")
    a = sim.Population(2, sim.IF_cond_exp(cm=0.2), label="a")
    sim.Projection(src, a, sim.FromListConnector([(0, 1, 0.001), (0, 1, 0.002)], column_names=["weight"]), sim.StaticSynapse())
    (proj,) = built().network.projections
    assert proj.pairs == ((0, 1),)
    hal_cm = NF_PER_CIRCUIT * 4
    assert proj.weight_ns == pytest.approx([0.003 * 1000 * hal_cm / 0.2])


def test_weights_in_uS_become_bits_on_the_realised_rows(pynn):
    src = sim.Population(2, sim.SpikeSourceArray(spike_times=[]), label="src")
    small = sim.Population(2, sim.IF_cond_exp(cm=0.2), label="small")
    big = sim.Population(2, sim.IF_cond_exp(cm=1.0), label="big")
    # 0.34 nS per bit at cm 0.2 nF with 4 circuits (0.4 nF): 0.0034 uS is 10 bits; 5x on a 5x membrane
    p1 = sim.Projection(src, small, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.0034))
    p2 = sim.Projection(src, big, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.017), receptor_type="inhibitory")
    p3 = sim.Projection(src, small, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.0002), receptor_type="inhibitory")
    state = sim.simulator.state
    b, config, mapping, _ = state.hardware.mapped(state)
    for prj, bits in ((p1, 10), (p2, 10)):
        j = int(b.synapse_of[prj][0][0])
        hic, row, col = mapping.synapse_location[j]
        written = [int(config.hicann(sim_hicann(h)).weights[r, c]) for h, r, c in zip(hic, row, col)]
        assert written == [bits, bits]
    # a small weight takes a finer scale (a gmax divisor): realised within half a bit of it
    np.testing.assert_allclose(sim.realised_weights(p3), 0.0002, rtol=1 / 18)
    np.testing.assert_allclose(sim.realised_weights(p1), 0.0034, rtol=0.01)


def sim_hicann(h):
    from hal import coordinates as C

    return C.HICANNOnWafer(int(h))


@pytest.mark.parametrize("make, message", [
    (lambda: sim.IF_curr_exp(), "IF_curr_exp is not available: .* no current-based synapses"),
    (lambda: sim.TsodyksMarkramSynapse(U=0.5), "TsodyksMarkramSynapse is not available: .* no short-term plasticity"),
    (lambda: sim.STDPMechanism(), "STDPMechanism is not available"),
    (lambda: sim.DCSource(amplitude=1.0), "DCSource is not available: .* no current injection"),
    (lambda: sim.SpikeSourceGamma(), "SpikeSourceGamma is not available"),
])
def test_what_the_wafer_lacks_is_refused_where_it_is_asked_for(pynn, make, message):
    with pytest.raises(CapabilityError, match=message):
        make()


def _run_error(kind, message):
    with pytest.raises(kind, match=message):
        sim.run(10.0)


def test_delays_other_than_the_wafers_are_refused(pynn):
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=[1.0]), label="s")
    a = sim.Population(1, sim.IF_cond_exp(), label="a")
    sim.Projection(src, a, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.001, delay=0.5), label="slow")
    assert sim.get_min_delay() == pytest.approx(0.1)
    _run_error(CapabilityError, r"projection 'slow': delay 0.5 ms not available; every connection on the wafer has the delay 0.1 ms")


def test_weights_beyond_4_bits_are_refused_with_the_range(pynn):
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=[1.0]), label="s")
    a = sim.Population(1, sim.IF_cond_exp(cm=0.2), label="a")
    sim.Projection(src, a, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.05), label="strong")
    _run_error(CapabilityError, r"projection 'strong': weight 0.05 uS onto 'a'\[0\] \(cm 0.2 nF\) out of range; valid 0..0.0051 uS")


def test_negative_weights_are_refused(pynn):
    from pyNN.errors import ConnectionError

    src = sim.Population(1, sim.SpikeSourceArray(spike_times=[1.0]), label="s")
    a = sim.Population(1, sim.IF_cond_exp(), label="a")
    with pytest.raises(ConnectionError, match="Weights must be positive"):  # PyNN's own check, at the projection
        sim.Projection(src, a, sim.AllToAllConnector(), sim.StaticSynapse(weight=-0.001))
    prj = sim.Projection(src, a, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.001), label="neg")
    prj[0].weight = -0.001  # a connection set directly passes PyNN's check: hal's, at run(), catches it
    _run_error(ConfigError, r"projection 'neg': weight -0.001 uS out of range; valid a conductance >= 0")


@pytest.mark.parametrize("parameters, error, message", [
    ({"i_offset": 0.1}, CapabilityError, r"i_offset 0.1 nA; the neuron circuit has no constant current input: valid 0"),
    ({"tau_syn_E": 20.0}, CapabilityError, r"tau_syn_E 20 out of range; the chip realises 1.3..15.1 ms"),
    ({"tau_refrac": 0.1}, CapabilityError, r"tau_refrac 0.1 out of range; the chip realises 0.1691..17.3 ms"),
    ({"v_thresh": 10.0}, CapabilityError, r"v_thresh 10 out of range; the chip realises -90..0 mV"),
    ({"cm": 0.0}, ConfigError, r"cm 0 nF out of range; valid > 0"),
])
def test_parameters_outside_the_chip_are_refused(pynn, parameters, error, message):
    sim.Population(2, sim.IF_cond_exp(**parameters), label="a")
    _run_error(error, message)


def test_cells_with_other_parameters_become_hal_populations_of_their_own(pynn):
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=[5.0, 6.0, 7.0, 8.0]), label="s")
    mixed = sim.Population(4, sim.IF_cond_exp(cm=[0.2, 0.2, 1.0, 0.2], v_thresh=[-60.0, -40.0, -60.0, -60.0]), label="mixed")
    sim.Projection(src, mixed, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.005))
    mixed.record(["spikes", "v"])
    b = built()
    assert sorted((p.name, p.size) for p in b.network.populations) == [("mixed-0", 3), ("mixed-1", 1)]
    assert [b.place(mixed, i) for i in range(4)] == [("mixed-0", 0), ("mixed-1", 0), ("mixed-0", 1), ("mixed-0", 2)]
    # cm is realised through the weights: cell 2 (cm 1.0) gets a fifth of the conductance of cells 0 and 3
    (proj,) = [p for p in b.network.projections if p.post == "mixed-0"]  # and one onto "mixed-1"
    weight = dict(zip(proj.pairs, proj.weight_ns))
    assert weight[(0, 1)] == pytest.approx(weight[(0, 0)] / 5)
    sim.run(30.0)
    counts = [len(t) for t in mixed.get_data().segments[0].spiketrains]
    assert counts[0] == counts[3] > 0 and counts[1] == 0 and counts[2] < counts[0]
    v = mixed.get_data().segments[0].analogsignals[0]
    assert v.shape[1] == 4 and v.magnitude[:, 1].max() > v.magnitude[0, 1] + 1  # the high-threshold cell depolarises
    np.testing.assert_allclose(sim.realised_parameters(mixed)["v_thresh"], [-60, -40, -60, -60], atol=0.05)


def test_recording_and_state_limits(pynn, monkeypatch):
    import attrs

    a = sim.Population(3, sim.IF_cond_exp(), label="a")
    with pytest.raises(CapabilityError, match=r"recording 'gsyn_exc' is not available; valid spikes, v"):
        a.record("gsyn_exc")
    with pytest.raises(CapabilityError, match=r"initial v -60 mV of 'a'\[0\]: .* valid: v_rest"):
        a.initialize(v=-60.0)
    backend = sim.simulator.state.hardware.backend
    monkeypatch.setattr(backend, "capabilities", attrs.evolve(backend.capabilities, max_membrane_traces=2))
    with pytest.raises(CapabilityError, match=r"recording 'v' of 3 neurons: backend 'reference' records at most 2 membranes"):
        a.record("v")


def test_spike_times_must_be_ordered(pynn):
    from pyNN.errors import InvalidParameterValueError

    with pytest.raises(InvalidParameterValueError, match=r"'s'\[1\] spike_times: 8.3 ms follows 9.6 ms"):
        sim.Population(2, sim.SpikeSourceArray(spike_times=[[1.0, 2.0], [3.5, 9.6, 8.3]]), label="s")


def test_setup_refuses_bad_options():
    with pytest.raises(ConfigError, match=r"unknown keyword\(s\) colour; valid backend, wafer"):
        sim.setup(colour="red")
    with pytest.raises(UnknownNameError, match="unknown backend 'nope'"):
        sim.setup(backend="nope")
    with pytest.raises(ConfigError, match=r"wafer -1 out of range; valid an integer >= 0"):
        sim.setup(wafer=-1)
    with pytest.raises(ConfigError, match="circuits_per_neuron: 3 not supported"):
        sim.setup(circuits_per_neuron=3)
    sim.setup(backend="reference", threads=4)  # another backend's keyword: ignored, as PyNN's backends do
    sim.end()


def test_setup_passes_router_and_merge_blocks_to_the_mapper():
    from hal.pynn import simulator

    sim.setup(backend="reference", router="negotiated", merge_blocks=True)
    try:
        options = simulator.state.hardware.options
        assert (options.router, options.merge_blocks) == ("negotiated", True)
    finally:
        sim.end()
    with pytest.raises(ConfigError, match=r"MappingOptions.router: 'maze' not valid"):
        sim.setup(router="maze")
