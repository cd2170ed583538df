"""The whole benchmark: sizes, the scenarios in their worker processes, one JSON-ready result.

:func:`run_benchmarks` times the paper network on each requested hal backend and on NEST and
Brian2 (when importable), each peer in its strongest configuration (Brian2's C++ standalone
device with OpenMP threads = cores, NEST with threads = cores, all samples as copies of the
network in one simulation), all at one step ``dt_ms``; then a full HICANN and a (part of the)
full wafer; and reports every result's spike counts against the ``reference`` backend's
(:func:`agreement`), the machine and the targets (:mod:`hal_plugins.bench.report`).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from typing import Any

from hal_plugins.bench.networks import describe_paper_network
from hal_plugins.bench.report import machine, targets
from hal_plugins.bench.scenarios import in_subprocess

__all__ = ["DEFAULT_BACKENDS", "FULL", "QUICK", "agreement", "run_benchmarks"]

#: Sizes of the full benchmark and of ``--quick`` (seconds, for tests: checks the code path only).
FULL = dict(samples=1200, reference_samples=60, simulator_samples=1200, hicann_bio_s=1.0, wafer_bio_s=0.1, wafer_hicanns=384, repeat=2)
QUICK = dict(samples=6, reference_samples=2, simulator_samples=2, hicann_bio_s=0.02, wafer_bio_s=0.01, wafer_hicanns=2, repeat=1)

#: The default hal backends: the chip as manufactured, the same kernel without mismatch and link losses
#: (the one whose spike counts can be compared with the reference), the noisy chip, the reference.
DEFAULT_BACKENDS = ("emulator", "emulator:mismatch=none,links=lossless", "noisy", "reference")

#: Wall-clock budget of NEST's batch (s; the whole run must stay under 10 minutes) and the copies
#: per NEST simulation: NEST needs minutes for 1,200 samples even on an idle machine, and its rate
#: per copy falls as the copies grow (12 copies per simulation cost about 20 % less per copy than
#: 60, docs/benchmarks.md), so it runs chunks of copies (each a fresh kernel), the samples compared
#: with the reference first, and stops when the next chunk would end after the budget (the JSON
#: says how many ran and why).
NEST_BUDGET_S = 200.0
NEST_CHUNK_SAMPLES = 12


def _settings(quick: bool, overrides: dict[str, Any]) -> dict[str, Any]:
    """The preset with the explicit sizes in ``overrides`` (``None``: keep the preset's), checked."""
    from hal.errors import ConfigError

    preset = dict(QUICK if quick else FULL)
    preset.update({key: value for key, value in overrides.items() if value is not None})
    for key in ("samples", "reference_samples", "simulator_samples", "repeat"):
        if not isinstance(preset[key], int) or isinstance(preset[key], bool) or preset[key] < 1:
            raise ConfigError(f"bench {key}: {preset[key]!r} out of range; valid an integer >= 1")
    if not 1 <= preset["wafer_hicanns"] <= 384:
        raise ConfigError(f"bench wafer_hicanns: {preset['wafer_hicanns']!r} out of range; valid 1..384")
    for key in ("wafer_bio_s", "hicann_bio_s"):
        if not preset[key] > 0:
            raise ConfigError(f"bench {key}: {preset[key]!r} out of range; valid > 0 s")
    return preset


def _backend_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """``"name"`` or ``"name:key=value,key=value"`` (values as JSON where they parse) -> (name, options)."""
    from hal.errors import ConfigError

    name, _, rest = spec.partition(":")
    options: dict[str, Any] = {}
    for item in filter(None, rest.split(",")):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"bench backend {spec!r}: option {item!r} is not KEY=VALUE (e.g. emulator:dtype=float32)")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return name, options


def _importable(module: str) -> tuple[bool, str | None]:
    """Whether ``module`` imports in a fresh interpreter (a broken install says why)."""
    if importlib.util.find_spec(module) is None:
        return False, "not installed (pip install 'wafer-hal[bench]')"
    done = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        return False, lines[-1] if lines else f"import {module} failed"
    return True, None


_DT_BACKENDS = ("emulator", "noisy", "reference")  # the backends with a dt_ms option


def _time_backends(paper: dict, backends, preset: dict, seed: int, profile: bool, timeout_s: float, dt_ms: float) -> None:
    """The paper network on each hal backend (``reference`` on the first ``reference_samples`` of the batch), at ``dt_ms``."""
    batch = preset["samples"]
    for spec in backends:
        name, options = _backend_spec(spec)
        if name in _DT_BACKENDS:
            options = {"dt_ms": dt_ms, **options}
        n = preset["reference_samples"] if name == "reference" else batch
        paper[spec] = in_subprocess(f"paper_network/{spec}", timeout_s, scenario="backend", backend=name, options=options,
                                    samples=min(n, batch), seed=seed, profile=profile and spec == "emulator", repeat=preset["repeat"],
                                    count_samples=preset["reference_samples"])
    if "emulator" in paper:
        paper["network"]["synapses_realised"] = paper["emulator"]["info"].get("synapses")


def _time_simulators(paper: dict, simulators, preset: dict, seed: int, dt_ms: float, brian2_target: str, timeout_s: float,
                     quick: bool) -> None:
    """The paper network on NEST and Brian2 (``None`` with the reason under ``unavailable`` when not run)."""
    n = min(preset["simulator_samples"], preset["samples"])
    cores = os.cpu_count() or 1
    # Passive OpenMP waiting: with spinning barriers, NEST's 2 threads slowed down 4-7x whenever anything
    # else wants a core (measured on the 2-core machine, docs/benchmarks.md); Brian2's OpenMP program likewise.
    policy = os.environ.get("OMP_WAIT_POLICY", "PASSIVE")
    env = {"OMP_WAIT_POLICY": policy}
    for name in ("nest", "brian2"):
        paper[name] = None
        if name not in simulators:
            paper["unavailable"][name] = "not requested"
            continue
        ok, why = _importable(name)
        if not ok:
            paper["unavailable"][name] = why
            continue
        if name == "nest":
            paper[name] = in_subprocess("paper_network/nest", timeout_s, env=env, scenario="nest", samples=n, seed=seed, dt_ms=dt_ms,
                                        threads=cores, repeat=preset["repeat"], count_samples=preset["reference_samples"],
                                        chunk_samples=NEST_CHUNK_SAMPLES, budget_s=None if quick else NEST_BUDGET_S)
        else:
            threads = cores if brian2_target == "cpp_standalone" else 1
            paper[name] = in_subprocess("paper_network/brian2", timeout_s, env=env, scenario="brian2", samples=n, seed=seed, dt_ms=dt_ms,
                                        target=brian2_target, repeat=preset["repeat"], threads=threads,
                                        count_samples=preset["reference_samples"])
        paper[name]["omp_wait_policy"] = policy
        if n < preset["samples"]:
            paper[name].setdefault("samples_cut", {"reason": f"--simulator-samples {n} of the batch of {preset['samples']}"})


def agreement(result: dict | None, reference: dict | None) -> dict | None:
    """Per-neuron spike counts of ``result`` against the reference's, over the samples both counted.

    Both scenarios report ``counts``: per wiring neuron, the spikes of the batch's first
    ``counted_samples`` samples (the reference runs those; same seeds, same input spikes).
    ``within_2_percent``: the share of neurons whose count is within 2 % (or 1 spike) of the
    reference's -- issue 4's agreement band.
    """
    import numpy as np

    if not result or not reference or "counts" not in result or "counts" not in reference:
        return None
    k = min(result["counted_samples"], reference["counted_samples"])
    if k != reference["counted_samples"] or k != result["counted_samples"]:
        return {"samples": k, "comparable": False, "why": "different sample counts were counted"}
    ours, ref = np.asarray(result["counts"], dtype=float), np.asarray(reference["counts"], dtype=float)
    if ours.shape != ref.shape:
        return {"samples": k, "comparable": False, "why": f"{ours.size} neurons counted against the reference's {ref.size}"}
    diff = np.abs(ours - ref)
    relative = diff / np.maximum(ref, 1.0)
    return {
        "samples": k,
        "comparable": True,
        "spikes": int(ours.sum()),
        "reference_spikes": int(ref.sum()),
        "total_relative": float((ours.sum() - ref.sum()) / max(ref.sum(), 1.0)),
        "worst_neuron_relative": float(relative.max()) if relative.size else 0.0,
        "within_2_percent": float(np.mean(diff <= np.maximum(0.02 * ref, 1.0))) if ref.size else 1.0,
    }


def _speedups(paper: dict) -> dict[str, float | None]:
    emulator = (paper.get("emulator") or {}).get("bio_s_per_wall_s")
    out = {f"emulator_vs_{other}": (emulator / paper[other]["bio_s_per_wall_s"]) if emulator and paper.get(other) else None
           for other in ("reference", "nest", "brian2")}
    peers = {name: paper[name]["bio_s_per_wall_s"] for name in ("nest", "brian2") if paper.get(name)}
    strongest = max(peers, key=peers.get) if peers else None
    out["strongest_peer"] = strongest
    out["emulator_vs_strongest_peer"] = emulator / peers[strongest] if emulator and strongest else None
    return out


def run_benchmarks(
    *,
    quick: bool = False,
    samples: int | None = None,
    reference_samples: int | None = None,
    simulator_samples: int | None = None,
    backends: tuple[str, ...] = DEFAULT_BACKENDS,
    simulators: tuple[str, ...] = ("nest", "brian2"),
    skip_hicann: bool = False,
    skip_wafer: bool = False,
    wafer_hicanns: int | None = None,
    wafer_bio_s: float | None = None,
    hicann_bio_s: float | None = None,
    dt_ms: float = 0.1,
    brian2_target: str = "cpp_standalone",
    repeat: int | None = None,
    profile: bool = False,
    seed: int = 0,
    timeout_s: float = 1800.0,
) -> dict:
    """Run the benchmark (docs/benchmarks.md) and return its results as a JSON-ready dict.

    ``quick`` shrinks every size (for tests: seconds, not minutes; its targets are not
    judged); explicit sizes override either preset. Every paper-network run uses the step
    ``dt_ms`` (a backend spec's own ``dt_ms`` wins). Simulators that are not importable are
    reported as ``None`` (with the reason under ``paper_network.unavailable``).
    """
    from hal.errors import ConfigError

    preset = _settings(quick, dict(samples=samples, reference_samples=reference_samples, simulator_samples=simulator_samples,
                                   wafer_hicanns=wafer_hicanns, wafer_bio_s=wafer_bio_s, hicann_bio_s=hicann_bio_s, repeat=repeat))
    unknown = set(simulators) - {"nest", "brian2"}
    if unknown:
        raise ConfigError(f"bench simulators: {sorted(unknown)} unknown; known: brian2, nest")
    started, load_start = time.perf_counter(), os.getloadavg()
    paper: dict[str, Any] = {"network": describe_paper_network(seed, preset["samples"]), "unavailable": {}}
    if not (isinstance(dt_ms, (int, float)) and 0.001 <= dt_ms <= 0.1):
        raise ConfigError(f"bench dt_ms: {dt_ms!r} out of range; valid 0.001..0.1 ms (the reference backend's range)")
    _time_backends(paper, backends, preset, seed, profile, timeout_s, dt_ms)
    _time_simulators(paper, simulators, preset, seed, dt_ms, brian2_target, timeout_s, quick)
    paper["speedup"] = _speedups(paper)
    reference = next((paper[spec] for spec in backends if _backend_spec(spec)[0] == "reference"), None)
    paper["agreement_with_reference"] = {name: agreement(paper.get(name), reference)
                                         for name in (*backends, "nest", "brian2") if paper.get(name) and paper.get(name) is not reference}
    result: dict[str, Any] = {"paper_network": paper, "hicann": None, "wafer": None}
    if not skip_hicann:
        result["hicann"] = in_subprocess("hicann", timeout_s, scenario="full", n_hicanns=1, bio_s=preset["hicann_bio_s"], seed=seed,
                                         backend="emulator")
    if not skip_wafer:
        result["wafer"] = in_subprocess("wafer", timeout_s, scenario="full", n_hicanns=preset["wafer_hicanns"], bio_s=preset["wafer_bio_s"],
                                        seed=seed, backend="emulator")
    result["total_wall_s"] = time.perf_counter() - started
    result["quick"] = quick
    result["machine"] = {**machine(), "load_average_start": load_start, "load_average_end": os.getloadavg()}
    result["settings"] = {**preset, "dt_ms": dt_ms, "brian2_target": brian2_target, "seed": seed,
                          "backends": list(backends), "simulators": list(simulators)}
    result["targets"] = targets(result, judged=not quick)
    return result
