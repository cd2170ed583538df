"""The benchmark's networks: the paper network as users map it, the full HICANN from the hardware recipes."""

from __future__ import annotations

import numpy as np
import pytest

from hal import coordinates as C
from hal.hardware.hicann import GbitDirection, MergerMode, RepeaterMode
from hal.hardware.wafer import WaferConfig
from hal.netlist.wiring import extract_wiring
from hal_plugins.bench.networks import (
    PAPER_SAMPLE_MS,
    describe_paper_network,
    full_hicann,
    full_wafer,
    paper_experiment,
    paper_network,
    paper_rates,
    wiring_and_netlist,
)


@pytest.fixture(scope="module")
def paper():
    return paper_network(seed=0)


def test_paper_network_is_mapped_as_users_map_it(paper):
    from hal.mapping import MappingOptions, map_network
    from hal.network import paper_network_description

    config, mapping = map_network(paper_network_description(seed=0), C.Wafer(0), MappingOptions())
    assert paper.config == config
    assert paper.mapping.placement == mapping.placement
    assert len(paper.mapping.hicanns_used) == 3 and paper.mapping.synapses == 3700 and paper.mapping.synapses_lost == 0
    assert all(len(denmems) == 4 for population in ("input", "hidden1", "hidden2", "label")
               for _, denmems in paper.mapping.placement[population])


def test_paper_network_weights_follow_the_seed():
    a, b = paper_network(seed=0), paper_network(seed=1)
    assert not all(np.array_equal(pa.weight_bits, pb.weight_bits)
                   for pa, pb in zip(a.network.projections, b.network.projections, strict=True))


def test_paper_experiment_drives_the_mapped_sources(paper):
    experiment = paper_experiment(paper, samples=2, seed=0)
    assert experiment.duration_ms == PAPER_SAMPLE_MS and experiment.config is paper.config
    (inputs,) = experiment.inputs
    assert list(inputs.targets) == list(paper.mapping.source_address["pixels"])
    np.testing.assert_allclose(inputs.rates_hz, paper_rates(2, 0))
    wiring, netlist = wiring_and_netlist(experiment)
    assert len(wiring.neurons) == 135
    assert netlist.in_time.size > 0 and set(np.unique(netlist.in_sample).tolist()) == {0, 1}


def test_paper_rates_are_random_images_of_2500_hz():
    rates = paper_rates(4, seed=3)
    assert rates.shape == (4, 100) and (rates >= 0).all()
    np.testing.assert_allclose(rates.sum(axis=1), 2500.0)
    np.testing.assert_array_equal(paper_rates(4, seed=3), rates)
    assert not np.array_equal(paper_rates(4, seed=4), rates)


def test_describe_paper_network_reports_the_mapping():
    d = describe_paper_network(seed=0, batch=7)
    assert (d["neurons"], d["circuits_per_neuron"], d["hicanns"], d["synapses"], d["synapses_lost"]) == (135, 4, 3, 3700, 0)
    assert d["batch"] == 7 and d["sources"] == 100


def test_full_hicann_drives_every_synapse_row_and_makes_every_circuit_a_neuron():
    h = C.HICANNOnWafer(0)
    wiring = extract_wiring(WaferConfig(C.Wafer(0), hicanns={h: full_hicann()}))
    assert len(wiring.neurons) == 512 and all(len(n.denmems) == 1 for n in wiring.neurons)
    assert len(wiring.synapses) == 448 * 256
    assert set(wiring.synapses.row.tolist()) == set(range(448))
    assert len(wiring.background) == 8 and set(wiring.synapses.origin.tolist()) == {o for o, *_ in wiring.background}


def test_full_hicann_channels_merge_block_and_background_and_record():
    chip = full_hicann()
    assert (chip.mergers.column("mode")[:8] == MergerMode.MERGE.value).all()
    assert (chip.dnc_mergers.column("mode") == MergerMode.LEFT_ONLY.value).all()
    assert (chip.gbit_links.column("direction") == GbitDirection.TO_DNC.value).all()
    for j in range(8):
        sending = C.DNCMergerOnHICANN(j).to_sending_repeater().to_hrepeater()
        assert chip.h_repeaters[sending].mode == RepeaterMode.OUTPUT
    assert chip.synapse_drivers.column("enable").all() and chip.synapse_drivers.column("locin").all()


def test_full_wafer_copies_the_hicann_with_own_weights_and_links():
    config = full_wafer(2, seed=0)
    chips = dict(config.hicanns())
    assert list(chips) == [C.HICANNOnWafer(0), C.HICANNOnWafer(1)]
    a, b = chips.values()
    assert not np.array_equal(a.weights, b.weights)
    assert not np.array_equal(a.background_generators.column("seed"), b.background_generators.column("seed"))
    for h in chips:
        assert config.fpga(h.to_fpga()).links[h.to_highspeed_link()].enable
