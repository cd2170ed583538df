"""The report of a reproduction of Cramer et al.: every trial's numbers, their statistics over trials
next to the paper's, the network, the settings, and where the numbers came from.

``report.json`` (accuracies of single trials in [0, 1] as ``run_trial`` returns them; statistics
of accuracies in percent)::

    trials, seeds, backend, dataset, scheme, readout_source, sizes {input, hidden, readout}
    settings                  the trial settings (trial.DEFAULTS with the run's overrides)
    run                       test_subset, backend_options, wall_s, trials_run_now, out, figures
    per_trial[]               seed, software, mock_on_backend, in_the_loop, in_the_loop_gain, hidden spikes,
                              images_per_second, init_factor, mapping, mock_s, itl_s, wall_s, git_revision (of the
                              run that finished the trial; None for trials of earlier versions)
    summary                   {median, q25, q75, iqr, mean, min, max} over trials of:
      software_percent, mock_on_backend_percent, in_the_loop_percent,
      in_the_loop_gain_points (per trial: in_the_loop - mock_on_backend, percentage points),
      hidden_spikes_per_image, hidden_spikes_per_image_mock, hidden_spikes_per_neuron,
      images_per_second, wall_s_per_trial
    paper                     trial.PAPER (in_the_loop in percent, images_per_second)
    versus_paper              {in_the_loop_percent, images_per_second}: {this_run (median), paper}
    mapping                   the first trial's mapping (HICANNs, synapses, lost synapses, seconds)
    versions, git_revision, command   of this run, taken when it started

``images_per_second`` is run_trial's: test images per wall-second of the backend's runs during
the final evaluation (the twin's share of a training step is not in it).
"""

from __future__ import annotations

import numpy as np

from hal_trainers.reproduction import provenance

__all__ = ["summarize", "STATISTICS"]

#: Keys of every statistic in ``report.json``'s ``summary``.
STATISTICS = ("median", "q25", "q75", "iqr", "mean", "min", "max")

#: Where the paper's numbers (trial.PAPER) come from.
PAPER_SOURCE = ("Cramer, Billaudelle et al., Surrogate gradients for analog neuromorphic computing, PNAS 119 (2022); "
                "BrainScaleS-2, MNIST at 16x16, 6-bit weights")

_PER_TRIAL = ("seed", "software", "mock_on_backend", "in_the_loop", "hidden_spikes_per_image", "hidden_spikes_per_image_mock",
              "hidden_spikes_per_neuron", "images_per_second", "init_factor", "mapping", "mock_s", "itl_s", "wall_s", "git_revision")


def _stats(values, scale: float = 1.0) -> dict | None:
    """Median, quartiles, interquartile range, mean and extremes of ``values`` times ``scale``; None without values."""
    v = np.asarray(values, dtype=float) * scale
    if v.size == 0:
        return None
    q25, median, q75 = np.percentile(v, [25, 50, 75])
    return {"median": float(median), "q25": float(q25), "q75": float(q75), "iqr": float(q75 - q25), "mean": float(v.mean()),
            "min": float(v.min()), "max": float(v.max())}


def summarize(results: list[dict], *, backend: str, dataset: str, settings: dict, run: dict | None = None,
              source: dict | None = None) -> dict:
    """``report.json``'s content for the finished trials ``results`` (module docstring).

    ``settings`` are the trial settings, ``run`` what describes this run (test subset, backend
    options, wall time, ...); both are stored as given.
    """
    from hal_trainers.cramer2020.trial import PAPER

    first = results[0] if results else {}
    sizes = first.get("sizes", [])
    per_trial = [{**{key: r.get(key) for key in _PER_TRIAL}, "in_the_loop_gain": r["in_the_loop"] - r["mock_on_backend"]}
                 for r in results]
    column = {key: [r[key] for r in results] for key in ("software", "mock_on_backend", "in_the_loop", "hidden_spikes_per_image",
                                                         "hidden_spikes_per_image_mock", "hidden_spikes_per_neuron",
                                                         "images_per_second", "wall_s")}
    summary = {
        "software_percent": _stats(column["software"], 100),
        "mock_on_backend_percent": _stats(column["mock_on_backend"], 100),
        "in_the_loop_percent": _stats(column["in_the_loop"], 100),
        "in_the_loop_gain_points": _stats([t["in_the_loop_gain"] for t in per_trial], 100),
        "hidden_spikes_per_image": _stats(column["hidden_spikes_per_image"]),
        "hidden_spikes_per_image_mock": _stats(column["hidden_spikes_per_image_mock"]),
        "hidden_spikes_per_neuron": _stats(column["hidden_spikes_per_neuron"]),
        "images_per_second": _stats(column["images_per_second"]),
        "wall_s_per_trial": _stats(column["wall_s"]),
    }

    def median(key: str) -> float | None:
        return summary[key]["median"] if summary[key] else None

    return {
        "trials": len(results),
        "seeds": [r["seed"] for r in results],
        "backend": backend,
        "dataset": dataset,
        "scheme": first.get("scheme"),
        "readout_source": first.get("readout_source"),
        "sizes": dict(zip(("input", "hidden", "readout"), sizes)) if len(sizes) == 3 else {"layers": list(sizes)},
        "settings": dict(settings),
        "run": dict(run or {}),
        "per_trial": per_trial,
        "summary": summary,
        "paper": {**PAPER, "source": PAPER_SOURCE},
        "versus_paper": {"in_the_loop_percent": {"this_run": median("in_the_loop_percent"), "paper": PAPER.get("in_the_loop")},
                         "images_per_second": {"this_run": median("images_per_second"), "paper": PAPER.get("images_per_second")}},
        "mapping": first.get("mapping", {}),
        # where the numbers came from as the run started (a commit during a long run must not be credited with it)
        **(source if source is not None else provenance()),
    }
