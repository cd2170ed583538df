"""``hal reproduce cramer2020``: many trials of Cramer et al. on Dask, resumable, then the report and the figures.

Trials (:func:`hal_trainers.cramer2020.trial.run_trial`, seeds ``0 .. trials-1``) run on Dask
distributed: a LocalCluster with one single-threaded worker process per core by default, or any
scheduler address (``--scheduler tcp://host:8786``; on an HPC system start the cluster with
dask-jobqueue and pass its ``scheduler_address``). The output folder holds::

    OUT/settings.json              the settings of the trials (a run with other settings is refused)
    OUT/trials/<seed>.json         each finished trial, written atomically as it finishes
    OUT/checkpoints/<seed>/*.pt    each trial's training checkpoints (mock, in-the-loop)
    OUT/report.json                the summary (:func:`hal_trainers.cramer2020.report.summarize`)
    OUT/*.png                      the figures (:func:`hal_trainers.cramer2020.figures.write_figures`)

Re-running with the same ``out`` skips finished trials; a trial that was killed (the whole run,
or its worker: Dask retries it twice) resumes from its checkpoints to the result an
uninterrupted run gives. The checkpoints are kept after a trial finishes: deleting
``trials/<seed>.json`` re-creates it from them without training again.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import attrs

from hal.analog.domains import PAPER_DOMAINS
from hal.calibration import nominal_transform
from hal.errors import ConfigValueError, UnknownNameError
from hal.logging import get_logger
from hal.mapping.options import CIRCUITS_PER_NEURON
from hal.mapping.scales import GMAX_DIVISORS
from hal_trainers.cramer2020.figures import write_figures
from hal_trainers.cramer2020.report import summarize
from hal_trainers.cramer2020.trial import DEFAULTS, run_trial
from hal_trainers.snn.augment import Distortion, as_distortion
from hal_trainers.snn.trainer import SCHEDULES
from hal_trainers.reproduction import (check_settings, dask_client, eta_line, finished_trials, prepare_out_dir, provenance,
                                       write_json_atomic)

__all__ = ["reproduce", "DATASETS", "WORKER_BACKEND_OPTIONS"]

log = get_logger(__name__)

#: The data sets of the reproduction: the paper's MNIST at 16x16 (needs ``data_dir``), and
#: scikit-learn's digits at 8x8 (embedded; for quick runs).
DATASETS = ("digits10", "mnist16")

#: Backend options for trials on Dask workers, by backend: one worker per core, so the
#: emulator's kernel runs one thread (``backend_options`` override these).
WORKER_BACKEND_OPTIONS = {"emulator": {"threads": 1}, "noisy": {"threads": 1}}

#: Dask event topic on which workers send the trials' progress messages.
PROGRESS_TOPIC = "hal-cramer2020-progress"

#: Range checks of the settings (keys of ``trial.DEFAULTS``) that are checked before any worker starts.
_COUNTS = ("hidden", "batch_size")
_POSITIVE = ("dt_ms", "mock_epochs", "itl_epochs", "learning_rate", "itl_learning_rate", "readout_scale_mv", "steepness", "target_rate",
             "latency_tau_ms")
_NON_NEGATIVE = ("sparsity", "init_std", "weight_decay")
_NON_NEGATIVE_COUNTS = ("augment_shift",)
_PROBABILITIES = ("input_dropout", "hidden_dropout", "label_smoothing")
#: The neurons' voltage settings and the biological range the chip's 0..1.8 V take (hal.analog.domains' paper domain).
_VOLTAGES = ("e_l_mv", "v_th_mv", "e_rev_i_mv")
_VOLTAGE_RANGE_MV = tuple(float(PAPER_DOMAINS.hw_mv_to_mv(v)) for v in (0.0, 1800.0))


def _time_constant_range_ms(parameter: str) -> tuple[float, float]:
    """The biological range (ms) the nominal chip reaches for calibrated time constant ``parameter``."""
    lo, hi = nominal_transform(parameter, 1).achievable(0)
    return float(PAPER_DOMAINS.tau_to_bio_ms(lo)), float(PAPER_DOMAINS.tau_to_bio_ms(hi))


#: The time-constant settings and the calibrated parameter each becomes on the chip.
_TIME_CONSTANTS = {"tau_m_ms": "tau_m_us", "readout_tau_m_ms": "tau_m_us", "tau_syn_ms": "tau_syn_e_us"}


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_arguments(*, dataset: str, trials: int, workers: int | None, test_subset: int | None, overrides: dict) -> dict:
    """Every argument checked before any work starts; returns the trial settings (``DEFAULTS`` and ``overrides``)."""
    where = "reproduce cramer2020"
    if dataset not in DATASETS:
        raise UnknownNameError("cramer2020 dataset", dataset, DATASETS)
    if not _is_int(trials) or trials < 1:
        raise ConfigValueError(where, "trials", trials, "integers >= 1")
    if workers is not None and (not _is_int(workers) or workers < 1):
        raise ConfigValueError(where, "workers", workers, "integers >= 1, or None for one per core")
    if test_subset is not None and (not _is_int(test_subset) or test_subset < 1):
        raise ConfigValueError(where, "test_subset", test_subset, "integers >= 1, or None for the whole test set")
    for key in overrides:
        if key not in DEFAULTS:
            raise UnknownNameError("cramer2020 setting", key, DEFAULTS)
    for key, value in overrides.items():
        if key in _COUNTS and (not _is_int(value) or value < 1):
            raise ConfigValueError(where, key, value, "integers >= 1")
        if key in _NON_NEGATIVE_COUNTS and (not _is_int(value) or value < 0):
            raise ConfigValueError(where, key, value, "integers >= 0")
        if key in ("excitatory_divisor", "readout_divisor") and (not _is_int(value) or value not in GMAX_DIVISORS):
            raise ConfigValueError(where, key, value, f"integers {GMAX_DIVISORS[0]}..{GMAX_DIVISORS[-1]} (a synapse row's gmax divisor)")
        if key == "fine_divisor" and value is not None and (not _is_int(value) or value not in GMAX_DIVISORS[1:]):
            raise ConfigValueError(where, key, value, f"None or integers {GMAX_DIVISORS[1]}..{GMAX_DIVISORS[-1]} (the fine rows' gmax divisor)")
        if key == "circuits_per_neuron" and (not _is_int(value) or value not in CIRCUITS_PER_NEURON):
            raise ConfigValueError(where, key, value, f"one of {', '.join(map(str, CIRCUITS_PER_NEURON))}")
        if key == "augment_distortion":
            try:
                as_distortion(value)
            except (ConfigValueError, UnknownNameError) as exc:
                fields = ", ".join(f.name for f in attrs.fields(Distortion))
                raise ConfigValueError(where, key, value, f"None or a dict of {fields} ({exc})") from None
        if key == "latency_from_brightest" and not isinstance(value, bool):
            raise ConfigValueError(where, key, value, "True or False")
        if key in ("lr_schedule", "itl_lr_schedule") and value not in SCHEDULES:
            raise ConfigValueError(where, key, value, f"one of {', '.join(SCHEDULES)}")
        number = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if key in _POSITIVE and not (number and value > 0):
            raise ConfigValueError(where, key, value, "finite numbers > 0")
        if key in _NON_NEGATIVE and not (number and value >= 0):
            raise ConfigValueError(where, key, value, "finite numbers >= 0")
        if key in _PROBABILITIES and not (number and 0 <= value < 1):
            raise ConfigValueError(where, key, value, "probabilities 0 <= p < 1")
        low, high = _VOLTAGE_RANGE_MV
        if key in _VOLTAGES and not (number and low <= value <= high):
            raise ConfigValueError(where, key, value, f"{low:g}..{high:g} mV (the chip's voltage range)")
        if key in _TIME_CONSTANTS:
            low, high = _time_constant_range_ms(_TIME_CONSTANTS[key])
            if not (number and low <= value <= high):
                raise ConfigValueError(where, key, value, f"{low:.3g}..{high:.4g} ms (what the chip's calibrated range reaches)")
    settings = {**DEFAULTS, **overrides}
    if settings["v_th_mv"] <= settings["e_l_mv"]:
        raise ConfigValueError(where, "v_th_mv", settings["v_th_mv"], f"voltages above e_l_mv {settings['e_l_mv']} mV (rest and reset)")
    return settings


def _trial_task(dataset_name: str, data_dir: str | None, seed: int, checkpoint_dir: str, options: dict) -> dict:
    """Runs on a Dask worker: load the (cached) data set, run (or resume) one trial, return its numbers."""
    import torch

    from hal.logging import configure
    from hal_trainers.datasets import load_dataset

    configure(level="warning")
    # One worker per core: torch's own thread pool would make the workers fight over the cores.
    torch.set_num_threads(1)
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):  # not on a Dask worker
        worker = None
    progress = (lambda message: worker.log_event(PROGRESS_TOPIC, message)) if worker is not None else None
    dataset = load_dataset(dataset_name, data_dir)
    return run_trial(dataset, seed=seed, checkpoint_dir=checkpoint_dir, progress=progress, **options)


def reproduce(*, dataset: str = "digits10", data_dir: str | None = None, backend: str = "noisy", trials: int = 5,
              out: str | Path = "cramer2020-out", scheduler: str | None = None, workers: int | None = None,
              test_subset: int | None = None, backend_options: dict | None = None,
              progress: Callable[[str], None] | None = None, **overrides) -> dict:
    """Run (or finish) ``trials`` trials and write ``report.json`` and the figures into ``out``.

    Parameters
    ----------
    dataset, data_dir
        One of :data:`DATASETS`; ``"mnist16"`` reads the MNIST IDX files in ``data_dir``.
    backend, backend_options
        The hal backend the trials run on, and its options (on top of :data:`WORKER_BACKEND_OPTIONS`).
    trials
        Trials with seeds ``0 .. trials-1`` (seed: initial weights, batches, wafer ``100 + seed``).
    out
        Output folder (module docstring); finished trials there are reused if the settings match.
    scheduler, workers
        Address of a running Dask scheduler, or the number of LocalCluster workers (default: cores).
    test_subset
        Evaluate on the first ``test_subset`` test images only.
    progress
        Called with one line per event (trials skipped, each phase of a trial, each finished
        trial with the ETA).
    **overrides
        Trial settings, keys of :data:`hal_trainers.cramer2020.trial.DEFAULTS` (``hidden``,
        ``mock_epochs``, ``itl_epochs``, ``batch_size``, ...).

    Returns
    -------
    dict
        The report (as written to ``out/report.json``).

    Raises
    ------
    ConfigError
        An argument out of range (:class:`ConfigValueError`), an unknown data set or setting
        (:class:`UnknownNameError`), ``out`` not a writable folder, or ``out`` holding trials of
        other settings; all before any trial starts.
    """
    import hal
    from hal_trainers.datasets import load_dataset

    settings = _check_arguments(dataset=dataset, trials=trials, workers=workers, test_subset=test_subset, overrides=overrides)
    options_of_backend = {**WORKER_BACKEND_OPTIONS.get(backend, {}), **(backend_options or {})}
    hal.get_backend(backend, **options_of_backend)  # an unknown backend or option fails here, naming the known ones
    out_dir = prepare_out_dir(out)
    load_dataset(dataset, data_dir)  # fail early (and fill the cache) before starting workers
    say = progress or (lambda message: None)
    check_settings(out_dir, {"dataset": dataset, "backend": backend, "backend_options": options_of_backend,
                             "test_subset": test_subset, **settings})
    trial_dir = out_dir / "trials"
    trial_dir.mkdir(exist_ok=True)
    done = {seed: result for seed, result in finished_trials(trial_dir).items() if seed < trials}
    todo = [seed for seed in range(trials) if seed not in done]
    options = {"backend": backend, "backend_options": options_of_backend, "test_subset": test_subset, **overrides}
    started, source = time.perf_counter(), provenance()
    if done:
        say(f"{len(done)} of {trials} trial(s) already finished in {out_dir} (seeds {', '.join(map(str, sorted(done)))}): skipped")
    if todo:
        _run_trials(todo, trials=trials, done=done, dataset=dataset, data_dir=data_dir, options=options, out_dir=out_dir,
                    scheduler=scheduler, workers=workers, say=say, git_revision=source["git_revision"])
    results = [done[seed] for seed in sorted(done)]
    figures = write_figures(results, out_dir)
    report = summarize(results, backend=backend, dataset=dataset, settings=settings,
                       run={"test_subset": test_subset, "backend_options": options_of_backend, "wall_s": time.perf_counter() - started,
                            "trials_run_now": len(todo), "out": str(out_dir), "figures": [p.name for p in figures]},
                       source=source)
    write_json_atomic(out_dir / "report.json", report)
    log.info("reproduction_finished", paper="cramer2020", trials=trials, run_now=len(todo), out=str(out_dir))
    return report


def _run_trials(todo: list[int], *, trials: int, done: dict, dataset: str, data_dir: str | None, options: dict, out_dir: Path,
                scheduler: str | None, workers: int | None, say: Callable[[str], None], git_revision: str | None) -> None:
    """Run the trials ``todo`` on Dask; each result, with the ``git_revision`` of the run that finished it (a resumed
    run's trials may come from several), is written to ``trials/<seed>.json`` and put in ``done`` as it arrives."""
    from dask.distributed import as_completed

    client, cluster = dask_client(scheduler, workers)
    try:
        slots = max(1, sum(client.nthreads().values()))
        client.subscribe_topic(PROGRESS_TOPIC, lambda event: say(f"  {event[1]}"))
        say(f"running {len(todo)} trial(s) on {slots} Dask worker thread(s); unfinished ones resume from {out_dir / 'checkpoints'}")
        futures = [client.submit(_trial_task, dataset, data_dir, seed, str(out_dir / "checkpoints" / str(seed)), options,
                                 retries=2, pure=False, key=f"cramer2020-trial-{seed}-{time.time_ns()}") for seed in todo]
        seconds = []
        for future in as_completed(futures):
            result = {**future.result(), "git_revision": git_revision}
            seed = result["seed"]
            write_json_atomic(out_dir / "trials" / f"{seed}.json", result)
            done[seed] = result
            seconds.append(result["wall_s"])
            say(f"trial {seed}: twin {result['software']:.1%}, on {result['backend']} after mock {result['mock_on_backend']:.1%}, "
                f"after in-the-loop {result['in_the_loop']:.1%} ({result['wall_s']:.0f} s); "
                + eta_line(done=len(done), total=trials, trial_seconds=seconds, slots=slots))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
