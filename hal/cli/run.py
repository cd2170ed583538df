"""``hal plugins`` and ``hal run``: what is registered, and running a saved experiment."""

from __future__ import annotations

import argparse

from hal.cli._common import parse_option, print_json

__all__ = ["add_parsers"]


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


def _cmd_run(args: argparse.Namespace) -> int:
    import hal
    from hal.experiment.io import load_experiment, save_recording

    experiment = load_experiment(args.experiment)
    options = dict(parse_option(o) for o in args.option)
    backend = hal.get_backend(args.backend, wafer=experiment.config.wafer, **options)
    recording = hal.run(experiment, backend)
    out = args.out or str(args.experiment).rsplit(".", 1)[0] + ".recording.hal"
    save_recording(recording, out)
    counts = recording.spike_counts
    summary = {
        "backend": args.backend,
        "samples": recording.n_samples,
        "neurons": len(recording.neurons),
        "spikes": int(counts.sum()),
        "mean_rate_hz": float(counts.sum() / max(1, counts.size) / (experiment.duration_ms * 1e-3)),
        "lost_events": recording.lost_events,
        "recording": out,
    }
    if args.json:
        print_json(summary)
    else:
        print(f"{summary['samples']} sample(s) on {args.backend}: {summary['spikes']} spikes from {summary['neurons']} neurons "
              f"(mean {summary['mean_rate_hz']:.2f} Hz), lost events {summary['lost_events']['total']}; recording written to {out}")
    return 0


def add_parsers(sub) -> None:
    """Add this module's commands to ``hal``'s sub-parsers."""
    plugins = sub.add_parser("plugins", help="registered backends, trainers and calibration routines")
    plugins.add_argument("--json", action="store_true")
    plugins.set_defaults(func=_cmd_plugins)
    run = sub.add_parser("run", help="run a saved experiment on a backend and write the recording")
    run.add_argument("experiment", help="an experiment file (hal.configuration.io.save_experiment)")
    run.add_argument("--backend", required=True)
    run.add_argument("--option", action="append", default=[], metavar="KEY=VALUE", help="backend option (repeatable)")
    run.add_argument("--out", help="recording file (default: EXPERIMENT.recording.hal)")
    run.add_argument("--json", action="store_true")
    run.set_defaults(func=_cmd_run)
