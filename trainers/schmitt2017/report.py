"""The report of a reproduction: accuracies of every trial, their median and quartiles next to the
paper's, the mapping, the settings, and where the numbers came from (versions, git revision, command).
"""

from __future__ import annotations

import numpy as np

from hal_trainers.reproduction import provenance
from hal_trainers.schmitt2017.trial import PAPER, trial_backend_options

__all__ = ["summarize"]


def _stats(values) -> dict:
    v = np.asarray(values, dtype=float) * 100
    return {"median": float(np.median(v)), "q25": float(np.percentile(v, 25)), "q75": float(np.percentile(v, 75))}


def summarize(results: list[dict], *, backend: str, dataset: str, options: dict, source: dict | None = None) -> dict:
    """``report.json``'s content for the finished trials ``results`` (accuracies in [0, 1], summaries in percent).

    ``source``: the run's provenance (:func:`hal_trainers.reproduction.provenance`) taken when it started, so
    that a commit made while the trials ran is not credited with them; None takes it now."""
    first = results[0]["mapping"] if results else {}
    return {
        "accuracy": {
            "software": [r["software"] for r in results],
            "converted": [r["converted"] for r in results],
            "in_the_loop": [r["in_the_loop"] for r in results],
            "in_the_loop_curve": [r["in_the_loop_curve"] for r in results],
        },
        "summary_percent": {k: _stats([r[k] for r in results]) for k in ("software", "converted", "in_the_loop")},
        "paper_percent": {k: {"median": m, "q25": lo, "q75": hi} for k, (m, lo, hi) in PAPER.items()},
        "mapping": first,
        "trials": len(results),
        "seeds": [r["seed"] for r in results],
        "backend": backend,
        "dataset": dataset,
        "configuration": {**options, "backend_options_effective": trial_backend_options(backend, options.get("backend_options"))},
        "lost_events": [r.get("lost_events") for r in results],
        "software_redraws": [r.get("software_redraws", 0) for r in results],
        **(source if source is not None else provenance()),
    }
