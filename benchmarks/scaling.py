"""Scaling with network size: bio-s per wall-s and synaptic events per s (issue 16, item 5).

Sizes: the paper network (135 neurons; a batch of ``--samples``), then 1, 8, 48 full HICANNs and
the full wafer (384) configured as ``hal bench``'s MaxHW scenario (every synapse at 40 Hz, one
sample of ``--bio-s``). The emulator runs every size; with ``--peers`` Brian2 (C++ standalone,
OpenMP threads = cores; compile time apart) and NEST (threads = cores) run each size too, each
run in its own worker process (:mod:`hal_plugins.bench.scenarios`) with ``--timeout-s``: a peer
that does not finish is recorded with the reason, not waited for. All at dt ``--dt-ms``.

Run (peers need the bench environment, docs/benchmarks.md):
    /tmp/benchenv/bin/python benchmarks/scaling.py --peers --timeout-s 300 --out docs/figures/scaling.json --png docs/figures/scaling.png
    python benchmarks/scaling.py --plot-only --out docs/figures/scaling.json --png docs/figures/scaling.png
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from hal_plugins.bench.command import _dt_ms

SIZES = (0, 1, 8, 48, 384)  # 0: the paper network
SIMULATORS = ("emulator", "brian2", "nest")


def _label(hicanns: int) -> str:
    return "paper network" if hicanns == 0 else f"{hicanns} HICANN" + ("s" if hicanns > 1 else "")


def _run(simulator: str, hicanns: int, args) -> dict:
    from hal.errors import BackendError
    from hal_plugins.bench.scenarios import in_subprocess

    cores = os.cpu_count() or 1
    env = {"OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}
    if simulator == "emulator":
        options = {"dt_ms": args.dt_ms}
        if hicanns == 0:
            spec = dict(scenario="backend", backend="emulator", options=options, samples=args.samples, seed=0, repeat=1)
        else:
            spec = dict(scenario="full", n_hicanns=hicanns, bio_s=args.bio_s, seed=0, backend="emulator", options=options)
    else:
        common = dict(samples=args.samples if hicanns == 0 else 1, seed=0, dt_ms=args.dt_ms, hicanns=hicanns, bio_s=args.bio_s)
        if simulator == "brian2":
            spec = dict(scenario="brian2", target="cpp_standalone", threads=cores, **common)
        else:
            spec = dict(scenario="nest", threads=cores, **common)
    try:
        r = in_subprocess(f"scaling/{simulator}/{hicanns}", args.timeout_s, env=env, **spec)
    except BackendError as exc:
        lines = str(exc).splitlines()
        return {"finished": False, "why": lines[0] + (f" ({lines[-1].strip()})" if len(lines) > 1 else "")}
    # What wall_s covers: emulator -- hal.run end to end (full sizes: plus building the WaferConfig, build_s);
    # Brian2 -- the compiled program's run (set-up build_s and compile_s apart); NEST -- network build and simulation.
    keep = ("bio_s", "wall_s", "bio_s_per_wall_s", "synaptic_events", "synaptic_events_per_s", "peak_rss_bytes", "samples", "spikes",
            "build_s", "run_s", "compile_s", "simulate_s", "load_average_1min", "neurons", "synapses")
    return {"finished": True, **{k: r[k] for k in keep if k in r}}


def measure(args) -> dict:
    from hal_plugins.bench.report import machine

    sizes = [h for h in SIZES if h <= args.max_hicanns]
    simulators = SIMULATORS if args.peers else ("emulator",)
    rows = []
    for hicanns in sizes:
        row = {"size": _label(hicanns), "hicanns": hicanns}
        for simulator in simulators:
            if simulator != "emulator" and hicanns > args.peers_max_hicanns:
                row[simulator] = {"finished": False, "why": f"not run: above --peers-max-hicanns {args.peers_max_hicanns}"}
                continue
            row[simulator] = _run(simulator, hicanns, args)
            print(f"{row['size']:>14} {simulator:>8}: {json.dumps(row[simulator])[:200]}", file=sys.stderr, flush=True)
        rows.append(row)
    return {"rows": rows, "dt_ms": args.dt_ms, "paper_samples": args.samples, "full_bio_s": args.bio_s, "machine": machine(),
            "load_average": os.getloadavg()}


def plot(result: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    labels = [row["size"] for row in result["rows"]]
    for simulator, marker in zip(SIMULATORS, "os^"):
        for ax, key in zip(axes, ("bio_s_per_wall_s", "synaptic_events_per_s")):
            xs = [i for i, row in enumerate(result["rows"]) if (row.get(simulator) or {}).get("finished")]
            if xs:
                ax.plot(xs, [result["rows"][i][simulator][key] for i in xs], marker=marker, label=simulator)
    for ax, title in zip(axes, ("biological s per wall-clock s", "synaptic events per wall-clock s")):
        ax.set_yscale("log")
        ax.set_xticks(range(len(labels)), labels, rotation=20)
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend()
    load = result.get("load_average", [None])[0]
    fig.suptitle(f"dt {result['dt_ms']} ms, paper network {result['paper_samples']} samples, full HICANNs {result['full_bio_s']} s bio"
                 + (f" (1-min load {load:.1f} on {result['machine']['cores']} cores)" if load is not None else ""), fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main(argv: list[str] | None = None) -> int:
    from hal.cli._common import positive_float, positive_int

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peers", action="store_true", help="also Brian2 (cpp_standalone) and NEST")
    parser.add_argument("--samples", type=positive_int, default=1200, help="paper-network batch (default 1200)")
    parser.add_argument("--bio-s", type=positive_float, default=0.1, help="biological seconds of the full-HICANN sizes (default 0.1)")
    parser.add_argument("--dt-ms", type=_dt_ms, default=0.1, help="integration step of every run (default 0.1)")
    parser.add_argument("--max-hicanns", type=positive_int, default=384, help="largest size run (default 384, the wafer)")
    parser.add_argument("--peers-max-hicanns", type=positive_int, default=48,
                        help="largest size the peers run (default 48: the wafer's 44 M synapses take their set-up beyond any sane limit)")
    parser.add_argument("--timeout-s", type=positive_float, default=900.0, help="per run; a run that takes longer is recorded as not finished")
    parser.add_argument("--out", default="scaling.json", help="JSON results (read with --plot-only)")
    parser.add_argument("--png", help="write the plot here")
    parser.add_argument("--plot-only", action="store_true", help="plot --out without running anything")
    args = parser.parse_args(argv)
    if args.plot_only:
        try:
            with open(args.out) as f:
                result = json.load(f)
        except (OSError, json.JSONDecodeError) as exc:
            parser.error(f"--out {args.out!r}: cannot read the results ({exc})")
    else:
        result = measure(args)
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)
    if args.png:
        plot(result, args.png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
