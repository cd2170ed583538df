"""Defect lists for synapse rows, L1 lines and repeaters: stored, edited from the CLI, honoured by the mapping.

Each test maps a network once, picks a part the mapping used, puts it on the defect list,
maps again and checks on the registers that the part is left alone -- and that every synapse
the result reports as realised can still be read back from the registers.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hal import coordinates as C
from hal.calibration import Defect, open_store
from hal.calibration.database import DEFECT_COMPONENTS
from hal.cli import main
from hal.errors import ConfigError, CoordinateError, UnknownNameError
from hal.hardware.hicann import RepeaterMode
from hal.mapping import MappingOptions, map_network
from hal.network import Network, Population, Projection, SourcePopulation, paper_network_description
from hal.netlist.wiring import l1_lines
from hal.testing.readback import expected_edges, realised_edges  # noqa: E402


def _remap(tmp_path, network, defects, **kwargs):
    store = open_store(tmp_path / "defects.db")
    store.add_defects([Defect(0, component, hicann, item, "test", "test") for component, hicann, item in defects])
    options = MappingOptions.with_defects(store, 0, **kwargs)
    store.close()
    return map_network(network, options=options)


def _reached(config) -> set:
    return set().union(*l1_lines(config).values())


def _complete(network, config, result) -> bool:
    """Every synapse the result calls realised (weight > 0) reads back from the registers exactly once."""
    return realised_edges(config, result) == expected_edges(network, result)


def _two_rows() -> tuple[Network, MappingOptions]:
    """Inputs and a first layer on HICANN (15, 7), the second layer on (15, 8): a vertical bus."""
    net = Network([Population("a", 20), Population("b", 20)], [SourcePopulation("s", 20)],
                  [Projection("s", "a", connector="one_to_one", weight_bits=15), Projection("a", "b", weight_bits=5)])
    return net, MappingOptions(hicanns=(C.HICANNOnWafer.from_xy(15, 7), C.HICANNOnWafer.from_xy(15, 8)))


def test_disabled_synapse_row_is_never_used(tmp_path):
    net = paper_network_description(seed=3)
    config, result = map_network(net)
    h = result.hicanns_used[-1]
    rows = config.hicann(h).synapse_rows
    used = [r for r in range(448) if rows[r].input_excitatory or rows[r].input_inhibitory]
    victims = used[:3]
    config, result = _remap(tmp_path, net, [("synapse_row", h.enum, r) for r in victims])
    assert result.synapses == 3700 and result.synapses_lost == 0
    chip = config.hicann(h)
    for r in victims:
        assert not chip.synapse_rows[r].input_excitatory and not chip.synapse_rows[r].input_inhibitory
        assert not chip.weights[r].any()
    assert _complete(net, config, result)


def test_disabled_horizontal_line_carries_nothing(tmp_path):
    net = paper_network_description(seed=3)
    config, _ = map_network(net)
    # A bus line on the middle HICANN that is not a sending line there.
    h = MappingOptions().hicanns[1]
    line = next(line for (e, kind, line) in sorted(_reached(config)) if e == h.enum and kind == "H" and line % 8 != 6)
    config, result = _remap(tmp_path, net, [("hline", h.enum, line)])
    assert (h.enum, "H", line) not in _reached(config)
    assert not config.hicann(h).crossbar_switches[line].any()
    assert result.synapses == 3700 and result.synapses_lost == 0  # the bus took another line
    assert _complete(net, config, result)


def test_disabled_sending_line_mutes_its_neuron_block(tmp_path):
    net = paper_network_description(seed=3)
    h = MappingOptions().hicanns[0]
    block = 7
    line = C.DNCMergerOnHICANN(block).to_sending_repeater().to_hline().value
    config, result = _remap(tmp_path, net, [("hline", h.enum, line)])
    assert result.synapses == 3700
    placed = [d for pop in result.placement.values() for hh, den in pop if hh == h for d in den]
    assert placed and not any(d.to_neuron_block().value == block for d in placed)
    assert (h.enum, "H", line) not in _reached(config)


def test_disabled_vertical_line_carries_nothing(tmp_path):
    net = paper_network_description(seed=3)
    config, _ = map_network(net)
    h = MappingOptions().hicanns[2]
    vline = next(line for (e, kind, line) in sorted(_reached(config)) if e == h.enum and kind == "V")
    config, result = _remap(tmp_path, net, [("vline", h.enum, vline)])
    assert (h.enum, "V", vline) not in _reached(config)
    chip = config.hicann(h)
    assert not any(chip.crossbar_switch(sw) for sw in C.CrossbarSwitchOnHICANN.all() if sw.vline == vline)
    assert not any(chip.synapse_switch(sw) for sw in C.SynapseSwitchOnHICANN.all() if sw.vline == vline)
    assert result.synapses == 3700 and _complete(net, config, result)


def test_disabled_horizontal_repeater_stays_idle(tmp_path):
    net = paper_network_description(seed=3)
    config, _ = map_network(net)
    h = MappingOptions().hicanns[1]
    modes = config.hicann(h).h_repeaters.column("mode")
    repeater = int(np.flatnonzero(modes == RepeaterMode.FORWARDING)[0])
    config, result = _remap(tmp_path, net, [("hrepeater", h.enum, repeater)])
    assert config.hicann(h).h_repeaters[repeater].mode is RepeaterMode.IDLE
    assert result.synapses == 3700 and result.synapses_lost == 0  # the bus took another line
    assert _complete(net, config, result)


def test_disabled_vertical_repeater_stays_idle(tmp_path):
    net, options = _two_rows()
    config, result = map_network(net, options=options)
    assert result.synapses == 420 and result.synapses_lost == 0
    used = [(h, int(r)) for h, chip in config.hicanns() for r in np.flatnonzero(chip.v_repeaters.column("mode") == RepeaterMode.FORWARDING)]
    assert used, "the second layer is one row south: its bus must use a vertical repeater"
    h, repeater = used[0]
    config, result = _remap(tmp_path, net, [("vrepeater", h.enum, repeater)], hicanns=options.hicanns)
    assert config.hicann(h).v_repeaters[repeater].mode is RepeaterMode.IDLE
    assert result.synapses == 420 and _complete(net, config, result)
    # Every vertical repeater of both HICANNs is broken. The greedy router's detours stay in the two
    # columns: the loss is reported with its reason. The negotiated router goes round through the
    # neighbouring column's repeaters (the L1 fabric is the wafer's, not the placement's): nothing lost.
    broken = [("vrepeater", h.enum, v) for h in options.hicanns for v in range(256)]
    (tmp_path / "greedy").mkdir()
    config, result = _remap(tmp_path / "greedy", net, broken, hicanns=options.hicanns, allow_loss=True, router="greedy")
    assert result.synapses_lost == 400 and result.lost_reasons == {"unreachable bus": 400}
    assert not any(chip.v_repeaters.column("mode").any() for _, chip in config.hicanns())
    (tmp_path / "negotiated").mkdir()
    config, result = _remap(tmp_path / "negotiated", net, broken, hicanns=options.hicanns, allow_loss=True, router="negotiated")
    assert result.synapses_lost == 0 and _complete(net, config, result)
    assert not any(config.hicann(h).v_repeaters.column("mode").any() for h in options.hicanns)
    assert any(chip.v_repeaters.column("mode").any() for h, chip in config.hicanns() if h not in options.hicanns)


@pytest.mark.parametrize(("component", "hicann", "item", "message"), [
    ("hlien", 3, 1, "unknown defect component 'hlien'; did you mean 'hline'?"),
    ("hline", 3, 64, "Defect[hline].item: 64 out of range; valid 0..63 (HLineOnHICANN)"),
    ("vrepeater", 3, 256, "Defect[vrepeater].item: 256 out of range; valid 0..255"),
    ("synapse_row", 3, 448, "Defect[synapse_row].item: 448 out of range; valid 0..447 (SynapseRowOnHICANN)"),
    ("vline", 384, 0, "Defect[vline].hicann: 384 out of range; valid 0..383"),
    ("fpga", 5, 0, "Defect[fpga].hicann: 5 out of range; valid -1"),
])
def test_bad_defects_name_the_kind_the_value_and_what_is_valid(component, hicann, item, message):
    with pytest.raises((UnknownNameError, CoordinateError)) as info:
        Defect(0, component, hicann, item, "test", "test")
    assert message in str(info.value)


def test_defects_command_edits_every_kind(tmp_path, capsys):
    db = str(tmp_path / "c.db")
    for component, item in (("synapse_row", 17), ("hline", 9), ("vline", 200), ("hrepeater", 9), ("vrepeater", 3)):
        assert main(["defects", "add", "--db", db, "--wafer", "0", "--component", component, "--hicann", "170", "--item", str(item)]) == 0
    capsys.readouterr()
    assert main(["defects", "list", "--db", db, "--wafer", "0", "--json"]) == 0
    listed = {(d["component"], d["hicann"], d["item"]) for d in json.loads(capsys.readouterr().out)["defects"]}
    assert listed == {("synapse_row", 170, 17), ("hline", 170, 9), ("vline", 170, 200), ("hrepeater", 170, 9), ("vrepeater", 170, 3)}
    assert main(["defects", "remove", "--db", db, "--wafer", "0", "--component", "hline", "--hicann", "170", "--item", "9"]) == 0
    capsys.readouterr()
    # Bad input: exit 2, a message naming the kind, the value and what is valid; nothing is written.
    assert main(["defects", "add", "--db", db, "--wafer", "0", "--component", "vlien", "--hicann", "170", "--item", "1"]) == 2
    assert "did you mean 'vline'" in capsys.readouterr().err
    assert main(["defects", "add", "--db", db, "--wafer", "0", "--component", "vline", "--hicann", "170", "--item", "3", "256"]) == 2
    assert "Defect[vline].item: 256 out of range; valid 0..255" in capsys.readouterr().err
    assert main(["defects", "add", "--db", db, "--wafer", "0", "--component", "vline", "--hicann", "170", "--item", "x"]) == 2
    assert "Defect[vline].item: 'x' out of range" in capsys.readouterr().err
    assert main(["defects", "list", "--db", db, "--wafer", "0", "--component", "row"]) == 2
    with open_store(db) as store:
        assert len(store.defects(0)) == 4 and not store.defects(0, "hline")
        options = MappingOptions.with_defects(store, 0)
    assert options.disabled_rows == {(170, 17)} and options.disabled_vlines == {(170, 200)}
    assert options.disabled_hrepeaters == {(170, 9)} and options.disabled_vrepeaters == {(170, 3)}


@settings(max_examples=20, deadline=None)
@given(st.lists(st.sampled_from(sorted(DEFECT_COMPONENTS)).flatmap(
    lambda kind: st.tuples(st.just(kind), st.integers(0, 383) if kind != "fpga" else st.just(-1),
                           st.integers(0, DEFECT_COMPONENTS[kind][1] - 1))), max_size=12))
def test_defects_round_trip_through_the_store(tmp_path_factory, defects):
    with open_store(tmp_path_factory.mktemp("db") / "c.db") as store:
        store.add_defects([Defect(2, kind, hicann, item, "r", "s") for kind, hicann, item in defects])
        assert {(d.component, d.hicann, d.item) for d in store.defects(2)} == set(defects)


def test_mapping_options_check_their_defect_sets():
    with pytest.raises(CoordinateError, match=r"Defect\[synapse_row\].item: 448 out of range; valid 0..447"):
        MappingOptions(disabled_rows=frozenset({(168, 448)}))
    with pytest.raises(CoordinateError, match=r"Defect\[vrepeater\].hicann: 400 out of range; valid 0..383"):
        MappingOptions(disabled_vrepeaters=frozenset({(400, 3)}))
    with pytest.raises(ConfigError, match=r"MappingOptions.disabled_hlines: 5 is not a \(hicann enum, hline index\) pair"):
        MappingOptions(disabled_hlines=frozenset({5}))
