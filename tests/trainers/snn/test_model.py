"""Layers and the model: 4-bit rounding with a straight-through gradient, signed bits, the hal network, stage checks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

torch = pytest.importorskip("torch", reason="the trainer API needs torch (pip install -e '.[train]')")

from hal.errors import ConfigError  # noqa: E402
from hal_trainers.snn import LIF, MAX_WEIGHT, LatencyCoding, LeakyIntegrator, PoissonCoding, Projection, SpikingModel  # noqa: E402
from hal_trainers.snn.layers import DEFAULT_HIDDEN, quantize  # noqa: E402
from hal_trainers.snn.model import INPUT  # noqa: E402

pytestmark = pytest.mark.needs_torch


# -- quantize ---------------------------------------------------------------------------------------


def test_quantize_rounds_and_clamps_with_a_straight_through_gradient():
    w = torch.tensor([-40.0, -15.6, -7.4, -0.6, 0.2, 0.7, 3.49, 14.8, 15.2, 99.0], requires_grad=True)
    q = quantize(w)
    assert q.tolist() == [-15.0, -15.0, -7.0, -1.0, 0.0, 1.0, 3.0, 15.0, 15.0, 15.0]
    upstream = torch.arange(1.0, 11.0)
    q.backward(upstream)
    # Inside the range the rounding is invisible to the gradient; outside, the clamp stops it.
    assert w.grad.tolist() == [0.0, 0.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 0.0, 0.0]


def test_quantize_rounds_halves_to_even_like_the_hardware_conversion():
    w = torch.tensor([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5])
    assert quantize(w).tolist() == np.rint(w.numpy()).tolist() == [-2.0, -2.0, -0.0, 0.0, 2.0, 2.0]


# -- Projection -----------------------------------------------------------------------------------------


@given(st.integers(1, 6).flatmap(lambda post: st.integers(1, 6).flatmap(
    lambda pre: hnp.arrays(np.int64, (post, pre), elements=st.integers(-MAX_WEIGHT, MAX_WEIGHT)))))
def test_set_bits_then_bits_round_trips(bits):
    proj = Projection(bits.shape[1], bits.shape[0])
    proj.set_bits(bits)
    np.testing.assert_array_equal(proj.bits(), bits)
    np.testing.assert_array_equal(proj.quantized().detach().numpy(), bits)


@given(hnp.arrays(np.float32, (3, 4), elements=st.floats(-30, 30, width=32)))
def test_bits_are_the_rounded_clamped_float_weights(w):
    proj = Projection(4, 3)
    with torch.no_grad():
        proj.weight.copy_(torch.from_numpy(w))
    expected = np.rint(np.clip(w, -MAX_WEIGHT, MAX_WEIGHT)).astype(np.int64)
    np.testing.assert_array_equal(proj.bits(), expected)
    np.testing.assert_array_equal(proj.quantized().detach().numpy(), expected)
    proj.set_bits(proj.bits())
    np.testing.assert_array_equal(proj.bits(), expected)


def test_set_bits_refuses_wrong_shapes_and_values():
    proj = Projection(4, 3)
    with pytest.raises(ConfigError, match=r"Projection.set_bits: shape \(4, 3\); expected \(3, 4\) \(post, pre\)"):
        proj.set_bits(np.zeros((4, 3), dtype=int))
    with pytest.raises(ConfigError, match="Projection.set_bits: values -16..2 out of range; valid -15..15"):
        proj.set_bits(np.array([[0, 1, 2, -16]] * 3))


def test_clamp_keeps_the_float_weights_at_the_4_bit_limits_where_the_gradient_passes():
    proj = Projection(2, 1)
    with torch.no_grad():
        proj.weight.copy_(torch.tensor([[-20.0, 17.0]]))
    proj.clamp_()
    assert proj.weight.detach()[0].tolist() == [-15.0, 15.0]
    assert proj.bits().tolist() == [[-15, 15]]
    proj.quantized().sum().backward()
    assert proj.weight.grad.tolist() == [[1.0, 1.0]]


def test_a_clamped_weight_can_leave_the_limit_again():
    proj = Projection(1, 1)
    with torch.no_grad():
        proj.weight.fill_(20.0)
    optimizer = torch.optim.Adam(proj.parameters(), lr=0.5)
    for _ in range(20):
        optimizer.zero_grad()
        proj.quantized().sum().backward()  # the loss wants the weight smaller
        optimizer.step()
        proj.clamp_()
    assert proj.bits().item() < 15


def test_initial_weights_are_seeded_and_in_range():
    a, b, c = Projection(64, 32, seed=3), Projection(64, 32, seed=3), Projection(64, 32, seed=4)
    assert torch.equal(a.weight, b.weight) and not torch.equal(a.weight, c.weight)
    big = Projection(64, 32, init_std=40.0)
    assert big.weight.abs().max() <= MAX_WEIGHT


@pytest.mark.parametrize(("args", "kwargs", "match"), [
    ((0, 3), {}, "Projection.in_features: 0 out of range"),
    ((3, True), {}, "Projection.out_features: True out of range"),
    ((3, 2), {"ns_per_bit": -1.0}, "Projection.ns_per_bit: -1.0 out of range"),
    ((3, 2), {"init_std": float("nan")}, "Projection.init_std: nan out of range"),
])
def test_bad_projection_settings_are_named(args, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        Projection(*args, **kwargs)


# -- the hal network ----------------------------------------------------------------------------------------


def test_network_has_an_excitatory_and_an_inhibitory_matrix_per_projection_with_the_signed_bits():
    rec = Projection(5, 5, seed=9)
    model = SpikingModel(LatencyCoding(6), Projection(6, 5, seed=1, ns_per_bit=0.34), LIF(5, recurrent=rec),
                         Projection(5, 3, seed=2), LeakyIntegrator(3), dt_ms=0.5, names=("hidden", "out"))
    net, index = model.network()
    assert [p.name for p in net.populations] == ["hidden", "out"]
    assert [(s.name, s.size) for s in net.sources] == [(INPUT, 6)]
    assert index.layers == ("hidden", "out")
    assert index.recurrent[1] is None and index.recurrent[0] is not None
    expected = [(index.feedforward[0], INPUT, "hidden", model.projections[0]),
                (index.recurrent[0], "hidden", "hidden", rec),
                (index.feedforward[1], "hidden", "out", model.projections[1])]
    assert sorted(j for pair, *_ in expected for j in pair) == list(range(len(net.projections)))
    for (j_e, j_i), pre, post, proj in expected:
        e, i = net.projections[j_e], net.projections[j_i]
        assert (e.receptor, i.receptor) == ("excitatory", "inhibitory")
        assert e.connector == i.connector == "matrix"
        assert (e.pre, e.post, i.pre, i.post) == (pre, post, pre, post)
        w_e, w_i = np.asarray(e.weight_bits), np.asarray(i.weight_bits)
        assert w_e.shape == w_i.shape == (proj.out_features, proj.in_features)
        assert w_e.min() >= 0 and w_i.min() >= 0 and not np.any((w_e > 0) & (w_i > 0))
        np.testing.assert_array_equal(w_e - w_i, proj.bits())
        assert e.ns_per_weight_bit == i.ns_per_weight_bit == proj.ns_per_bit
    assert net.ns_per_weight_bit == 0.68  # the network's default scale unless one is given
    assert model.network(ns_per_weight_bit=0.5)[0].ns_per_weight_bit == 0.5


def test_network_follows_weight_changes():
    model = SpikingModel(LatencyCoding(3), Projection(3, 2), LIF(2), Projection(2, 2), LeakyIntegrator(2))
    model.projections[0].set_bits(np.array([[15, -15, 0], [1, -2, 3]]))
    net, index = model.network()
    j_e, j_i = index.feedforward[0]
    assert np.asarray(net.projections[j_e].weight_bits).tolist() == [[15, 0, 0], [1, 0, 3]]
    assert np.asarray(net.projections[j_i].weight_bits).tolist() == [[0, 15, 0], [0, 2, 0]]


def test_model_duration_and_steps(build_model):
    model = build_model()
    assert model.sizes == (64, 32, 10)
    # Latest input (0.5 + 3 x 5 ms) + 2 tau_m + 2 tau_syn of the readout (10, 5 ms) = 45.5 ms at 0.5 ms.
    assert (model.steps, model.duration_ms) == (91, 45.5)
    other = SpikingModel(LatencyCoding(4), Projection(4, 2), LIF(2), Projection(2, 2), LeakyIntegrator(2), dt_ms=0.3,
                         duration_ms=10.0)
    assert other.steps == 34 and other.duration_ms == pytest.approx(10.2)


# -- stage checks -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("stages", "match"), [
    ((), r"stages must alternate Projection and neuron layer .*; got 0 stage\(s\)"),
    (("P", "L", "P"), r"got 3 stage\(s\)"),
    (("L", "P"), "stage 0 is a LIF; expected a Projection"),
    (("P", "P"), "stage 1 is a Projection; expected LIF or LeakyIntegrator"),
    (("P", "L", "L", "R"), "stage 2 is a LIF; expected a Projection"),
])
def test_wrong_stage_order_is_named(stages, match):
    make = {"P": lambda: Projection(8, 8), "L": lambda: LIF(8), "R": lambda: LeakyIntegrator(8)}
    with pytest.raises(ConfigError, match=match):
        SpikingModel(LatencyCoding(8), *(make[s]() for s in stages))


def test_wrong_sizes_are_named():
    with pytest.raises(ConfigError, match="stage 0 takes 63 inputs, but the stage before gives 64"):
        SpikingModel(LatencyCoding(64), Projection(63, 32), LIF(32), Projection(32, 10), LeakyIntegrator(10))
    with pytest.raises(ConfigError, match="stage 2 takes 31 inputs, but the stage before gives 32"):
        SpikingModel(LatencyCoding(64), Projection(64, 32), LIF(32), Projection(31, 10), LeakyIntegrator(10))
    with pytest.raises(ConfigError, match="stage 2 projects onto 10 neurons, but layer 3 has 9"):
        SpikingModel(LatencyCoding(64), Projection(64, 32), LIF(32), Projection(32, 10), LeakyIntegrator(9))
    with pytest.raises(ConfigError, match="recurrent projection 4 -> 5; expected 5 -> 5"):
        LIF(5, recurrent=Projection(4, 5))


def test_other_model_settings_are_named():
    stages = (Projection(4, 2), LIF(2), Projection(2, 2), LeakyIntegrator(2))
    with pytest.raises(ConfigError, match="first argument must be an input coding"):
        SpikingModel(Projection(4, 4), *stages)
    for dt in (0.0, 1.5):
        with pytest.raises(ConfigError, match=f"SpikingModel.dt_ms: {dt} out of range; valid 0 < dt_ms <= 1 ms"):
            SpikingModel(LatencyCoding(4), *stages, dt_ms=dt)
    with pytest.raises(ConfigError, match="SpikingModel.duration_ms: 0.1 out of range"):
        SpikingModel(PoissonCoding(4), *stages, dt_ms=0.2, duration_ms=0.1)
    with pytest.raises(ConfigError, match="SpikingModel.names"):
        SpikingModel(LatencyCoding(4), *stages, names=("a", "a"))
    with pytest.raises(ConfigError, match="SpikingModel.names"):
        SpikingModel(LatencyCoding(4), *stages, names=(INPUT, "b"))
    with pytest.raises(ConfigError, match="LeakyIntegrator.params: v_th_mv -50.0 below e_rev_e_mv 0.0 would let the readout fire"):
        LeakyIntegrator(3, DEFAULT_HIDDEN)


def test_a_readout_before_the_last_stage_is_refused():
    with pytest.raises(ConfigError, match="stage 1"):
        SpikingModel(LatencyCoding(4), Projection(4, 3), LeakyIntegrator(3), Projection(3, 2), LIF(2))
