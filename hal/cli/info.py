"""``hal info``: facts about the hardware, and ``hal config``: saved wafer configurations."""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from hal.cli._common import add_json, count, print_json

__all__ = ["add_parsers"]


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
        print_json({**counts, "synapses_note": _EXPLANATION})
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
    if args.json:
        print_json([{"chip": rf.chip, "name": reg.name, "address": hex(reg.address), "count": reg.count, "width": reg.width,
                     "access": reg.access.value, "doc": reg.doc, "instance_resets": {str(i): w for i, w in reg.instance_resets},
                     "fields": [{"name": f.name, "lsb": f.lsb, "width": f.width, "reset": f.reset, "access": f.access.value, "doc": f.doc}
                                for f in reg.fields]}
                    for rf in files for reg in rf])
        return 0
    if args.markdown:
        print(markdown_reference(files))
        return 0
    for rf in files:
        for reg in rf:
            fields = ", ".join(f"{f.name}[{f.lsb + f.width - 1}:{f.lsb}]" if f.width > 1 else f"{f.name}[{f.lsb}]" for f in reg.fields[:8])
            more = f", ... ({len(reg.fields)} fields)" if len(reg.fields) > 8 else ""
            print(f"{rf.chip:<6} {hex(reg.address):>8} x{reg.count:<6} {reg.name:<26} {fields}{more}")
    return 0


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
        print_json(summary)
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
        print_json({"differences": len(diffs), "registers": [d.to_dict() for d in diffs[: args.limit]]})
        return 0 if not diffs else 1
    if a.wafer != b.wafer:
        print(f"note: different wafers ({a.wafer!r} vs {b.wafer!r})")
    for d in diffs[: args.limit]:
        print(d.describe())
    if len(diffs) > args.limit:
        print(f"... and {len(diffs) - args.limit} more (use --limit)")
    print(f"{len(diffs)} register word(s) differ")
    return 0 if not diffs else 1


def add_parsers(sub) -> None:
    """Add this module's commands to ``hal``'s sub-parsers."""
    info = sub.add_parser("info", help="facts about the hardware").add_subparsers(dest="what", required=True, metavar="WHAT")
    wafer = info.add_parser("wafer", help="counts of the wafer's resources")
    add_json(wafer)
    wafer.set_defaults(func=_cmd_info_wafer)

    registers = info.add_parser("registers", help="the register map (from the declarations)")
    registers.add_argument("--chip", choices=("hicann", "fpga", "all"), default="all")
    formats = registers.add_mutually_exclusive_group()
    formats.add_argument("--markdown", action="store_true", help="the full reference page (docs/registers.md)")
    formats.add_argument("--json", action="store_true", help="print the registers and their fields as JSON on standard output")
    registers.set_defaults(func=_cmd_info_registers)
    config = sub.add_parser("config", help="inspect saved wafer configurations").add_subparsers(dest="what", required=True, metavar="WHAT")
    show = config.add_parser("show", help="the non-reset registers of a configuration file")
    show.add_argument("file")
    add_json(show)
    show.set_defaults(func=_cmd_config_show)
    diff = config.add_parser("diff", help="register differences between two configuration files (exit 1 if any)")
    diff.add_argument("a")
    diff.add_argument("b")
    add_json(diff)
    diff.add_argument("--limit", type=count, default=200, help="show at most this many differences (>= 0; default 200)")
    diff.set_defaults(func=_cmd_config_diff)
