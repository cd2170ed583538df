"""``hal defects``: the lists of disabled components, stored beside the calibration data.

``list`` opens the database read-only (a missing file is an error, nothing is created);
``add`` and ``remove`` check every value (wafer, component, HICANN, items) before the database
is opened for writing.
"""

from __future__ import annotations

import argparse

from hal.cli._common import add_json, add_wafer, hicann_id, print_json

__all__ = ["add_parsers"]


def _defect_items(args: argparse.Namespace) -> list[int]:
    """The ``--item`` values as integers; a word that is not one is an error naming the valid range."""
    from hal.calibration.database import DEFECT_COMPONENTS
    from hal.errors import CoordinateError

    what, count = DEFECT_COMPONENTS[args.component]
    items = []
    for text in args.item:
        try:
            items.append(int(text, 0))
        except ValueError:
            raise CoordinateError(f"Defect[{args.component}]", "item", text, f"0..{count - 1} ({what})") from None
    return items


def _hicann(args: argparse.Namespace) -> int:
    """The HICANN the defects are on: none (-1) for an FPGA, required for every other component."""
    from hal.errors import ConfigError

    if args.component == "fpga":
        if args.hicann is not None:
            raise ConfigError(f"hal defects {args.action}: --hicann {args.hicann} given for an fpga defect; "
                              "valid: no --hicann (give the FPGA number as --item)")
        return -1
    if args.hicann is None:
        raise ConfigError(f"hal defects {args.action}: --hicann missing for component {args.component!r}; valid a HICANN enum 0..383")
    return args.hicann


def _cmd_defects(args: argparse.Namespace) -> int:
    from hal.calibration import Defect, open_store
    from hal.calibration.database import DEFECT_COMPONENTS, check_defect
    from hal.errors import ConfigError, UnknownNameError

    if args.component is not None and args.component not in DEFECT_COMPONENTS:
        raise UnknownNameError("defect component", args.component, DEFECT_COMPONENTS)
    if args.action == "list":
        with open_store(args.db, read_only=True) as store:
            listing = store.defects(args.wafer, args.component)
    else:
        if args.component is None or not args.item:
            raise ConfigError(f"hal defects {args.action}: give --component ({', '.join(DEFECT_COMPONENTS)}), "
                              f"--hicann (except for fpga) and --item INDEX...")
        hicann = _hicann(args)
        items = _defect_items(args)
        for i in items:  # validate everything before the store is touched
            check_defect(args.component, hicann, i)
        defects = [Defect(args.wafer, args.component, hicann, i, args.reason, "hal defects") for i in items]
        with open_store(args.db) as store:
            if args.action == "add":
                store.add_defects(defects)
            else:
                store.remove_defects(args.wafer, args.component, hicann, items)
            listing = store.defects(args.wafer)
    rows = [{"component": d.component, "hicann": d.hicann, "item": d.item, "reason": d.reason, "source": d.source} for d in listing]
    if args.json:
        print_json({"wafer": args.wafer, "defects": rows})
    else:
        for r in rows:
            print(f"{r['component']:<16} HICANN {r['hicann']:>3} item {r['item']:>4}: {r['reason']} ({r['source']})")
        print(f"{len(rows)} disabled component(s) on wafer {args.wafer}")
    return 0


def add_parsers(sub) -> None:
    """Add this module's commands to ``hal``'s sub-parsers."""
    defects = sub.add_parser("defects", help="list, add or remove disabled components (stored beside the calibration data)")
    defects.add_argument("action", choices=("list", "add", "remove"))
    defects.add_argument("--db", required=True)
    add_wafer(defects, required=True)
    defects.add_argument("--component", default=None,
                         help="hicann, fpga, neuron, fg_block, synapse_driver, synapse_row, hline, vline, hrepeater, vrepeater")
    defects.add_argument("--hicann", type=hicann_id, default=None, help="HICANNOnWafer enum 0..383 (not for fpga)")
    defects.add_argument("--item", nargs="*", default=[], help="component index (denmem enum, driver, row, line, repeater = its line, ...)")
    defects.add_argument("--reason", default="disabled by hand")
    add_json(defects)
    defects.set_defaults(func=_cmd_defects)
