"""Fine rows: a weight as coarse + fine / D on a second row pair (the per-row gmax divisor), from the
Projection through the hal network, the mapping, the twin and the weight-only update, to NIR and back."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

torch = pytest.importorskip("torch", reason="the trainer API needs torch (pip install -e '.[train]')")

from hal import coordinates as C  # noqa: E402
from hal.errors import ConfigError  # noqa: E402
from hal.mapping import MappingOptions  # noqa: E402
from hal.testing.fakes import RecordingBackend  # noqa: E402
from hal_trainers.snn import LIF, LatencyCoding, LeakyIntegrator, MappedModel, Projection, SpikingModel, SuperSpike, Twin, simulate  # noqa: E402

pytestmark = pytest.mark.needs_torch

#: Mapping of the fine-row test network (64 inputs: four rows each fit a four-circuit neuron).
OPTIONS = MappingOptions(allow_loss=True, spread_sources=True)


def fine_model(seed: int = 0, divisor: int = 15) -> SpikingModel:
    return SpikingModel(LatencyCoding(64),
                        Projection(64, 32, init_mean=2.25, init_std=9.0, seed=seed, fine_divisor=divisor), LIF(32),
                        Projection(32, 10, init_std=2.0, seed=seed + 1, fine_divisor=divisor), LeakyIntegrator(10), dt_ms=0.5)


# -- the Projection --------------------------------------------------------------------------------------


def test_the_realised_weight_is_on_the_fine_grid_with_a_straight_through_gradient():
    p = Projection(3, 1, fine_divisor=4, init_std=0.0)
    with torch.no_grad():
        p.weight.copy_(torch.tensor([[0.3, -2.6, 20.0]]))
    q = p.quantized()
    assert q.tolist() == [[0.25, -2.5, 15.0]]
    assert p.bits().tolist() == [[0, -2, 15]] and p.fine_bits().tolist() == [[1, -2, 0]]
    q.sum().backward()
    assert p.weight.grad.tolist() == [[1.0, 1.0, 0.0]]  # beyond the range the clamp stops it


def test_without_fine_rows_nothing_changes():
    p = Projection(5, 4, seed=3)
    assert p.fine_divisor is None and p.fine_bits() is None
    assert torch.equal(p.quantized(), torch.round(p.weight.detach().clamp(-15, 15)))


@settings(max_examples=60, deadline=None)
@given(divisor=st.integers(2, 15), data=st.data())
def test_set_bits_then_bits_round_trips_canonical_parts(divisor, data):
    coarse = data.draw(hnp.arrays(np.int64, (3, 4), elements=st.integers(-14, 14)))
    fine = data.draw(hnp.arrays(np.int64, (3, 4), elements=st.integers(-(divisor // 2), divisor // 2)))
    if divisor % 2 == 0:  # a half step exactly: rounding to even may move it to the other coarse value
        fine = np.clip(fine, -(divisor // 2) + 1, divisor // 2 - 1)
    p = Projection(4, 3, fine_divisor=divisor, init_std=0.0)
    p.set_bits(coarse, fine)
    assert np.array_equal(p.bits(), coarse) and np.array_equal(p.fine_bits(), fine)


@settings(max_examples=60, deadline=None)
@given(divisor=st.integers(2, 15), data=st.data())
def test_any_parts_keep_their_realised_weight(divisor, data):
    coarse = data.draw(hnp.arrays(np.int64, (2, 3), elements=st.integers(-13, 13)))
    reach = min(15, 2 * divisor)  # non-canonical parts up to two coarse steps, the sum within -15..15
    fine = data.draw(hnp.arrays(np.int64, (2, 3), elements=st.integers(-reach, reach)))
    p = Projection(3, 2, fine_divisor=divisor, init_std=0.0)
    p.set_bits(coarse, fine)
    realised = p.bits() + p.fine_bits() / divisor
    assert np.allclose(realised, coarse + fine / divisor, atol=1e-9)
    assert np.abs(p.fine_bits()).max() <= divisor / 2


@pytest.mark.parametrize("kwargs, match", [
    ({"fine_divisor": 1}, "fine_divisor: 1 out of range; valid None .* 2..15"),
    ({"fine_divisor": 16}, "fine_divisor: 16 out of range"),
    ({"fine_divisor": 2.0}, "fine_divisor: 2.0 out of range"),
    ({"fine_divisor": True}, "fine_divisor: True out of range"),
])
def test_bad_fine_divisors_are_named(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        Projection(3, 2, **kwargs)


def test_set_bits_names_bad_fine_parts():
    p = Projection(2, 1, fine_divisor=4, init_std=0.0)
    with pytest.raises(ConfigError, match=r"fine_bits -16..0 out of range; valid -15..15"):
        p.set_bits(np.zeros((1, 2)), np.array([[-16, 0]]))
    with pytest.raises(ConfigError, match=r"fine_bits of shape \(2,\); expected \(1, 2\)"):
        p.set_bits(np.zeros((1, 2)), np.zeros(2))
    with pytest.raises(ConfigError, match=r"reaches 16.000 in magnitude; valid within -15..15"):
        p.set_bits(np.array([[15, 0]]), np.array([[4, 0]]))
    with pytest.raises(ConfigError, match="has no fine rows"):
        Projection(2, 1).set_bits(np.zeros((1, 2)), np.zeros((1, 2)))
    assert p.bits().tolist() == [[0, 0]]  # a refused write leaves the weights as they were


def test_the_conductances_are_the_four_rows_forward_and_the_coarse_gradient_backward():
    p = Projection(2, 1, fine_divisor=5, init_std=0.0)
    with torch.no_grad():
        p.weight.copy_(torch.tensor([[1.2, -0.4]]))  # coarse 1, fine +1; coarse 0, fine -2
    ue, ui = torch.full((1, 2), 10.0), torch.full((1, 2), 20.0)
    fe, fi = torch.full((1, 2), 3.0), torch.full((1, 2), 7.0)
    g_e, g_i = p.conductances(ue, ui, fe, fi)
    assert g_e.tolist() == [[1 * 10.0 + 1 * 3.0, 0.0]]
    assert g_i.tolist() == [[0.0, 2 * 7.0]]
    (g_e.sum() + g_i.sum()).backward()
    assert p.weight.grad.tolist() == [[10.0, -20.0]]
    with pytest.raises(ConfigError, match="fine_divisor 5.*no fine-row conductances"):
        p.conductances(ue, ui)


# -- the model, the mapping and the twin ---------------------------------------------------------------------


def test_the_network_gets_a_fine_row_pair_per_projection_at_a_divisor_of_the_scale():
    model = fine_model()
    net, index = model.network()
    assert index.feedforward == ((0, 1), (2, 3)) and index.fine == ((4, 5), (6, 7))
    for j, proj in enumerate(model.projections):
        e, i = (net.projections[k] for k in index.fine[j])
        assert (e.receptor, i.receptor) == ("excitatory", "inhibitory")
        assert net.ns_per_bit(e) == pytest.approx(net.ns_per_weight_bit / 15)
        fine = proj.fine_bits()
        assert np.array_equal(e.weight_bits, np.where(fine > 0, fine, 0)) and np.array_equal(i.weight_bits, np.where(fine < 0, -fine, 0))
    plain_net, plain_index = SpikingModel(LatencyCoding(4), Projection(4, 2), LIF(2)).network()
    assert plain_index.fine == () and len(plain_net.projections) == 2


def test_a_recurrent_projection_with_fine_rows_is_refused():
    with pytest.raises(ConfigError, match="recurrent projection has fine rows .* give it fine_divisor=None"):
        SpikingModel(LatencyCoding(4), Projection(4, 3), LIF(3, recurrent=Projection(3, 3, fine_divisor=3)))


@pytest.fixture(scope="module")
def mapped():
    return MappedModel(fine_model(), RecordingBackend(), options=OPTIONS)


def test_the_mapping_realises_every_fine_synapse_at_a_fifteenth_of_the_coarse_step(mapped):
    twin = mapped.twin
    assert mapped.mapping.synapses_lost == 0 and twin.lost == 0
    assert mapped.mapping.synapses == 4 * (64 * 32 + 32 * 10)
    for j in range(2):
        fine_e, fine_i = twin.fine(j)
        torch.testing.assert_close(fine_e * 15, twin.unit_e[j], rtol=1e-5, atol=0)
        torch.testing.assert_close(fine_i * 15, twin.unit_i[j], rtol=1e-5, atol=0)


def test_the_mapped_twin_behaves_as_the_nominal_twin_with_fine_rows(mapped, digits):
    model, twin = mapped.model, mapped.twin
    scale = float((twin.unit_e[0] * 200.0 / twin.neurons[0].c_m_pf[:, None]).mean())
    nominal = Twin.nominal(model, ns_per_weight_bit=scale)
    assert nominal.fine(0)[0] is not None
    _, grid = model.encode_grid(digits.x_train[:60])
    with torch.no_grad():
        a = simulate(model, twin, grid, spike_fn=SuperSpike().spike_fn())
        b = simulate(model, nominal, grid, spike_fn=SuperSpike().spike_fn())
    counts_a, counts_b = a.spikes[0].sum(1), b.spikes[0].sum(1)
    assert counts_a.sum() > 60 * 5  # the network is active
    assert float((counts_a == counts_b).float().mean()) > 0.97


def test_the_fine_rows_change_what_the_twin_does(mapped, digits):
    """The fine parts are not decoration: zeroing them changes the hidden layer's spikes."""
    model, twin = mapped.model, mapped.twin
    _, grid = model.encode_grid(digits.x_train[:60])
    proj = model.projections[0]
    saved = proj.weight.detach().clone()
    try:
        with torch.no_grad():
            before = simulate(model, twin, grid, spike_fn=SuperSpike().spike_fn()).spikes[0].sum()
            proj.set_bits(proj.bits())  # the fine parts zero
            after = simulate(model, twin, grid, spike_fn=SuperSpike().spike_fn()).spikes[0].sum()
        assert float(before) != float(after)
    finally:
        with torch.no_grad():
            proj.weight.copy_(saved)


def written(chip: MappedModel, projection: int) -> np.ndarray:
    """The 4-bit weights in the configuration of one network projection's synapses, in its edge order."""
    hic, row, col = chip.mapping.synapse_location[projection]
    return np.array([chip.config.hicann(C.HICANNOnWafer(int(h))).weights[r, c] for h, r, c in zip(hic, row, col)])


def test_weight_changes_reach_the_fine_rows_through_the_update_path():
    model = fine_model(seed=4)
    chip = MappedModel(model, RecordingBackend(), options=OPTIONS)
    proj = model.projections[1]
    j_e, j_i = chip.index.fine[1]
    with torch.no_grad():
        proj.weight[3, 5] = 2.0 + 3 / 15  # coarse 2, fine +3
        proj.weight[4, 6] = -1.0 - 2 / 15  # coarse -1, fine -2
    assert chip.write_weights() >= 2
    fine_e, fine_i = written(chip, j_e), written(chip, j_i)
    assert fine_e[3 * 32 + 5] == 3 and fine_i[3 * 32 + 5] == 0
    assert fine_i[4 * 32 + 6] == 2 and fine_e[4 * 32 + 6] == 0
    assert chip.write_weights() == 0  # nothing changed since


def test_nir_round_trip_keeps_the_fine_rows(tmp_path):
    nir = pytest.importorskip("nir", reason="NIR export needs the nir extra")
    from hal_trainers.snn.nir import model_from_nir, model_to_nir

    model = fine_model(seed=2, divisor=6)
    path = tmp_path / "fine.nir"
    nir.write(path, model_to_nir(model))
    back = model_from_nir(nir.read(path))
    for a, b in zip(model.projections, back.projections):
        assert b.fine_divisor == 6
        assert np.array_equal(a.bits(), b.bits()) and np.array_equal(a.fine_bits(), b.fine_bits())


def test_a_twin_from_a_mapping_without_the_models_fine_rows_is_refused(mapped):
    plain = SpikingModel(LatencyCoding(64), Projection(64, 32), LIF(32), Projection(32, 10), LeakyIntegrator(10), dt_ms=0.5)
    with pytest.raises(ConfigError, match="projection 0 has fine_divisor None, but the mapping has fine rows for it"):
        Twin.from_mapping(plain, mapped.config, mapped.mapping, mapped.index)


def test_nir_metadata_with_a_damaged_fine_list_is_named():
    pytest.importorskip("nir", reason="NIR export needs the nir extra")
    import json

    from hal_trainers.snn.nir import model_from_nir, model_to_nir

    graph = model_to_nir(fine_model(seed=2, divisor=6))
    meta = json.loads(graph.metadata["hal_model"])
    meta["fine"] = meta["fine"][:1]
    graph.metadata["hal_model"] = json.dumps(meta)
    with pytest.raises(ConfigError, match=r"names, layers, feedforward, recurrent \(and fine\) must be lists of equal length"):
        model_from_nir(graph)
