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


def _nest_spec(monkeypatch, quick: bool) -> dict:
    """The arguments the suite gives NEST's worker (no worker started: in_subprocess is replaced)."""
    from hal_plugins.bench import suite

    specs = {}
    monkeypatch.setattr(suite, "_importable", lambda module: (True, None))
    monkeypatch.setattr(suite, "in_subprocess", lambda name, timeout_s, **spec: specs.setdefault(name, spec) and {})
    paper = {"unavailable": {}}
    preset = suite._settings(quick, {})
    suite._time_simulators(paper, ("nest",), preset, seed=0, dt_ms=0.1, brian2_target="cpp_standalone", timeout_s=60, quick=quick)
    return specs["paper_network/nest"]


def test_nest_runs_in_chunks_against_its_budget(monkeypatch):
    from hal_plugins.bench.suite import NEST_BUDGET_S, NEST_CHUNK_SAMPLES

    spec = _nest_spec(monkeypatch, quick=False)
    assert spec["samples"] == 1200 and spec["chunk_samples"] == NEST_CHUNK_SAMPLES == 12 and spec["budget_s"] == NEST_BUDGET_S
    assert spec["count_samples"] == 60  # the chunks holding the reference's samples always run
    assert _nest_spec(monkeypatch, quick=True)["budget_s"] is None  # quick runs its 2 samples, never cut
