"""Mapping networks onto the wafer: invariants checked on the resulting registers."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hal
from hal import coordinates as C
from hal.cli import main
from hal.errors import ConfigError, FileFormatError, ResourceError, UnknownNameError
from hal.mapping import MappingOptions, map_network
from hal.network import Network, Population, Projection, SourcePopulation, load_network, paper_network_description, save_network
from hal.netlist.wiring import extract_wiring
from hal.testing.readback import expected_edges, realised_edges


def test_paper_network_maps_with_every_synapse_and_reads_back_from_registers():
    net = paper_network_description(seed=4)
    config, result = map_network(net)
    assert result.synapses == 3700 and result.synapses_lost == 0
    assert len(result.hicanns_used) <= 14 and len(result.fpgas_used) <= 5
    found = realised_edges(config, result)
    expected = 0
    for proj in net.projections:
        pre, post = proj.edges(net.size(proj.pre), net.size(proj.post))
        bits = proj.bits(pre, post, net.ns_per_weight_bit)
        for a, b, w in zip(pre, post, bits):
            if w > 0:  # zero weights exist as synapses but carry no conductance
                expected += 1
                assert found.get((proj.pre, int(a), proj.post, int(b), proj.receptor == "excitatory")) == 1, (proj.pre, a, proj.post, b)
    assert sum(found.values()) == expected
    # The FPGA input budget per HICANN link holds.
    assert all(load <= result.summary()["input_budget_hz"] for load in result.input_load_hz.values())


@pytest.mark.needs_extension
def test_mapped_paper_network_runs_and_weight_updates_write_only_weights():
    net = paper_network_description(seed=1)
    config, result = map_network(net)
    targets = result.source_address["pixels"]
    rates = np.random.default_rng(0).random((2, 100))
    exp = hal.Experiment(config, 500.0, [hal.PoissonInput(targets, rates / rates.sum(1, keepdims=True) * 2500.0, stop_ms=450.0)])
    backend = hal.get_backend("emulator", mismatch="none")
    rec = hal.run(exp, backend)
    assert rec.spike_counts.sum() > 100
    # Inputs are spread over two HICANN links within budget: (almost) nothing is lost on the links.
    assert rec.lost_events["total"] < 0.02 * len(exp.playback())
    before = len(backend.write_log)
    result.set_weights(config, 1, np.zeros(15 * 100, dtype=int))
    hal.run(exp, backend)
    assert {w.register for w in backend.write_log[before:]} == {"synapse_weight"}


def test_too_large_networks_name_the_resource():
    big = Network([Population("a", 300), Population("b", 300)], [SourcePopulation("s", 300)],
                  [Projection("s", "a", connector="one_to_one", weight_bits=15), Projection("a", "b", weight_bits=1)])
    with pytest.raises(ResourceError, match="do not fit the 2 allowed HICANNs"):
        map_network(big, options=MappingOptions(hicanns=(C.HICANNOnWafer(100), C.HICANNOnWafer(101))))
    wide = Network([Population("a", 10), Population("b", 10)], [],
                   [Projection("a", "b", weight_bits=3)] + [Projection("a", "b", "inhibitory", weight_bits=3)])
    assert map_network(wide, options=MappingOptions(circuits_per_neuron=1))[1].synapses == 200


def test_disabled_parts_are_never_used():
    net = paper_network_description(seed=2)
    h0 = MappingOptions().hicanns[0]
    options = MappingOptions(disabled_hicanns=frozenset({h0.enum}),
                             disabled_circuits=frozenset((MappingOptions().hicanns[1].enum, d) for d in range(0, 8)))
    config, result = map_network(net, options=options)
    assert h0 not in result.hicanns_used and not config.has_hicann(h0)
    h1 = MappingOptions().hicanns[1]
    used = {d.enum for placed in result.placement.values() for h, den in placed if h == h1 for d in den}
    assert not used & set(range(8))


def test_defects_from_the_database_are_honoured(tmp_path):
    from hal.calibration import Defect, open_store

    store = open_store(tmp_path / "cal.db")
    chain = MappingOptions().hicanns
    store.add_defects([Defect(0, "hicann", chain[0].enum, 0, "broken", "test"), Defect(0, "synapse_driver", chain[2].enum, 15, "stuck", "test")])
    options = MappingOptions.with_defects(store, 0)
    config, result = map_network(paper_network_description(), options=options)
    assert chain[0] not in result.hicanns_used
    for h in result.hicanns_used:
        if h == chain[2]:
            assert not config.hicann(h).synapse_drivers[15].enable


@settings(max_examples=15, deadline=None)
@given(sizes=st.lists(st.integers(1, 20), min_size=2, max_size=4), seed=st.integers(0, 1000), k=st.sampled_from([1, 2, 4, 8]))
def test_random_small_feed_forward_networks_map_with_every_synapse(sizes, seed, k):
    rng = np.random.default_rng(seed)
    names = [f"l{i}" for i in range(len(sizes))]
    projections = [Projection("src", names[0], connector="one_to_one", weight_bits=15)]
    for a, b, na, nb in zip(names, names[1:], sizes, sizes[1:]):
        w = rng.integers(0, 16, size=(nb, na))
        projections.append(Projection(a, b, "excitatory" if rng.random() < 0.7 else "inhibitory", "matrix", weight_bits=w))
    net = Network([Population(n, s) for n, s in zip(names, sizes)], [SourcePopulation("src", sizes[0])], projections)
    config, result = map_network(net, options=MappingOptions(circuits_per_neuron=k))
    assert result.synapses_lost == 0
    found = realised_edges(config, result)
    for proj in projections:
        pre, post = proj.edges(net.size(proj.pre), net.size(proj.post))
        bits = proj.bits(pre, post, net.ns_per_weight_bit)
        for a, b, w in zip(pre, post, bits):
            if w > 0:
                assert found.get((proj.pre, int(a), proj.post, int(b), proj.receptor == "excitatory")) == 1


def test_network_validation_and_files(tmp_path):
    with pytest.raises(UnknownNameError, match="unknown population \\(projections\\[0\\].pre\\) 'inptu'; did you mean 'input'"):
        Network([Population("input", 3)], [], [Projection("inptu", "input", weight_bits=1)])
    with pytest.raises(ConfigError, match="weight_bits gives 16; valid 0..15"):
        Network([Population("a", 2), Population("b", 2)], [], [Projection("a", "b", weight_bits=16)])
    with pytest.raises(ConfigError, match="Population.size: 0 out of range"):
        Population("a", 0)
    with pytest.raises(ConfigError, match="one_to_one needs equal sizes"):
        Network([Population("a", 2), Population("b", 3)], [], [Projection("a", "b", connector="one_to_one", weight_bits=1)])
    net = paper_network_description(seed=3)
    save_network(net, tmp_path / "net.json")
    loaded = load_network(tmp_path / "net.json")
    assert [p.name for p in loaded.populations] == [p.name for p in net.populations]
    assert map_network(loaded)[1].synapses == 3700
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(FileFormatError, match="not JSON"):
        load_network(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text('{"format": "something"}')
    with pytest.raises(FileFormatError, match="not a hal-network file"):
        load_network(tmp_path / "other.json")


def test_map_command(tmp_path, capsys):
    save_network(paper_network_description(), tmp_path / "net.json")
    assert main(["map", str(tmp_path / "net.json"), "--json", "--out", str(tmp_path / "wafer.hal")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["synapses"] == 3700 and data["synapses_lost"] == 0 and data["hicanns"] >= 2 and data["fpgas"] >= 1
    assert hal.load_config(tmp_path / "wafer.hal").has_hicann(MappingOptions().hicanns[2])
    assert main(["defects", "add", "--db", str(tmp_path / "c.db"), "--wafer", "0", "--component", "hicann",
                 "--hicann", str(MappingOptions().hicanns[0].enum), "--item", "0"]) == 0
    capsys.readouterr()
    assert main(["map", str(tmp_path / "net.json"), "--db", str(tmp_path / "c.db"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["per_hicann"].get(str(MappingOptions().hicanns[0].enum)) is None
    assert main(["defects", "add", "--db", str(tmp_path / "c.db"), "--wafer", "0"]) == 2
    capsys.readouterr()
    eight = ["--placement", "random_hicanns", "--seed", "3"]
    assert main(["map", str(tmp_path / "net.json"), "--json", *eight]) == 0
    assert json.loads(capsys.readouterr().out)["hicanns"] > 3
    with pytest.raises(SystemExit) as refused:  # argparse knows the placements
        main(["map", str(tmp_path / "net.json"), "--placement", "scatter"])
    assert refused.value.code == 2
    assert "argument --placement: invalid choice: 'scatter'" in capsys.readouterr().err


def test_overloaded_input_link_is_predicted_before_the_run():
    from hal.logging import capture_events

    from hal.experiment import predicted_link_load
    from hal.testing.fakes import RecordingBackend
    from hal.testing.networks import paper_network, poisson_experiment

    hicann = C.HICANNOnWafer(100)
    net = paper_network(hicann=hicann, circuits_per_neuron=2)  # all 100 inputs through one HICANN's link
    exp = poisson_experiment(net, np.full(100, 25.0), stop_ms=None)
    assert {a.hicann for a in net.inputs} == {hicann}
    assert predicted_link_load(exp)[hicann.enum] == pytest.approx(2500.0, rel=0.1)
    with capture_events() as logs:
        hal.run(exp, RecordingBackend())
    assert any(e["event"] == "input_link_overload_predicted" for e in logs)


@pytest.mark.parametrize("k", [8, 16, 64])
def test_large_logical_neurons_span_several_quads(k):
    net = Network([Population("a", 6), Population("b", 3)], [SourcePopulation("s", 6)],
                  [Projection("s", "a", connector="one_to_one", weight_bits=15), Projection("a", "b", weight_bits=7)])
    config, result = map_network(net, options=MappingOptions(circuits_per_neuron=k))
    assert result.synapses == 24 and result.synapses_lost == 0
    wiring = extract_wiring(config)
    assert {len(n.denmems) for n in wiring.neurons} == {k} and len(wiring.neurons) == 9
    assert sum(realised_edges(config, result).values()) == 24
    with pytest.raises(ConfigError, match="circuits_per_neuron: 3 not supported; valid 1, 2, 4, 8, 16, 32, 64"):
        MappingOptions(circuits_per_neuron=3)


def test_random_placement_is_seeded_and_keeps_every_synapse():
    net = paper_network_description(seed=5)
    a_cfg, a = map_network(net, options=MappingOptions(placement="random", seed=1))
    b_cfg, b = map_network(net, options=MappingOptions(placement="random", seed=1))
    c_cfg, c = map_network(net, options=MappingOptions(placement="random", seed=2))
    compact_cfg, compact = map_network(net)
    assert a.placement == b.placement and a.placement != c.placement and a.placement != compact.placement
    assert a.synapses == 3700 and a.synapses_lost == 0
    assert realised_edges(a_cfg, a) == realised_edges(compact_cfg, compact)
    with pytest.raises(ConfigError, match="placement: 'scattered' not valid"):
        MappingOptions(placement="scattered")


def test_random_hicann_placement_is_seeded_spread_and_complete():
    # As in the paper: the neurons at random on 8 HICANNs (here a block of 4 x 2, so buses also run vertically).
    net = paper_network_description(seed=5)
    eight = tuple(C.HICANNOnWafer.from_xy(x, y) for y in (7, 8) for x in range(12, 16))
    options = MappingOptions(hicanns=eight, placement="random_hicanns", seed=1)
    a_cfg, a = map_network(net, options=options)
    _, b = map_network(net, options=options)
    _, c = map_network(net, options=MappingOptions(hicanns=eight, placement="random_hicanns", seed=2))
    assert a.placement == b.placement and a.placement != c.placement
    assert len(a.hicanns_used) == 8 and len({h for h, _ in a.placement["hidden1"]}) > 4  # compact: 3 HICANNs
    assert a.synapses == c.synapses == 3700 and a.synapses_lost == 0
    assert realised_edges(a_cfg, a) == realised_edges(*map_network(net))
    assert all(load <= a.summary()["input_budget_hz"] for load in a.input_load_hz.values())
    with pytest.raises(ConfigError, match="placement: 'scattered' not valid; valid compact, random, random_hicanns"):
        MappingOptions(placement="scattered")


def test_sources_beyond_their_hicanns_input_channels_go_to_another_hicann():
    # Two neurons of 64 circuits fill two neuron blocks: 6 input channels of 63 addresses (378 sources) are left there.
    chain = (C.HICANNOnWafer.from_xy(14, 7), C.HICANNOnWafer.from_xy(15, 7))
    net = Network([Population("a", 2)], [SourcePopulation("s", 400)], [Projection("s", "a", weight_bits=3)])
    options = MappingOptions(hicanns=chain, circuits_per_neuron=64, input_budget_hz=float("inf"))
    config, result = map_network(net, options=options)
    hosts = [a.hicann for a in result.source_address["s"]]
    assert hosts[:378] == [chain[0]] * 378 and hosts[378:] == [chain[1]] * 22
    assert {h for h, _ in result.placement["a"]} == {chain[0]}
    assert result.synapses == 800 and result.synapses_lost == 0
    assert realised_edges(config, result) == expected_edges(net, result)
    with pytest.raises(ResourceError, match=r"input channels full \(6 x 63 addresses\) at source s\[378\]"):
        map_network(net, options=MappingOptions(hicanns=chain[:1], circuits_per_neuron=64, input_budget_hz=float("inf")))
