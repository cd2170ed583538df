"""Tests for hal.coordinates.synapses: drivers, rows, synapses and synaptic inputs.

Expected numbers come from /work/shared/HARDWARE_FACTS.md and halco (test/hicann/v2/Synapse.cpp).
"""

from __future__ import annotations

import collections

from hypothesis import given
from hypothesis import strategies as st

from hal.coordinates import (
    NeuronOnHICANN,
    SendingRepeaterOnHICANN,
    SynapseColumnOnHICANN,
    SynapseDriverOnHICANN,
    SynapseOnHICANN,
    SynapseRowOnHICANN,
    SynapticInputOnNeuron,
)

# ---------------------------------------------------------------------------
# Synapses
# ---------------------------------------------------------------------------


def test_synapse_driver_rows_round_trip():
    rows = []
    for d in SynapseDriverOnHICANN.all():
        r0, r1 = d.rows()
        assert (r0.value, r1.value) == (2 * d.value, 2 * d.value + 1)
        assert r0.to_driver() == d == r1.to_driver()
        assert r0.array == r1.array == d.array
        rows += [r0, r1]
    assert rows == list(SynapseRowOnHICANN.all())


def test_synapse_driver_sides_and_quadrants_follow_halco():
    # halco test/hicann/v2/Synapse.cpp spot checks
    assert SynapseDriverOnHICANN(0).side == "right"
    assert SynapseDriverOnHICANN(1).side == "left"
    assert SynapseDriverOnHICANN(112).side == "left"
    assert SynapseDriverOnHICANN(113).side == "right"
    assert SynapseDriverOnHICANN(112).quadrant == 2  # bottom-left
    assert SynapseDriverOnHICANN(1).index_in_quadrant == 0
    assert SynapseDriverOnHICANN(111).index_in_quadrant == 55
    assert SynapseDriverOnHICANN(223).index_in_quadrant == 55
    per_quadrant = collections.Counter(d.quadrant for d in SynapseDriverOnHICANN.all())
    assert per_quadrant == {0: 56, 1: 56, 2: 56, 3: 56}
    for d in SynapseDriverOnHICANN.all():
        assert d.quadrant == 2 * (d.array == "bottom") + (d.side == "right")
    # lines alternate sides within each array
    for a, b in zip(SynapseDriverOnHICANN.all()[:111], SynapseDriverOnHICANN.all()[1:112]):
        assert a.side != b.side


def test_synapse_driver_to_sending_repeater():
    assert SynapseDriverOnHICANN(0).to_sending_repeater() == SendingRepeaterOnHICANN(7)
    assert SynapseDriverOnHICANN(112).to_sending_repeater() == SendingRepeaterOnHICANN(0)


def test_synapse_rows():
    r = SynapseRowOnHICANN(230)
    assert not r.is_top and r.array == "bottom" and r.row_on_array == 6
    assert r.to_driver() == SynapseDriverOnHICANN(115)
    assert SynapseRowOnHICANN(223).is_top and SynapseRowOnHICANN(223).row_on_array == 223


@given(st.integers(0, 447), st.integers(0, 255))
def test_synapse_round_trips(row, column):
    s = SynapseOnHICANN(row, column)
    assert s.enum == 256 * row + column
    assert s.to_row() == SynapseRowOnHICANN(row)
    assert s.to_column() == SynapseColumnOnHICANN(column)
    assert s.to_driver() == SynapseRowOnHICANN(row).to_driver()
    assert s.to_neuron() == NeuronOnHICANN(column, 0 if row < 224 else 1)
    assert s.to_neuron().to_synapse_column() == s.to_column()


def test_synapse_to_neuron_examples_from_halco():
    # driver 1 (left, top) row 2 -> top neuron; driver 131 row 262 -> bottom neuron
    assert SynapseOnHICANN(2, 15).to_neuron() == NeuronOnHICANN(15, 0)
    assert SynapseOnHICANN(262, 42).to_neuron() == NeuronOnHICANN(42, 1)


def test_synaptic_input_polarity_constants():
    assert SynapticInputOnNeuron.INHIBITORY == SynapticInputOnNeuron(0)
    assert SynapticInputOnNeuron.EXCITATORY == SynapticInputOnNeuron(1)
    assert SynapticInputOnNeuron.EXCITATORY.is_excitatory
    assert SynapticInputOnNeuron.INHIBITORY.is_inhibitory
    assert [i.kind for i in SynapticInputOnNeuron.all()] == ["inhibitory", "excitatory"]
