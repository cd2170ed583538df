"""``hal defects``: the lists of disabled components, stored beside the calibration data."""

from __future__ import annotations

import argparse

from hal.cli._common import print_json

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


def _cmd_defects(args: argparse.Namespace) -> int:
    from hal.calibration import Defect, open_store
    from hal.calibration.database import DEFECT_COMPONENTS, check_defect
    from hal.errors import ConfigError, UnknownNameError

    if args.component is not None and args.component not in DEFECT_COMPONENTS:
        raise UnknownNameError("defect component", args.component, DEFECT_COMPONENTS)
    if args.action != "list" and (args.component is None or not args.item or (args.component != "fpga" and args.hicann < 0)):
        raise ConfigError(f"hal defects {args.action}: give --component ({', '.join(DEFECT_COMPONENTS)}), "
                          f"--hicann (except for fpga) and --item INDEX...")
    items = _defect_items(args) if args.action != "list" else []
    for i in items:  # validate everything before the store is touched
        check_defect(args.component, args.hicann, i)
    with open_store(args.db) as store:
        if args.action == "add":
            store.add_defects([Defect(args.wafer, args.component, args.hicann, i, args.reason, "hal defects") for i in items])
        elif args.action == "remove":
            store.remove_defects(args.wafer, args.component, args.hicann, items)
        listing = store.defects(args.wafer, args.component if args.action == "list" and args.component else None)
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
    defects.add_argument("--wafer", type=int, required=True)
    defects.add_argument("--component", default=None,
                         help="hicann, fpga, neuron, fg_block, synapse_driver, synapse_row, hline, vline, hrepeater, vrepeater")
    defects.add_argument("--hicann", type=int, default=-1, help="HICANNOnWafer enum (not for fpga)")
    defects.add_argument("--item", nargs="*", default=[], help="component index (denmem enum, driver, row, line, repeater = its line, ...)")
    defects.add_argument("--reason", default="disabled by hand")
    defects.add_argument("--json", action="store_true")
    defects.set_defaults(func=_cmd_defects)
