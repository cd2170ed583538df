"""Trained models of the trainer API through NIR and back: identical integer weights, parameters, coding and timing."""

from __future__ import annotations

import attrs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("torch")
nir = pytest.importorskip("nir")

from hal_trainers.snn import (
    DEFAULT_HIDDEN,
    LIF,
    LatencyCoding,
    LeakyIntegrator,
    PoissonCoding,
    Projection,
    SpikingModel,
)
from hal_trainers.snn.nir import model_from_nir, model_to_nir

from hal.errors import ConfigError
from hal.network import LIFParameters


def assert_same_model(a: SpikingModel, b: SpikingModel) -> None:
    assert b.coding == a.coding and b.names == a.names
    assert (b.dt_ms, b.steps, b.duration_ms) == (a.dt_ms, a.steps, a.duration_ms)
    assert [type(layer) for layer in b.layers] == [type(layer) for layer in a.layers]
    assert [layer.params for layer in b.layers] == [layer.params for layer in a.layers]
    assert [layer.recurrent is None for layer in b.layers] == [layer.recurrent is None for layer in a.layers]
    for p, q in zip(a.all_projections(), b.all_projections(), strict=True):
        assert (q.in_features, q.out_features, q.ns_per_bit, q.ns_per_bit_inhibitory) == (p.in_features, p.out_features, p.ns_per_bit,
                                                                                   p.ns_per_bit_inhibitory)
        assert np.array_equal(q.bits(), p.bits())
        assert np.array_equal(q.weight.detach().numpy(), p.bits().astype(np.float32))  # the chip's integers, exactly


@st.composite
def models(draw) -> SpikingModel:
    size = draw(st.integers(1, 6))
    coding = draw(st.sampled_from([LatencyCoding(size, tau_ms=4.0), PoissonCoding(size, max_rate_hz=80.0, window_ms=15.0)]))
    stages, names = [], []
    for k in range(draw(st.integers(1, 3))):
        n = draw(st.integers(1, 5))
        last = k == 2 or draw(st.booleans())
        ns = draw(st.sampled_from([None, 0.34, 0.68 / 5]))
        ns_i = draw(st.sampled_from([None, 0.68]))  # the inhibitory rows on their own scale, as an import from NIR has them
        stages.append(Projection(size, n, ns_per_bit=ns, init_std=draw(st.floats(0, 9)), seed=draw(st.integers(0, 99)), ns_per_bit_inhibitory=ns_i))
        if last and draw(st.booleans()):
            stages.append(LeakyIntegrator(n))
        else:
            params = attrs.evolve(DEFAULT_HIDDEN, tau_m_ms=draw(st.floats(5, 50)), v_th_mv=draw(st.floats(-55, -40)))
            recurrent = Projection(n, n, seed=k, init_std=4.0) if draw(st.booleans()) else None
            stages.append(LIF(n, params, recurrent=recurrent))
        names.append(f"l{k}")
        size = n
        if last:
            break
    return SpikingModel(coding, *stages, dt_ms=draw(st.sampled_from([0.1, 0.2, 0.5])), names=tuple(names))


@settings(max_examples=20)
@given(models())
def test_a_model_comes_back_from_nir_with_identical_weights_and_parameters(model):
    assert_same_model(model, model_from_nir(model_to_nir(model)))


def test_the_round_trip_survives_a_nir_file(tmp_path):
    model = SpikingModel(LatencyCoding(8), Projection(8, 5, seed=1, init_std=6.0), LIF(5, recurrent=Projection(5, 5, seed=2)),
                         Projection(5, 3, seed=3, ns_per_bit=0.34), LeakyIntegrator(3), dt_ms=0.5)
    path = tmp_path / "model.nir"
    nir.write(path, model_to_nir(model))
    assert_same_model(model, model_from_nir(nir.read(path)))


def test_other_graphs_are_refused_with_where_to_go():
    import hal.nir
    from hal.network import Network, Population, SourcePopulation

    plain = hal.nir.to_nir(Network([Population("a", 2, LIFParameters())], [SourcePopulation("s", 2)]))
    with pytest.raises(ConfigError, match="model_from_nir: the graph has no hal_model metadata .*hal.nir.from_nir"):
        model_from_nir(plain)
    with pytest.raises(ConfigError, match="model_to_nir: expected a hal_trainers.snn.SpikingModel, got str"):
        model_to_nir("model")
    model = SpikingModel(LatencyCoding(2), Projection(2, 2), LIF(2), dt_ms=0.5)
    graph = model_to_nir(model)
    graph.metadata["hal_model"] = graph.metadata["hal_model"].replace('"LIF"', '"ALIF"')
    with pytest.raises(ConfigError, match=r"hal_model: layer kind\(s\) \['ALIF'\]; valid LIF, LeakyIntegrator"):
        model_from_nir(graph)
