"""hal.testing.networks: the test networks are users' networks, mapped by the one mapper."""

from __future__ import annotations

import numpy as np
import pytest

from hal import coordinates as C
from hal.errors import ConfigError
from hal.mapping import MappingOptions
from hal.network import paper_network_description
from hal.testing.networks import PAPER_SIZES, layered_network, paper_network


def test_paper_network_is_the_users_paper_network():
    net = paper_network(seed=4)
    users = paper_network_description(seed=4)
    assert [(p.name, p.size) for p in net.network.populations] == [(p.name, p.size) for p in users.populations]
    for ours, theirs in zip(net.network.projections, users.projections):
        assert (ours.pre, ours.post, ours.receptor, ours.connector) == (theirs.pre, theirs.post, theirs.receptor, theirs.connector)
        assert np.array_equal(ours.weight_bits, theirs.weight_bits)
    assert net.mapping.synapses_lost == 0


def test_paper_network_on_one_hicann_with_two_circuits():
    hicann = C.HICANNOnWafer(100)
    net = paper_network(hicann=hicann, circuits_per_neuron=2)
    assert net.mapping.hicanns_used == (hicann,)
    assert net.mapping.synapses == 100 + 2 * (100 * 15 + 15 * 15 + 15 * 5)
    for layer, size in enumerate(PAPER_SIZES):
        for i in range(size):
            h, denmems = net.circuits(layer, i)
            assert h == hicann and len(denmems) == 2 and net.neuron(layer, i) == (h, denmems[0])
            assert net.config.hicann(h).neurons[denmems[0]].activate_firing


def test_default_options_are_the_users():
    net = layered_network((3, 2), [np.ones((2, 3), dtype=int)])
    assert all(len(net.circuits(0, i)[1]) == MappingOptions().circuits_per_neuron for i in range(3))
    assert set(net.mapping.hicanns_used) <= set(MappingOptions().hicanns)


def test_set_weights_writes_signed_weights_to_the_two_projections():
    net = layered_network((2, 1), [np.array([[3, -3]])], hicann=C.HICANNOnWafer(100), circuits_per_neuron=2)
    net.set_weights(0, np.array([[-7, 9]]))
    chip = net.config.hicann(C.HICANNOnWafer(100))
    for j, expected in ((1, [0, 9]), (2, [7, 0])):
        _, rows, cols = net.mapping.synapse_location[j]
        assert chip.weights[rows, cols].tolist() == expected


@pytest.mark.parametrize(("call", "fragment"), [
    (lambda n: n.neuron(2, 0), "layer 2 out of range; valid 0..1"),
    (lambda n: n.neuron(1, 1), "index 1 out of range for layer 1; valid 0..0"),
    (lambda n: n.set_weights(0, np.array([[16, 0]])), "values 0..16; valid -15..15"),
    (lambda n: n.set_weights(0, np.zeros((2, 2))), "shape (2, 2); expected (1, 2) (post, pre)"),
])
def test_bad_indices_and_weights_are_named(call, fragment):
    net = layered_network((2, 1), [np.array([[3, -3]])], hicann=C.HICANNOnWafer(100), circuits_per_neuron=2)
    with pytest.raises(ConfigError) as info:
        call(net)
    assert fragment in str(info.value)
