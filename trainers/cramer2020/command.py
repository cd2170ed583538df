"""``hal reproduce cramer2020``: the command line of the reproduction (registered by ``hal_trainers.plugin``).

Importing this module needs neither torch, Dask nor matplotlib. argparse checks every number
(exit status 2, naming the option, the value and the valid range); the handler imports
:mod:`hal_trainers.cramer2020.reproduce`, which checks the rest (typed errors, exit status 2)
and the output folder before any work starts.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from hal.cli._common import add_json, parse_option, positive_float, positive_int, print_json, scheduler_address
from hal.errors import ConfigError

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
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="backend option (repeatable), e.g. threads=1; on top of the workers' defaults (one kernel thread)")
    parser.add_argument("--trials", type=positive_int, default=5,
                        help="trials (>= 1), seeds 0..N-1 (initial weights, batches, wafer 100+seed; default 5)")
    parser.add_argument("--out", default="cramer2020-out", help="folder for report.json, figures, trials and checkpoints "
                        "(default cramer2020-out; finished trials there are skipped, killed ones resume)")
    parser.add_argument("--scheduler", type=scheduler_address, help="address of a running Dask scheduler (default: a LocalCluster on this machine)")
    parser.add_argument("--workers", type=positive_int, default=None, help="LocalCluster workers (>= 1; default: one per core)")
    parser.add_argument("--test-subset", type=positive_int, default=None, help="evaluate on the first N test images only (>= 1; default all)")
    parser.add_argument("--mock-epochs", type=positive_float, default=None,
                        help="epochs of mock training on the twin (> 0; default: run_trial's, trial.DEFAULTS)")
    parser.add_argument("--itl-epochs", type=positive_float, default=None,
                        help="epochs of in-the-loop training (> 0; default: run_trial's, trial.DEFAULTS)")
    parser.add_argument("--hidden", type=positive_int, default=None, help="hidden neurons (>= 1; default: the paper's 246)")
    parser.add_argument("--batch-size", type=positive_int, default=None, help="images per training step (>= 1; default: run_trial's, trial.DEFAULTS)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", dest="settings",
                        help="a trial setting of hal_trainers.cramer2020.trial.DEFAULTS (repeatable), e.g. tau_syn_ms=10; "
                             "checked with the others before any work; recorded in report.json, and a resumed run must use the same")
    add_json(parser)
    return _handle


def _handle(args: argparse.Namespace) -> int:
    from hal_trainers.reproduction import TrialProgress, check_out_dir

    overrides = {key: value for key, value in (("mock_epochs", args.mock_epochs), ("itl_epochs", args.itl_epochs),
                                               ("hidden", args.hidden), ("batch_size", args.batch_size)) if value is not None}
    for text in args.settings:
        key, value = parse_option(text, "--set", "tau_syn_ms=10")
        if key in overrides:
            raise ConfigError(f"--set {text!r}: {key} is set twice (by its own option or an earlier --set); give it once")
        overrides[key] = value
    backend_options = dict(parse_option(o) for o in args.option)
    if args.scheduler and args.workers is not None:
        raise ConfigError(f"--workers {args.workers} is for the LocalCluster; with --scheduler the scheduler's workers run the trials")
    check_out_dir(args.out)  # before the bar shows; reproduce() checks it again, writing
    from hal_trainers.cramer2020.reproduce import reproduce  # torch, Dask: after the cheap checks

    with TrialProgress(args.out, args.trials, "cramer2020 trials") as progress:
        report = reproduce(dataset=args.dataset, data_dir=args.data_dir, backend=args.backend, trials=args.trials, out=args.out,
                           scheduler=args.scheduler, workers=args.workers, test_subset=args.test_subset,
                           backend_options=backend_options or None, progress=progress, **overrides)
    if args.json:
        print_json(report)
        return 0
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
