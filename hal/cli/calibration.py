"""``hal calibrate`` and ``hal calib``: measuring calibration sets and inspecting the database.

Everything a user gives is checked before work starts: options by the shared argparse types
(``--wafer``, ``--hicann 0-7,12``, set ids), the backend and routine by name, output files
(``--report-json``, the export target) by :func:`hal.files.writable_output`, an imported file
completely (:func:`hal.calibration.setfile.read_set_file`). ``calib show|diff|export`` open the
database read-only and never create or change a file.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from hal.cli._common import (
    add_backend,
    add_json,
    add_wafer,
    hicann_list,
    parse_option,
    positive_int,
    print_json,
)

__all__ = ["add_parsers"]


def _cmd_calibrate(args: argparse.Namespace) -> int:
    import hal
    from hal import coordinates as C
    from hal.calibration import open_store
    from hal.extension.manager import default_plugins
    from hal.files import atomic_write, writable_output

    hicanns = [C.HICANNOnWafer(h) for h in args.hicann]
    options = dict(parse_option(o) for o in args.option)
    report_path = writable_output(args.report_json, what="report") if args.report_json else None
    routine = default_plugins().create("calibration", args.routine)
    # --batch only when given: a registered routine need not take it (the protocol's keywords are report and progress)
    extra = {} if args.batch is None else {"batch": args.batch}
    if extra and not _takes_keyword(routine.run, "batch"):
        from hal.errors import ConfigError

        raise ConfigError(f"--batch {args.batch}: calibration routine {args.routine!r} takes no batch size; valid: leave --batch out for it")
    backend = hal.get_backend(args.backend, wafer=args.wafer, **options)
    if not backend.capabilities.membrane_readout:
        from hal.errors import CapabilityError

        raise CapabilityError(f"backend {args.backend!r} has no membrane readout (capability membrane_readout); the routines measure membranes")
    with open_store(args.db) as store:
        report = routine.run(backend, args.backend, args.wafer, hicanns, store, report=not args.no_report, **extra)
        report.pop("calibration", None)
        report["db"] = str(args.db)
        report["content_hash"] = store.content_hash(report["set_id"])
    if report_path is not None:
        atomic_write(report_path, lambda fh: fh.write(json.dumps(report, indent=2, sort_keys=True) + "\n"), mode="w")
    print(f"calibration set {report['set_id']} for wafer {args.wafer}, HICANN(s) {_ranges(args.hicann)}: {report['wall_s']:.1f} s")
    print(f"{'parameter':<14} {'spread before':>14} {'after':>10} {'Table II':>9} {'failed':>7}")
    for name, entry in report["parameters"].items():
        table = "-" if entry["table_ii"] is None else f"{entry['table_ii']:.1%}"
        before, after = (_percent(entry.get(key), width) for key, width in (("spread_before", 14), ("spread_after", 10)))
        print(f"{name:<14} {before} {after} {table:>9} {entry['failed_circuits']:>7}")
    if args.no_report:
        print("spreads not measured (--no-report)")
    return 0


def _takes_keyword(function, name: str) -> bool:
    import inspect

    parameters = inspect.signature(function).parameters.values()
    return any(p.name == name or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


def _percent(value: float | None, width: int) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.2%}"


def _ranges(enums: list[int]) -> str:
    """``[0, 1, 2, 5]`` -> ``"0-2,5"`` (the syntax ``--hicann`` takes)."""
    parts, start = [], None
    for i, e in enumerate(enums):
        start = e if start is None else start
        if i + 1 == len(enums) or enums[i + 1] != e + 1:
            parts.append(str(e) if start == e else f"{start}-{e}")
            start = None
    return ",".join(parts)


def _entry_summary(store, set_id: int, hicann: int, parameter: str) -> dict:
    t = store.load(set_id, hicann, parameter)
    ok = t.success
    return {
        "hicann": hicann, "parameter": parameter, "kind": t.kind.value, "unit": t.unit, "circuits": t.n_circuits,
        "failed": int((~ok).sum()),
        "domain": [float(np.min(t.domain_lo[ok])) if ok.any() else None, float(np.max(t.domain_hi[ok])) if ok.any() else None],
        "median_rms_dac": float(np.median(t.rms_dac[ok])) if ok.any() else None,
    }


def _cmd_calib_show(args: argparse.Namespace) -> int:
    from hal.calibration import open_store

    wanted = None if args.hicann is None else set(args.hicann)
    with open_store(args.db, read_only=True) as store:
        listing = []
        for info in store.sets(args.wafer, include_incomplete=True):
            entries = [e for e in store.entries(info.id) if wanted is None or e[0] in wanted]
            item = {**{k: getattr(info, k) for k in ("id", "wafer", "created", "backend", "seed", "routine", "hal_version", "note",
                                                     "complete", "problem")},
                    "content_hash": store.content_hash(info.id),
                    "entries": [_entry_summary(store, info.id, h, p) for h, p in entries]}
            listing.append(item)
        defects = [{"wafer": d.wafer, "component": d.component, "hicann": d.hicann, "item": d.item, "reason": d.reason, "source": d.source}
                   for d in (store.defects(args.wafer) if args.wafer is not None else [])]
    if args.json:
        print_json({"sets": listing, "defects": defects})
        return 0
    if not listing:
        print("no calibration sets" + (f" for wafer {args.wafer}" if args.wafer is not None else ""))
    for item in listing:
        flag = "" if item["complete"] else f" INCOMPLETE, not used by latest_set/hal map ({item['problem'] or 'never completed'})"
        print(f"set {item['id']}: wafer {item['wafer']}, {item['created']}, backend {item['backend']}, {item['routine']} "
              f"(hal {item['hal_version']}) hash {item['content_hash'][:12]}{flag}")
        for e in item["entries"]:
            print(f"  HICANN {e['hicann']:>3} {e['parameter']:<14} {e['kind']:<18} {e['circuits']} circuits, {e['failed']} failed, "
                  f"range {e['domain'][0]}..{e['domain'][1]} {e['unit']}")
    if defects:
        print(f"defects: {len(defects)} (see --json)")
    return 0


def _cmd_calib_diff(args: argparse.Namespace) -> int:
    from hal.calibration import open_store

    with open_store(args.db, read_only=True) as store:
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
    from hal.files import writable_output

    target = writable_output(args.file, what="calibration set file")
    with open_store(args.db, read_only=True) as store:
        store.export_set(args.set, target)
    print(f"set {args.set} written to {target}")
    return 0


def _cmd_calib_import(args: argparse.Namespace) -> int:
    from pathlib import Path

    from hal.calibration import open_store
    from hal.calibration.setfile import read_set_file

    found = read_set_file(args.file)  # every check, before the database is opened (or created)
    with open_store(args.db) as store:
        new_id = store.add_imported(found, Path(args.file).name)
    print(f"imported {args.file} as set {new_id}")
    return 0


def add_parsers(sub) -> None:
    """Add this module's commands to ``hal``'s sub-parsers."""
    calibrate = sub.add_parser("calibrate", help="calibrate HICANNs on a backend into a calibration database")
    add_backend(calibrate)
    add_wafer(calibrate, required=True)
    calibrate.add_argument("--hicann", type=hicann_list, required=True, help="HICANN enums: N, N,M,... or N-M (0..383)")
    calibrate.add_argument("--db", required=True, help="calibration database file (SQLite; created if missing)")
    calibrate.add_argument("--routine", default="neuron", help="registered calibration routine (default: neuron = all parameters)")
    calibrate.add_argument("--report-json", help="write the report (spreads before/after per parameter) here")
    calibrate.add_argument("--no-report", action="store_true",
                           help="skip the before/after measurements of the report (about a third of the measurements); the set is the same")
    calibrate.add_argument("--batch", type=positive_int, default=None,
                           help="HICANNs measured together in one backend run (>= 1; default: the routine's, 8 for neuron); "
                                "memory grows with it")
    calibrate.set_defaults(func=_cmd_calibrate)

    calib = sub.add_parser("calib", help="inspect and move calibration sets").add_subparsers(dest="what", required=True, metavar="WHAT")
    cshow = calib.add_parser("show", help="calibration sets (incomplete ones flagged), their entries and defects")
    cshow.add_argument("--db", required=True)
    add_wafer(cshow, default=None)
    cshow.add_argument("--hicann", type=hicann_list, help="only these HICANNs' entries: N, N,M,... or N-M")
    add_json(cshow)
    cshow.set_defaults(func=_cmd_calib_show)
    cdiff = calib.add_parser("diff", help="which parameters of which circuits moved between two sets (exit 1 if any)")
    cdiff.add_argument("--db", required=True)
    cdiff.add_argument("a", type=positive_int, help="set id")
    cdiff.add_argument("b", type=positive_int, help="set id")
    add_json(cdiff)
    cdiff.set_defaults(func=_cmd_calib_diff)
    cexp = calib.add_parser("export", help="write a complete set to a portable file")
    cexp.add_argument("--db", required=True)
    cexp.add_argument("set", type=positive_int, help="set id")
    cexp.add_argument("file")
    cexp.set_defaults(func=_cmd_calib_export)
    cimp = calib.add_parser("import", help="import a portable file as a new set (checked completely first)")
    cimp.add_argument("--db", required=True)
    cimp.add_argument("file")
    cimp.set_defaults(func=_cmd_calib_import)
