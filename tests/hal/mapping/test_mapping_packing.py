"""Packed synapse rows: several addresses of one origin on one row, one per column of the post neurons.

Packing is forced by leaving a HICANN few synapse drivers (``disabled_drivers``). Every test
reads the result back from the registers: weights, synapse decoders, row decoders and signs,
and the synapses hal.netlist (what every backend reads) finds.
"""

from __future__ import annotations

import numpy as np
import pytest

import hal
from hal import coordinates as C
from hal.errors import ResourceError
from hal.mapping import MappingOptions, map_network
from hal.mapping.rows import PlannedRow, one_row_each, packed_rows
from hal.network import Network, Population, Projection, SourcePopulation
from hal.testing.readback import expected_edges, realised_edges

H = C.HICANNOnWafer.from_xy(14, 7)


def _signed(n_pre: int, n_post: int, seed: int = 0) -> Network:
    """Sources onto one population, a signed random matrix as an excitatory and an inhibitory projection."""
    w = np.random.default_rng(seed).integers(-15, 16, size=(n_post, n_pre))
    return Network([Population("h", n_post)], [SourcePopulation("s", n_pre)],
                   [Projection("s", "h", "excitatory", "matrix", weight_bits=np.where(w > 0, w, 0)),
                    Projection("s", "h", "inhibitory", "matrix", weight_bits=np.where(w < 0, -w, 0))])


def _one_hicann(drivers: int = 224, **kwargs) -> MappingOptions:
    """Everything on HICANN ``H`` with only its first ``drivers`` synapse drivers."""
    return MappingOptions(hicanns=(H,), input_budget_hz=float("inf"),
                          disabled_drivers=frozenset((H.enum, d) for d in range(drivers, 224)), **kwargs)


def _check_registers(network: Network, config, result) -> set:
    """Every edge's weight, synapse decoder, row decoder and sign as the registers hold them; the rows used."""
    chip = config.hicann(H)
    rows_used = set()
    for j, proj in enumerate(network.projections):
        pre, post = proj.edges(network.size(proj.pre), network.size(proj.post))
        bits = proj.bits(pre, post, network.ns_per_weight_bit)
        hic, row, col = result.synapse_location[j]
        assert np.all(hic == H.enum)
        for a, b, w, r, c in zip(pre, post, bits, row, col):
            address = result.source_address[proj.pre][a].address
            assert chip.weights[r, c] == w
            assert chip.decoders[r, c] == address & 15
            config_row = chip.synapse_rows[int(r)]
            assert config_row.decoder_even == config_row.decoder_odd == address >> 4
            assert config_row.input_excitatory == (proj.receptor == "excitatory") != config_row.input_inhibitory
            # the column is one of the post neuron's own, in the row's synapse half
            _, denmems = result.placement[proj.post][b]
            assert (int(c), 0 if r < 224 else 1) in {(d.x, d.y) for d in denmems}
            rows_used.add(int(r))
    # No two edges on one synapse.
    locations = np.concatenate([row * 256 + col for _, row, col in result.synapse_location])
    assert np.unique(locations).size == locations.size
    return rows_used


def test_rows_are_packed_only_when_the_drivers_do_not_suffice():
    net = _signed(40, 6)
    config, result = map_network(net, options=_one_hicann())
    assert result.row_packing == {} and "row_packing" not in result.summary()
    assert len(_check_registers(net, config, result)) == 80  # one row per (source, sign)
    # 30 drivers (60 rows) for 80 (source, sign) rows: two addresses per row.
    config, result = map_network(net, options=_one_hicann(30))
    assert result.row_packing == {H.enum: 2} and result.summary()["row_packing"] == {str(H.enum): 2}
    assert result.synapses == 480 and result.synapses_lost == 0
    assert len(_check_registers(net, config, result)) < 60
    assert realised_edges(config, result) == expected_edges(net, result)


@pytest.mark.parametrize(("drivers", "slots"), [(40, 2), (30, 3), (24, 4)])
def test_larger_neurons_pack_more_addresses_per_row(drivers, slots):
    # A neuron of 8 circuits has 4 columns per half: up to 4 addresses per row, the fewest that fit.
    net = _signed(60, 4, seed=1)
    config, result = map_network(net, options=_one_hicann(drivers, circuits_per_neuron=8))
    assert result.row_packing == {H.enum: slots}
    assert result.synapses_lost == 0
    rows = _check_registers(net, config, result)
    assert len(rows) <= 2 * drivers
    assert realised_edges(config, result) == expected_edges(net, result)


def test_loss_that_packing_cannot_avoid_is_counted_and_located():
    net = _signed(40, 6)
    with pytest.raises(ResourceError, match=r"of 480 synapses could not be realised \(\{'no synapse driver'"):
        map_network(net, options=_one_hicann(10))
    config, result = map_network(net, options=_one_hicann(10, allow_loss=True))
    assert result.row_packing == {H.enum: 2}
    assert 0 < result.synapses_lost == result.lost_reasons["no synapse driver"]
    assert result.synapses + result.synapses_lost == 480
    realised = [result.realised(j) for j in range(2)]
    assert sum(int(m.sum()) for m in realised) == result.synapses
    for j, mask in enumerate(realised):
        hic, row, col = result.synapse_location[j]
        assert np.all(hic[~mask] == -1) and np.all(row[~mask] == -1) and np.all(col[~mask] == -1)
        assert np.all(hic[mask] == H.enum)
    assert realised_edges(config, result) == expected_edges(net, result)


def test_packed_and_unpacked_rows_give_the_same_spikes_on_the_reference():
    net = _signed(40, 6)
    rates = np.random.default_rng(1).uniform(5.0, 40.0, size=(3, 40))
    counts = []
    for drivers in (224, 30):
        config, result = map_network(net, options=_one_hicann(drivers))
        assert bool(result.row_packing) == (drivers == 30)
        exp = hal.Experiment(config, 600.0, [hal.PoissonInput(result.source_address["s"], rates, stop_ms=550.0, seed=3)])
        counts.append(hal.run(exp, hal.get_backend("reference")).spike_counts)
    assert counts[0].sum() > 50
    # The same conductances reach the same neurons, only on other rows and columns: the reference
    # integrates the same sums.
    np.testing.assert_array_equal(counts[0], counts[1])


def test_the_256_246_10_signed_network_maps_without_loss_on_the_default_chain():
    rng = np.random.default_rng(0)
    w1 = rng.integers(-3, 4, size=(246, 256))
    w2 = rng.integers(-3, 4, size=(10, 246))
    projections = []
    for pre, post, w in (("pixels", "hidden", w1), ("hidden", "out", w2)):
        projections.append(Projection(pre, post, "excitatory", "matrix", weight_bits=np.where(w > 0, w, 0)))
        projections.append(Projection(pre, post, "inhibitory", "matrix", weight_bits=np.where(w < 0, -w, 0)))
    net = Network([Population("hidden", 246), Population("out", 10)], [SourcePopulation("pixels", 256)], projections)
    config, result = map_network(net, C.Wafer(0), MappingOptions())
    assert result.synapses == 2 * (246 * 256 + 10 * 246) and result.synapses_lost == 0
    assert result.row_packing and set(result.row_packing.values()) == {2}
    assert all(result.realised(j).all() for j in range(4))
    assert realised_edges(config, result) == expected_edges(net, result)


def test_row_plans():
    needs = [(17, True, 1), (3, True, 1), (3, False, 1), (18, True, 1), (5, True, 2), (17, True, 1)]
    # One row per distinct need; both signs of address 3 next to each other, excitatory first.
    assert one_row_each(needs) == [PlannedRow(True, 1, (3,)), PlannedRow(False, 1, (3,)), PlannedRow(True, 2, (5,)),
                                   PlannedRow(True, 1, (17,)), PlannedRow(True, 1, (18,))]
    # Packed: same MSBs, sign and divisor share a row.
    packed = packed_rows(needs, 2)
    assert sorted(r.addresses for r in packed) == [(3,), (3,), (5,), (17, 18)]
    assert all(len({a >> 4 for a in r.addresses}) == 1 for r in packed)
    assert [r.addresses for r in packed_rows([(a, True, 1) for a in range(1, 21)], 4)] == [
        (1, 2, 3, 4), (5, 6, 7, 8), (9, 10, 11, 12), (13, 14, 15), (16, 17, 18, 19), (20,)]
