"""from_nir: the documented arithmetic, agreement with NIR's own definition on hal's reference chip, and every refusal.

The refusals are checked for their type and message (node, field, value, what is valid); the
agreement tests run small graphs on ``reference`` (the ideal chip) against :func:`hal.nir.simulate`.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

from hal import coordinates as C
from hal.analog.domains import PAPER_DOMAINS
from hal.errors import ConfigError, UnknownNameError
from hal.mapping import MappingOptions, map_network
from hal.network import LIFParameters, Network, Population, Projection, SourcePopulation

nir = pytest.importorskip("nir")
import hal.nir
from hal.nir import MappedNIR, OperatingPoint, from_nir, simulate, to_nir
from hal.nir.circuit import step_rate_per_ms

DT = 1e-4


def lif(n: int, tau: float = 1e-3, **extra):
    tau = np.broadcast_to(np.asarray(tau, dtype=float), (n,))
    fields = {"tau": tau.copy(), "r": tau / DT, "v_leak": np.zeros(n), "v_threshold": np.ones(n), "v_reset": np.zeros(n)}
    fields.update({k: np.broadcast_to(np.asarray(v, dtype=float), (n,)).copy() for k, v in extra.items()})
    return nir.LIF(**fields)


def two_layer(w1, w2):
    return nir.NIRGraph.from_list(nir.Linear(weight=np.asarray(w1, float)), lif(len(w1)), nir.Linear(weight=np.asarray(w2, float)), lif(len(w2)))


# -- the arithmetic -----------------------------------------------------------------------------------


@pytest.mark.parametrize("circuits", [2, 4])
def test_a_weight_step_moves_the_mapped_neuron_as_declared(circuits):
    """step_rate_per_ms is g / C of one weight step as the mapping writes it (read back from the registers)."""
    from hal.netlist.bio import bio_parameters
    from hal.netlist.synapses import row_unit_conductances
    from hal.netlist.wiring import extract_wiring

    net = Network([Population("n", 1)], [SourcePopulation("s", 1)],
                  [Projection("s", "n", "excitatory", "all_to_all", weight_bits=7, ns_per_weight_bit=0.68 / 3)])
    config, mapping = map_network(net, C.Wafer(0), MappingOptions(circuits_per_neuron=circuits))
    wiring = extract_wiring(config)
    c_pf = bio_parameters(wiring.parameters, PAPER_DOMAINS)["c_m_pf"][0]
    hic, row, _ = mapping.synapse_location[0]
    unit_ns = row_unit_conductances(config.hicann(C.HICANNOnWafer(int(hic[0]))))[0][row[0]] / PAPER_DOMAINS.speedup
    assert unit_ns / c_pf == pytest.approx(step_rate_per_ms(0.68 / 3, circuits, PAPER_DOMAINS), rel=2e-3)


def test_snntorch_conventions_land_at_the_operating_point():
    graph = two_layer([[0.2, -0.1]], [[0.3]])
    imported = from_nir(graph)
    op = imported.operating_point
    hidden = imported.network.populations[0]
    assert imported.time_scale == pytest.approx(hal.nir.AUTO_TAU_M_MS / 1.0)  # the 1 ms membranes become AUTO_TAU_M_MS
    assert imported.step_ms == pytest.approx(hal.nir.AUTO_TAU_M_MS / 10)
    p, tm, ts = hidden.params, hal.nir.AUTO_TAU_M_MS, op.tau_syn_ms
    assert (p.tau_m_ms, p.e_l_mv, p.v_th_mv, p.v_reset_mv, p.tau_syn_e_ms) == pytest.approx((tm, -60.0, -48.0, -60.0, ts))
    assert imported.voltage[hidden.name].mv_per_unit == pytest.approx(12.0)
    # weight 0.2 moves NIR's membrane by r w dt / tau = 0.2 units = 2.4 mV; the conductance whose PSP tail does the same:
    g_over_c = 2.4 * (tm - ts) / (tm * ts) / (0.0 - op.v_op_mv)
    exc = next(q for q in imported.network.projections if q.post == hidden.name and q.receptor == "excitatory")
    inh = next(q for q in imported.network.projections if q.post == hidden.name and q.receptor == "inhibitory")
    bits = int(exc.weight_bits[0, 0])
    assert 10 <= bits <= 15 and exc.weight_bits[0, 1] == 0  # the finest gmax divisor that holds the largest weight
    assert bits * step_rate_per_ms(exc.ns_per_weight_bit, 4, PAPER_DOMAINS) == pytest.approx(g_over_c, rel=0.5 / bits)
    assert 10 <= inh.weight_bits[0, 1] <= 15 and inh.weight_bits[0, 0] == 0
    assert imported.clipped == 0 and imported.outputs == (imported.names["lif_1"],)


def test_strong_weights_bring_the_threshold_closer_instead_of_clipping():
    from hal.logging import capture_events

    imported = from_nir(two_layer([[2.0, 0.5]], [[0.3]]))  # 2 thresholds in one spike: beyond 15 steps at 12 mV
    hidden = imported.network.populations[0]
    k = imported.voltage[hidden.name].mv_per_unit
    assert imported.operating_point.min_swing_mv < k < 12.0 and imported.clipped == 0
    assert hidden.params.v_th_mv == pytest.approx(-60.0 + k)
    assert max(int(np.max(q.weight_bits)) for q in imported.network.projections if q.post == hidden.name) <= 15
    with capture_events() as events:
        clipped = from_nir(two_layer([[40.0, 0.5]], [[0.3]]))  # not even at the smallest swing
    assert clipped.clipped == 1 and clipped.voltage[hidden.name].mv_per_unit == pytest.approx(4.0)
    warning = [e for e in events if e["event"] == "nir_weights_clipped"]
    assert warning and warning[0]["log_level"] == "warning" and warning[0]["count"] == 1


def test_cuba_li_if_and_bias_are_placed_as_documented():
    n = 2
    cuba = nir.CubaLIF(tau_syn=np.full(n, 2e-4), tau_mem=np.full(n, 1e-3), r=np.full(n, 10.0), v_leak=np.zeros(n),
                       v_threshold=np.full(n, 2.0), v_reset=np.full(n, -0.5), w_in=np.full(n, 2.0))
    li = nir.LI(tau=np.full(n, 2e-3), r=np.full(n, 20.0), v_leak=np.zeros(n))
    integrate = nir.IF(r=np.full(n, 1.0), v_threshold=np.full(n, 1.0), v_reset=np.zeros(n))
    graph = nir.NIRGraph(nodes={"x": nir.Input(input_type={"input": np.array([n])}), "a": nir.Affine(weight=np.eye(n) * 0.1, bias=np.full(n, 0.05)),
                                "c": cuba, "w": nir.Linear(weight=np.eye(n)), "l": li, "i": integrate, "o": nir.Output(output_type={"output": np.array([n])})},
                         edges=[("x", "a"), ("a", "c"), ("c", "w"), ("w", "l"), ("c", "i"), ("i", "o")])
    imported = from_nir(graph)
    p = {pop.name: pop.params for pop in imported.network.populations}
    op = imported.operating_point
    scale = imported.time_scale
    assert scale == pytest.approx(hal.nir.AUTO_TAU_M_MS)  # the fastest membrane (1 ms) sets it
    assert p["c"].tau_syn_e_ms == pytest.approx(0.2 * scale) and p["c"].tau_m_ms == pytest.approx(1.0 * scale)
    assert p["c"].v_reset_mv == pytest.approx(-60.0 - 0.5 * 6.0)  # 6 mV per unit: threshold 2 units above the leak
    assert p["c"].e_l_mv == pytest.approx(-60.0 + 6.0 * 10.0 * 2.0 * 0.05)  # bias: r * w_in * b units higher
    assert p["l"].v_th_mv == op.e_rev_e_mv and p["l"].tau_m_ms == pytest.approx(2.0 * scale)
    assert p["i"].tau_m_ms == op.if_tau_m_ms
    assert [q.connector for q in imported.network.projections if q.post == "i"] == ["one_to_one"]
    assert set(imported.outputs) == {"i", "l"}  # NIR's type inference gives the leaf 'l' an Output too


# -- against NIR's own definition, on the ideal chip ------------------------------------------------


def test_a_membrane_follows_nir_within_a_few_percent_of_the_threshold():
    rng = np.random.default_rng(1)
    graph = nir.NIRGraph.from_list(nir.Linear(weight=np.array([[0.12, 0.1, -0.15]])), lif(1))
    spikes = (rng.random((1, 60, 3)) < 0.15).astype(float)
    sim = simulate(graph, spikes)
    imported = from_nir(graph)
    result = MappedNIR.map(imported).run(spikes, "reference", tail_steps=0, record_membrane=("lif",))
    times, v = result.membranes["lif"]
    at = np.clip(np.searchsorted(times, (np.arange(60) + 1) * imported.step_ms - 1e-9), 0, len(times) - 1)
    diff = v[0, 0, at] - sim.v["lif"][0, :, 0]
    assert sim.counts["lif"].sum() == 0 and result.recording.spike_counts.sum() == 0  # sub-threshold, as planned
    assert sim.v["lif"].max() > 0.4  # it does move
    assert np.sqrt(np.mean(diff**2)) < 0.06  # measured 0.029 threshold units (docs/nir.md)


def test_spike_counts_of_a_small_network_follow_nir():
    rng = np.random.default_rng(0)
    graph = two_layer(rng.normal(0.12, 0.12, (12, 8)), rng.normal(0.15, 0.15, (4, 12)))
    spikes = (rng.random((8, 40, 8)) < 0.3).astype(float)
    sim = simulate(graph, spikes, tail_steps=5)
    imported = from_nir(graph)
    mapped = MappedNIR.map(imported)
    result = mapped.run(spikes, "reference", tail_steps=5)
    hidden = mapped.populations.spike_counts(result.recording, "lif")
    out = result.counts["lif_1"]
    assert sim.counts["lif"].sum() > 500 and sim.counts["lif_1"].sum() > 200
    assert abs(hidden.sum() / sim.counts["lif"].sum() - 1) < 0.05  # measured -1.4 % (docs/nir.md)
    assert abs(out.sum() / sim.counts["lif_1"].sum() - 1) < 0.25  # measured +13 %
    assert np.abs(hidden - sim.counts["lif"]).mean() < 1.0  # spikes per neuron and sample; measured 0.48


# -- refusals ------------------------------------------------------------------------------------------


def _graph(nodes: dict, edges: list):
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


REFUSED = [
    (lambda: _graph({"x": nir.Input(input_type={"input": np.array([2])}), "s": nir.Scale(scale=np.ones(2)), "n": lif(2)},
                    [("x", "s"), ("s", "n")]),
     "NIR node 's' is a Scale; hal imports Input, Output, Affine, Linear, LIF, CubaLIF, IF, LI, CubaLI"),
    (lambda: _graph({"x": nir.Input(input_type={"input": np.array([2])}), "w": nir.Linear(weight=np.ones((2, 2))),
                     "n": lif(2, tau=[1e-3, 2e-3])}, [("x", "w"), ("w", "n")]),
     "NIR LIF 'n'.tau: values 0.001..0.002 differ between neurons; a hal population shares one value"),
    (lambda: _graph({"x": nir.Input(input_type={"input": np.array([2])}), "a": nir.Affine(weight=np.ones((2, 2)), bias=np.array([0.1, 0.2])),
                     "n": lif(2)}, [("x", "a"), ("a", "n")]),
     "NIR Affine 'a'.bias: values 0.1..0.2 differ between the neurons of 'n'"),
    (lambda: _graph({"x": nir.Input(input_type={"input": np.array([2])}), "w": nir.Linear(weight=np.ones((2, 2))),
                     "n": lif(2, v_threshold=-0.5)}, [("x", "w"), ("w", "n")]),
     "NIR LIF 'n': v_threshold -0.5 must lie above v_leak 0"),
    (lambda: _graph({"x": nir.Input(input_type={"input": np.array([2])}), "w": nir.Linear(weight=np.ones((2, 2))), "n": lif(2),
                     "v": nir.Linear(weight=np.ones((2, 2))), "o": nir.Output(output_type={"output": np.array([2])})},
                    [("x", "w"), ("w", "n"), ("n", "v"), ("v", "o")]),
     "NIR Output 'o' is fed by Linear 'v'; hal records neurons"),
    (lambda: _graph({"x": nir.Input(input_type={"input": np.array([3])}), "w": nir.Linear(weight=np.ones((2, 2))), "n": lif(2)},
                    [("x", "w"), ("w", "n")]),
     "NIR Linear 'w'.weight: shape (2, 2); expected (2, 3) (post 'n', pre 'x')"),
    (lambda: _graph({"x": nir.Input(input_type={"input": np.array([2])}), "w": nir.Linear(weight=np.ones((2, 2))),
                     "v": nir.Linear(weight=np.ones((2, 2))), "n": lif(2)}, [("x", "w"), ("w", "v"), ("v", "n")]),
     "NIR Linear 'v' is fed by another weight node 'w'"),
    (lambda: _graph({"x": nir.Input(input_type={"input": np.array([3])}), "n": lif(2)}, [("x", "n")]),
     "NIR edge 'x' -> 'n' without a weight node joins 3 to 2 neurons"),
    (lambda: _graph({"x": nir.Input(input_type={"input": np.array([2])})}, []), "NIR graph has no neuron node"),
]


@pytest.mark.parametrize("make, message", REFUSED, ids=[m.split(":")[0][:40] for _, m in REFUSED])
def test_graphs_hal_cannot_import_are_refused_by_name(make, message):
    with pytest.raises(ConfigError) as error:
        from_nir(make())
    assert message in str(error.value)


def test_a_nested_graph_is_refused_with_what_to_do():
    inner = nir.NIRGraph.from_list(nir.Linear(weight=np.ones((2, 2))), lif(2))
    graph = _graph({"x": nir.Input(input_type={"input": np.array([2])}), "rnn": inner}, [("x", "rnn")])
    with pytest.raises(ConfigError, match="NIR node 'rnn' is a nested NIRGraph .*flatten the subgraph"):
        from_nir(graph)


@pytest.mark.parametrize("kwargs, message", [
    ({"dt_s": 0.0}, "from_nir: dt_s 0.0 out of range; valid a finite time > 0 s"),
    ({"dt_s": float("nan")}, "from_nir: dt_s nan out of range"),
    ({"circuits_per_neuron": 3}, "from_nir: circuits_per_neuron 3 not supported; valid 1, 2, 4, 8, 16, 32, 64"),
    ({"operating_point": OperatingPoint(time_scale=1.0)}, "NIR LIF 'lif': membrane time constant 1 ms (time_scale 1) not above the synaptic 8 ms of the operating point"),
    ({"operating_point": "fast"}, "from_nir: operating_point must be a hal.nir.OperatingPoint, got str"),
])
def test_bad_options_are_refused(kwargs, message):
    with pytest.raises(ConfigError) as error:
        from_nir(two_layer([[0.2]], [[0.3]]), **kwargs)
    assert message in str(error.value)


def test_not_a_graph_and_a_bad_operating_point():
    with pytest.raises(ConfigError, match="from_nir: expected a nir.NIRGraph, got str"):
        from_nir("model.nir")
    with pytest.raises(ConfigError, match=r"OperatingPoint: need e_rev_i_mv < e_l_mv < e_l_mv \+ swing_mv < e_rev_e_mv; got -90.0 < -60.0 < 5.0 < 0.0"):
        OperatingPoint(swing_mv=65.0)
    with pytest.raises(ConfigError, match=r"OperatingPoint.tau_syn_ms: -1.0 out of range"):
        OperatingPoint(tau_syn_ms=-1.0)


def test_spikes_that_are_not_one_spike_per_step_are_refused():
    imported = from_nir(two_layer([[0.2, 0.1]], [[0.3]]))
    mapped = MappedNIR.map(imported)
    with pytest.raises(ConfigError, match=r"spikes of input 'input' hold 2.0; valid 0 or 1 per step and source"):
        mapped.experiment(np.full((1, 3, 2), 2.0))
    with pytest.raises(ConfigError, match=r"spikes of input 'input' of shape \(3, 2\); expected \(samples, steps, 2\)"):
        mapped.experiment(np.zeros((3, 2)))
    with pytest.raises(UnknownNameError, match="input"):
        mapped.experiment({"pixels": np.zeros((1, 3, 2))})
    with pytest.raises(ConfigError, match="differs from the 4 the weights were computed for"):
        MappedNIR.map(imported, options=MappingOptions(circuits_per_neuron=2))


def test_to_nir_refusals():
    with pytest.raises(ConfigError, match="to_nir: expected a hal.network.Network, got dict"):
        to_nir({})
    net = Network([Population("a", 1, LIFParameters())])
    with pytest.raises(UnknownNameError, match="'b'"):
        to_nir(net, outputs=["b"])
    with pytest.raises(ConfigError, match="to_nir: time_scale 0 out of range"):
        to_nir(net, time_scale=0)


def test_edited_hal_metadata_is_refused():
    graph = to_nir(Network([Population("a", 1)], [SourcePopulation("s", 1)], [Projection("s", "a", weight_bits=3)]))
    graph.metadata["hal_version"] = "9"
    with pytest.raises(ConfigError, match="NIR graph metadata hal_version: '9' not supported; this hal reads 1"):
        from_nir(graph)
    graph.metadata["hal_version"] = "1"
    graph.nodes["s->a"].metadata["hal_projections"] = "[{"
    with pytest.raises(ConfigError, match="NIR node 's->a' metadata hal_projections: not JSON"):
        from_nir(graph)


def test_without_nir_installed_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "nir", None)  # what an environment without the package gives
    with pytest.raises(hal.nir.MissingExtraError) as error:
        from_nir(object())
    assert str(error.value).startswith("hal.nir.from_nir needs the optional package 'nir', which is not installed; install hal's optional extra 'interop'")
    assert isinstance(error.value, ConfigError) and error.value.extra == "interop"


def test_simulate_refuses_spikes_that_do_not_fit_the_graph():
    graph = two_layer([[0.2, 0.1]], [[0.3]])
    with pytest.raises(ConfigError, match=r"simulate: spikes for \['pixels'\]; the graph's inputs are \['input'\]"):
        simulate(graph, {"pixels": np.zeros((1, 3, 2))})
    with pytest.raises(ConfigError, match=r"simulate: spikes of input 'input' of shape \(1, 3, 5\); expected \(samples, steps, 2\)"):
        simulate(graph, np.zeros((1, 3, 5)))
