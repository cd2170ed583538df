"""``hal calibrate`` and ``hal calib``: measuring calibration sets and inspecting the database."""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from hal.cli._common import parse_option, print_json

__all__ = ["add_parsers"]


def _parse_hicanns(text: str):
    from hal import coordinates as C
    from hal.errors import ConfigError

    out = []
    for part in text.split(","):
        part = part.strip()
        if not part.isdigit():
            raise ConfigError(f"--hicann {text!r}: {part!r} is not a HICANN number; give enums 0..383 separated by commas")
        out.append(C.HICANNOnWafer(int(part)))
    return out


def _cmd_calibrate(args: argparse.Namespace) -> int:
    import hal
    from hal.calibration import open_store
    from hal.extension.manager import default_plugins

    hicanns = _parse_hicanns(args.hicann)
    routine = default_plugins().create("calibration", args.routine)
    options = dict(parse_option(o) for o in args.option)
    backend = hal.get_backend(args.backend, wafer=args.wafer, **options)
    if not backend.capabilities.membrane_readout:
        from hal.errors import CapabilityError

        raise CapabilityError(f"backend {args.backend!r} has no membrane readout (capability membrane_readout); the routines measure membranes")
    with open_store(args.db) as store:
        steps = [0]

        def progress(message: str) -> None:
            steps[0] += 1
            print(f"[{steps[0]:>3}] {message}", file=sys.stderr, flush=True)

        report = routine.run(backend, args.backend, args.wafer, hicanns, store, progress=progress)
        report.pop("calibration", None)
        report["db"] = str(args.db)
        report["content_hash"] = store.content_hash(report["set_id"])
    if args.report_json:
        with open(args.report_json, "w") as fh:
            json.dump(report, fh, indent=2, sort_keys=True)
    print(f"calibration set {report['set_id']} for wafer {args.wafer}, HICANN(s) {args.hicann}: {report['wall_s']:.1f} s")
    print(f"{'parameter':<14} {'spread before':>14} {'after':>10} {'Table II':>9} {'failed':>7}")
    for name, entry in report["parameters"].items():
        table = "-" if entry["table_ii"] is None else f"{entry['table_ii']:.1%}"
        print(f"{name:<14} {entry.get('spread_before', float('nan')):>14.2%} {entry.get('spread_after', float('nan')):>10.2%} {table:>9} {entry['failed_circuits']:>7}")
    return 0


def _cmd_calib_show(args: argparse.Namespace) -> int:
    from hal.calibration import open_store

    with open_store(args.db, create=False) as store:
        sets = store.sets(args.wafer)
        listing = []
        for info in sets:
            entries = store.entries(info.id)
            if args.hicann is not None:
                entries = [e for e in entries if e[0] == args.hicann]
            item = {**{k: getattr(info, k) for k in ("id", "wafer", "created", "backend", "seed", "routine", "hal_version", "note")},
                    "content_hash": store.content_hash(info.id), "entries": []}
            for hicann, parameter in entries:
                t = store.load(info.id, hicann, parameter)
                ok = t.success
                item["entries"].append({
                    "hicann": hicann, "parameter": parameter, "kind": t.kind.value, "unit": t.unit, "circuits": t.n_circuits,
                    "failed": int((~ok).sum()),
                    "domain": [float(np.min(t.domain_lo[ok])) if ok.any() else None, float(np.max(t.domain_hi[ok])) if ok.any() else None],
                    "median_rms_dac": float(np.median(t.rms_dac[ok])) if ok.any() else None,
                })
            listing.append(item)
        defects = [vars(d) if hasattr(d, "__dict__") else {"wafer": d.wafer, "component": d.component, "hicann": d.hicann, "item": d.item, "reason": d.reason}
                   for d in (store.defects(args.wafer) if args.wafer is not None else [])]
    if args.json:
        print_json({"sets": listing, "defects": defects})
        return 0
    if not listing:
        print("no calibration sets" + (f" for wafer {args.wafer}" if args.wafer is not None else ""))
    for item in listing:
        print(f"set {item['id']}: wafer {item['wafer']}, {item['created']}, backend {item['backend']}, {item['routine']} "
              f"(hal {item['hal_version']}) hash {item['content_hash'][:12]}")
        for e in item["entries"]:
            print(f"  HICANN {e['hicann']:>3} {e['parameter']:<14} {e['kind']:<18} {e['circuits']} circuits, {e['failed']} failed, "
                  f"range {e['domain'][0]}..{e['domain'][1]} {e['unit']}")
    if defects:
        print(f"defects: {len(defects)} (see --json)")
    return 0


def _cmd_calib_diff(args: argparse.Namespace) -> int:
    from hal.calibration import open_store

    with open_store(args.db, create=False) as store:
        changes = store.diff(args.a, args.b)
    if args.json:
        print_json({"a": args.a, "b": args.b, "changes": changes})
        return 0 if not changes else 1
    for c in changes:
        if c["change"] != "modified":
            print(f"HICANN {c['hicann']} {c['parameter']}: {c['change']}")
        else:
            print(f"HICANN {c['hicann']} {c['parameter']}: {c['circuits_moved']} circuit(s) moved, up to {c['max_delta_dac']:.1f} DAC"
                  + (f", success changed for {len(c['success_changed'])}" if c["success_changed"] else ""))
    print(f"{len(changes)} parameter entr{'y' if len(changes) == 1 else 'ies'} differ between sets {args.a} and {args.b}")
    return 0 if not changes else 1


def _cmd_calib_export(args: argparse.Namespace) -> int:
    from hal.calibration import open_store

    with open_store(args.db, create=False) as store:
        store.export_set(args.set, args.file)
    print(f"set {args.set} written to {args.file}")
    return 0


def _cmd_calib_import(args: argparse.Namespace) -> int:
    from hal.calibration import open_store

    with open_store(args.db) as store:
        new_id = store.import_set(args.file)
    print(f"imported {args.file} as set {new_id}")
    return 0


def add_parsers(sub) -> None:
    """Add this module's commands to ``hal``'s sub-parsers."""
    calibrate = sub.add_parser("calibrate", help="calibrate HICANNs on a backend into a calibration database")
    calibrate.add_argument("--backend", required=True)
    calibrate.add_argument("--wafer", type=int, required=True)
    calibrate.add_argument("--hicann", required=True, help="HICANN enum(s), comma separated")
    calibrate.add_argument("--db", required=True, help="calibration database file (SQLite; created if missing)")
    calibrate.add_argument("--routine", default="neuron", help="registered calibration routine (default: neuron = all parameters)")
    calibrate.add_argument("--option", action="append", default=[], metavar="KEY=VALUE", help="backend option (repeatable)")
    calibrate.add_argument("--report-json", help="write the report (spreads before/after per parameter) here")
    calibrate.set_defaults(func=_cmd_calibrate)

    calib = sub.add_parser("calib", help="inspect and move calibration sets").add_subparsers(dest="what", required=True, metavar="WHAT")
    cshow = calib.add_parser("show", help="calibration sets, their entries and defects")
    cshow.add_argument("--db", required=True)
    cshow.add_argument("--wafer", type=int)
    cshow.add_argument("--hicann", type=int)
    cshow.add_argument("--json", action="store_true")
    cshow.set_defaults(func=_cmd_calib_show)
    cdiff = calib.add_parser("diff", help="which parameters of which circuits moved between two sets (exit 1 if any)")
    cdiff.add_argument("--db", required=True)
    cdiff.add_argument("a", type=int)
    cdiff.add_argument("b", type=int)
    cdiff.add_argument("--json", action="store_true")
    cdiff.set_defaults(func=_cmd_calib_diff)
    cexp = calib.add_parser("export", help="write a set to a portable file")
    cexp.add_argument("--db", required=True)
    cexp.add_argument("set", type=int)
    cexp.add_argument("file")
    cexp.set_defaults(func=_cmd_calib_export)
    cimp = calib.add_parser("import", help="import a portable file as a new set")
    cimp.add_argument("--db", required=True)
    cimp.add_argument("file")
    cimp.set_defaults(func=_cmd_calib_import)
