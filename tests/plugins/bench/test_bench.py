"""``hal bench --quick`` through hal's own parser (tiny sizes): shape of its JSON, sane numbers.

Nothing here checks speed; the measured numbers live in docs/benchmarks.md.
"""

from __future__ import annotations

import json
import math

import pytest

from hal.cli import build_parser

pytestmark = pytest.mark.needs_extension


def _positive(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


@pytest.fixture(scope="module")
def result(tmp_path_factory) -> dict:
    """``hal bench --quick --json`` through ``hal``'s own parser (the command the bench plugin registers)."""
    from hal_plugins.emulator.kernel import kernel_available

    if not kernel_available():
        pytest.skip("the emulator's compiled kernel is not built (pip install -e .)")
    parser = build_parser()
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    args = parser.parse_args(["bench", "--quick", "--json", "--samples", "3", "--reference-samples", "1", "--simulator-samples", "1",
                              "--out", str(out)])
    assert args.func(args) == 0
    return json.loads(out.read_text())


def test_paper_network_is_the_users_mapping(result):
    """The network the trainers map: 135 neurons of 4 circuits on 3 HICANNs, 3,700 synapses, none lost."""
    network = result["paper_network"]["network"]
    assert network["neurons"] == 135 and network["layers"] == [100, 15, 15, 5]
    assert network["circuits_per_neuron"] == 4
    assert network["hicanns"] == 3 and len(network["hicanns_used"]) == 3
    assert network["synapses"] == 3700 and network["synapses_lost"] == 0
    assert network["sources"] == 100 and network["batch"] == 3
    assert 0 < network["synapses_realised"] <= 3700


def test_paper_network_reports_every_backend_with_positive_rates(result):
    paper = result["paper_network"]
    for name in ("emulator", "noisy", "reference"):
        r = paper[name]
        for key in ("bio_s_per_wall_s", "synaptic_events_per_s", "wall_s", "bio_s", "synaptic_events", "peak_rss_bytes", "spikes"):
            assert _positive(r[key]), (name, key, r[key])
        assert r["samples"] == (1 if name == "reference" else 3)
        assert r["bio_s"] == pytest.approx(r["samples"] * 1.0)
        assert set(r["lost_events"]) == {"input", "output", "unattributed"}
    assert _positive(paper["speedup"]["emulator_vs_reference"])


def test_backends_see_the_same_input(result):
    """Same seeds: the reference backend's sample is the emulator batch's first one."""
    paper = result["paper_network"]
    assert paper["emulator"]["input_events"] == paper["noisy"]["input_events"]
    assert 0 < paper["reference"]["input_events"] < paper["emulator"]["input_events"]


def test_simulators_are_null_with_a_reason_or_measured(result):
    paper = result["paper_network"]
    for name in ("nest", "brian2"):
        r = paper[name]
        if r is None:
            assert paper["unavailable"][name]
            assert paper["speedup"][f"emulator_vs_{name}"] is None
        else:
            assert _positive(r["bio_s_per_wall_s"]) and _positive(r["synaptic_events_per_s"]) and _positive(r["spikes"])
            assert r["samples"] == 1


def test_hicann_and_wafer_report_wall_time_and_memory(result):
    for name, hicanns in (("hicann", 1), ("wafer", 2)):
        r = result[name]
        assert r["hicanns"] == hicanns
        assert r["neurons"] == 512 * hicanns and r["synapses"] == 448 * 256 * hicanns
        for key in ("bio_s", "wall_s", "peak_rss_bytes", "synaptic_events_per_s", "bio_s_per_wall_s"):
            assert _positive(r[key]), (name, key, r[key])


def test_targets_and_machine_are_reported_but_quick_judges_nothing(result):
    """--quick measures nothing useful: its targets carry the numbers, never 'missed' (met is None)."""
    assert {"emulator_bio_s_per_wall_s", "emulator_bio_s_per_wall_s_stretch", "total_wall_s"} <= set(result["targets"])
    for t in result["targets"].values():
        assert {"target", "measured", "met"} <= set(t) and t["met"] is None
    assert "wafer_wall_s" not in result["targets"]  # only judged on the full 384-HICANN wafer
    assert result["machine"]["cores"] >= 1 and result["quick"] is True


def test_every_run_uses_one_step_and_is_compared_with_the_reference(result):
    """dt 0.1 ms everywhere by default; each backend's spike counts next to the reference's, over the reference's samples."""
    paper = result["paper_network"]
    assert result["settings"]["dt_ms"] == 0.1
    for name in ("emulator", "emulator:mismatch=none,links=lossless", "noisy", "reference"):
        assert paper[name]["info"]["dt_ms"] == 0.1, name
        assert paper[name]["counted_samples"] == 1 and len(paper[name]["counts"]) == 135
    agree = paper["agreement_with_reference"]
    assert "reference" not in agree
    ideal = agree["emulator:mismatch=none,links=lossless"]
    assert ideal["comparable"] and ideal["samples"] == 1 and ideal["reference_spikes"] == sum(paper["reference"]["counts"])
    assert abs(ideal["total_relative"]) < 0.05 and ideal["within_2_percent"] > 0.8
