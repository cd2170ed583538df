"""The ``hal`` command line.

Command output goes to standard output (``--json`` for machines); logs and
errors go to standard error. Every :class:`~hal.errors.HalError` ends the
command with exit status 2 and a one-line message, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from hal.errors import HalError

__all__ = ["main", "build_parser"]


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, sort_keys=True))


# -- hal info --------------------------------------------------------------------------------


_EXPLANATION = (
    "synapses counts the physical synapse array (448 rows x 256 columns per HICANN, 224 per neuron circuit); "
    "Schmitt et al. 2017 (Table I, section II-A) count 220 usable synapses per circuit "
    "(43,253,760 per wafer). No public source read so far says which 4 rows per half are not counted; "
    "hal models all 224 rows and reports both figures."
)


def _cmd_info_wafer(args: argparse.Namespace) -> int:
    from hal.hardware.wafer import wafer_counts

    counts = wafer_counts()
    if args.json:
        _print_json({**counts, "synapses_note": _EXPLANATION})
        return 0
    rows = [
        ("reticles (DNCs)", counts["reticles"]),
        ("HICANNs", counts["hicanns"]),
        ("FPGAs", counts["fpgas"]),
        ("neuron circuits (denmems)", counts["neuron_circuits"]),
        ("synapses (physical, 448 x 256 per HICANN)", counts["synapses"]),
        ("synapses (usable per Schmitt et al. 2017, 220 per circuit)", counts["synapses_usable_paper"]),
        ("synapse drivers", counts["synapse_drivers"]),
        ("floating-gate parameters per circuit", counts["fg_parameters_per_circuit"]),
        ("shared floating-gate parameters per FG block", counts["fg_shared_parameters_per_block"]),
        ("floating-gate cells", counts["fg_cells"]),
        ("background generators", counts["background_generators"]),
    ]
    width = max(len(name) for name, _ in rows)
    print("BrainScaleS-1 wafer (HICANN v2/v4)")
    for name, value in rows:
        print(f"  {name:<{width}}  {value:>12,}")
    print()
    print("Note: " + _EXPLANATION)
    return 0


def _cmd_info_registers(args: argparse.Namespace) -> int:
    from hal.hardware.fpga import FPGA_REGISTERS
    from hal.hardware.hicann import HICANN_REGISTERS
    from hal.registers import markdown_reference

    files = {"hicann": [HICANN_REGISTERS], "fpga": [FPGA_REGISTERS], "all": [HICANN_REGISTERS, FPGA_REGISTERS]}[args.chip]
    if args.markdown:
        print(markdown_reference(files))
        return 0
    for rf in files:
        for reg in rf:
            fields = ", ".join(f"{f.name}[{f.lsb + f.width - 1}:{f.lsb}]" if f.width > 1 else f"{f.name}[{f.lsb}]" for f in reg.fields[:8])
            more = f", ... ({len(reg.fields)} fields)" if len(reg.fields) > 8 else ""
            print(f"{rf.chip:<6} {hex(reg.address):>8} x{reg.count:<6} {reg.name:<26} {fields}{more}")
    return 0


# -- hal config ------------------------------------------------------------------------------


def _summarise(config) -> dict[str, Any]:
    from hal.configuration.io import config_to_dict

    manifest, arrays = config_to_dict(config)
    summary: dict[str, Any] = {"wafer": manifest["wafer"], "hicanns": {}, "fpgas": {}}
    for kind in ("hicanns", "fpgas"):
        for key, chip in manifest[kind].items():
            entry: dict[str, Any] = {"registers": chip["registers"], "arrays": {}}
            prefix = f"{kind[:-1]}/{key}/"
            for path, array in arrays.items():
                if path.startswith(prefix):
                    name = path[len(prefix):-4]
                    entry["arrays"][name] = {
                        "shape": list(array.shape),
                        "nonzero": int(np.count_nonzero(array)),
                        "min": int(array.min()),
                        "max": int(array.max()),
                    }
            summary[kind][key] = entry
    return summary


def _cmd_config_show(args: argparse.Namespace) -> int:
    from hal.configuration.io import load_config

    config = load_config(args.file)
    summary = _summarise(config)
    if args.json:
        _print_json(summary)
        return 0
    print(f"wafer {summary['wafer']}: {len(summary['hicanns'])} HICANN(s), {len(summary['fpgas'])} FPGA(s) configured "
          f"(registers not listed are at their reset values)")
    for kind in ("hicanns", "fpgas"):
        for key, chip in summary[kind].items():
            print(f"{kind[:-1]} {key}:")
            for reg, entries in chip["registers"].items():
                for idx, fields in entries.items():
                    print(f"  {reg}[{idx}]: " + ", ".join(f"{k}={v}" for k, v in fields.items()))
            for name, stats in chip["arrays"].items():
                print(f"  {name}: shape {tuple(stats['shape'])}, {stats['nonzero']} nonzero, values {stats['min']}..{stats['max']}")
    return 0


def _cmd_config_diff(args: argparse.Namespace) -> int:
    from hal.configuration.diff import diff_configs
    from hal.configuration.io import load_config

    a, b = load_config(args.a), load_config(args.b)
    diffs = list(diff_configs(a, b))
    if args.json:
        _print_json({"differences": len(diffs), "registers": [d.to_dict() for d in diffs[: args.limit]]})
        return 0 if not diffs else 1
    if a.wafer != b.wafer:
        print(f"note: different wafers ({a.wafer!r} vs {b.wafer!r})")
    for d in diffs[: args.limit]:
        print(d.describe())
    if len(diffs) > args.limit:
        print(f"... and {len(diffs) - args.limit} more (use --limit)")
    print(f"{len(diffs)} register word(s) differ")
    return 0 if not diffs else 1


# -- hal plugins / hal run ------------------------------------------------------------------------


def _cmd_plugins(args: argparse.Namespace) -> int:
    from hal.extension.manager import default_plugins

    plugins = default_plugins()
    listing = {
        "backends": [r.to_dict() for r in plugins.registrations("backend").values()],
        "trainers": [r.to_dict() for r in plugins.registrations("trainer").values()],
        "calibration_routines": [r.to_dict() for r in plugins.registrations("calibration").values()],
    }
    if args.json:
        _print_json(listing)
        return 0
    for kind, entries in listing.items():
        print(f"{kind}:")
        if not entries:
            print("  (none)")
        for e in sorted(entries, key=lambda e: e["name"]):
            print(f"  {e['name']:<16} {e['distribution'] + ' ' + e['version']:<28} {e['description']}")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    import hal
    from hal.experiment.io import load_experiment, save_recording

    experiment = load_experiment(args.experiment)
    options = dict(_parse_option(o) for o in args.option)
    backend = hal.get_backend(args.backend, wafer=experiment.config.wafer, **options)
    recording = hal.run(experiment, backend)
    out = args.out or str(args.experiment).rsplit(".", 1)[0] + ".recording.hal"
    save_recording(recording, out)
    counts = recording.spike_counts
    summary = {
        "backend": args.backend,
        "samples": recording.n_samples,
        "neurons": len(recording.neurons),
        "spikes": int(counts.sum()),
        "mean_rate_hz": float(counts.sum() / max(1, counts.size) / (experiment.duration_ms * 1e-3)),
        "lost_events": recording.lost_events,
        "recording": out,
    }
    if args.json:
        _print_json(summary)
    else:
        print(f"{summary['samples']} sample(s) on {args.backend}: {summary['spikes']} spikes from {summary['neurons']} neurons "
              f"(mean {summary['mean_rate_hz']:.2f} Hz), lost events {summary['lost_events']['total']}; recording written to {out}")
    return 0


# -- hal calibrate / hal calib ----------------------------------------------------------------------


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
    options = dict(_parse_option(o) for o in args.option)
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
        _print_json({"sets": listing, "defects": defects})
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
        _print_json({"a": args.a, "b": args.b, "changes": changes})
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


# -- hal map / hal defects ------------------------------------------------------------------------


def _cmd_map(args: argparse.Namespace) -> int:
    from hal import coordinates as C
    from hal.mapping import MappingOptions, map_network
    from hal.network import load_network
    from hal.configuration.io import save_config

    network = load_network(args.network)
    kwargs = {"circuits_per_neuron": args.circuits, "source_rate_hz": args.source_rate_hz, "allow_loss": args.allow_loss,
              "placement": args.placement, "seed": args.seed}
    if args.db:
        from hal.calibration import Calibration, open_store

        store = open_store(args.db, create=False)
        options = MappingOptions.with_defects(store, args.wafer, calibration=Calibration(store, store.latest_set(args.wafer).id, fallback="nominal")
                                              if store.sets(args.wafer) else None, **kwargs)
    else:
        options = MappingOptions(**kwargs)
    config, result = map_network(network, C.Wafer(args.wafer), options)
    summary = result.summary()
    if args.out:
        save_config(config, args.out)
        summary["config"] = args.out
    if args.json:
        _print_json(summary)
        return 0
    print(f"{network.n_neurons} neurons on {summary['hicanns']} HICANN(s) and {summary['fpgas']} FPGA(s); "
          f"{summary['synapses']} synapses realised, {summary['synapses_lost']} lost")
    for h, use in summary["per_hicann"].items():
        load = summary["input_load_hz"].get(h)
        extra = f", input {load:.0f} of {summary['input_budget_hz']:.0f} Hz" if load else ""
        print(f"  HICANN {h:>3}: {use['neurons']} neurons ({use['circuits']} circuits), {use['drivers']} drivers "
              f"({use['chained_drivers']} chained), {use['l1_lines']} horizontal and {use.get('vertical_lines', 0)} vertical L1 lines{extra}")
    return 0


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
        _print_json({"wafer": args.wafer, "defects": rows})
    else:
        for r in rows:
            print(f"{r['component']:<16} HICANN {r['hicann']:>3} item {r['item']:>4}: {r['reason']} ({r['source']})")
        print(f"{len(rows)} disabled component(s) on wafer {args.wafer}")
    return 0


# -- hal reproduce -------------------------------------------------------------------------------


def _cmd_reproduce(args: argparse.Namespace) -> int:
    from hal.errors import ConfigError
    from hal.extension.manager import default_plugins

    if args.dataset == "mnist" and not args.data_dir:
        raise ConfigError("--dataset mnist needs --data-dir DIR with the MNIST IDX files (train-images-idx3-ubyte[.gz], ...)")
    if args.dataset == "digits" and args.data_dir:
        raise ConfigError("--data-dir is for --dataset mnist; the digits dataset ships with scikit-learn")
    pipeline = default_plugins().create("trainer", args.paper)

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    report = pipeline.run(dataset=args.dataset, data_dir=args.data_dir, backend=args.backend, trials=args.trials, itl_steps=args.itl_steps,
                          out=args.out, scheduler=args.scheduler, workers=args.workers, ann_steps=args.ann_steps, itl_batch=args.itl_batch,
                          test_subset=args.test_subset, progress=progress)
    s, p = report["summary_percent"], report["paper_percent"]
    print(f"Schmitt et al. 2017 on {report['backend']}, {report['dataset']}, {report['trials']} trial(s); "
          f"median [interquartile range] test accuracy, %:")
    print(f"{'':<24}{'this run':>22}{'paper':>22}")
    for key, label in (("software", "software model"), ("converted", "right after conversion"), ("in_the_loop", "after in-the-loop")):
        ours = f"{s[key]['median']:.1f} [{s[key]['q25']:.1f}, {s[key]['q75']:.1f}]"
        theirs = f"{p[key]['median']:.0f} [{p[key]['q25']:.0f}, {p[key]['q75']:.0f}]"
        print(f"{label:<24}{ours:>22}{theirs:>22}")
    redraws = sum(report.get("software_redraws", []))
    if redraws:
        print(f"software models redrawn (a label unit never fired): {redraws}, per trial in report.json")
    m = report["mapping"]
    print(f"mapping: {m.get('hicanns')} HICANNs, {m.get('fpgas')} FPGA(s), {m.get('synapses')} synapses, {m.get('synapses_lost')} lost; "
          f"report and figures in {args.out}/ ({report['wall_s']:.0f} s)")
    return 0


def _parse_option(text: str) -> tuple[str, Any]:
    from hal.errors import ConfigError

    key, sep, value = text.partition("=")
    if not sep or not key:
        raise ConfigError(f"--option {text!r}: expected KEY=VALUE, e.g. dt_ms=0.05")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


# -- the parser --------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hal", description="Hardware abstraction layer for wafer-scale analog neuromorphic hardware.")
    parser.add_argument("--log-json", action="store_true", help="log as JSON lines (to standard error)")
    parser.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    info = sub.add_parser("info", help="facts about the hardware").add_subparsers(dest="what", required=True, metavar="WHAT")
    wafer = info.add_parser("wafer", help="counts of the wafer's resources")
    wafer.add_argument("--json", action="store_true")
    wafer.set_defaults(func=_cmd_info_wafer)

    registers = info.add_parser("registers", help="the register map (from the declarations)")
    registers.add_argument("--chip", choices=("hicann", "fpga", "all"), default="all")
    registers.add_argument("--markdown", action="store_true", help="the full reference page (docs/registers.md)")
    registers.set_defaults(func=_cmd_info_registers)

    config = sub.add_parser("config", help="inspect saved wafer configurations").add_subparsers(dest="what", required=True, metavar="WHAT")
    show = config.add_parser("show", help="the non-reset registers of a configuration file")
    show.add_argument("file")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=_cmd_config_show)
    diff = config.add_parser("diff", help="register differences between two configuration files (exit 1 if any)")
    diff.add_argument("a")
    diff.add_argument("b")
    diff.add_argument("--json", action="store_true")
    diff.add_argument("--limit", type=int, default=200, help="show at most this many differences (default 200)")
    diff.set_defaults(func=_cmd_config_diff)
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

    mapper = sub.add_parser("map", help="map a network file onto the wafer and print the resource use")
    mapper.add_argument("network", help="a network file (hal.network.save_network)")
    mapper.add_argument("--wafer", type=int, default=0)
    mapper.add_argument("--circuits", type=int, default=4, help="circuits per logical neuron (1, 2 or 4)")
    mapper.add_argument("--source-rate-hz", type=float, default=25.0, help="expected rate per source, for the link budget")
    mapper.add_argument("--db", help="calibration database: its defects are avoided and its latest set translates parameters")
    mapper.add_argument("--allow-loss", action="store_true", help="accept synapses that cannot be realised (counted)")
    mapper.add_argument("--placement", default="compact",
                        help="compact (default), random (shuffled columns in the blocks used) or random_hicanns (neurons on random HICANNs)")
    mapper.add_argument("--seed", type=int, default=0, help="seed of the random placements")
    mapper.add_argument("--out", help="write the wafer configuration here")
    mapper.add_argument("--json", action="store_true")
    mapper.set_defaults(func=_cmd_map)

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

    repro = sub.add_parser("reproduce", help="reproduce a paper end to end (schmitt2017)")
    repro.add_argument("paper", choices=("schmitt2017",))
    repro.add_argument("--backend", default="noisy", help="hal backend the spiking network runs on (default: noisy; see `hal plugins`)")
    repro.add_argument("--dataset", choices=("digits", "mnist"), default="digits",
                       help="digits: scikit-learn's, nothing to fetch (default); mnist: the paper's, needs --data-dir")
    repro.add_argument("--data-dir", help="directory with the MNIST IDX files (for --dataset mnist)")
    repro.add_argument("--trials", type=int, default=4, help="trials (seeds 0..N-1: initial weights and hardware neurons; default 4)")
    repro.add_argument("--itl-steps", type=int, default=20, help="in-the-loop training steps per trial (default 20)")
    repro.add_argument("--ann-steps", type=int, default=15_000, help="software training steps of 100 images (default 15000, the paper's)")
    repro.add_argument("--itl-batch", type=int, default=1200, help="training images per in-the-loop step (default 1200, the paper's)")
    repro.add_argument("--test-subset", type=int, default=None, help="evaluate on the first N test images only")
    repro.add_argument("--out", default="schmitt2017-out", help="report.json, figures and per-trial files (default schmitt2017-out; "
                       "finished trials there are skipped)")
    repro.add_argument("--scheduler", help="address of an existing Dask scheduler (default: a LocalCluster on this machine)")
    repro.add_argument("--workers", type=int, default=None, help="LocalCluster workers (default: the machine's cores)")
    repro.set_defaults(func=_cmd_reproduce)

    from hal.bench import add_parser as add_bench_parser

    add_bench_parser(sub)

    plugins = sub.add_parser("plugins", help="registered backends, trainers and calibration routines")
    plugins.add_argument("--json", action="store_true")
    plugins.set_defaults(func=_cmd_plugins)

    run = sub.add_parser("run", help="run a saved experiment on a backend and write the recording")
    run.add_argument("experiment", help="an experiment file (hal.configuration.io.save_experiment)")
    run.add_argument("--backend", required=True)
    run.add_argument("--option", action="append", default=[], metavar="KEY=VALUE", help="backend option (repeatable)")
    run.add_argument("--out", help="recording file (default: EXPERIMENT.recording.hal)")
    run.add_argument("--json", action="store_true")
    run.set_defaults(func=_cmd_run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from hal.logging import configure

    parser = build_parser()
    args = parser.parse_args(argv)
    configure(json=args.log_json, level=args.log_level)
    try:
        return args.func(args)
    except HalError as exc:
        print(f"hal: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
