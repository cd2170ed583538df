"""hal_trainers.schmitt2017.figures: each of the paper's figures is drawn from the results that hold its data."""

from __future__ import annotations

import pytest

pytest.importorskip("matplotlib", reason="figures need matplotlib")

from hal_trainers.schmitt2017.figures import write_figures  # noqa: E402


def trial(seed: int, curve: list[float], *, raster: bool = False, weights: bool = True) -> dict:
    """A trial's result as ``run_trial`` returns it (with a small raster and 100-15-15-5 weights when asked)."""
    result = {"seed": seed, "software": 0.97, "converted": 0.6 + 0.01 * seed, "in_the_loop": 0.9, "in_the_loop_curve": curve,
              "curve_kind": "training-batch accuracy"}
    if weights:
        shapes = ((15, 100), (15, 15), (5, 15))
        result["weights_before"] = [[[(i + j) % 31 - 15 for j in range(n_in)] for i in range(n_out)] for n_out, n_in in shapes]
        result["weights_after"] = [[[(i * j) % 31 - 15 for j in range(n_in)] for i in range(n_out)] for n_out, n_in in shapes]
    if raster:
        samples = [{"times_ms": [10.0 * k, 20.0 * k + 5], "rows": [k, 100 + k]} for k in range(5)]
        result["raster"] = {"labels": [0, 1, 2, 3, 4], "classes": [0, 1, 4, 6, 7], "samples": samples,
                            "layers": {"input": 100, "hidden1": 15, "hidden2": 15, "label": 5}, "duration_ms": 200.0}
    return result


def test_all_three_figures(tmp_path):
    results = [trial(0, [0.6, 0.7, 0.8], raster=True), trial(1, [0.5, 0.75, 0.85, 0.9])]
    written = write_figures(results, tmp_path)
    assert [p.name for p in written] == ["fig9_accuracy.png", "fig10_raster.png", "fig8_weights.png"]
    for path in written:
        assert path.parent == tmp_path and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_figure_without_its_data_is_skipped(tmp_path):
    assert write_figures([], tmp_path) == []
    assert [p.name for p in write_figures([trial(0, [], weights=False)], tmp_path)] == []
    assert [p.name for p in write_figures([trial(0, [0.5, 0.6], weights=False)], tmp_path)] == ["fig9_accuracy.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig9_accuracy.png"]
