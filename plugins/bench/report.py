"""The benchmark's report: the targets it is judged by, the machine it ran on, the text summary."""

from __future__ import annotations

import os
import platform
from typing import Any

__all__ = ["TARGETS", "machine", "summary", "targets"]

#: The goals of the issue (checked here and in docs/benchmarks.md, never by a timed test).
TARGETS = {
    "emulator_bio_s_per_wall_s": 10_000.0,
    "emulator_vs_simulators": 50.0,
    "wafer_wall_s": 120.0,
    "wafer_peak_rss_bytes": 4 * 2**30,
    "total_wall_s": 600.0,
}


def _judged(target: float, measured: float, met: bool) -> dict[str, Any]:
    return {"target": target, "measured": measured, "met": met}


def targets(result: dict) -> dict:
    """Each target that ``result`` measured: target, measured value, met or not."""
    paper = result["paper_network"]
    out: dict[str, Any] = {}
    emulator = paper.get("emulator")
    if emulator:
        value, goal = emulator["bio_s_per_wall_s"], TARGETS["emulator_bio_s_per_wall_s"]
        out["emulator_bio_s_per_wall_s"] = _judged(goal, value, value >= goal)
    for other in ("nest", "brian2"):
        ratio = paper["speedup"].get(f"emulator_vs_{other}")
        if ratio is not None:
            out[f"emulator_vs_{other}"] = _judged(TARGETS["emulator_vs_simulators"], ratio, ratio >= TARGETS["emulator_vs_simulators"])
    wafer = result.get("wafer")
    if wafer and wafer.get("hicanns") == 384:  # only judged on the full wafer
        out["wafer_wall_s"] = _judged(TARGETS["wafer_wall_s"], wafer["wall_s"], wafer["wall_s"] < TARGETS["wafer_wall_s"])
        rss, goal = wafer["peak_rss_bytes"], TARGETS["wafer_peak_rss_bytes"]
        out["wafer_peak_rss_bytes"] = _judged(goal, rss, rss < goal)
    total = result["total_wall_s"]
    out["total_wall_s"] = _judged(TARGETS["total_wall_s"], total, total < TARGETS["total_wall_s"])
    return out


def machine() -> dict:
    """CPU, cores, memory and software versions of this machine."""
    import numpy as np

    from hal import __version__

    model = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = None
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        pass
    return {"cpu": model, "machine": platform.machine(), "cores": os.cpu_count(), "memory_bytes": memory,
            "python": platform.python_version(), "numpy": np.__version__, "hal": __version__, "platform": platform.platform()}


def _fmt_bytes(n: int | None) -> str:
    return "-" if n is None else f"{n / 2**20:,.0f} MiB"


def _paper_lines(paper: dict) -> list[str]:
    backends = [k for k in paper if k not in ("network", "unavailable", "speedup", "nest", "brian2")]
    w = max(10, *(len(k) for k in backends))
    net = paper["network"]
    lines = [f"paper network ({net['neurons']} neurons, {net['circuits_per_neuron']} circuits each on {net['hicanns']} HICANNs, "
             f"{net['synapses']:,} synapses, {net['synapses_lost']} lost; batch {net['batch']}, 1 s per sample):",
             f"  {'':<{w}} {'samples':>8} {'bio-s/wall-s':>13} {'syn. events/s':>14} {'wall s':>8} {'peak RSS':>10}"]
    for name in (*backends, "nest", "brian2"):
        r = paper.get(name)
        if r is None:
            why = paper.get("unavailable", {}).get(name)
            if why:
                lines.append(f"  {name:<{w}} {'-':>8} {'-':>13} {'-':>14} {'-':>8} {'-':>10}  ({why})")
            continue
        lines.append(f"  {name:<{w}} {r['samples']:>8} {r['bio_s_per_wall_s']:>13,.1f} {r['synaptic_events_per_s']:>14,.0f} "
                     f"{r['wall_s']:>8.2f} {_fmt_bytes(r.get('peak_rss_bytes')):>10}")
    return lines


def summary(result: dict) -> str:
    """A readable table of the results."""
    lines = _paper_lines(result["paper_network"])
    for name in ("hicann", "wafer"):
        r = result.get(name)
        if r:
            lines.append(f"{name}: {r['hicanns']} HICANN(s), {r['neurons']:,} neurons, {r['synapses']:,} synapses, {r['bio_s']} s bio: "
                         f"wall {r['wall_s']:.1f} s (build {r['build_s']:.1f}, run {r['run_s']:.1f}), peak RSS {_fmt_bytes(r['peak_rss_bytes'])}, "
                         f"{r['synaptic_events_per_s']:,.0f} syn. events/s")
    lines.append("targets:")
    for key, t in result["targets"].items():
        lines.append(f"  {key:<28} {'met' if t['met'] else 'MISSED':<7} measured {t['measured']:,.4g} (target {t['target']:,.4g})")
    lines.append(f"total {result['total_wall_s']:.1f} s on {result['machine']['cores']} cores ({result['machine']['cpu']})")
    return "\n".join(lines)
