"""The paper's figures from the trials' results: Fig. 9 (accuracy per in-the-loop step), Fig. 10
(spike raster), Fig. 8 (weights before and after in-the-loop training).

matplotlib is imported inside :func:`write_figures` (with the non-interactive ``Agg`` backend).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["write_figures"]


def write_figures(results: list[dict], out_dir: Path) -> list[Path]:
    """Fig. 9 (accuracy vs in-the-loop step, median and IQR), Fig. 10 (raster), Fig. 8 (weights before/after).

    A figure whose data no trial has (no curve, no raster, no weights) is skipped; returns the
    files written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    curves = [r["in_the_loop_curve"] for r in results if r.get("in_the_loop_curve")]
    if curves:
        written.append(_accuracy_figure(plt, results, curves, out_dir / "fig9_accuracy.png"))
    raster = next((r["raster"] for r in results if r.get("raster")), None)
    if raster:
        written.append(_raster_figure(plt, raster, out_dir / "fig10_raster.png"))
    first = results[0] if results else None
    if first and first.get("weights_before"):
        written.append(_weights_figure(plt, first, out_dir / "fig8_weights.png"))
    return written


def _save(plt, fig, path: Path) -> Path:
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _accuracy_figure(plt, results: list[dict], curves: list[list[float]], path: Path) -> Path:
    """Fig. 9: accuracy per in-the-loop step (median and IQR over trials), test accuracy at both ends."""
    n = min(len(c) for c in curves)
    c = np.array([r["in_the_loop_curve"][:n] for r in results]) * 100
    steps = np.arange(n)
    kind = results[0].get("curve_kind", "training-batch accuracy")
    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.fill_between(steps, np.percentile(c, 25, axis=0), np.percentile(c, 75, axis=0), alpha=0.3, label="interquartile range")
    ax.plot(steps, np.median(c, axis=0), lw=2, label=f"median over {len(results)} trial(s), {kind}")
    # Test-set accuracy right after conversion (step 0) and after the last update (step n), median and IQR.
    for x, key, colour in ((0, "converted", "tab:red"), (len(curves[0]), "in_the_loop", "tab:green")):
        v = np.array([r[key] for r in results]) * 100
        q25, q50, q75 = np.percentile(v, [25, 50, 75])
        ax.errorbar([x], [q50], yerr=[[q50 - q25], [q75 - q50]], fmt="o", color=colour, capsize=4,
                    label=f"test set, {'after conversion' if key == 'converted' else 'after in-the-loop'}: {q50:.1f} %")
    software = np.median([r["software"] for r in results]) * 100
    ax.axhline(software, color="k", ls="--", label=f"software model, test set ({software:.1f} %)")
    ax.set_xlabel("in-the-loop step (k: the network after k weight updates)")
    ax.set_ylabel("accuracy (%)")
    ax.set_title("In-the-loop training (cf. Schmitt et al. 2017, Fig. 9)")
    ax.xaxis.get_major_locator().set_params(integer=True)
    lowest = min(float(np.percentile(c, 25, axis=0).min()), float(np.percentile([r["converted"] for r in results], 25)) * 100)
    ax.set_ylim(max(0.0, 10 * np.floor(lowest / 10) - 10), 100)
    ax.legend(loc="lower right", fontsize=7)
    fig.tight_layout()
    return _save(plt, fig, path)


def _raster_figure(plt, raster: dict, path: Path) -> Path:
    """Fig. 10: spikes of all layers for five test samples per class, one after the other."""
    samples = raster["samples"]
    n_rows = sum(raster["layers"].values())
    fig, ax = plt.subplots(figsize=(10, 5))
    duration = raster["duration_ms"]
    for k, s in enumerate(samples):
        t = np.asarray(s["times_ms"]) + k * duration
        ax.scatter(t / 1000, s["rows"], s=1, c="k")
    edges = np.cumsum(list(raster["layers"].values()))[:-1]
    for e in edges:
        ax.axhline(e - 0.5, color="tab:blue", lw=0.5)
    for k in range(len(samples)):
        ax.axvline(k * duration / 1000, color="0.8", lw=0.5)
        ax.text((k + 0.5) * duration / 1000, n_rows + 1, str(raster["classes"][raster["labels"][k]]), ha="center", fontsize=7)
    ax.set_xlabel("time (s, biological; five samples per class)")
    ax.set_ylabel("neuron (input | hidden 1 | hidden 2 | label)")
    ax.set_ylim(-1, n_rows + 4)
    ax.set_title("Spikes of all layers after in-the-loop training (cf. Fig. 10)")
    fig.tight_layout()
    return _save(plt, fig, path)


def _weights_figure(plt, trial: dict, path: Path) -> Path:
    """Fig. 8: one trial's signed 4-bit weights before and after in-the-loop training, and the change."""
    before = [np.array(w) for w in trial["weights_before"]]
    after = [np.array(w) for w in trial["weights_after"]]
    fig, axes = plt.subplots(3, 3, figsize=(11, 7.5), constrained_layout=True,
                             gridspec_kw={"width_ratios": [max(w.shape[1], 35) for w in before]})
    rows = (("before", before, 15), ("after", after, 15), ("change", [a - b for a, b in zip(after, before)], 4))
    for row, (name, mats, scale) in enumerate(rows):
        for k, w in enumerate(mats):
            ax = axes[row, k]
            im = ax.imshow(w, cmap="RdBu_r", vmin=-scale, vmax=scale, aspect="auto", interpolation="nearest")
            ax.set_title(f"layer {k + 1} {name}" + (f"\n{int(np.count_nonzero(w))} of {w.size} changed" if name == "change" else ""), fontsize=9)
            ax.xaxis.get_major_locator().set_params(integer=True)
            ax.yaxis.get_major_locator().set_params(integer=True)
            if row == 2:
                ax.set_xlabel("pre-synaptic unit", fontsize=8)
            if k == 0:
                ax.set_ylabel("post-synaptic unit", fontsize=8)
        fig.colorbar(im, ax=axes[row, :], shrink=0.9, label="signed 4-bit weight" if name != "change" else "after - before")
    fig.suptitle(f"Weights of trial {trial['seed']} before and after in-the-loop training (cf. Fig. 8)")
    return _save(plt, fig, path)
