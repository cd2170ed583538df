"""``hal bench``'s command line: the options, the handler, and ``python -m hal_plugins.bench``.

The same options serve ``hal bench`` (registered by :mod:`hal_plugins.bench.plugin`) and the
standalone entry :func:`main`, which also runs one scenario in a worker process
(``--worker SPEC OUT``, see :mod:`hal_plugins.bench.scenarios`). Numbers are checked by
argparse; backends and their options (each backend is made once, as a scenario makes it) and
``--out`` before the benchmark starts (an existing file only with ``--overwrite``).
"""

from __future__ import annotations

import argparse
import json
import sys

from hal.cli._common import HICANNS, add_json, checked_output, parse_option, positive_float, positive_int, seed
from hal_plugins.bench.report import summary
from hal_plugins.bench.scenarios import worker
from hal_plugins.bench.suite import DEFAULT_BACKENDS, _backend_spec, run_benchmarks

__all__ = ["DESCRIPTION", "configure", "main"]

DESCRIPTION = "throughput benchmark: paper network, full HICANN, full wafer (docs/benchmarks.md)"


def _hicann_count(text: str) -> int:
    """1 .. 384 (argparse type of ``--wafer-hicanns``)."""
    value = positive_int(text)
    if value > HICANNS:
        raise argparse.ArgumentTypeError(f"{value} out of range; valid 1..{HICANNS} (the HICANNs of a wafer)")
    return value


def _dt_ms(text: str) -> float:
    """0.001 .. 0.1 ms (argparse type of ``--dt-ms``: the reference backend's range)."""
    value = positive_float(text)
    if not 0.001 <= value <= 0.1:
        raise argparse.ArgumentTypeError(f"{value} out of range; valid 0.001..0.1 (biological ms)")
    return value


def configure(p: argparse.ArgumentParser):
    """Add the ``bench`` options to ``p`` (``hal bench``'s parser, or a standalone one); return the handler."""
    add_json(p)
    p.add_argument("--out", help="also write the JSON results to this file (checked before the benchmark starts)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file; without it an existing file is refused")
    p.add_argument("--quick", action="store_true", help="tiny sizes (seconds): checks the code path, measures nothing useful")
    p.add_argument("--samples", type=positive_int, help="paper-network batch for emulator and noisy (>= 1; default 1200; quick 6)")
    p.add_argument("--reference-samples", type=positive_int, help="samples of the batch run on the reference backend (>= 1; default 60)")
    p.add_argument("--simulator-samples", type=positive_int,
                   help="samples of the batch run on NEST and Brian2 (>= 1; default all; NEST cut to its time budget, said in the JSON)")
    p.add_argument("--dt-ms", type=_dt_ms, default=0.1,
                   help="integration step of every paper-network run: emulator, noisy, reference, NEST, Brian2 (0.001..0.1; default 0.1)")
    p.add_argument("--brian2-target", choices=("cpp_standalone", "cython", "numpy"), default="cpp_standalone",
                   help="Brian2's device or code generation (default cpp_standalone: OpenMP threads = cores, compile time apart)")
    p.add_argument("--backend", action="append", dest="backends", metavar="NAME",
                   help="hal backend to time on the paper network (repeatable; default emulator, emulator without mismatch "
                        "and link losses, noisy, reference); "
                        "NAME:KEY=VALUE,... gives one backend its own options, e.g. emulator:dtype=float32")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="backend option for every --backend given (repeatable), e.g. --backend emulator --option dtype=float32")
    p.add_argument("--simulator", action="append", dest="simulators", choices=("nest", "brian2"),
                   help="reference simulator to time (repeatable; default both, when installed)")
    p.add_argument("--no-simulators", action="store_true", help="skip NEST and Brian2")
    p.add_argument("--skip-hicann", action="store_true", help="skip the full-HICANN scenario")
    p.add_argument("--skip-wafer", action="store_true", help="skip the full-wafer scenario")
    p.add_argument("--wafer-hicanns", type=_hicann_count, help=f"HICANNs in the wafer scenario (1..{HICANNS}; default {HICANNS})")
    p.add_argument("--wafer-bio-s", type=positive_float, help="biological seconds of the wafer scenario (> 0; default 0.1)")
    p.add_argument("--hicann-bio-s", type=positive_float, help="biological seconds of the full-HICANN scenario (> 0; default 1.0)")
    p.add_argument("--repeat", type=positive_int, help="timed runs per scenario on the paper network, best reported (>= 1; default 2; quick 1)")
    p.add_argument("--profile", action="store_true", help="profile one more emulator batch (cProfile top entries, kernel time)")
    p.add_argument("--seed", type=seed, default=0, help="seed of the network and its input (0..2**63-1; default 0)")
    return _cmd_bench


def _backend_specs(backends: list[str] | None, options: list[str]) -> tuple[str, ...]:
    """The ``NAME[:KEY=VALUE,...]`` specs the suite times: each ``--backend`` with every ``--option`` appended."""
    from hal.errors import ConfigError

    if not options:
        return tuple(backends or DEFAULT_BACKENDS)
    if not backends:
        raise ConfigError("--option needs --backend NAME: the options apply to the backends given (default backends differ in options)")
    for text in options:
        parse_option(text)  # KEY=VALUE, or a ConfigError naming it
        if "," in text:
            raise ConfigError(f"--option {text!r}: a value with ',' cannot be passed (the bench's backend specs are comma-separated)")
    return tuple(spec + ("," if ":" in spec else ":") + ",".join(options) for spec in backends)


def _cmd_bench(args: argparse.Namespace) -> int:
    import hal
    from hal.errors import UnknownNameError
    from hal.files import atomic_write

    backends = _backend_specs(args.backends, args.option)
    known = hal.list_backends()
    for spec in backends:  # here, not minutes later in a scenario's worker process
        name, options = _backend_spec(spec)
        if name not in known:
            raise UnknownNameError("backend", name, known)
        hal.get_backend(name, **options)  # as the scenario makes it: an unknown or invalid option fails now, named
    if args.out:
        checked_output(args.out, what="benchmark results", overwrite=args.overwrite)
    result = run_benchmarks(
        quick=args.quick, samples=args.samples, reference_samples=args.reference_samples, simulator_samples=args.simulator_samples,
        backends=backends, simulators=() if args.no_simulators else tuple(args.simulators or ("nest", "brian2")),
        skip_hicann=args.skip_hicann, skip_wafer=args.skip_wafer, wafer_hicanns=args.wafer_hicanns, wafer_bio_s=args.wafer_bio_s,
        hicann_bio_s=args.hicann_bio_s, repeat=args.repeat, profile=args.profile, seed=args.seed, dt_ms=args.dt_ms,
        brian2_target=args.brian2_target,
    )
    text = json.dumps(result, indent=2, sort_keys=True)
    if args.out:
        atomic_write(args.out, lambda fh: fh.write(text + "\n"), mode="w")
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
