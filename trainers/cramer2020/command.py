"""``hal reproduce cramer2020``: the command line of the reproduction (registered by ``hal_trainers.plugin``).

Importing this module needs neither torch, Dask nor matplotlib; the handler imports
:mod:`hal_trainers.cramer2020.reproduce`, which checks every value (typed errors, exit status 2)
and the output folder before any work starts.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

__all__ = ["DESCRIPTION", "configure"]

DESCRIPTION = ("Cramer et al. 2020/2022 end to end: surrogate-gradient mock training, transfer, in-the-loop training; "
               "trials on Dask, resumable, report.json and figures")

_DATASETS = ("digits10", "mnist16")  # reproduce.DATASETS, without importing torch for the parser


def configure(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    """Add the command's options to ``parser``; return its handler."""
    parser.add_argument("--dataset", default="digits10", metavar="{" + ",".join(_DATASETS) + "}",
                        help="digits10: scikit-learn's digits at 8x8, nothing to fetch (default); mnist16: the paper's MNIST "
                             "at 16x16, needs --data-dir")
    parser.add_argument("--data-dir", help="directory with the MNIST IDX files (for --dataset mnist16)")
    parser.add_argument("--backend", default="noisy", help="hal backend the network runs on (default: noisy; see `hal plugins`)")
    parser.add_argument("--trials", type=int, default=5, help="trials, seeds 0..N-1 (initial weights, batches, wafer 100+seed; default 5)")
    parser.add_argument("--out", default="cramer2020-out", help="folder for report.json, figures, trials and checkpoints "
                        "(default cramer2020-out; finished trials there are skipped, killed ones resume)")
    parser.add_argument("--scheduler", help="address of a running Dask scheduler (default: a LocalCluster on this machine)")
    parser.add_argument("--workers", type=int, default=None, help="LocalCluster workers (default: one per core)")
    parser.add_argument("--test-subset", type=int, default=None, help="evaluate on the first N test images only")
    parser.add_argument("--mock-epochs", type=float, default=None, help="epochs of mock training on the twin (default: run_trial's, trial.DEFAULTS)")
    parser.add_argument("--itl-epochs", type=float, default=None, help="epochs of in-the-loop training (default: run_trial's, trial.DEFAULTS)")
    parser.add_argument("--hidden", type=int, default=None, help="hidden neurons (default: the paper's 246)")
    parser.add_argument("--batch-size", type=int, default=None, help="images per training step (default: run_trial's, trial.DEFAULTS)")
    return _handle


def _handle(args: argparse.Namespace) -> int:
    from hal_trainers.cramer2020.reproduce import reproduce

    overrides = {key: value for key, value in (("mock_epochs", args.mock_epochs), ("itl_epochs", args.itl_epochs),
                                               ("hidden", args.hidden), ("batch_size", args.batch_size)) if value is not None}

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    report = reproduce(dataset=args.dataset, data_dir=args.data_dir, backend=args.backend, trials=args.trials, out=args.out,
                       scheduler=args.scheduler, workers=args.workers, test_subset=args.test_subset, progress=progress, **overrides)
    _print_summary(report)
    return 0


def _print_summary(report: dict) -> None:
    s, versus = report["summary"], report["versus_paper"]
    sizes = "-".join(str(v) for v in report["sizes"].values()) if isinstance(report["sizes"], dict) else report["sizes"]
    print(f"Cramer et al. on {report['backend']} ({report['scheme']} scheme), {report['dataset']}, {sizes} network, "
          f"{report['trials']} trial(s); median [interquartile range] over trials:")
    print(f"{'':<40}{'this run':>24}{'paper':>10}")
    rows = (("software_percent", "test accuracy, twin after mock (%)", None),
            ("mock_on_backend_percent", "(a) backend after mock, no ITL (%)", None),
            ("in_the_loop_percent", "(b) backend after in-the-loop (%)", versus["in_the_loop_percent"]["paper"]),
            ("in_the_loop_gain_points", "gain (b) - (a), per trial (points)", None),
            ("hidden_spikes_per_image", "hidden spikes per image", None),
            ("hidden_spikes_per_neuron", "hidden spikes per neuron and image", None),
            ("images_per_second", "test images per backend wall-second", versus["images_per_second"]["paper"]),
            ("wall_s_per_trial", "wall time per trial (s)", None))
    for key, label, paper in rows:
        st = s[key]
        ours = f"{st['median']:.4g} [{st['q25']:.4g}, {st['q75']:.4g}]" if st else "-"
        print(f"{label:<40}{ours:>24}{'' if paper is None else f'{paper:g}':>10}")
    m, run = report["mapping"], report["run"]
    print(f"mapping: {m.get('hicanns')} HICANNs, {m.get('synapses')} synapses, {m.get('synapses_lost')} lost")
    out = run.get("out", ".")
    print(f"report: {out}/report.json; figures: {', '.join(f'{out}/{name}' for name in run.get('figures', [])) or 'none'} "
          f"({run.get('trials_run_now', 0)} trial(s) run now, {run.get('wall_s', 0):.0f} s)")
