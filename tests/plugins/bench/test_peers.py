"""The peers' view of the paper network (what NEST and Brian2 are given), and the peers themselves where installed."""

from __future__ import annotations

import numpy as np
import pytest

from hal_plugins.bench.peers import _BRIAN2_PARAMETERS, _NEST_NAMES, bio_network, replicated


@pytest.fixture(scope="module")
def b() -> dict:
    return bio_network(2, seed=0)


def test_bio_network_is_the_mapped_paper_network_in_biological_units(b):
    assert b["n_neurons"] == 135 and b["samples"] == 2 and b["duration_ms"] == 1000.0
    assert set(_NEST_NAMES) <= set(b["params"]) and {key for *_, key in _BRIAN2_PARAMETERS} <= set(b["params"])
    assert all(v.shape == (135,) for v in b["params"].values())
    assert b["pre"].size == b["post"].size == b["weight_ns"].size == b["excitatory"].size > 0
    assert (b["weight_ns"] > 0).all() and b["delay_ms"] > 0
    assert set(np.unique(b["in_sample"]).tolist()) == {0, 1}
    assert (b["in_time_ms"] >= 0).all() and (b["in_time_ms"] < 900.0).all()  # 0.9 s on, 0.1 s off


def test_replicated_copies_are_independent(b):
    from_source, pre, post, w, exc = replicated(b)
    k, n, s = b["pre"].size, b["n_neurons"], b["n_sources"]
    assert from_source.size == 2 * k
    np.testing.assert_array_equal(post[k:] - post[:k], n)  # copy 1's targets are copy 0's shifted by one network
    np.testing.assert_array_equal(pre[k:][from_source[k:]] - pre[:k][from_source[:k]], s)
    np.testing.assert_array_equal(pre[k:][~from_source[k:]] - pre[:k][~from_source[:k]], n)
    np.testing.assert_array_equal(w[k:], w[:k])
    np.testing.assert_array_equal(exc[k:], exc[:k])


@pytest.mark.parametrize("name", ["nest", "brian2"])
def test_peer_simulates_the_paper_network(name):
    pytest.importorskip(name)
    from hal_plugins.bench import peers

    if name == "nest":
        r = peers.scenario_nest(samples=1, seed=0, dt_ms=0.1, threads=1)
    else:
        r = peers.scenario_brian2(samples=1, seed=0, dt_ms=0.1, target="numpy")
    assert r["samples"] == 1 and r["spikes"] > 0 and r["synaptic_events"] > 0 and r["bio_s_per_wall_s"] > 0


@pytest.mark.slow
def test_brian2_standalone_runs_the_copies_with_openmp_and_reports_compile_time_apart():
    """Brian2's strongest configuration: one C++ program (compiling takes a minute, hence slow)."""
    pytest.importorskip("brian2")
    from hal_plugins.bench import peers

    r = peers.scenario_brian2(samples=2, seed=0, dt_ms=0.1, target="cpp_standalone", threads=2, count_samples=1)
    assert r["device"] == "cpp_standalone" and r["openmp_threads"] == 2 and r["samples"] == 2
    assert r["compile_s"] > 0 and 0 < r["simulate_s"] <= r["wall_s"] and r["spikes"] > 0
    assert r["counted_samples"] == 1 and len(r["counts"]) == 135 and 0 < sum(r["counts"]) < r["spikes"]


def test_full_hicann_network_for_the_peers():
    """The scaling benchmark gives the peers full HICANNs: 512 neurons, one sample, background input only."""
    b = bio_network(1, seed=0, hicanns=1, bio_s=0.01)
    assert b["n_neurons"] == 512 and b["samples"] == 1 and b["duration_ms"] == pytest.approx(10.0)
    assert b["pre"].size == 448 * 256 and b["in_source"].size > 0
