"""``hal reproduce schmitt2017``: the command line of the paper's reproduction (registered by ``hal_trainers.plugin``).

Every number is checked by argparse (exit status 2, naming the option, the value and the
valid range) and the output folder before any work starts. Importing this module needs
neither torch, Dask nor matplotlib.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from hal.cli._common import add_json, count, positive_int, print_json, scheduler_address, unit_interval
from hal.errors import ConfigError

__all__ = ["DESCRIPTION", "configure"]

DESCRIPTION = "Schmitt et al. 2017 end to end: software model, conversion, in-the-loop training; trials on Dask, report.json and figures"


def configure(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    """Add the command's options to ``parser``; return its handler."""
    parser.add_argument("--backend", default="noisy", help="hal backend the spiking network runs on (default: noisy; see `hal plugins`)")
    parser.add_argument("--dataset", choices=("digits", "mnist"), default="digits",
                        help="digits: scikit-learn's, nothing to fetch (default); mnist: the paper's, needs --data-dir "
                             "(`hal data download mnist` fetches it)")
    parser.add_argument("--data-dir", help="directory with the MNIST IDX files (for --dataset mnist)")
    parser.add_argument("--trials", type=positive_int, default=4, help="trials (>= 1; seeds 0..N-1: initial weights and hardware neurons; default 4)")
    parser.add_argument("--itl-steps", type=count, default=20, help="in-the-loop training steps per trial (>= 0; default 20)")
    parser.add_argument("--ann-steps", type=positive_int, default=None,
                        help="software training steps of 100 images (>= 1; default: 15000 for mnist, the paper's; 4000 for digits)")
    parser.add_argument("--itl-batch", type=positive_int, default=None,
                        help="training images per in-the-loop step (>= 1; default: 1200 for mnist, the paper's; 360 for digits, half its set)")
    parser.add_argument("--itl-schedule", choices=("linear", "constant"), default="linear",
                        help="in-the-loop step sizes: linear (default) falls to zero over the steps, constant is the paper's")
    parser.add_argument("--itl-leak", type=unit_interval, default=0.1,
                        help="in-the-loop ReLU derivative below zero (0..1; default 0.1; 0 is the paper's, with which a silenced unit stays silent)")
    parser.add_argument("--conversion-candidates", type=positive_int, default=None,
                        help="software models trained per trial; the one whose converted network classifies most training images "
                             "on the chip is kept (>= 1; default: 1 for mnist, the paper's; 3 for digits)")
    parser.add_argument("--test-subset", type=positive_int, default=None, help="evaluate on the first N test images only (>= 1; default all)")
    parser.add_argument("--out", default="schmitt2017-out", help="folder for report.json, figures and per-trial files (default schmitt2017-out; "
                        "finished trials there are skipped)")
    parser.add_argument("--scheduler", type=scheduler_address, help="address of an existing Dask scheduler (default: a LocalCluster on this machine)")
    parser.add_argument("--workers", type=positive_int, default=None, help="LocalCluster workers (>= 1; default: the machine's cores)")
    add_json(parser)
    return _handle


def _handle(args: argparse.Namespace) -> int:
    from hal_trainers.reproduction import TrialProgress, check_out_dir

    if args.dataset == "mnist" and not args.data_dir:
        raise ConfigError("--dataset mnist needs --data-dir DIR with the MNIST IDX files (train-images-idx3-ubyte[.gz], ...; "
                          "`hal data download mnist --dir DIR` fetches them)")
    if args.dataset == "digits" and args.data_dir:
        raise ConfigError("--data-dir is for --dataset mnist; the digits dataset ships with scikit-learn")
    if args.scheduler and args.workers is not None:
        raise ConfigError(f"--workers {args.workers} is for the LocalCluster; with --scheduler the scheduler's workers run the trials")
    check_out_dir(args.out)
    from hal_trainers.schmitt2017.reproduce import reproduce  # torch, Dask: after the cheap checks

    with TrialProgress(args.out, args.trials, "schmitt2017 trials") as progress:
        report = reproduce(dataset=args.dataset, data_dir=args.data_dir, backend=args.backend, trials=args.trials, itl_steps=args.itl_steps,
                           out=args.out, scheduler=args.scheduler, workers=args.workers, ann_steps=args.ann_steps, itl_batch=args.itl_batch,
                           test_subset=args.test_subset, itl_schedule=args.itl_schedule, itl_leak=args.itl_leak,
                           conversion_candidates=args.conversion_candidates, progress=progress)
    if args.json:
        print_json(report)
        return 0
    _print_summary(report, args.out)
    return 0


def _print_summary(report: dict, out: str) -> None:
    s, p = report["summary_percent"], report["paper_percent"]
    print(f"Schmitt et al. 2017 on {report['backend']}, {report['dataset']}, {report['trials']} trial(s); "
          f"median [interquartile range] test accuracy, %:")
    print(f"{'':<24}{'this run':>22}{'paper':>22}")
    for key, label in (("software", "software model"), ("converted", "right after conversion"), ("in_the_loop", "after in-the-loop")):
        ours = f"{s[key]['median']:.1f} [{s[key]['q25']:.1f}, {s[key]['q75']:.1f}]"
        theirs = f"{p[key]['median']:.0f} [{p[key]['q25']:.0f}, {p[key]['q75']:.0f}]"
        print(f"{label:<24}{ours:>22}{theirs:>22}")
    redraws = sum(report.get("software_redraws", []))
    if redraws:
        print(f"software models redrawn (a label unit never fired): {redraws}, per trial in report.json")
    m = report["mapping"]
    print(f"mapping: {m.get('hicanns')} HICANNs, {m.get('fpgas')} FPGA(s), {m.get('synapses')} synapses, {m.get('synapses_lost')} lost; "
          f"report and figures in {out}/ ({report['wall_s']:.0f} s)")
