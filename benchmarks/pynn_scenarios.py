"""Run PyNN's own system-test scenarios against ``hal.pynn`` (reference backend) and list the outcome of each.

PyNN's scenarios live in its source repository (``test/system/scenarios/``), not in the installed
package, and are not copied into this project: point ``--pynn-source`` at a PyNN checkout of
the installed version (``git clone https://github.com/NeuralEnsemble/PyNN; git checkout 0.13.0``)::

    python benchmarks/pynn_scenarios.py --pynn-source ~/src/PyNN [--json OUT] [--only NAME ...]

Every ``test_*`` function of every scenario module is called with ``sim`` = a thin wrapper of
``hal.pynn`` whose ``setup()`` selects the ``reference`` backend (a scenario's own ``setup()``
keywords are kept). Outcomes:

* ``passes``: the scenario ran and its assertions held;
* ``not applicable``: hal refused a feature the hardware lacks (a
  :class:`~hal.errors.CapabilityError`: current-based cells, plasticity, current sources,
  delays other than the wafer's, weights beyond 4 bits, ...) -- its message is the reason;
* ``fails``: any other exception or a failed assertion, with the first line of its message;
* ``skipped``: the scenario skipped itself (``pytest.skip``).

The simulators PyNN runs each scenario on (its ``run_with_simulators`` list) are reported
too. Each scenario runs in a fresh process (``--timeout`` seconds), so that one scenario's state
or crash cannot touch the next.
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import time
import traceback
from pathlib import Path

OUTCOMES = ("passes", "not applicable", "fails", "skipped", "timeout")


def _scenario_root(source: Path) -> Path:
    root = source / "test" / "system" / "scenarios"
    if not (root / "__init__.py").is_file() or not (root / "fixtures.py").is_file():
        raise SystemExit(f"--pynn-source {source}: no PyNN checkout there (expected {root}/fixtures.py)")
    return root


def list_scenarios(source: Path) -> list[tuple[str, str]]:
    """(module, function) of every scenario test in the checkout, in file order (read from the source, not imported)."""
    import ast

    out = []
    for path in sorted(_scenario_root(source).glob("test_*.py")):
        tree = ast.parse(path.read_text())
        out += [(path.stem, node.name) for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")]
    return out


class _HalSim:
    """``hal.pynn`` with ``setup()`` defaulting to the reference backend."""

    __name__ = "hal.pynn"

    def __init__(self):
        import hal.pynn

        self._module = hal.pynn

    def setup(self, *args, **kwargs):
        kwargs.setdefault("backend", "reference")
        return self._module.setup(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._module, name)

    def __str__(self):
        return "hal.pynn"


def run_scenario(source: Path, module: str, function: str) -> dict:
    """Run one scenario in this process; returns its outcome."""
    import pytest

    from hal.errors import CapabilityError

    sys.path.insert(0, str(source / "test"))
    mod = importlib.import_module(f"system.scenarios.{module}")
    func = getattr(mod, function)
    simulators = []
    for mark in getattr(func, "pytestmark", []):
        if mark.name == "parametrize" and mark.args and mark.args[0] == "sim":
            simulators = [p.id for p in mark.args[1]]
    started = time.perf_counter()
    try:
        func(_HalSim()) if "sim" in func.__code__.co_varnames[:func.__code__.co_argcount] else func()
        outcome, reason = "passes", ""
    except CapabilityError as exc:
        outcome, reason = "not applicable", str(exc).splitlines()[0]
    except pytest.skip.Exception as exc:
        outcome, reason = "skipped", str(exc).splitlines()[0] if str(exc) else ""
    except BaseException as exc:  # a failing scenario is a result, whatever it raised
        last = traceback.extract_tb(exc.__traceback__)[-1]
        message = (str(exc).splitlines() or [""])[0]
        outcome, reason = "fails", f"{type(exc).__name__}: {message} ({Path(last.filename).name}:{last.lineno})"
    return {"module": module, "function": function, "outcome": outcome, "reason": reason,
            "pynn_runs_it_on": simulators, "seconds": round(time.perf_counter() - started, 2)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pynn-source", type=Path, required=True, help="a PyNN source checkout (with test/system/scenarios)")
    parser.add_argument("--only", nargs="*", help="run only these functions (names)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per scenario (default 600)")
    parser.add_argument("--json", type=Path, help="write the outcomes here")
    parser.add_argument("--one", nargs=2, metavar=("MODULE", "FUNCTION"), help=argparse.SUPPRESS)  # internal: run one, print JSON
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_scenario(args.pynn_source, *args.one)))
        return 0
    results = []
    for module, function in list_scenarios(args.pynn_source):
        if args.only and function not in args.only:
            continue
        try:
            out = subprocess.run([sys.executable, __file__, "--pynn-source", str(args.pynn_source), "--one", module, function],
                                 capture_output=True, text=True, timeout=args.timeout, check=False)
            lines = out.stdout.strip().splitlines()
            if out.returncode == 0 and lines:
                result = json.loads(lines[-1])
            else:
                tail = (out.stderr.strip().splitlines() or ["(no output)"])[-1]
                result = {"module": module, "function": function, "outcome": "fails", "reason": f"process ended {out.returncode}: {tail}",
                          "pynn_runs_it_on": [], "seconds": None}
        except subprocess.TimeoutExpired:
            result = {"module": module, "function": function, "outcome": "timeout", "reason": f"over {args.timeout:g} s",
                      "pynn_runs_it_on": [], "seconds": args.timeout}
        results.append(result)
        print(f"{result['outcome']:<15} {module}.{function}  {result['reason']}", flush=True)
    counts = {o: sum(r["outcome"] == o for r in results) for o in OUTCOMES}
    print("; ".join(f"{n} {o}" for o, n in counts.items() if n))
    if args.json:
        args.json.write_text(json.dumps({"results": results, "counts": counts}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
