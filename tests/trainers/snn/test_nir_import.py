"""Graphs of other tools as trainer-API models: ``model_from_nir(graph, coding=...)`` through :func:`hal.nir.from_nir`.

What the import must keep: the imported network's integer weights (each sign with its own scale),
neuron parameters, chain order and recurrence, so that the model's own network is the imported
one; what it refuses (no coding, a coding of another size or kind, graphs that are no chain, an
export of ``model_to_nir`` with import options); the rate code of discrete-time simulators
(:class:`StepRateCoding`) and the trainer's spike-count readout it needs.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")
nir = pytest.importorskip("nir")

import hal.nir
from hal.errors import ConfigError
from hal_trainers.snn import LIF, LatencyCoding, LeakyIntegrator, Projection, SpikingModel, StepRateCoding, Trainer, Twin
from hal_trainers.snn.nir import model_from_imported, model_from_nir, model_to_nir


def lif(n: int):
    """snnTorch's conventions (``Leaky`` with beta 0.9 as NIR describes it): tau 1 ms, r = tau / dt, threshold 1."""
    return nir.LIF(tau=np.full(n, 1e-3), r=np.full(n, 10.0), v_leak=np.zeros(n), v_threshold=np.ones(n), v_reset=np.zeros(n))


def chain(w1, w2, recurrent=None, readout=None):
    nodes = {"x": nir.Input(input_type={"input": np.array([w1.shape[1]])}), "w1": nir.Linear(weight=w1), "h": lif(w1.shape[0]),
             "w2": nir.Linear(weight=w2), "o": readout or lif(w2.shape[0]), "y": nir.Output(output_type={"output": np.array([w2.shape[0]])})}
    edges = [("x", "w1"), ("w1", "h"), ("h", "w2"), ("w2", "o"), ("o", "y")]
    if recurrent is not None:
        nodes["r"] = nir.Linear(weight=recurrent)
        edges += [("h", "r"), ("r", "h")]
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


def signed_bits(network, pre: str, post: str) -> tuple[np.ndarray, dict]:
    """The imported network's excitatory minus inhibitory bits of (pre, post), and each sign's scale."""
    n_pre, n_post = network.size(pre), network.size(post)
    bits, scales = np.zeros((n_post, n_pre), dtype=np.int64), {}
    for proj in network.projections:
        if (proj.pre, proj.post) == (pre, post):
            i, j = proj.edges(n_pre, n_post)
            np.add.at(bits, (j, i), (1 if proj.receptor == "excitatory" else -1) * proj.bits(i, j, network.ns_per_bit(proj)))
            scales[proj.receptor] = network.ns_per_bit(proj)
    return bits, scales


def test_a_foreign_chain_becomes_a_model_with_the_imported_weights_scales_and_parameters():
    rng = np.random.default_rng(3)
    w1, w2, rec = rng.normal(0.1, 0.2, (5, 4)), rng.normal(0.1, 0.2, (3, 5)), rng.normal(0, 0.1, (5, 5))
    graph = chain(w1, w2, recurrent=rec)
    imported = hal.nir.from_nir(graph)
    coding = StepRateCoding(4, steps=6, step_ms=imported.step_ms, rate=0.5)
    model = model_from_nir(graph, coding=coding)
    network = imported.network
    assert model.names == ("h", "o") and model.coding == coding
    assert [layer.params for layer in model.layers] == [p.params for p in network.populations]
    assert model.dt_ms == 1.0 and model.duration_ms == pytest.approx(coding.latest_ms + 2 * imported.step_ms)  # step 10 ms
    for proj, (pre, post) in zip(model.all_projections(), [("x", "h"), ("h", "o"), ("h", "h")], strict=True):
        bits, scales = signed_bits(network, pre, post)
        assert np.array_equal(proj.bits(), bits) and (bits > 0).any() and (bits < 0).any()
        assert (proj.ns_per_bit, proj.ns_per_bit_inhibitory) == (scales["excitatory"], scales["inhibitory"])
    assert any(p.ns_per_bit_inhibitory != p.ns_per_bit for p in model.all_projections())  # each sign scaled to its own largest weight
    # The model's own network is the imported one: same bits and scales per sign (zeros added for the other pairs).
    again, index = model.network()
    for proj, (j_e, j_i) in zip(model.all_projections(), [*index.feedforward, index.recurrent[0]]):
        e, i = again.projections[j_e], again.projections[j_i]
        assert (e.ns_per_weight_bit, i.ns_per_weight_bit) == (proj.ns_per_bit, proj.ns_per_bit_inhibitory)
        assert np.array_equal(np.asarray(e.weight_bits) - np.asarray(i.weight_bits), proj.bits())
    twin = Twin.nominal(model)
    for l, proj in enumerate(model.projections):
        assert float(twin.unit_e[l][0, 0]) == pytest.approx(proj.ns_per_bit) and float(twin.unit_i[l][0, 0]) == pytest.approx(proj.ns_per_bit_inhibitory)


def test_an_li_readout_becomes_a_leaky_integrator_and_the_model_goes_out_and_back_through_nir():
    rng = np.random.default_rng(4)
    li = nir.LI(tau=np.full(3, 2e-3), r=np.full(3, 20.0), v_leak=np.zeros(3))
    graph = chain(rng.normal(0.1, 0.2, (5, 4)), rng.normal(0.1, 0.2, (3, 5)), readout=li)
    imported = hal.nir.from_nir(graph, circuits_per_neuron=8)
    model = model_from_imported(imported, StepRateCoding(4, 5, imported.step_ms, 1.0), dt_ms=0.5, duration_ms=80.0)
    assert [type(layer) for layer in model.layers] == [LIF, LeakyIntegrator] and (model.dt_ms, model.duration_ms) == (0.5, 80.0)
    back = model_from_nir(model_to_nir(model))
    assert back.coding == model.coding
    for p, q in zip(model.all_projections(), back.all_projections(), strict=True):
        assert np.array_equal(p.bits(), q.bits()) and (q.ns_per_bit, q.ns_per_bit_inhibitory) == (p.ns_per_bit, p.ns_per_bit_inhibitory)


def test_what_cannot_become_a_model_is_refused_by_name():
    rng = np.random.default_rng(5)
    graph = chain(rng.normal(0.1, 0.2, (5, 4)), rng.normal(0.1, 0.2, (3, 5)))
    imported = hal.nir.from_nir(graph)
    with pytest.raises(ConfigError, match=r"model_from_nir: the graph has no hal_model metadata .* pass coding=\.\.\., e\.g\. StepRateCoding"):
        model_from_nir(graph)
    with pytest.raises(ConfigError, match=r"model_from_nir: expected a nir.NIRGraph, got str"):
        model_from_nir("model.nir", coding=StepRateCoding(4, 5, 10.0))
    with pytest.raises(ConfigError, match=r"coding.size 6 differs from the graph's input 'x' of 4; valid 4"):
        model_from_nir(graph, coding=StepRateCoding(6, 5, 10.0))
    with pytest.raises(ConfigError, match=r"coding must be one of LatencyCoding, PoissonCoding, StepRateCoding, got str"):
        model_from_imported(imported, "rate")
    with pytest.raises(ConfigError, match=r"expected a hal.nir.ImportedNetwork .*, got NIRGraph"):
        model_from_imported(graph, StepRateCoding(4, 5, 10.0))
    # A skip connection: the input feeds the output layer too.
    skip = chain(rng.normal(0.1, 0.2, (5, 4)), rng.normal(0.1, 0.2, (3, 5)))
    skip.nodes["s"] = nir.Linear(weight=rng.normal(0.1, 0.2, (3, 4)))
    skip.edges += [("x", "s"), ("s", "o")]
    with pytest.raises(ConfigError, match=r"after 'x' the graph continues to \['h', 'o'\] while \['h', 'o'\] are left; a SpikingModel is a chain"):
        model_from_nir(skip, coding=StepRateCoding(4, 5, 10.0))
    # Feedback from the output layer into the hidden one.
    back = chain(rng.normal(0.1, 0.2, (5, 4)), rng.normal(0.1, 0.2, (3, 5)))
    back.nodes["b"] = nir.Linear(weight=rng.normal(0.1, 0.2, (5, 3)))
    back.edges += [("o", "b"), ("b", "h")]
    with pytest.raises(ConfigError, match=r"'h' is also fed by \['o'\]; a SpikingModel feeds each layer from the one before only"):
        model_from_nir(back, coding=StepRateCoding(4, 5, 10.0))
    model = SpikingModel(LatencyCoding(2), Projection(2, 2), LIF(2), dt_ms=0.5)
    with pytest.raises(ConfigError, match=r"written by model_to_nir .*; coding, circuits_per_neuron must not be given"):
        model_from_nir(model_to_nir(model), coding=LatencyCoding(2), circuits_per_neuron=8)


def test_two_inputs_are_refused():
    w = np.full((2, 2), 0.2)
    graph = nir.NIRGraph(nodes={"a": nir.Input(input_type={"input": np.array([2])}), "b": nir.Input(input_type={"input": np.array([2])}),
                                "wa": nir.Linear(weight=w), "wb": nir.Linear(weight=w), "n": lif(2)},
                         edges=[("a", "wa"), ("b", "wb"), ("wa", "n"), ("wb", "n")], type_check=False)
    with pytest.raises(ConfigError, match=r"the graph has 2 Input nodes \(a, b\); a SpikingModel takes exactly 1"):
        model_from_nir(graph, coding=StepRateCoding(2, 5, 10.0))


def test_the_step_rate_code_spikes_at_step_starts_with_the_given_probability():
    coding = StepRateCoding(3, steps=400, step_ms=10.0, rate=0.5)
    (times, index), = coding.encode(np.array([[1.0, 0.4, 0.0]]), seed=2)
    assert np.allclose(times % 10.0, 0) and times.max() < 4000 and np.all(np.diff(times) >= 0)
    counts = np.bincount(index, minlength=3) / 400
    assert abs(counts[0] - 0.5) < 0.08 and abs(counts[1] - 0.2) < 0.06 and counts[2] == 0
    again = coding.encode(np.array([[1.0, 0.4, 0.0]]), seed=2)[0]
    other = coding.encode(np.array([[1.0, 0.4, 0.0]]), seed=3)[0]
    assert np.array_equal(again[0], times) and not np.array_equal(other[0], times)
    assert coding.latest_ms == 4000.0
    with pytest.raises(ConfigError, match=r"StepRateCoding.rate: 1.5 out of range; valid 0 < rate <= 1"):
        StepRateCoding(3, 10, 10.0, rate=1.5)


def test_the_spike_count_readout_needs_a_spiking_last_layer():
    model = SpikingModel(LatencyCoding(2), Projection(2, 2), LeakyIntegrator(2), dt_ms=0.5)
    with pytest.raises(ConfigError, match=r"Trainer.readout: 'spike_count' needs a spiking last layer; 'layer1' is a LeakyIntegrator"):
        Trainer(model, readout="spike_count")
    with pytest.raises(ConfigError, match=r"Trainer.readout: 'max' not valid; valid membrane, spike_count"):
        Trainer(model, readout="max")
    spiking = SpikingModel(StepRateCoding(20, 10, 2.0), Projection(20, 2, init_mean=15.0, init_std=0.0), LIF(2), dt_ms=0.5)
    trainer = Trainer(spiking, readout="spike_count")
    out, _ = trainer.forward(Twin.nominal(spiking), np.array([np.ones(20), np.zeros(20)]), train=False)
    assert np.array_equal(out.logits.numpy(), out.spikes[-1].sum(dim=1).numpy()) and out.logits[0].sum() > 0 and out.logits[1].sum() == 0
