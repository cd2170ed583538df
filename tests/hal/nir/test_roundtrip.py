"""hal -> NIR -> hal is exact: random small networks keep every weight and parameter, also through a NIR file.

And what other tools read from the exported graph is the linearised neuron: a CubaLIF (CubaLI for
a readout) with hal's time constants and voltages, and signed weights of the documented size.
"""

from __future__ import annotations

import attrs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hal.network import LIFParameters, Network, Population, Projection, SourcePopulation

nir = pytest.importorskip("nir")
import hal.nir
from hal.analog.domains import PAPER_DOMAINS
from hal.nir.circuit import step_rate_per_ms


def assert_identical(a: Network, b: Network) -> None:
    """Every field of every population, source and projection equal; arrays equal with the same kind of dtype."""
    assert a.ns_per_weight_bit == b.ns_per_weight_bit
    assert [(p.name, p.size, p.params) for p in a.populations] == [(p.name, p.size, p.params) for p in b.populations]
    assert [(s.name, s.size) for s in a.sources] == [(s.name, s.size) for s in b.sources]
    assert len(a.projections) == len(b.projections)
    for p, q in zip(a.projections, b.projections):
        for field in attrs.fields(Projection):
            x, y = getattr(p, field.name), getattr(q, field.name)
            if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
                assert isinstance(x, np.ndarray) and isinstance(y, np.ndarray), field.name
                assert x.dtype.kind == y.dtype.kind and x.shape == y.shape and np.array_equal(x, y), field.name
            else:
                assert type(x) is type(y) and x == y, field.name


_voltage = st.floats(-90, 0, allow_nan=False).map(lambda v: round(v, 3))


@st.composite
def parameters(draw) -> LIFParameters:
    e_l = draw(st.floats(-80, -50))
    th = e_l + draw(st.floats(1, 20))
    return LIFParameters(e_rev_i_mv=draw(st.floats(-100, -81)), v_reset_mv=th - draw(st.floats(0.5, 25)), e_l_mv=e_l, v_th_mv=th,
                         e_rev_e_mv=draw(st.sampled_from([0.0, th, th + 5.0])), tau_syn_e_ms=draw(st.floats(1.3, 15)),
                         tau_syn_i_ms=draw(st.floats(1.3, 15)), tau_m_ms=draw(st.floats(5, 400)),
                         t_ref_ms=draw(st.none() | st.floats(0.2, 10)))


@st.composite
def networks(draw) -> Network:
    pops = [Population(f"p{k}", draw(st.integers(1, 5)), draw(parameters())) for k in range(draw(st.integers(1, 3)))]
    sources = [SourcePopulation(f"s{k}", draw(st.integers(1, 5))) for k in range(draw(st.integers(0, 2)))]
    net_ns = draw(st.sampled_from([0.68, 0.5, 0.9]))
    sizes = {p.name: p.size for p in (*pops, *sources)}
    projections = []
    for _ in range(draw(st.integers(0, 5))):
        pre = draw(st.sampled_from(sorted(sizes)))
        post = draw(st.sampled_from([p.name for p in pops]))
        connector = draw(st.sampled_from(["all_to_all", "matrix", "list"] + (["one_to_one"] if sizes[pre] == sizes[post] else [])))
        n = {"all_to_all": sizes[pre] * sizes[post], "matrix": sizes[pre] * sizes[post], "one_to_one": sizes[pre]}.get(connector)
        pairs = None
        if connector == "list":
            pairs = draw(st.lists(st.tuples(st.integers(0, sizes[pre] - 1), st.integers(0, sizes[post] - 1)), min_size=1, max_size=6))
            n = len(pairs)
        divisor = draw(st.integers(1, 15))
        own = draw(st.booleans())
        ns = net_ns / divisor if own else net_ns
        shape = (sizes[post], sizes[pre]) if connector == "matrix" and draw(st.booleans()) else (n,)
        if draw(st.booleans()):
            bits = draw(st.integers(0, 15)) if draw(st.booleans()) else np.asarray(draw(st.lists(st.integers(0, 15), min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))).reshape(shape)
            weights = {"weight_bits": bits}
        else:
            values = draw(st.lists(st.floats(0, 15.4 * ns), min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
            weights = {"weight_ns": np.asarray(values).reshape(shape)}
        projections.append(Projection(pre, post, draw(st.sampled_from(["excitatory", "inhibitory"])), connector, pairs=pairs,
                                      ns_per_weight_bit=ns if own else None, **weights))
    return Network(pops, sources, projections, ns_per_weight_bit=net_ns)


@settings(max_examples=25)
@given(networks(), st.sampled_from([1, 2, 4, 8]))
def test_hal_nir_hal_keeps_every_weight_and_parameter(network, circuits):
    graph = hal.nir.to_nir(network, circuits_per_neuron=circuits)
    back = hal.nir.from_nir(graph)
    assert back.exact and back.circuits_per_neuron == circuits
    assert_identical(network, back.network)


def test_the_round_trip_survives_a_nir_file(tmp_path):
    from hal.network import paper_network_description

    network = paper_network_description(seed=4)
    path = tmp_path / "paper.nir"
    nir.write(path, hal.nir.to_nir(network))
    assert_identical(network, hal.nir.from_nir(nir.read(path)).network)


def test_other_tools_read_the_linearised_neuron():
    readout = LIFParameters(e_l_mv=-65, v_reset_mv=-65, v_th_mv=0.0, e_rev_e_mv=0.0, tau_m_ms=10.0, tau_syn_e_ms=5.0, tau_syn_i_ms=5.0)
    hidden = LIFParameters(e_l_mv=-65, v_reset_mv=-70, v_th_mv=-50, e_rev_i_mv=-80, tau_m_ms=20.0, tau_syn_e_ms=2.0, tau_syn_i_ms=2.0)
    network = Network([Population("h", 2, hidden), Population("out", 1, readout)], [SourcePopulation("x", 3)], [
        Projection("x", "h", "excitatory", "matrix", weight_bits=np.array([[3, 0, 15], [0, 1, 0]])),
        Projection("x", "h", "inhibitory", "matrix", weight_bits=np.array([[0, 2, 0], [0, 0, 0]]), ns_per_weight_bit=0.34),
        Projection("h", "out", "excitatory", "all_to_all", weight_bits=4),
    ])
    graph = hal.nir.to_nir(network, circuits_per_neuron=2, dt_s=1e-4, time_scale=1.0)
    h, out = graph.nodes["h"], graph.nodes["out"]
    assert type(h).__name__ == "CubaLIF" and type(out).__name__ == "CubaLI"
    np.testing.assert_allclose(h.tau_mem, 0.020)
    np.testing.assert_allclose(h.tau_syn, 0.002)
    np.testing.assert_allclose(h.v_threshold, -50.0)
    np.testing.assert_allclose(h.v_reset, -70.0)
    w = graph.nodes["x->h"].weight
    # excitatory step: g/C * tau_m * (E_e - V_op) * tau_syn / dt at V_op = (-65 - 50) / 2
    step_e = step_rate_per_ms(0.68, 2, PAPER_DOMAINS) * 20.0 * (0.0 + 57.5) * 0.002 / 1e-4
    step_i = step_rate_per_ms(0.34, 2, PAPER_DOMAINS) * 20.0 * (-80.0 + 57.5) * 0.002 / 1e-4
    np.testing.assert_allclose(w, [[3 * step_e, 2 * step_i, 15 * step_e], [0, step_e, 0]])
    assert w[0, 1] < 0  # inhibition is negative in NIR
    assert [name for name, node in graph.nodes.items() if type(node).__name__ == "Output"] == ["out-output"]
