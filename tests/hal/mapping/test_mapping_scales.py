"""Per-projection weight scales: realised by the gmax divisor of the projection's synapse rows.

Checked where backends look: the conductance of every synapse as hal.netlist reads it from the
registers, and spikes on the reference backend.
"""

from __future__ import annotations

import attrs
import numpy as np
import pytest

import hal
from hal import coordinates as C
from hal.analog.transfer import synaptic_unit_conductance_ns
from hal.errors import ConfigError, ConfigValueError
from hal.mapping import MappingOptions, map_network
from hal.mapping.scales import GMAX_DIVISORS, projection_divisors
from hal.netlist.wiring import extract_wiring
from hal.network import Network, Population, Projection, SourcePopulation

NS = Network([Population("a", 1)]).ns_per_weight_bit  # the network's default scale (divisor 1)
H = C.HICANNOnWafer.from_xy(14, 7)


def _scaled() -> Network:
    """a -> b excitatory at a third of the network's scale, inhibitory at half, a -> c at the network's own:
    b and c sit on one HICANN, so the origin of a needs rows of divisor 3 and 1 for the same addresses there."""
    rng = np.random.default_rng(0)
    return Network([Population("a", 12), Population("b", 5), Population("c", 5)], [SourcePopulation("s", 12)], [
        Projection("s", "a", connector="one_to_one", weight_bits=15),
        Projection("a", "b", "excitatory", "matrix", weight_bits=rng.integers(0, 16, (5, 12)), ns_per_weight_bit=NS / 3),
        Projection("a", "b", "inhibitory", "matrix", weight_bits=rng.integers(0, 16, (5, 12)), ns_per_weight_bit=NS / 2),
        Projection("a", "c", "excitatory", "matrix", weight_bits=rng.integers(0, 16, (5, 12))),
    ])


def test_each_projection_is_realised_with_its_own_scale():
    net = _scaled()
    config, result = map_network(net)
    assert result.synapses_lost == 0
    assert result.projection_ns_per_bit == pytest.approx((NS, NS / 3, NS / 2, NS), rel=1e-12)
    assert {h for h, _ in result.placement["b"]} == {h for h, _ in result.placement["c"]}
    # Which projection each (hicann, row, column) belongs to.
    owner = {}
    for j, (hic, row, col) in enumerate(result.synapse_location):
        owner.update({(int(h), int(r), int(c)): j for h, r, c in zip(hic, row, col)})
    syn = extract_wiring(config).synapses
    unit = synaptic_unit_conductance_ns(1000, 1)  # V_gmax0 of the nominal chip at the network's scale
    seen = set()
    for h, r, c, g, exc in zip(syn.hicann, syn.row, syn.column, syn.conductance_ns, syn.excitatory):
        j = owner[(int(h), int(r), int(c))]
        weight = config.hicann(C.HICANNOnWafer(int(h))).weights[r, c]
        divisor = (1, 3, 2, 1)[j]
        assert g == pytest.approx(weight * unit / divisor, rel=1e-12)
        assert bool(exc) == (net.projections[j].receptor == "excitatory")
        rows = config.hicann(C.HICANNOnWafer(int(h))).synapse_rows[int(r)]
        assert (rows.gmax_div_excitatory if exc else rows.gmax_div_inhibitory) == divisor
        seen.add(j)
    assert seen == {0, 1, 2, 3}


def test_a_scaled_projection_spikes_like_the_same_conductances_at_the_network_scale():
    # Weight w at the network's scale and weight 2w at half of it are the same conductance.
    w = np.random.default_rng(2).integers(0, 8, (6, 20))

    def network(bits, scale):
        return Network([Population("h", 6)], [SourcePopulation("s", 20)],
                       [Projection("s", "h", "excitatory", "matrix", weight_bits=bits, ns_per_weight_bit=scale)])

    options = MappingOptions(hicanns=(H,), input_budget_hz=float("inf"))
    rates = np.random.default_rng(1).uniform(10.0, 40.0, size=(3, 20))
    counts = []
    for net in (network(w, None), network(2 * w, NS / 2)):
        config, result = map_network(net, options=options)
        exp = hal.Experiment(config, 500.0, [hal.PoissonInput(result.source_address["s"], rates, stop_ms=450.0, seed=5)])
        counts.append(hal.run(exp, hal.get_backend("reference")).spike_counts)
    assert counts[0].sum() > 20
    np.testing.assert_array_equal(counts[0], counts[1])


def test_weights_in_ns_convert_with_the_projections_scale():
    proj = Projection("s", "a", connector="one_to_one", weight_ns=5 * NS / 4, ns_per_weight_bit=NS / 4)
    net = Network([Population("a", 3)], [SourcePopulation("s", 3)], [proj])
    assert net.ns_per_bit(proj) == NS / 4 and net.ns_per_bit(attrs.evolve(proj, ns_per_weight_bit=None)) == NS
    pre, post = proj.edges(3, 3)
    assert proj.bits(pre, post, net.ns_per_bit(proj)).tolist() == [5, 5, 5]
    config, result = map_network(net)
    hic, row, col = result.synapse_location[0]
    chip = config.hicann(C.HICANNOnWafer(int(hic[0])))
    assert chip.weights[row, col].tolist() == [5, 5, 5]
    assert {int(chip.synapse_rows[int(r)].gmax_div_excitatory) for r in row} == {4}
    # 15 bits at a quarter of the scale are fine; 5 x the network's conductance is not.
    with pytest.raises(ConfigError, match="weight_ns / 0.17 nS per bit gives 20.0; valid 0..15"):
        Network([Population("a", 3)], [SourcePopulation("s", 3)],
                [Projection("s", "a", connector="one_to_one", weight_ns=20 * NS / 4, ns_per_weight_bit=NS / 4)])


@pytest.mark.parametrize(("value", "nearest"), [
    (0.5, r"nearest 0\.34 \(divisor 2\) or 0\.68 \(divisor 1\)"),
    (1.0, r"nearest 0\.68 \(divisor 1\)$"),
    (0.03, r"nearest 0\.0453333 \(divisor 15\)$"),
])
def test_a_scale_no_divisor_realises_is_refused_naming_it(value, nearest):
    net = Network([Population("a", 2), Population("b", 2)], [],
                  [Projection("a", "b", weight_bits=1), Projection("a", "b", "inhibitory", weight_bits=1, ns_per_weight_bit=value)])
    with pytest.raises(ConfigValueError, match=r"projections\[1\] a->b \(inhibitory\)\.ns_per_weight_bit: " + str(value)
                       + r" out of range; valid Network\.ns_per_weight_bit 0\.68 nS divided by a gmax divisor 1\.\.15; " + nearest) as info:
        map_network(net)
    assert info.value.value == value and info.value.field == "ns_per_weight_bit"


def test_every_divisor_is_realisable_and_values_are_checked_on_construction():
    projections = [Projection("a", "b", receptor, "one_to_one", weight_bits=1, ns_per_weight_bit=NS / d)
                   for d, receptor in zip(GMAX_DIVISORS, ["excitatory", "inhibitory"] * 8)]
    nets = [Network([Population("a", 2), Population("b", 2)], [], [p]) for p in projections]
    assert [projection_divisors(n)[0] for n in nets] == list(GMAX_DIVISORS) == list(range(1, 16))
    for bad in (0, -0.5, float("nan"), float("inf"), "0.3", True):
        with pytest.raises(ConfigValueError, match=r"Projection\.ns_per_weight_bit: .* out of range; valid a finite conductance > 0 nS per weight bit"):
            Projection("a", "b", weight_bits=1, ns_per_weight_bit=bad)


def test_realised_mask_names_a_bad_projection():
    _, result = map_network(_scaled())
    assert result.realised(1).shape == (60,) and result.realised(1).all()
    with pytest.raises(ConfigError, match=r"MappingResult\.realised: projection 4 out of range; valid 0\.\.3"):
        result.realised(4)
