"""hal_trainers.cramer2020.report and .figures from made-up trial results (no training): the statistics over
trials, the paper's numbers beside them, and each figure drawn from the results that hold its data."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch", reason="the report reads trial.PAPER (the trial module needs torch)")
pytest.importorskip("matplotlib", reason="figures need matplotlib")

from hal_trainers.cramer2020.figures import FIGURES, smooth, write_figures  # noqa: E402
from hal_trainers.cramer2020.report import STATISTICS, summarize  # noqa: E402
from hal_trainers.cramer2020.trial import PAPER  # noqa: E402

pytestmark = pytest.mark.needs_torch


def trial(seed: int, *, mock: float, itl: float, steps: tuple[int, int] = (12, 6), example: bool = True) -> dict:
    """A trial's result as ``run_trial`` returns it (64-16-10, ``steps`` mock and in-the-loop steps)."""
    def curve(n: int, start: float) -> list[dict]:
        return [{"step": k + 1, "epoch": (k + 1) / 23, "loss": 2.0 - 0.05 * k, "train_accuracy": min(1.0, start + 0.03 * k),
                 "hidden_spikes_per_sample": 20.0 - 0.5 * k} for k in range(n)]

    confusion = np.diag([5] * 10)
    confusion[3, 5] = seed + 1
    result = {"seed": seed, "backend": "noisy", "dataset": "digits10", "sizes": [64, 16, 10], "settings": {"hidden": 16},
              "init_factor": 2.5, "scheme": "membrane", "readout_source": "measured membrane", "software": 0.9,
              "mock_on_backend": mock, "in_the_loop": itl, "hidden_spikes_per_image": 12.0 + seed, "hidden_spikes_per_image_mock": 14.0,
              "hidden_spikes_per_neuron": (12.0 + seed) / 16, "images_per_second": 100.0 * (seed + 1), "confusion": confusion.tolist(),
              "mock_curve": curve(steps[0], 0.2), "itl_curve": curve(steps[1], 0.6),
              "mapping": {"hicanns": 4, "synapses": 2368, "synapses_lost": 0, "seconds": 0.3}, "mock_s": 2.0, "itl_s": 1.0,
              "wall_s": 10.0 + seed}
    if example:
        result["example"] = {"label": 3, "predicted": 5, "dt_ms": 0.5, "input": {"times_ms": [1.0, 2.5, 4.0], "index": [3, 10, 40]},
                             "hidden": {"times_ms": [3.0, 6.5], "index": [2, 7]},
                             "readout_mv": np.linspace(0, 1, 10 * 40).reshape(10, 40).tolist()}
    return result


def test_the_statistics_over_trials_and_the_papers_numbers_beside_them():
    # Gains per trial: +20, +5, -10 points; the median of the gains (5) is not the gain of the medians (80 - 70 = 10).
    results = [trial(0, mock=0.6, itl=0.8), trial(1, mock=0.7, itl=0.75), trial(2, mock=0.9, itl=0.8)]
    report = summarize(results, backend="noisy", dataset="digits10", settings={"hidden": 16}, run={"test_subset": 50})
    s = report["summary"]
    assert s["in_the_loop_gain_points"]["median"] == pytest.approx(5.0)
    assert s["mock_on_backend_percent"]["median"] == pytest.approx(70.0)
    assert s["in_the_loop_percent"] == pytest.approx({"median": 80.0, "q25": 77.5, "q75": 80.0, "iqr": 2.5, "mean": 78.333333,
                                                      "min": 75.0, "max": 80.0})
    assert s["hidden_spikes_per_image"]["mean"] == pytest.approx(13.0)
    assert s["hidden_spikes_per_neuron"]["median"] == pytest.approx(13.0 / 16)
    assert s["images_per_second"]["median"] == pytest.approx(200.0)
    assert s["wall_s_per_trial"]["max"] == pytest.approx(12.0)
    assert all(set(v) == set(STATISTICS) for v in s.values())
    assert [t["in_the_loop_gain"] for t in report["per_trial"]] == pytest.approx([0.2, 0.05, -0.1])
    assert report["versus_paper"] == {"in_the_loop_percent": {"this_run": 80.0, "paper": PAPER["in_the_loop"]},
                                      "images_per_second": {"this_run": 200.0, "paper": PAPER["images_per_second"]}}
    assert report["paper"]["in_the_loop"] == PAPER["in_the_loop"] and "PNAS" in report["paper"]["source"]
    assert report["sizes"] == {"input": 64, "hidden": 16, "readout": 10}
    assert (report["scheme"], report["backend"], report["dataset"], report["trials"]) == ("membrane", "noisy", "digits10", 3)
    assert report["settings"] == {"hidden": 16} and report["run"] == {"test_subset": 50}
    assert {"versions", "git_revision", "command"} <= set(report)


def test_a_report_without_trials_has_no_statistics():
    report = summarize([], backend="noisy", dataset="digits10", settings={})
    assert report["trials"] == 0 and all(v is None for v in report["summary"].values())
    assert report["versus_paper"]["in_the_loop_percent"]["this_run"] is None


def test_all_four_figures_are_written_atomically(tmp_path):
    results = [trial(1, mock=0.6, itl=0.8, steps=(12, 7)), trial(0, mock=0.7, itl=0.75)]
    written = write_figures(results, tmp_path)
    assert [p.name for p in written] == list(FIGURES)
    for path in written:
        assert path.parent == tmp_path and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FIGURES)  # no temporary file left


def test_a_figure_without_its_data_is_skipped(tmp_path):
    assert write_figures([], tmp_path) == []
    bare = {**trial(0, mock=0.6, itl=0.8, example=False), "mock_curve": [], "itl_curve": [], "confusion": []}
    assert write_figures([bare], tmp_path) == []
    only_confusion = {**bare, "confusion": trial(0, mock=0.6, itl=0.8)["confusion"]}
    assert [p.name for p in write_figures([only_confusion], tmp_path)] == ["confusion.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["confusion.png"]


def test_smoothing_is_a_centred_running_mean_cut_at_the_ends():
    assert smooth([1.0, 2.0, 3.0, 4.0], 1).tolist() == [1.0, 2.0, 3.0, 4.0]
    assert smooth([1.0, 2.0, 3.0, 4.0], 3) == pytest.approx([1.5, 2.0, 3.0, 3.5])
    assert smooth([], 5).size == 0
