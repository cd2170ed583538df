"""Typed views over a HICANN's register image agree with the raw registers."""

from __future__ import annotations

import numpy as np
import pytest

from hal import coordinates as C
from hal.errors import ConfigError, CoordinateError, FieldOverflowError, UnknownNameError
from hal.hardware import floating_gates as fg
from hal.hardware.hicann import SYNAPSE_WEIGHTS, DenmemConfig, HICANNConfig


def test_fresh_hicann_is_in_reset_state_with_fg_defaults():
    h = HICANNConfig()
    assert h.is_reset()
    assert h.neurons[C.NeuronOnHICANN(x=0, y=0)] == DenmemConfig()
    for name, p in fg.NEURON_PARAMETERS.items():
        assert np.all(h.neuron_parameter(name) == p.default), name
    assert h.pll.value.frequency_mhz == 100.0


def test_typed_write_shows_up_in_raw_words_and_back():
    h = HICANNConfig()
    n = C.NeuronOnHICANN(x=10, y=1)
    h.neurons.update(n, l1_address=33, enable_spl1_output=True)
    word = h.read_words("neuron")[n.enum]
    assert word == 33 | 1 << 7
    h.write_words("neuron", [5], index=[n.enum])
    assert h.neurons[n].l1_address == 5 and not h.neurons[n].enable_spl1_output


def test_column_access_for_many_instances():
    h = HICANNConfig()
    h.neurons.set_column("l1_address", np.arange(512) % 64)
    assert np.array_equal(h.neurons.column("l1_address"), np.arange(512) % 64)
    h.neurons.set_column("activate_firing", True, index=[C.NeuronOnHICANN(x=1, y=0), 7])
    assert np.flatnonzero(h.neurons.column("activate_firing")).tolist() == [1, 7]
    # Other fields are untouched.
    assert h.neurons[1].l1_address == 1


def test_weights_round_trip_and_rows():
    h = HICANNConfig()
    rng = np.random.default_rng(0)
    w = rng.integers(0, 16, size=(448, 256))
    h.set_weights(w)
    assert np.array_equal(h.weights, w)
    h.set_weights(0, rows=slice(10, 20), columns=[0, 5])
    assert np.all(h.weights[10:20][:, [0, 5]] == 0)
    before = h.read_words("synapse_weight").copy()
    h.weights[0, 0] = 15
    assert np.array_equal(h.read_words("synapse_weight"), before)


def test_bad_weight_raises_naming_row_column_and_leaves_config_unchanged():
    h = HICANNConfig()
    h.set_weights(3)
    with pytest.raises(FieldOverflowError) as info:
        h.set_weights([1, 2, 16], rows=7, columns=[0, 1, 2])
    assert str(info.value) == "synapse_weight.weight at row 7, column 2: 16 does not fit; valid 0..15"
    assert np.all(h.weights == 3)
    with pytest.raises(ConfigError, match="values of shape"):
        h.set_weights(np.zeros((2, 3)), rows=slice(0, 4))


def test_neuron_parameter_lands_in_the_fg_cell_the_coordinates_name():
    h = HICANNConfig()
    n = C.NeuronOnHICANN(x=200, y=1)
    h.set_neuron_parameter("V_t", 777, neurons=[n])
    block = n.to_fg_block()
    row = fg.NEURON_PARAMETERS["V_t"].row(block.x)
    assert h.fg_cells[block.enum, row, n.fg_column()] == 777
    values = h.neuron_parameter("V_t")
    assert values[n.enum] == 777 and np.count_nonzero(values == 777) == 1


def test_every_neuron_parameter_cell_is_distinct():
    cells = set()
    for name in fg.NEURON_PARAMETERS:
        h = HICANNConfig()
        h.set_neuron_parameter(name, 0)
        changed = np.argwhere(h.fg_cells != HICANNConfig().fg_cells)
        cells.update(map(tuple, changed.tolist()))
    # 23 parameters x 512 neurons, except where the default already was 0 (none are).
    assert len(cells) == 23 * 512


def test_shared_parameters_per_block():
    h = HICANNConfig()
    h.set_shared_parameter("V_reset", [100, 200, 300, 400])
    assert h.shared_parameter("V_reset").tolist() == [100, 200, 300, 400]
    assert h.shared_parameter("V_bexp").tolist() == [-1, 1023, -1, 1023]  # right blocks only
    h.set_shared_parameter("V_bout", 5)  # only left blocks hold it
    assert h.shared_parameter("V_bout").tolist() == [5, -1, 5, -1]
    with pytest.raises(UnknownNameError, match="did you mean 'V_reset'"):
        h.set_shared_parameter("V_rest", 1)
    with pytest.raises(FieldOverflowError, match="valid 0..1023"):
        h.set_shared_parameter("V_reset", 1024)


def test_bad_inputs_to_tables():
    h = HICANNConfig()
    with pytest.raises(CoordinateError, match=r"NeuronOnHICANN.index: 512 out of range; valid 0..511"):
        h.neurons[512]
    with pytest.raises(CoordinateError):
        h.neurons["3"]
    with pytest.raises(FieldOverflowError, match="a DenmemConfig"):
        h.neurons[0] = 5
    with pytest.raises(UnknownNameError, match="unknown hicann register 'neurons'; did you mean 'neuron'"):
        h.read_words("neurons")
    with pytest.raises(UnknownNameError):
        h.write_words("repeater_block_control", [1] * 6)  # a command, not state
    with pytest.raises(FieldOverflowError, match="unsigned integers"):
        h.write_words("neuron", [1.5], index=[0])
    with pytest.raises(ConfigError, match="cannot write words"):
        h.write_words("neuron", [1, 2], index=[600, 601])


def test_switch_matrices():
    h = HICANNConfig()
    h.set_crossbar_switches(True, index=(3, 5))
    assert h.crossbar_switches.sum() == 1 and h.crossbar_switches[3, 5]
    h.set_synapse_switches(1, index=(223, slice(None)))
    assert h.synapse_switches[223].all()
    with pytest.raises(FieldOverflowError, match="valid 0..1"):
        h.set_synapse_switches(2, index=(0, 0))


def test_copy_and_equality():
    h = HICANNConfig()
    h.set_weights(1, rows=0)
    c = h.copy()
    assert c == h
    c.set_weights(2, rows=0)
    assert c != h and np.all(h.weights[0] == 1)
    assert SYNAPSE_WEIGHTS.word_count == 448 * 32


def test_switches_by_coordinate():
    h = HICANNConfig()
    sw = C.CrossbarSwitchOnHICANN(hline=3, vline=161)
    h.set_crossbar_switch(sw, True)
    assert h.crossbar_switch(sw)
    assert sum(h.crossbar_switch(s) for s in C.CrossbarSwitchOnHICANN.all()) == 1
    ss = C.SynapseSwitchOnHICANN.all()[40]
    h.set_synapse_switch(ss, True)
    assert [s for s in C.SynapseSwitchOnHICANN.all() if h.synapse_switch(s)] == [ss]
    with pytest.raises(FieldOverflowError, match="True/False"):
        h.set_crossbar_switch(sw, 1)
    with pytest.raises(ConfigError, match="expected a CrossbarSwitchOnHICANN"):
        h.crossbar_switch(ss)
