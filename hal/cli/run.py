"""``hal plugins`` and ``hal run``: what is registered, and running a saved experiment.

``hal run`` checks its output before the run starts: a directory, an unwritable place or an
existing file (without ``--overwrite``) is refused at once, so a long run never ends in an
error about where to put its result. The recording is written atomically: a killed run leaves
the previous file or none, never a partial one.

An ``--out`` ending in ``.nix`` or ``.nwb`` writes the recording as a Neo file
(:func:`hal.experiment.neo.to_neo`: one segment per sample) that ``neo.io`` reads; the optional
packages it needs (extra ``interop``) are checked before the run as well.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from hal.cli._common import add_backend, add_json, checked_output, parse_option, print_json

__all__ = ["add_parsers", "default_recording_path"]


def default_recording_path(experiment: str | Path) -> Path:
    """``EXP.recording.hal`` beside the experiment: ``runs/exp.hal`` -> ``runs/exp.recording.hal``, ``runs/exp`` ->
    ``runs/exp.recording.hal`` (the suffix of the file's name is replaced, never a part of its folder's)."""
    return Path(experiment).with_suffix(".recording.hal")


def _cmd_plugins(args: argparse.Namespace) -> int:
    from hal.extension.manager import default_plugins

    plugins = default_plugins()
    listing = {
        "backends": [r.to_dict() for r in plugins.registrations("backend").values()],
        "trainers": [r.to_dict() for r in plugins.registrations("trainer").values()],
        "calibration_routines": [r.to_dict() for r in plugins.registrations("calibration").values()],
        "commands": [r.to_dict() for r in plugins.registrations("command").values()],
    }
    if args.json:
        print_json(listing)
        return 0
    for kind, entries in listing.items():
        print(f"{kind}:")
        if not entries:
            print("  (none)")
        for e in sorted(entries, key=lambda e: e["name"]):
            print(f"  {e['name']:<16} {e['distribution'] + ' ' + e['version']:<28} {e['description']}")
    return 0


def _neo_output(path: Path) -> bool:
    """True if ``path`` names a Neo file (``.nix``, ``.nwb``); its packages must be importable (checked before the run)."""
    from hal.experiment.neo import NEO_SUFFIXES, require

    suffix = path.suffix.lower()
    if suffix not in NEO_SUFFIXES:
        return False
    require("neo", f"--out {path.name}")
    require(NEO_SUFFIXES[suffix], f"--out {path.name}")
    return True


def _cmd_run(args: argparse.Namespace) -> int:
    import hal
    from hal.experiment.io import load_experiment, save_recording
    from hal.files import existing_file

    source = existing_file(args.experiment)
    options = dict(parse_option(o) for o in args.option)
    experiment = load_experiment(source)
    backend = hal.get_backend(args.backend, wafer=experiment.config.wafer, **options)
    out = checked_output(args.out or default_recording_path(source), what="recording", overwrite=args.overwrite)
    as_neo = _neo_output(out)
    recording = hal.run(experiment, backend)
    if as_neo:
        from hal.experiment.neo import save_neo

        save_neo(recording.to_neo(), out, overwrite=True)  # the --overwrite rule was applied before the run
    else:
        save_recording(recording, out)
    counts = recording.spike_counts
    summary = {
        "experiment": str(source),
        "backend": args.backend,
        "samples": recording.n_samples,
        "neurons": len(recording.neurons),
        "spikes": int(counts.sum()),
        "mean_rate_hz": float(counts.sum() / max(1, counts.size) / (experiment.duration_ms * 1e-3)),
        "lost_events": recording.lost_events,
        "recording": str(out),
    }
    if args.json:
        print_json(summary)
    else:
        print(f"{summary['samples']} sample(s) on {args.backend}: {summary['spikes']} spikes from {summary['neurons']} neurons "
              f"(mean {summary['mean_rate_hz']:.2f} Hz), lost events {summary['lost_events']['total']}; recording written to {out}")
    return 0


def add_parsers(sub) -> None:
    """Add this module's commands to ``hal``'s sub-parsers."""
    plugins = sub.add_parser("plugins", help="registered backends, trainers, calibration routines and commands")
    add_json(plugins)
    plugins.set_defaults(func=_cmd_plugins)
    run = sub.add_parser("run", help="run a saved experiment on a backend and write the recording",
                         description="Run a saved experiment (hal.experiment.io.save_experiment, or `hal map --experiment-out`) "
                                     "on a backend and write the recording.")
    run.add_argument("experiment", help="an experiment file (hal.experiment.io.save_experiment, or `hal map --experiment-out`)")
    add_backend(run)
    run.add_argument("--out", help="recording file (default: the experiment's name with the suffix .recording.hal, beside it); "
                                   "a name ending in .nix or .nwb writes a Neo file (needs the extra 'interop')")
    run.add_argument("--overwrite", action="store_true",
                     help="replace an existing recording file; without it an existing file is refused before the run starts")
    add_json(run)
    run.set_defaults(func=_cmd_run)
