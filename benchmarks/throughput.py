"""Benchmark: throughput of the backends on the paper network, a full HICANN and the full wafer.

The same as ``hal bench`` and ``python -m hal_plugins.bench``; the implementation is the bench
plugin (:mod:`hal_plugins.bench`, in ``plugins/bench/``), the numbers are in docs/benchmarks.md.
NEST and Brian2 are timed in the same run when installed (``pip install -e '.[bench]'``, in an
environment of its own: see docs/benchmarks.md).

Run: python benchmarks/throughput.py [--json] [--out results.json] [--quick] [--samples N] [--skip-wafer] ...
"""

from __future__ import annotations

import sys

from hal_plugins.bench.command import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
