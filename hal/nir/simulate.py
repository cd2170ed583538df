"""A NIR graph simulated as NIR defines it: the yardstick :func:`hal.nir.from_nir`'s mapping is measured against.

The graphs :func:`hal.nir.from_nir` imports (``Input``, ``Affine``/``Linear``, ``LIF``,
``CubaLIF``, ``IF``, ``LI``, ``CubaLI``, ``Output``), integrated exactly between spikes:

* ``LIF``/``LI``: ``tau dv/dt = (v_leak - v) + r I``; ``IF``: ``dv/dt = r I``;
  ``CubaLIF``/``CubaLI``: ``tau_syn dI/dt = -I + w_in x``, ``tau_mem dv/dt = (v_leak - v) + r I``;
  ``v > v_threshold`` fires and sets ``v = v_reset``;
* ``x`` is the weight nodes' output: ``W s + b``, where a spike ``s`` is an impulse of area
  ``dt_s`` (an input of 1 held for one step, see :mod:`hal.nir.importer`) and ``b`` a constant;
* the state is advanced with the exact solution of the linear equations over sub-steps of
  ``dt_s / substeps``; a neuron's spike reaches its targets one sub-step later (the graph has no
  delays; this is the smallest one a time grid allows), an input spike at the start of its step.

Vectorised over samples; numpy only.
"""

from __future__ import annotations

import attrs
import numpy as np

from hal.errors import ConfigError
from hal.nir._extra import require
from hal.nir.graph import kind, read_graph
from hal.nir.importer import DEFAULT_DT_S

__all__ = ["simulate", "Simulation"]


@attrs.frozen(eq=False)
class Simulation:
    """Per neuron node: ``counts`` (samples, size), ``spikes`` (samples, steps, size) per step, ``v`` (samples, steps, size) at each step's end."""

    counts: dict
    spikes: dict
    v: dict


def _param(node, field: str, size: int, default: float | None = None) -> np.ndarray:
    value = getattr(node, field, None)
    if value is None:
        if default is None:
            raise ConfigError(f"NIR {kind(node)} has no {field}")
        value = default
    return np.broadcast_to(np.asarray(value, dtype=float).ravel() if np.ndim(value) else float(value), (size,)).copy()


def simulate(graph, spikes, *, dt_s: float = DEFAULT_DT_S, substeps: int = 20, tail_steps: int = 0) -> Simulation:
    """Run ``graph`` on ``spikes`` (per ``Input`` node (samples, steps, size) of 0/1, or one array); see the module docstring."""
    require("nir", "hal.nir.simulate")
    parts = read_graph(graph)
    if not isinstance(spikes, dict):
        if len(parts.inputs) != 1:
            raise ConfigError(f"simulate: the graph has {len(parts.inputs)} inputs; give spikes as a dict by input")
        spikes = {next(iter(parts.inputs)): spikes}
    unknown = sorted(set(spikes) - set(parts.inputs))
    missing = sorted(set(parts.inputs) - set(spikes))
    if unknown or missing:
        raise ConfigError(f"simulate: spikes for {sorted(spikes)}; the graph's inputs are {sorted(parts.inputs)}")
    arrays = {}
    for name, size in parts.inputs.items():
        a = np.asarray(spikes[name], dtype=float)
        if a.ndim != 3 or a.shape[2] != size:
            raise ConfigError(f"simulate: spikes of input {name!r} of shape {a.shape}; expected (samples, steps, {size})")
        arrays[name] = a
    if len({a.shape[:2] for a in arrays.values()}) > 1:
        raise ConfigError(f"simulate: inputs disagree on (samples, steps): {[a.shape[:2] for a in arrays.values()]}")
    if not (isinstance(substeps, int) and substeps >= 1 and isinstance(tail_steps, int) and tail_steps >= 0):
        raise ConfigError(f"simulate: substeps {substeps!r} (valid an integer >= 1) or tail_steps {tail_steps!r} (valid an integer >= 0) out of range")
    samples, steps = next(iter(arrays.values())).shape[:2]
    total = steps + tail_steps
    h = dt_s / substeps
    state = {}
    for name in parts.neurons:
        node = graph.nodes[name]
        k = kind(node)
        n = next(np.asarray(getattr(node, f)).size for f in ("v_threshold", "r") if getattr(node, f, None) is not None)
        p = {"r": _param(node, "r", n)}
        if k in ("LIF", "LI"):
            p["tau"] = _param(node, "tau", n)
        if k in ("CubaLIF", "CubaLI"):
            p["tau"], p["tau_syn"], p["w_in"] = _param(node, "tau_mem", n), _param(node, "tau_syn", n), _param(node, "w_in", n)
        p["v_leak"] = _param(node, "v_leak", n, 0.0) if k != "IF" else np.zeros(n)
        if k in ("LIF", "CubaLIF", "IF"):
            p["v_th"], p["v_reset"] = _param(node, "v_threshold", n), _param(node, "v_reset", n, 0.0)
        bias = sum((np.broadcast_to(c.bias, (n,)) for c in parts.incoming[name] if c.bias is not None), np.zeros(n))
        state[name] = {"kind": k, "p": p, "bias": bias, "v": np.broadcast_to(p["v_leak"], (samples, n)).copy(),
                       "I": np.zeros((samples, n)), "fired": np.zeros((samples, n))}
    out_spikes = {name: np.zeros((samples, total, s["v"].shape[1])) for name, s in state.items()}
    out_v = {name: np.zeros((samples, total, s["v"].shape[1])) for name, s in state.items()}
    for step in range(total):
        for sub in range(substeps):
            # impulses: input spikes at a step's start, neuron spikes of the previous sub-step
            drive = {name: np.zeros_like(s["v"]) for name, s in state.items()}
            for name in parts.neurons:
                for c in parts.incoming[name]:
                    if c.source in arrays:
                        if sub == 0 and step < steps:
                            drive[name] += arrays[c.source][:, step, :].reshape(samples, -1) @ c.weight.T
                    else:
                        drive[name] += state[c.source]["fired"] @ c.weight.T
            for name, s in state.items():
                _advance(s, drive[name] * dt_s, h)
            for name, s in state.items():
                out_spikes[name][:, step] += s["fired"]
        for name, s in state.items():
            out_v[name][:, step] = s["v"]
    return Simulation({n: a.sum(axis=1) for n, a in out_spikes.items()}, out_spikes, out_v)


def _advance(s: dict, impulse: np.ndarray, h: float) -> None:
    """Apply the impulses (area of the input) and integrate ``h`` seconds exactly; mark and reset spikes."""
    k, p, b = s["kind"], s["p"], s["bias"]
    if k in ("CubaLIF", "CubaLI"):
        s["I"] += p["w_in"] * impulse / p["tau_syn"]
        c = p["w_in"] * b  # the current's constant part
        d = s["I"] - c
        v_eq = p["v_leak"] + p["r"] * c
        tm, ts = p["tau"], p["tau_syn"]
        ts = np.where(np.isclose(ts, tm), ts * (1 + 1e-9), ts)
        a = p["r"] * d * ts / (ts - tm)
        s["v"] = v_eq + a * np.exp(-h / ts) + (s["v"] - v_eq - a) * np.exp(-h / tm)
        s["I"] = c + d * np.exp(-h / ts)
    elif k in ("LIF", "LI"):
        s["v"] += p["r"] * impulse / p["tau"]
        v_eq = p["v_leak"] + p["r"] * b
        s["v"] = v_eq + (s["v"] - v_eq) * np.exp(-h / p["tau"])
    else:  # IF
        s["v"] += p["r"] * (impulse + b * h)
    if "v_th" in p:
        fired = s["v"] > p["v_th"]
        s["v"] = np.where(fired, p["v_reset"], s["v"])
        s["fired"] = fired.astype(float)
