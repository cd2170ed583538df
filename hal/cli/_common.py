"""Helpers shared by the command modules: output, and one parser per concept.

Every command spells a concept the same way: ``--wafer ID``, ``--hicann LIST`` (``3``,
``0,1,5`` or ``0-7,12``), ``--backend NAME`` with repeatable ``--option KEY=VALUE``,
``--json`` for a machine-readable report on standard output, ``--seed N``. The argparse
types below refuse what is not valid with a message naming the option's value and the
valid range (argparse prints it as ``hal CMD: error: argument --x: ...``, exit status 2).
"""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

__all__ = ["print_json", "parse_option", "checked_output", "wafer_id", "hicann_list", "hicann_id", "seed", "count", "positive_int",
           "positive_float", "non_negative_float", "unit_interval", "scheduler_address", "add_wafer", "add_backend", "add_json",
           "hicann_rect", "reticle_list", "add_hicann_set"]

#: valid wafer ids (a name, not an index: the lab uses 3, 20..39, ...)
WAFER_IDS = (0, 65535)
#: HICANNOnWafer enums
HICANNS = 384
#: ReticleOnWafer (= DNCOnWafer) enums
RETICLES = 48
#: the wafer's grid of HICANN cells (x, y); not every cell holds a HICANN (the wafer is round)
GRID = (35, 15)
#: seeds numpy's default_rng takes without complaint
SEED_MAX = 2**63 - 1


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, sort_keys=True))


def parse_option(text: str, option: str = "--option", example: str = "dt_ms=0.05") -> tuple[str, Any]:
    """``KEY=VALUE`` as (key, value): the value read as JSON (numbers, true/false) where it is, else the string."""
    from hal.errors import ConfigError

    key, sep, value = text.partition("=")
    if not sep or not key:
        raise ConfigError(f"{option} {text!r}: expected KEY=VALUE, e.g. {example}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def checked_output(path, *, what: str, overwrite: bool, option: str = "--out"):
    """A command's output path, checked before its work: not a directory, writable, and an existing
    file only with ``--overwrite`` (the message names ``option`` as the way out)."""
    from pathlib import Path

    from hal.errors import FileFormatError
    from hal.files import writable_output

    path = Path(path)
    if path.is_file() and not overwrite:
        raise FileFormatError(path, f"exists; --overwrite replaces it, or give another {option}")
    return writable_output(path, what=what)


def _integer(text: str, what: str) -> int:
    try:
        return int(text, 0)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer; valid {what}") from None


def _ranged_int(text: str, lo: int, hi: int | None, what: str) -> int:
    value = _integer(text, what)
    if value < lo or (hi is not None and value > hi):
        raise argparse.ArgumentTypeError(f"{value} out of range; valid {what}")
    return value


def wafer_id(text: str) -> int:
    return _ranged_int(text, *WAFER_IDS, f"wafer ids {WAFER_IDS[0]}..{WAFER_IDS[1]}")


def hicann_id(text: str) -> int:
    return _ranged_int(text, 0, HICANNS - 1, f"HICANN enums 0..{HICANNS - 1}")


def _index_list(text: str, one, valid: str) -> list[int]:
    """``"3"``, ``"0,1,5"``, ``"0-7,12"`` -> sorted distinct integers, each checked by ``one``."""
    found: set[int] = set()
    for part in str(text).split(","):
        part = part.strip()
        first, dash, last = part.partition("-")
        if dash and first.strip():
            lo, hi = one(first.strip()), one(last.strip())
            if hi < lo:
                raise argparse.ArgumentTypeError(f"{part!r} is an empty range; valid {valid}")
            found.update(range(lo, hi + 1))
        elif part:
            found.add(one(part))
        else:
            raise argparse.ArgumentTypeError(f"{text!r} has an empty entry; valid {valid}")
    return sorted(found)


def hicann_list(text: str) -> list[int]:
    """``"3"``, ``"0,1,5"``, ``"0-7,12"`` -> sorted distinct HICANN enums."""
    return _index_list(text, hicann_id, f"HICANN enums 0..{HICANNS - 1} as N, N,M,... or N-M")


def reticle_list(text: str) -> list[int]:
    """Reticle enums as for :func:`hicann_list`: ``"20"``, ``"20,21"``, ``"19-21"``."""
    def one(item: str) -> int:
        return _ranged_int(item, 0, RETICLES - 1, f"reticle enums 0..{RETICLES - 1}")

    return _index_list(text, one, f"reticle enums 0..{RETICLES - 1} as N, N,M,... or N-M")


def hicann_rect(text: str) -> tuple[int, int, int, int]:
    """``"X0,Y0,X1,Y1"``: the corners of a rectangle of HICANNs on the wafer's grid, inclusive."""
    valid = f"X0,Y0,X1,Y1 with x 0..{GRID[0]}, y 0..{GRID[1]}, X0 <= X1, Y0 <= Y1 (e.g. 12,6,23,9)"
    parts = [p.strip() for p in str(text).split(",")]
    if len(parts) != 4:
        raise argparse.ArgumentTypeError(f"{text!r} is not a rectangle; valid {valid}")
    x0, y0, x1, y1 = (_integer(p, valid) for p in parts)
    for name, value, hi in (("X0", x0, GRID[0]), ("Y0", y0, GRID[1]), ("X1", x1, GRID[0]), ("Y1", y1, GRID[1])):
        if not 0 <= value <= hi:
            raise argparse.ArgumentTypeError(f"{name} {value} out of range; valid {valid}")
    if x1 < x0 or y1 < y0:
        raise argparse.ArgumentTypeError(f"{text!r} is an empty rectangle; valid {valid}")
    return x0, y0, x1, y1


def seed(text: str) -> int:
    return _ranged_int(text, 0, SEED_MAX, "seeds 0..2**63-1")


def count(text: str) -> int:
    """An integer >= 0."""
    return _ranged_int(text, 0, None, "integers >= 0")


def positive_int(text: str) -> int:
    return _ranged_int(text, 1, None, "integers >= 1")


def _float(text: str, valid: str) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number; valid {valid}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number; valid {valid}")
    return value


def positive_float(text: str) -> float:
    value = _float(text, "> 0")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value:g} out of range; valid > 0")
    return value


def non_negative_float(text: str) -> float:
    value = _float(text, ">= 0")
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value:g} out of range; valid >= 0")
    return value


def unit_interval(text: str) -> float:
    """A number in 0..1 (a fraction, a slope)."""
    value = _float(text, "0..1")
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{value:g} out of range; valid 0..1")
    return value


def scheduler_address(text: str) -> str:
    """A Dask scheduler's address, ``[PROTOCOL://]HOST:PORT`` (``tcp://10.0.0.5:8786``), checked before any work."""
    valid = "[tcp://]HOST:PORT with PORT 1..65535, e.g. tcp://10.0.0.5:8786"
    protocol, sep, rest = str(text).rpartition("://")
    host, colon, port = rest.rpartition(":")
    if (sep and not protocol.isalnum()) or not colon or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a scheduler address; valid {valid}")
    return str(text)


def add_wafer(parser: argparse.ArgumentParser, *, required: bool = False, default: int | None = 0) -> None:
    parser.add_argument("--wafer", type=wafer_id, required=required, default=None if required else default,
                        help=f"wafer id ({WAFER_IDS[0]}..{WAFER_IDS[1]})" + ("" if required or default is None else f"; default {default}"))


def add_backend(parser: argparse.ArgumentParser, *, default: str | None = None) -> None:
    parser.add_argument("--backend", required=default is None, default=default,
                        help="backend name (see `hal plugins`)" + (f"; default {default}" if default else ""))
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE", help="backend option (repeatable), e.g. dt_ms=0.05")


def add_hicann_set(parser: argparse.ArgumentParser, *, default: str) -> None:
    """``--hicann LIST``, ``--rect X0,Y0,X1,Y1``, ``--reticle LIST``: the HICANNs a command may use (their union)."""
    group = parser.add_argument_group("HICANNs to use (any of these, combined; " + default + ")")
    group.add_argument("--hicann", type=hicann_list, metavar="LIST",
                       help=f"HICANN enums 0..{HICANNS - 1}: 3, 0,1,5 or 0-7,12")
    group.add_argument("--rect", type=hicann_rect, metavar="X0,Y0,X1,Y1",
                       help=f"the HICANNs of a rectangle of the wafer's grid (x 0..{GRID[0]}, y 0..{GRID[1]}, corners inclusive)")
    group.add_argument("--reticle", type=reticle_list, metavar="LIST",
                       help=f"the 8 HICANNs of each reticle (enums 0..{RETICLES - 1}): 20, 20,21 or 19-21")


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the report as JSON on standard output")
