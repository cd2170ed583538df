"""Figures of a reproduction of Cramer et al. from its trials' results (PNG files, written atomically).

- ``accuracy.png``: training accuracy per step, mock (on the twin) then in the loop, smoothed,
  with the test accuracies: the twin after mock training, the backend after mock training
  (the transfer, "a") and after in-the-loop training ("b");
- ``hidden_spikes.png``: hidden spikes per image per step, the same way;
- ``example.png``: one test image on the backend after training: input and hidden spike
  raster, readout membranes;
- ``confusion.png``: the confusion matrix of the backend after in-the-loop training, summed
  over trials, rows normalised.

matplotlib is imported inside :func:`write_figures` (with the non-interactive ``Agg`` backend).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hal.files import atomic_write

__all__ = ["write_figures", "smooth", "FIGURES"]

#: The files :func:`write_figures` writes, in order (a figure whose data no trial has is skipped).
FIGURES = ("accuracy.png", "hidden_spikes.png", "example.png", "confusion.png")


def smooth(values, window: int) -> np.ndarray:
    """Centred running mean of ``values`` over ``window`` points (fewer at the ends, where the window is cut)."""
    v = np.asarray(values, dtype=float)
    if window <= 1 or v.size == 0:
        return v
    kernel = np.ones(window)
    return np.convolve(v, kernel, mode="same") / np.convolve(np.ones_like(v), kernel, mode="same")


def write_figures(results: list[dict], out_dir: Path) -> list[Path]:
    """Write :data:`FIGURES` of the trials ``results`` (as ``run_trial`` returns them) into ``out_dir``; returns the files written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    results = sorted(results, key=lambda r: r["seed"])
    written = []
    if any(r.get("mock_curve") or r.get("itl_curve") for r in results):
        written.append(_curve_figure(plt, results, "train_accuracy", out_dir / "accuracy.png"))
        written.append(_curve_figure(plt, results, "hidden_spikes_per_sample", out_dir / "hidden_spikes.png"))
    example = next((r for r in results if r.get("example")), None)
    if example is not None:
        written.append(_example_figure(plt, example, out_dir / "example.png"))
    if any(r.get("confusion") for r in results):
        written.append(_confusion_figure(plt, results, out_dir / "confusion.png"))
    return written


def _save(plt, fig, path: Path) -> Path:
    atomic_write(path, lambda fh: fig.savefig(fh, format="png", dpi=120))
    plt.close(fig)
    return path


def _phase(results: list[dict], key: str, curve: str) -> np.ndarray:
    """(trials, steps) of ``key`` along each trial's ``curve``, cut to the shortest trial."""
    curves = [r.get(curve) or [] for r in results]
    n = min(len(c) for c in curves)
    return np.array([[entry[key] for entry in c[:n]] for c in curves], dtype=float).reshape(len(curves), n)


def _curve_figure(plt, results: list[dict], key: str, path: Path) -> Path:
    """Per step: each trial smoothed (thin), the median over trials (thick); mock, then in the loop."""
    accuracy = key == "train_accuracy"
    scale = 100.0 if accuracy else 1.0
    mock, itl = _phase(results, key, "mock_curve") * scale, _phase(results, key, "itl_curve") * scale
    n_mock, n_itl = mock.shape[1], itl.shape[1]
    window = max(1, (n_mock + n_itl) // 25)
    fig, ax = plt.subplots(figsize=(8, 5))
    for values, offset, colour, label in ((mock, 0, "tab:blue", "mock (twin)"), (itl, n_mock, "tab:orange", "in the loop (backend)")):
        if values.shape[1] == 0:
            continue
        steps = offset + np.arange(1, values.shape[1] + 1)
        for trial in values:
            ax.plot(steps, smooth(trial, window), color=colour, lw=0.6, alpha=0.35)
        ax.plot(steps, smooth(np.median(values, axis=0), window), color=colour, lw=2,
                label=f"{label}, training batches, median of {len(results)} trial(s), running mean of {window}")
    ax.axvline(n_mock + 0.5, color="0.5", ls=":", lw=1)
    if accuracy:
        markers = ((n_mock, "software", "tab:blue", "s", "twin after mock training"),
                   (n_mock, "mock_on_backend", "tab:red", "o", "(a) backend after mock training"),
                   (n_mock + n_itl, "in_the_loop", "tab:green", "o", "(b) backend after in-the-loop training"))
    else:
        markers = ((n_mock, "hidden_spikes_per_image_mock", "tab:red", "o", "backend after mock training"),
                   (n_mock + n_itl, "hidden_spikes_per_image", "tab:green", "o", "backend after in-the-loop training"))
    for x, name, colour, marker, label in markers:
        values = np.array([r[name] for r in results if r.get(name) is not None], dtype=float) * scale
        if values.size == 0:
            continue
        q25, q50, q75 = np.percentile(values, [25, 50, 75])
        ax.errorbar([x], [q50], yerr=[[q50 - q25], [q75 - q50]], fmt=marker, color=colour, capsize=4, ms=6,
                    label=f"test set, {label}: {q50:.1f}{' %' if accuracy else ''}")
    ax.set_xlabel("training step (mock, then in the loop)")
    if accuracy:
        ax.set_ylabel("accuracy (%)")
        ax.set_ylim(0, 100)
        ax.set_title("Training accuracy (cf. Cramer et al. 2022)")
    else:
        ax.set_ylabel("hidden spikes per image")
        ax.set_ylim(bottom=0)
        ax.set_title("Hidden-layer activity")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize=7, frameon=False)
    fig.tight_layout()
    return _save(plt, fig, path)


def _example_figure(plt, trial: dict, path: Path) -> Path:
    """Input and hidden spikes of one test image, and the readout membranes, as the backend measured them."""
    ex = trial["example"]
    readout = np.asarray(ex["readout_mv"], dtype=float)
    times = np.arange(1, readout.shape[1] + 1) * ex["dt_ms"] if readout.ndim == 2 else np.array([])
    fig, axes = plt.subplots(3, 1, figsize=(7, 7), sharex=True, gridspec_kw={"height_ratios": [2, 2, 2]})
    for ax, layer, colour in ((axes[0], "input", "tab:blue"), (axes[1], "hidden", "tab:orange")):
        ax.scatter(ex[layer]["times_ms"], ex[layer]["index"], s=4, c=colour, marker="|")
        ax.set_ylabel(f"{layer} neuron")
        ax.set_title(f"{layer} spikes ({len(ex[layer]['times_ms'])})", fontsize=9)
    for k, trace in enumerate(readout if readout.ndim == 2 else []):
        chosen = k in (ex["label"], ex["predicted"])
        ax_label = f"class {k}" + (" (label)" if k == ex["label"] else "") + (" (predicted)" if k == ex["predicted"] else "")
        axes[2].plot(times, trace, lw=1.8 if chosen else 0.7, alpha=1 if chosen else 0.5, label=ax_label if chosen else None)
    axes[2].set_ylabel("readout membrane (mV)")
    axes[2].set_xlabel("time (ms, biological)")
    axes[2].legend(loc="upper left", fontsize=7)
    fig.suptitle(f"One test image on {trial.get('backend', 'the backend')} after training (trial {trial['seed']}): "
                 f"label {ex['label']}, predicted {ex['predicted']}", fontsize=10)
    fig.tight_layout()
    return _save(plt, fig, path)


def _confusion_figure(plt, results: list[dict], path: Path) -> Path:
    """Confusion matrix (rows true, columns predicted) after in-the-loop training, summed over trials, rows normalised."""
    matrices = [np.asarray(r["confusion"], dtype=float) for r in results if r.get("confusion")]
    total = np.sum(matrices, axis=0)
    rows = total.sum(axis=1, keepdims=True)
    share = np.divide(total, rows, out=np.zeros_like(total), where=rows > 0)
    n = total.shape[0]
    fig, ax = plt.subplots(figsize=(5.5, 4.8))
    im = ax.imshow(share * 100, cmap="Blues", vmin=0, vmax=100)
    if n <= 12:
        for i in range(n):
            for j in range(n):
                if total[i, j]:
                    ax.text(j, i, f"{int(total[i, j])}", ha="center", va="center", fontsize=7,
                            color="white" if share[i, j] > 0.5 else "black")
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    accuracy = np.trace(total) / max(total.sum(), 1) * 100
    ax.set_title(f"After in-the-loop training, {len(matrices)} trial(s): {accuracy:.1f} %", fontsize=10)
    fig.colorbar(im, ax=ax, label="share of the true class (%)")
    fig.tight_layout()
    return _save(plt, fig, path)
