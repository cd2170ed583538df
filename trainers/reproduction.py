"""Pieces shared by the papers' reproductions (``hal reproduce schmitt2017``, ``hal reproduce cramer2020``).

A reproduction runs trials (one seed each) on Dask and keeps its state in one output folder::

    OUT/settings.json        the settings the trials were run with (finished trials are reused only with them)
    OUT/trials/<seed>.json   one finished trial, written atomically when it finishes
    OUT/report.json          the summary, written atomically after the last trial

This module holds what both reproductions need of that: the output folder checked before any
work starts (:func:`check_out_dir` without creating it, :func:`prepare_out_dir` creating it),
atomic JSON (:func:`write_json_atomic`), the settings guard (:func:`check_settings`), the
finished trials (:func:`finished_trials`), a Dask client (:func:`dask_client`), the progress
line with its ETA (:func:`eta_line`), the commands' progress bar over trials
(:class:`TrialProgress`) and the provenance of a report (:func:`provenance`).

Dask is imported only inside :func:`dask_client`.
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hal.errors import ConfigError, FileFormatError
from hal.files import atomic_write

__all__ = ["TrialProgress", "check_out_dir", "check_settings", "dask_client", "eta_line", "finished_trials", "phase_progress",
           "prepare_out_dir", "provenance", "write_json_atomic"]


def write_json_atomic(path: Path, data) -> None:
    """Write ``data`` as indented JSON to ``path``: to a temporary file beside it, then renamed."""
    atomic_write(path, lambda fh: json.dump(data, fh, indent=1), mode="w")


def check_out_dir(out: str | os.PathLike) -> Path:
    """The output folder ``out`` checked, without creating anything: an existing folder, or a new one whose
    nearest existing parent is a folder this process can write in.

    Raises
    ------
    ConfigError
        ``out`` or one of its parents is a file, or the folder (or the parent it would be made in)
        is not writable; the message names the folder and the reason.
    """
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"output folder (--out) {str(path)!r}: is a file; name a new or existing folder for the results")
    existing = next(p for p in [path, *path.absolute().parents] if p.exists())
    if not existing.is_dir():
        raise ConfigError(f"output folder (--out) {str(path)!r}: not writable ({existing} is a file); name a folder you can write to")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"output folder (--out) {str(path)!r}: not writable ({existing} does not allow it); name a folder you can write to")
    return path


def prepare_out_dir(out: str | os.PathLike) -> Path:
    """The output folder ``out``, created if missing and checked writable, before any work starts.

    Raises
    ------
    ConfigError
        ``out`` is a file, or cannot be created, or a file cannot be written in it; the message
        names the folder and the reason.
    """
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"output folder (--out) {str(path)!r}: is a file; name a new or existing folder for the results")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise ConfigError(f"output folder (--out) {str(path)!r}: not writable ({exc.strerror or exc}); name a folder you can write to") from None
    return path


def check_settings(out_dir: Path, settings: dict) -> None:
    """Finished trials are reused only with the settings they were run with (kept in ``settings.json``).

    The first call writes ``settings``; later calls compare (after a JSON round trip, so tuples
    and lists compare equal) and raise :class:`ConfigError` listing every setting that differs.
    """
    path = out_dir / "settings.json"
    settings = json.loads(json.dumps(settings))
    if not path.exists():
        write_json_atomic(path, settings)
        return
    try:
        stored = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise FileFormatError(path, f"not a readable reproduce settings file ({exc})") from None
    differ = [f"{key} {stored.get(key)!r} there, {value!r} now" for key, value in settings.items() if stored.get(key) != value]
    if differ:
        raise ConfigError(f"reproduce: {out_dir} holds trials run with other settings ({'; '.join(differ)}); "
                          f"use another --out, or the settings stored in {path}")


def finished_trials(trial_dir: Path) -> dict[int, dict]:
    """The finished trials in ``trial_dir`` (``<seed>.json``), by seed; an unreadable one raises :class:`FileFormatError`."""
    done = {}
    for path in trial_dir.glob("*.json"):
        if not path.stem.isdigit():
            continue  # not a trial file
        try:
            done[int(path.stem)] = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise FileFormatError(path, f"not a readable trial result ({exc}); delete it to run the trial again") from None
    return done


def dask_client(scheduler: str | None, workers: int | None):
    """``(client, cluster)``: a client of the scheduler at ``scheduler`` (``cluster`` None), or of a new
    LocalCluster with ``workers`` single-threaded worker processes (default: one per core).

    The caller closes both (``client.close()``, then ``cluster.close()`` if not None).
    """
    from dask.distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler), None
    cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True, dashboard_address=None)
    return Client(cluster), cluster


def _duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s" if m else f"{s}s"


def phase_progress(say, label: str, total_steps: int, *, reports: int = 8, clock=None):
    """A ``Trainer.fit`` progress callback that says how far a training phase is, ``reports`` times over it:
    ``"trial 0 mock: step 600/4800 (12%), batch accuracy 0.953, phase ETA 5m10s"``.

    The ETA extrapolates the steps done in this process (a resumed phase counts from where it resumed).
    ``clock`` (default :func:`time.perf_counter`) is for tests.
    """
    clock = clock or time.perf_counter
    every = max(1, math.ceil(total_steps / reports))
    first: dict = {}

    def progress(entry: dict) -> None:
        step = entry["step"]
        if not first:
            first.update(step=step - 1, t=clock() - entry.get("wall_s", 0.0))
        if step % every and step != total_steps:
            return
        rate = (clock() - first["t"]) / max(1, step - first["step"])
        say(f"{label}: step {step}/{total_steps} ({step / total_steps:.0%}), batch accuracy {entry['train_accuracy']:.3f}, "
            f"phase ETA {_duration(rate * (total_steps - step))}")

    return progress


def eta_line(*, done: int, total: int, trial_seconds: list[float], slots: int) -> str:
    """``"3/10 trials done, 7 to go, mean trial 2m05s, ETA 6m15s"``.

    The ETA assumes the remaining trials run ``slots`` at a time, each taking the mean of
    ``trial_seconds`` (the trials finished in this run): ``ceil(remaining / slots) * mean``.
    """
    remaining = total - done
    if not trial_seconds:
        return f"{done}/{total} trials done, {remaining} to go"
    mean = sum(trial_seconds) / len(trial_seconds)
    eta = math.ceil(remaining / max(1, slots)) * mean
    return f"{done}/{total} trials done, {remaining} to go, mean trial {_duration(mean)}, ETA {_duration(eta)}"


def _git_revision() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, cwd=Path(__file__).parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def provenance(distributions: tuple[str, ...] = ("wafer-hal", "numpy", "torch", "dask", "distributed", "scikit-learn", "matplotlib")) -> dict:
    """Where a report's numbers came from: ``versions`` (Python and ``distributions``), ``git_revision``, ``command``."""
    import importlib.metadata as md

    versions = {"python": platform.python_version()}
    for name in distributions:
        try:
            versions[name] = md.version(name)
        except md.PackageNotFoundError:
            versions[name] = None
    return {"versions": versions, "git_revision": _git_revision(), "command": " ".join(sys.argv)}


class TrialProgress:
    """The progress of a reproduction in the parent process: one bar over its trials, and its message lines.

    Pass an instance as the ``progress`` callback of a reproduction's ``reproduce``. Every
    message is printed to standard error (above the bar, which stays intact); after each, the
    bar shows the finished trials, counted in ``OUT/trials`` -- a reproduction writes each trial
    there as its future completes, just before it reports it -- with the total and an ETA from
    the trials' rate. Trials finished by an earlier run count from the start. The bar shows only
    where someone watches (:class:`hal.progress.ProgressBar`); the lines always.
    """

    def __init__(self, out: str | os.PathLike, trials: int, label: str, *, stream=None):
        from hal.progress import ProgressBar

        self._trial_dir = Path(out) / "trials"
        self._trials = trials
        self._stream = stream or sys.stderr
        self._bar = ProgressBar(trials, label, unit="trial", stream=self._stream, initial=self.done())

    def done(self) -> int:
        """The trials (seeds ``0 .. trials-1``) with a result file in ``OUT/trials``."""
        if not self._trial_dir.is_dir():
            return 0
        return sum(1 for p in self._trial_dir.glob("*.json") if p.stem.isdigit() and int(p.stem) < self._trials)

    def __call__(self, message: str) -> None:
        if self._bar.enabled:
            from tqdm.auto import tqdm

            tqdm.write(message, file=self._stream)  # clears the bar, prints, redraws it
        else:
            print(message, file=self._stream, flush=True)
        self._bar.update(self.done())

    def close(self) -> None:
        self._bar.close()

    def __enter__(self) -> TrialProgress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
