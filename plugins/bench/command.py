"""``hal bench``'s command line: the options, the handler, and ``python -m hal_plugins.bench``.

The same options serve ``hal bench`` (registered by :mod:`hal_plugins.bench.plugin`) and the
standalone entry :func:`main`, which also runs one scenario in a worker process
(``--worker SPEC OUT``, see :mod:`hal_plugins.bench.scenarios`).
"""

from __future__ import annotations

import argparse
import json
import sys

from hal_plugins.bench.report import summary
from hal_plugins.bench.scenarios import worker
from hal_plugins.bench.suite import run_benchmarks

__all__ = ["DESCRIPTION", "configure", "main"]

DESCRIPTION = "throughput benchmark: paper network, full HICANN, full wafer (docs/benchmarks.md)"


def configure(p: argparse.ArgumentParser):
    """Add the ``bench`` options to ``p`` (``hal bench``'s parser, or a standalone one); return the handler."""
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--out", help="also write the JSON results to this file")
    p.add_argument("--quick", action="store_true", help="tiny sizes (seconds): checks the code path, measures nothing useful")
    p.add_argument("--samples", type=int, help="paper-network batch for emulator and noisy (default 1200; quick 6)")
    p.add_argument("--reference-samples", type=int, help="samples of the batch run on the reference backend (default 60)")
    p.add_argument("--simulator-samples", type=int, help="samples of the batch run on NEST and Brian2 (default 60)")
    p.add_argument("--backend", action="append", dest="backends", metavar="NAME[:KEY=VALUE,...]",
                   help="hal backend to time on the paper network, with options if any, e.g. emulator:dtype=float32 "
                        "(repeatable; default emulator, noisy, reference)")
    p.add_argument("--simulator", action="append", dest="simulators", choices=("nest", "brian2"),
                   help="reference simulator to time (repeatable; default both, when installed)")
    p.add_argument("--no-simulators", action="store_true", help="skip NEST and Brian2")
    p.add_argument("--skip-hicann", action="store_true", help="skip the full-HICANN scenario")
    p.add_argument("--skip-wafer", action="store_true", help="skip the full-wafer scenario")
    p.add_argument("--wafer-hicanns", type=int, help="HICANNs in the wafer scenario (default 384)")
    p.add_argument("--wafer-bio-s", type=float, help="biological seconds of the wafer scenario (default 0.1)")
    p.add_argument("--hicann-bio-s", type=float, help="biological seconds of the full-HICANN scenario (default 1.0)")
    p.add_argument("--repeat", type=int, help="timed runs per scenario on the paper network, best reported (default 2; quick 1)")
    p.add_argument("--profile", action="store_true", help="profile one more emulator batch (cProfile top entries, kernel time)")
    p.add_argument("--seed", type=int, default=0)
    return _cmd_bench


def _cmd_bench(args: argparse.Namespace) -> int:
    result = run_benchmarks(
        quick=args.quick, samples=args.samples, reference_samples=args.reference_samples, simulator_samples=args.simulator_samples,
        backends=tuple(args.backends or ("emulator", "noisy", "reference")),
        simulators=() if args.no_simulators else tuple(args.simulators or ("nest", "brian2")),
        skip_hicann=args.skip_hicann, skip_wafer=args.skip_wafer, wafer_hicanns=args.wafer_hicanns, wafer_bio_s=args.wafer_bio_s,
        hicann_bio_s=args.hicann_bio_s, repeat=args.repeat, profile=args.profile, seed=args.seed,
    )
    text = json.dumps(result, indent=2, sort_keys=True)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    print(text if args.json else summary(result))
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m hal_plugins.bench [options]`` (the same options as ``hal bench``)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker"]:
        return worker(argv[1], argv[2])
    from hal.errors import HalError
    from hal.logging import configure as configure_logging

    parser = argparse.ArgumentParser(prog="hal bench", description=DESCRIPTION)
    handler = configure(parser)
    args = parser.parse_args(argv)
    configure_logging(level="info")
    try:
        return handler(args)
    except HalError as exc:
        print(f"hal bench: error: {exc}", file=sys.stderr)
        return 2
