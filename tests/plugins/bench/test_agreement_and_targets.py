"""The bench's comparison with the reference and its targets (no simulation: hand-made results)."""

from __future__ import annotations

import pytest

from hal_plugins.bench.report import TARGETS, targets
from hal_plugins.bench.suite import agreement


def _run(counts, samples=60):
    return {"counts": counts, "counted_samples": samples}


def test_agreement_counts_neurons_within_two_percent_or_one_spike():
    reference = _run([100, 100, 0, 50])
    ours = _run([102, 97, 1, 50])  # +2 % (in), -3 % (out), 1 spike where the reference had none (in), equal (in)
    a = agreement(ours, reference)
    assert a["comparable"] and a["samples"] == 60
    assert a["within_2_percent"] == pytest.approx(0.75)
    assert a["spikes"] == 250 and a["reference_spikes"] == 250 and a["total_relative"] == 0.0
    assert a["worst_neuron_relative"] == pytest.approx(1.0)  # the 1 spike against 0 (divided by max(0, 1))


def test_agreement_refuses_to_compare_different_samples_or_neurons():
    assert agreement(_run([1, 2], samples=12), _run([1, 2])) == {"samples": 12, "comparable": False,
                                                                "why": "different sample counts were counted"}
    assert agreement(_run([1, 2, 3]), _run([1, 2]))["comparable"] is False
    assert agreement(None, _run([1])) is None and agreement(_run([1]), None) is None


def _result(emulator: float, brian2: float | None, total: float = 100.0):
    paper = {"emulator": {"bio_s_per_wall_s": emulator}, "speedup": {"strongest_peer": "brian2" if brian2 else None,
                                                                      "emulator_vs_strongest_peer": emulator / brian2 if brian2 else None}}
    return {"paper_network": paper, "wafer": None, "total_wall_s": total}


def test_targets_are_judged_against_the_issue_16_goals():
    t = targets(_result(2500.0, 300.0))
    assert t["emulator_bio_s_per_wall_s"] == {"target": TARGETS["emulator_bio_s_per_wall_s"], "measured": 2500.0, "met": True}
    assert t["emulator_bio_s_per_wall_s_stretch"]["met"] is False
    assert t["emulator_vs_strongest_peer"]["met"] is True and t["emulator_vs_strongest_peer"]["peer"] == "brian2"
    assert targets(_result(1500.0, 300.0))["emulator_vs_strongest_peer"]["met"] is False  # 5x < 6x


def test_unjudged_targets_report_numbers_but_never_a_miss():
    t = targets(_result(10.0, 300.0, total=9999.0), judged=False)
    assert all(v["met"] is None for v in t.values()) and t["total_wall_s"]["measured"] == 9999.0


def _probe(rate: float):
    """What a 12-sample NEST probe reports (1 s per sample)."""
    return lambda name, timeout_s, **spec: {"bio_s_per_wall_s": rate, "bio_s": 12.0, "samples": spec["samples"], "load_average_1min": [3.0]}


def test_nest_runs_every_sample_when_the_probe_says_they_fit(monkeypatch):
    from hal_plugins.bench import suite

    monkeypatch.setattr(suite, "in_subprocess", _probe(rate=10.0))  # 1,200 bio-s at 10 per s: 120 s < 240 s
    assert suite._nest_samples(1200, seed=0, dt_ms=0.1, threads=2, env={}, timeout_s=60, quick=False) == (1200, None)


def test_nest_is_cut_to_its_budget_and_says_why(monkeypatch):
    from hal_plugins.bench import suite

    monkeypatch.setattr(suite, "in_subprocess", _probe(rate=0.5))  # 0.5 bio-s per s: 120 samples in 240 s
    samples, cut = suite._nest_samples(1200, seed=0, dt_ms=0.1, threads=2, env={}, timeout_s=60, quick=False)
    assert samples == 120 and cut["probe_samples"] == 12 and cut["probe_bio_s_per_wall_s"] == 0.5
    assert "all 1200 would take about 2400 s, so it ran the first 120 (its budget: 240 s)" in cut["reason"]
    assert suite._nest_samples(1200, seed=0, dt_ms=0.1, threads=2, env={}, timeout_s=60, quick=True) == (1200, None)
