"""``hal reproduce schmitt2017``: many trials of the paper on Dask, then the report and the paper's figures.

Trials run on Dask distributed: a LocalCluster using the machine's cores by default, or any
scheduler address (``--scheduler tcp://host:8786``; on an HPC system start the cluster with
dask-jobqueue, e.g. ``SLURMCluster(cores=2, memory="8GB").scale(jobs=20)``, and pass its
``scheduler_address``). Each finished trial is written at once, atomically, to
``OUT/trials/<seed>.json``; a trial whose worker dies is retried by Dask; re-running with the
same ``--out`` skips finished trials.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from hal.errors import ConfigError
from hal.logging import get_logger
from hal_trainers.reproduction import (check_settings as _check_settings, dask_client as _client, finished_trials as _finished_trials,
                                       provenance, write_json_atomic as _write_json_atomic)
from hal_trainers.schmitt2017.figures import write_figures
from hal_trainers.schmitt2017.report import summarize
from hal_trainers.schmitt2017.trial import run_trial, trial_backend_options

__all__ = ["reproduce", "SCHEDULES", "DATASET_DEFAULTS"]

#: In-the-loop schedules (:attr:`hal_trainers.in_the_loop.InTheLoopTrainer.schedule`).
SCHEDULES = ("linear", "constant")

#: Settings that depend on the data set's size, where the caller leaves them at None.
#: MNIST: the paper's (15,000 software steps of 100 images = 25 epochs; in-the-loop batches of
#: 1,200 of 60,000 images; one software model per trial). digits has 721 training images: 4,000
#: software steps are already 550 epochs (the test accuracy of 15,000 differs by at most one image
#: on a validation split), and a batch of 1,200 would be the whole set every step -- the same
#: images over and over, whose batch accuracy says nothing about other images; 360 (half the set)
#: keeps the steps stochastic at half the cost. Its trials keep the best converted of three
#: software models (``conversion_candidates``): 20 in-the-loop steps do not recover a poorly
#: converted network (validation quarters: 25 % converted -> 78 % after the loop), and on 721
#: images a software model costs a few seconds. Chosen on validation splits of the training images.
DATASET_DEFAULTS = {"mnist": {"ann_steps": 15_000, "itl_batch": 1200, "conversion_candidates": 1},
                    "digits": {"ann_steps": 4_000, "itl_batch": 360, "conversion_candidates": 3}}

log = get_logger(__name__)


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


def reproduce(*, dataset: str = "digits", data_dir: str | None = None, backend: str = "noisy", trials: int = 3, itl_steps: int = 50,
              out: str = "schmitt2017-out", scheduler: str | None = None, workers: int | None = None, ann_steps: int | None = None,
              itl_batch: int | None = None, test_subset: int | None = None, itl_schedule: str = "linear", itl_leak: float = 0.1,
              conversion_candidates: int | None = None, progress=None) -> dict:
    """Run (or finish) ``trials`` trials and write ``report.json`` and the figures into ``out``.

    ``ann_steps``, ``itl_batch`` and ``conversion_candidates`` left at None take the data set's
    :data:`DATASET_DEFAULTS`.
    """
    from dask.distributed import as_completed

    defaults = DATASET_DEFAULTS.get(dataset, DATASET_DEFAULTS["mnist"])
    ann_steps = defaults["ann_steps"] if ann_steps is None else ann_steps
    itl_batch = defaults["itl_batch"] if itl_batch is None else itl_batch
    conversion_candidates = defaults["conversion_candidates"] if conversion_candidates is None else conversion_candidates
    if not (isinstance(conversion_candidates, int) and not isinstance(conversion_candidates, bool) and conversion_candidates >= 1):
        raise ConfigError(f"reproduce: conversion_candidates {conversion_candidates!r} out of range; valid integers >= 1")
    if not (isinstance(itl_leak, (int, float)) and 0 <= itl_leak <= 1):
        raise ConfigError(f"reproduce: itl_leak {itl_leak!r} out of range; valid 0..1")
    if trials < 1 or itl_steps < 0 or ann_steps < 1 or itl_batch < 1:
        raise ConfigError(f"reproduce: trials {trials}, itl_steps {itl_steps}, ann_steps {ann_steps}, itl_batch {itl_batch}: "
                          f"need trials >= 1, itl_steps >= 0, ann_steps >= 1, itl_batch >= 1")
    if itl_schedule not in SCHEDULES:
        raise ConfigError(f"reproduce: itl_schedule {itl_schedule!r} not valid; valid {', '.join(SCHEDULES)}")
    from hal_trainers.datasets import load_dataset

    load_dataset(dataset, data_dir)  # fail early (and fill the cache) before starting workers
    import hal

    hal.get_backend(backend)  # an unknown backend fails here, listing the known ones
    out_dir = Path(out)
    trial_dir = out_dir / "trials"
    trial_dir.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda message: None)
    _check_settings(out_dir, {"dataset": dataset, "backend": backend, "ann_steps": ann_steps, "itl_steps": itl_steps,
                              "itl_batch": itl_batch, "test_subset": test_subset, "itl_schedule": itl_schedule,
                              "itl_leak": itl_leak, "conversion_candidates": conversion_candidates})
    done = _finished_trials(trial_dir)
    todo = [s for s in range(trials) if s not in done]
    options = {"backend": backend, "ann_steps": ann_steps, "itl_steps": itl_steps, "itl_batch": itl_batch,
               "test_subset": test_subset, "itl_schedule": itl_schedule, "itl_leak": itl_leak,
               "conversion_candidates": conversion_candidates, "eval_every": 0, "backend_options": {"threads": 1} if backend != "reference" else {}}
    started, source = time.perf_counter(), provenance()  # what runs the trials: the revision and versions of now
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
    report = summarize(results, backend=backend, dataset=dataset, options=options, source=source)
    report["wall_s"] = time.perf_counter() - started
    _write_json_atomic(out_dir / "report.json", report)
    write_figures(results, out_dir)
    return report
