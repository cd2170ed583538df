"""``hal reproduce schmitt2017``: many trials of the paper on Dask, a report and the paper's figures.

Trials run on Dask distributed: a LocalCluster using the machine's cores by default, or any
scheduler address (``--scheduler tcp://host:8786``; on an HPC system start the cluster with
dask-jobqueue, e.g. ``SLURMCluster(cores=2, memory="8GB").scale(jobs=20)``, and pass its
``scheduler_address``). Each finished trial is written at once, atomically, to
``OUT/trials/<seed>.json``; a trial whose worker dies is retried by Dask; re-running with the
same ``--out`` skips finished trials.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import structlog

from hal.errors import ConfigError, FileFormatError
from hal.files import atomic_write
from hal_trainers.schmitt2017 import PAPER, run_trial, trial_backend_options

__all__ = ["reproduce", "summarize", "write_figures"]

log = structlog.get_logger(__name__)


def _write_json_atomic(path: Path, data) -> None:
    atomic_write(path, lambda fh: json.dump(data, fh, indent=1), mode="w")


def _trial_task(dataset_name: str, data_dir: str | None, seed: int, options: dict) -> dict:
    """Runs on a Dask worker: load the (cached) dataset, run one trial, return its numbers."""
    from hal.logging import configure
    from hal_trainers.datasets import load_dataset

    configure(level="warning")
    import torch

    # One worker per core: torch's own thread pool would make the workers fight over the cores.
    torch.set_num_threads(1)
    # Fault injection for the tests: kill this worker process once, to check that Dask retries the trial.
    marker = os.environ.get("HAL_TEST_KILL_WORKER_ONCE")
    if marker and not Path(marker).exists():
        Path(marker).write_text(str(seed))
        os._exit(1)
    dataset = load_dataset(dataset_name, data_dir)
    result = run_trial(dataset, seed=seed, **options)
    if seed == options.get("raster_seed", 0):
        result["raster"] = _raster(dataset, result, options)
    return result


def _raster(dataset, result: dict, options: dict) -> dict:
    """Spikes of all layers for five test samples per class, with the trained weights (Fig. 10)."""
    import hal
    from hal_trainers.conversion import ON_MS, OFF_MS, SpikingNetwork, pixel_rates

    chosen = np.concatenate([np.flatnonzero(dataset.y_test == c)[:5] for c in range(len(dataset.classes))])
    backend = options.get("backend", "noisy")
    chip = hal.get_backend(backend, wafer=100 + result["seed"], **trial_backend_options(backend, options.get("backend_options")))
    net = SpikingNetwork(chip, [np.array(w) for w in result["weights_after"]], wafer=100 + result["seed"], seed=result["seed"])
    exp = hal.Experiment(net.config, ON_MS + OFF_MS, [hal.PoissonInput(net.mapping.source_address["pixels"], pixel_rates(dataset.x_test[chosen]), stop_ms=ON_MS, seed=1)])
    rec = hal.run(exp, chip)
    columns = {(n.hicann, n.firing): i for i, n in enumerate(rec.neurons)}
    order = [columns.get((h, den[0]), -1) for name in ("input", "hidden1", "hidden2", "label") for h, den in net.mapping.placement[name]]
    samples = []
    for s in range(len(chosen)):
        t, col = rec.spikes(s)
        row_of = {c: r for r, c in enumerate(order) if c >= 0}
        keep = np.array([c in row_of for c in col], dtype=bool)
        samples.append({"times_ms": t[keep].tolist(), "rows": [row_of[c] for c in col[keep]]})
    return {"labels": dataset.y_test[chosen].tolist(), "classes": list(dataset.classes), "samples": samples,
            "layers": {"input": 100, "hidden1": 15, "hidden2": 15, "label": 5}, "duration_ms": ON_MS + OFF_MS}


def _client(scheduler: str | None, workers: int | None):
    from dask.distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler), None
    cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True, dashboard_address=None)
    return Client(cluster), cluster


def reproduce(*, dataset: str = "digits", data_dir: str | None = None, backend: str = "noisy", trials: int = 3, itl_steps: int = 50,
              out: str = "schmitt2017-out", scheduler: str | None = None, workers: int | None = None, ann_steps: int = 15_000,
              itl_batch: int = 1200, test_subset: int | None = None, progress=None) -> dict:
    """Run (or finish) ``trials`` trials and write ``report.json`` and the figures into ``out``."""
    from dask.distributed import as_completed

    if trials < 1 or itl_steps < 0 or ann_steps < 1 or itl_batch < 1:
        raise ConfigError(f"reproduce: trials {trials}, itl_steps {itl_steps}, ann_steps {ann_steps}, itl_batch {itl_batch}: "
                          f"need trials >= 1, itl_steps >= 0, ann_steps >= 1, itl_batch >= 1")
    from hal_trainers.datasets import load_dataset

    load_dataset(dataset, data_dir)  # fail early (and fill the cache) before starting workers
    import hal

    hal.get_backend(backend)  # an unknown backend fails here, listing the known ones
    out_dir = Path(out)
    trial_dir = out_dir / "trials"
    trial_dir.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda message: None)
    _check_settings(out_dir, {"dataset": dataset, "backend": backend, "ann_steps": ann_steps, "itl_steps": itl_steps,
                              "itl_batch": itl_batch, "test_subset": test_subset})
    done = _finished_trials(trial_dir)
    todo = [s for s in range(trials) if s not in done]
    options = {"backend": backend, "ann_steps": ann_steps, "itl_steps": itl_steps, "itl_batch": itl_batch,
               "test_subset": test_subset, "eval_every": 0, "backend_options": {"threads": 1} if backend != "reference" else {}}
    started = time.perf_counter()
    if todo:
        client, cluster = _client(scheduler, workers)
        try:
            futures = [client.submit(_trial_task, dataset, data_dir, seed, options, retries=2, pure=False, key=f"trial-{seed}-{time.time_ns()}")
                       for seed in todo]
            for n, future in enumerate(as_completed(futures), 1):
                result = future.result()
                _write_json_atomic(trial_dir / f"{result['seed']}.json", result)
                done[result["seed"]] = result
                say(f"[{n}/{len(todo)}] trial {result['seed']}: software {result['software']:.3f}, converted {result['converted']:.3f}, "
                    f"in-the-loop {result['in_the_loop']:.3f} ({result['wall_s']:.0f} s)")
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    results = [done[s] for s in sorted(done) if s < trials]
    report = summarize(results, backend=backend, dataset=dataset, options=options)
    report["wall_s"] = time.perf_counter() - started
    _write_json_atomic(out_dir / "report.json", report)
    write_figures(results, out_dir)
    return report


def _check_settings(out_dir: Path, settings: dict) -> None:
    """Finished trials are reused only with the settings they were run with (kept in ``settings.json``)."""
    path = out_dir / "settings.json"
    if not path.exists():
        _write_json_atomic(path, settings)
        return
    try:
        stored = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise FileFormatError(path, f"not a readable reproduce settings file ({exc})") from None
    differ = [f"{key} {stored.get(key)!r} there, {value!r} now" for key, value in settings.items() if stored.get(key) != value]
    if differ:
        raise ConfigError(f"reproduce: {out_dir} holds trials run with other settings ({'; '.join(differ)}); "
                          f"use another --out, or the settings stored in {path}")


def _finished_trials(trial_dir: Path) -> dict[int, dict]:
    done = {}
    for path in trial_dir.glob("*.json"):
        if not path.stem.isdigit():
            continue  # not a trial file
        try:
            done[int(path.stem)] = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise FileFormatError(path, f"not a readable trial result ({exc}); delete it to run the trial again") from None
    return done


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


def write_figures(results: list[dict], out_dir: Path) -> list[Path]:
    """Fig. 9 (accuracy vs in-the-loop step, median and IQR), Fig. 10 (raster), Fig. 8 (weights before/after)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    curves = [r["in_the_loop_curve"] for r in results if r.get("in_the_loop_curve")]
    if curves:
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
        path = out_dir / "fig9_accuracy.png"
        fig.savefig(path, dpi=120)
        plt.close(fig)
        written.append(path)
    raster = next((r["raster"] for r in results if r.get("raster")), None)
    if raster:
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
        path = out_dir / "fig10_raster.png"
        fig.savefig(path, dpi=120)
        plt.close(fig)
        written.append(path)
    first = results[0] if results else None
    if first and first.get("weights_before"):
        before = [np.array(w) for w in first["weights_before"]]
        after = [np.array(w) for w in first["weights_after"]]
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
        fig.suptitle(f"Weights of trial {first['seed']} before and after in-the-loop training (cf. Fig. 8)")
        path = out_dir / "fig8_weights.png"
        fig.savefig(path, dpi=120)
        plt.close(fig)
        written.append(path)
    return written
