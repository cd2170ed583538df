"""MappingOptions.spread_sources: sources over the HICANNs of their targets, each link carrying a share."""

from collections import Counter

import numpy as np

import hal
from hal import coordinates as C
from hal.mapping import MappingOptions, map_network
from hal.network import Network, Population, Projection, SourcePopulation


def _network(n_sources=60, n_post=300):
    w = np.random.default_rng(1).integers(0, 4, size=(n_post, n_sources))
    return Network([Population("post", n_post)], [SourcePopulation("src", n_sources)],
                   [Projection("src", "post", "excitatory", "matrix", weight_bits=w)])


def test_default_puts_sources_on_the_first_targets_hicann():
    _, m = map_network(_network(), C.Wafer(0), MappingOptions())
    assert set(Counter(a.hicann.enum for a in m.source_address["src"])) == {m.placement["post"][0][0].enum}


def test_spread_sources_balances_them_over_the_targets_hicanns():
    _, m = map_network(_network(), C.Wafer(0), MappingOptions(spread_sources=True))
    per_hicann = Counter(a.hicann.enum for a in m.source_address["src"])
    target_hicanns = {h.enum for h, _ in m.placement["post"]}
    assert set(per_hicann) == target_hicanns
    assert max(per_hicann.values()) - min(per_hicann.values()) <= 1
    assert m.synapses_lost == 0


def test_spread_sources_realises_the_same_network():
    """Same spikes on the reference: only where the input enters changed."""
    net = _network(n_sources=40, n_post=150)
    rates = np.random.default_rng(2).random((3, 40)) * 30
    counts = []
    for spread in (False, True):
        cfg, m = map_network(net, C.Wafer(0), MappingOptions(spread_sources=spread))
        exp = hal.Experiment(cfg, 100.0, [hal.PoissonInput(m.source_address["src"], rates, seed=4)])
        rec = hal.run(exp, hal.get_backend("reference"))
        column = {(n.hicann, n.firing): i for i, n in enumerate(rec.neurons)}
        counts.append(rec.spike_counts[:, [column[(h, d[0])] for h, d in m.placement["post"]]])
    assert counts[0].sum() > 0
    np.testing.assert_array_equal(counts[0], counts[1])
