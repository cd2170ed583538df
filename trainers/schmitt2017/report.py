"""The report of a reproduction: accuracies of every trial, their median and quartiles next to the
paper's, the mapping, the settings, and where the numbers came from (versions, git revision, command).
"""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import numpy as np

from hal_trainers.schmitt2017.trial import PAPER, trial_backend_options

__all__ = ["summarize"]


def _git_revision() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, cwd=Path(__file__).parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def _versions() -> dict:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for name in ("wafer-hal", "numpy", "torch", "dask", "distributed", "scikit-learn", "matplotlib"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = None
    return out


def _stats(values) -> dict:
    v = np.asarray(values, dtype=float) * 100
    return {"median": float(np.median(v)), "q25": float(np.percentile(v, 25)), "q75": float(np.percentile(v, 75))}


def summarize(results: list[dict], *, backend: str, dataset: str, options: dict) -> dict:
    """``report.json``'s content for the finished trials ``results`` (accuracies in [0, 1], summaries in percent)."""
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
        "versions": _versions(),
        "git_revision": _git_revision(),
        "command": " ".join(sys.argv),
    }
