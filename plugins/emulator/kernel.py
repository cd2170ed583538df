"""Python side of the emulator kernel: validation, units, allocation, threads.

:func:`simulate` integrates a network of conductance-based LIF (optionally
AdEx) neurons for a batch of samples. Samples are split into small blocks
(cache-sized); a pool of threads runs the compiled kernel
(``_kernel.run_block``, which releases the GIL) on one block at a time, each on
its own state, so the threads never touch shared data.
Time is advanced in chunks; each chunk's spike buffer grows on demand (the
chunk is re-run from a saved state if it overflows).

``simulate_numpy`` is a slow pure-NumPy twin of the same scheme, used by the
tests to check the compiled kernel.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import attrs
import numpy as np

from hal.errors import BackendError, ConfigError
from hal.backend.events import sort_order

__all__ = ["EmulatorNetwork", "EmulatorResult", "simulate", "simulate_numpy", "simd_levels", "kernel_available", "DEFAULT_DT_MS"]

DEFAULT_DT_MS = 0.05
_BLOCK_SAMPLES = 64

try:  # the compiled kernel is optional at import time, so that `hal plugins` works without a build
    from hal_plugins.emulator import _kernel
except ImportError as exc:  # pragma: no cover - exercised only without a build
    _kernel = None
    _IMPORT_ERROR = exc
else:
    _IMPORT_ERROR = None


def kernel_available() -> bool:
    return _kernel is not None


def simd_levels() -> list[str]:
    """The SIMD levels of the compiled LIF pass that this CPU runs, best last (``[]`` without a kernel)."""
    return _kernel.simd_levels() if _kernel is not None else []


def _simd_level(kernel, simd: str | None) -> int:
    supported = kernel.simd_levels()
    if simd is None:
        simd = supported[-1]
    if simd not in supported:
        raise ConfigError(f"emulator simd: {simd!r} not available on this CPU; valid {', '.join(supported)}")
    return kernel.SIMD_LEVELS[simd]


def _require_kernel():
    if _kernel is None:
        raise BackendError(
            f"the emulator's compiled kernel is not built ({_IMPORT_ERROR}); build it with "
            f"`pip install -e .` (needs cython, numpy and a C compiler)"
        )
    return _kernel


_PARAMS = ("c_m_pf", "g_l_ns", "e_l_mv", "v_th_mv", "v_reset_mv", "e_rev_e_mv", "e_rev_i_mv", "tau_syn_e_ms", "tau_syn_i_ms", "t_ref_ms")
_ADEX = ("a_ns", "b_pa", "tau_w_ms", "delta_t_mv", "v_exp_mv")


@attrs.frozen(eq=False)
class EmulatorNetwork:
    """Neurons (biological units, one value per neuron), connections and input events.

    ``params`` holds :data:`_PARAMS` (and, for AdEx, :data:`_ADEX`); ``pre`` indexes
    sources (``< n_sources``) or neurons (``n_sources + k``); inputs are
    ``(sample, time_ms, source)`` arrays.
    """

    params: dict
    n_sources: int
    pre: np.ndarray
    post: np.ndarray
    weight_ns: np.ndarray
    excitatory: np.ndarray
    delay_ms: float
    in_sample: np.ndarray
    in_time_ms: np.ndarray
    in_source: np.ndarray
    adex: bool = False

    @property
    def n_neurons(self) -> int:
        return int(np.asarray(self.params["c_m_pf"]).size)

    def validate(self) -> None:
        n = self.n_neurons
        for key in _PARAMS + (_ADEX if self.adex else ()):
            value = np.asarray(self.params.get(key, np.nan), dtype=float)
            if value.shape != (n,) or not np.all(np.isfinite(value)):
                raise ConfigError(f"emulator parameter {key}: expected {n} finite values, got {value!r}")
        for key in ("c_m_pf", "tau_syn_e_ms", "tau_syn_i_ms"):
            if np.any(np.asarray(self.params[key]) <= 0):
                raise ConfigError(f"emulator parameter {key}: all values must be > 0")
        if np.any(np.asarray(self.params["g_l_ns"]) < 0):
            raise ConfigError("emulator parameter g_l_ns: all values must be >= 0 (0: leak off)")
        if self.delay_ms <= 0:
            raise ConfigError(f"emulator delay_ms: {self.delay_ms} out of range; valid > 0")
        if self.pre.size and (self.pre.min() < 0 or self.pre.max() >= self.n_sources + n):
            raise ConfigError(f"emulator connections: pre index out of range 0..{self.n_sources + n - 1}")
        if self.post.size and (self.post.min() < 0 or self.post.max() >= n):
            raise ConfigError(f"emulator connections: post index out of range 0..{n - 1}")


@attrs.frozen(eq=False)
class EmulatorResult:
    spike_sample: np.ndarray
    spike_time_ms: np.ndarray
    spike_neuron: np.ndarray
    membrane: np.ndarray | None  # (record, samples, times)
    membrane_times_ms: np.ndarray | None


def _connections(net: EmulatorNetwork, dtype) -> dict:
    """The connections as two CSR tables (from sources, from neurons), in the kernel's types.

    Synapses with the same source, target and sign are merged into one with their summed weight:
    an event's effect is linear in the weight, and on a full HICANN every background event reaches
    each neuron through 56 synapses (driver x row), which the kernel would otherwise process one
    by one (14x fewer entries on the wafer). Where no two synapses share (source, target, sign) --
    the paper network -- nothing changes, bit for bit. One stable sort by (pre, post, sign) serves
    both tables (sources come first in ``pre``); it is skipped when the table is already in that
    order; columns are narrowed to their kernel type before they are gathered -- at wafer scale
    (44 M synapses) every temporary column is 0.2-0.35 GB.
    """
    n_pre = net.n_sources + net.n_neurons
    span = 2 * max(net.n_neurons, 1)  # (post, sign) pairs per presynaptic index
    # Built in place in one int64 column (integers: the same as pre * span + post * 2 + excitatory):
    # at wafer scale each temporary of that expression is 0.35 GB.
    key = np.array(net.pre, dtype=np.int64)
    key *= span
    key += net.post
    key += net.post
    key += net.excitatory
    order = None if key.size < 2 or bool(np.all(key[1:] > key[:-1])) else np.argsort(key, kind="stable")
    if order is not None:
        key.sort(kind="stable")  # in place: the same as key[order] without a third 8-byte column
    starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1]))) if key.size else np.zeros(0, np.int64)
    merged = starts.size < key.size
    pre = key[starts] // span if merged else key // span
    del key  # before the weights are gathered: at wafer scale one 8-byte column less at the peak

    def gathered(column, out_dtype):
        column = np.ascontiguousarray(column, dtype=out_dtype)  # narrowed before the gather: half the bytes moved
        column = column if order is None else np.take(column, order)
        return column[starts] if merged else column

    weight = np.asarray(net.weight_ns, dtype=float)
    if merged:  # summed in float64, then narrowed
        weight = np.add.reduceat(weight if order is None else weight[order], starts)
        order_for_weight = None
    else:
        order_for_weight = order
    weight = np.ascontiguousarray(weight if order_for_weight is None else np.take(weight, order_for_weight), dtype=dtype)
    counts = np.bincount(pre, minlength=n_pre)
    ptr = np.zeros(counts.size + 1, np.int64)
    np.cumsum(counts, out=ptr[1:])
    split = int(ptr[net.n_sources])
    post = gathered(net.post, np.int32)
    exc = gathered(net.excitatory, np.int8)
    src_ptr = ptr[: net.n_sources + 1].astype(np.int32) if net.n_sources else np.zeros(2, np.int32)
    return dict(
        nrn_ptr=(ptr[net.n_sources:] - split).astype(np.int32), nrn_post=post[split:], nrn_w=weight[split:], nrn_exc=exc[split:],
        src_ptr=src_ptr, src_post=post[:split], src_w=weight[:split], src_exc=exc[:split],
    )


def _prepared(net: EmulatorNetwork, dt: float, dtype):
    p = {k: np.asarray(v, dtype=float) for k, v in net.params.items()}
    f = lambda a: np.ascontiguousarray(a, dtype=dtype)  # noqa: E731
    tau_e, tau_i = p["tau_syn_e_ms"], p["tau_syn_i_ms"]
    decay_e, decay_i = np.exp(-dt / tau_e), np.exp(-dt / tau_i)
    n = net.n_neurons
    adex = {}
    if net.adex:
        adex = dict(a=f(p["a_ns"]), b=f(p["b_pa"]), inv_tau_w=f(dt / p["tau_w_ms"]), delta_t=f(p["delta_t_mv"]), v_exp=f(p["v_exp_mv"]))
    else:
        zeros = f(np.zeros(n))
        adex = dict(a=zeros, b=zeros, inv_tau_w=zeros, delta_t=zeros, v_exp=zeros)
    neuron = dict(
        v_th=f(p["v_th_mv"]), v_reset=f(p["v_reset_mv"]), e_l=f(p["e_l_mv"]), e_e=f(p["e_rev_e_mv"]), e_i=f(p["e_rev_i_mv"]),
        g_l=f(p["g_l_ns"]), h=f(dt / p["c_m_pf"]), decay_e=f(decay_e), decay_i=f(decay_i),
        avg_e=f(tau_e / dt * (1 - decay_e)), avg_i=f(tau_i / dt * (1 - decay_i)),
        inv_tau_e=f(dt / tau_e), inv_tau_i=f(dt / tau_i), t_ref=f(p["t_ref_ms"] / dt),
    )
    return neuron, adex, _connections(net, dtype)


@attrs.frozen(eq=False)
class _Plan:
    """Everything one block of samples needs to run, shared read-only by the threads."""

    kernel: Any
    neuron: dict
    adex: dict
    conn: dict
    adex_on: bool
    dtype: np.dtype
    dt: float
    n_steps: int
    delay: float
    bounds: np.ndarray
    in_step: np.ndarray
    in_offset: np.ndarray
    in_sample: np.ndarray
    in_source: np.ndarray
    record: np.ndarray
    rec_every: int
    n_rec_t: int
    simd: int


def _inputs(net: EmulatorNetwork, dt: float, n_steps: int):
    """Inputs as (step, offset within the step, sample, source), sorted by (sample, step)."""
    t_steps = np.asarray(net.in_time_ms, dtype=float) / dt
    in_step = np.floor(t_steps).astype(np.int64)
    keep = (in_step >= 0) & (in_step < n_steps)
    in_step, in_offset = in_step[keep], (t_steps - np.floor(t_steps))[keep]
    in_sample, in_source = np.asarray(net.in_sample)[keep].astype(np.int64), np.asarray(net.in_source)[keep]
    # The kernel walks each sample's events in step order: sort by (sample, step) -- usually a no-op
    # (the link model's queues may have moved some events later).
    order = sort_order(in_sample, in_step)
    if order is not None:
        in_step, in_offset, in_sample, in_source = in_step[order], in_offset[order], in_sample[order], in_source[order]
    return in_step, in_offset, in_sample, in_source


def _aligned(shape: tuple[int, ...], dtype, fill=0.0) -> np.ndarray:
    """A C-ordered array starting on a 64-byte boundary, filled with ``fill`` (broadcast).

    With rows of whole vectors, every row starts aligned too: the compiler's loop then never
    peels a different number of scalar iterations for different rows or runs.
    """
    dtype = np.dtype(dtype)
    size = int(np.prod(shape))
    raw = np.empty(size * dtype.itemsize + 64, np.uint8)
    start = -raw.ctypes.data % 64
    out = raw[start:start + size * dtype.itemsize].view(dtype).reshape(shape)
    out[...] = fill
    return out


def _run_block(plan: _Plan, block: int):
    """Run samples ``bounds[block]:bounds[block + 1]`` through all steps on their own state.

    The kernel runs until its spike buffer could not take another step's worst case; the
    buffer is then set aside and a larger one continues (no state is copied or re-run).
    """
    dtype, neuron = plan.dtype, plan.neuron
    n = neuron["e_l"].size
    s0, s1 = plan.bounds[block], plan.bounds[block + 1]
    # No padding is needed for a sample's result to be independent of its block: without reassociation and
    # FMA contraction (setup.py) the vector body and its remainder loop round alike.
    m = s1 - s0
    lo, hi = np.searchsorted(plan.in_sample, [s0, s1])
    b_step = plan.in_step[lo:hi].astype(np.int32)
    b_source = plan.in_source[lo:hi].astype(np.int32)
    b_offset = np.ascontiguousarray(plan.in_offset[lo:hi], dtype=dtype)
    bounds_in_block = np.searchsorted(plan.in_sample[lo:hi], np.arange(s0, s1 + 1))
    state = {
        "v": _aligned((n, m), dtype, neuron["e_l"][:, None]),
        "ge": _aligned((n, m), dtype), "gi": _aligned((n, m), dtype),
        "ae": _aligned((n, m), dtype), "ai": _aligned((n, m), dtype), "w_ad": _aligned((n, m), dtype),
        "refr": _aligned((n, m), dtype, -1.0),
        "in_cursor": bounds_in_block[:-1].astype(np.int64),
    }
    n_slots = int(math.ceil(plan.delay)) + 3
    # A slot takes the spikes of two steps (one step's late in the step, the next's early) when a
    # refractory period shorter than a step lets a neuron fire in consecutive steps: room for both.
    per_slot = 2 * n * m
    ring = {
        "ring_neuron": np.zeros((n_slots, per_slot), np.int32), "ring_sample": np.zeros((n_slots, per_slot), np.int32),
        "ring_offset": np.zeros((n_slots, per_slot), dtype), "ring_count": np.zeros(n_slots, np.int32),
    }
    rec_v = np.zeros((plan.record.size, m, plan.n_rec_t), dtype)
    scratch = {"tmp_v": _aligned((m,), dtype), "touched": np.zeros(n, np.int8), "refr_max": np.zeros(n, dtype)}
    # Room for about 50 Hz per neuron over the whole run, and always for one step's worst case.
    capacity = n * m + max(4096, int(n * m * plan.n_steps * plan.dt * 1e-3 * 50))
    out = []
    step = 0
    while step < plan.n_steps:
        buf = (np.empty(capacity, np.int32), np.empty(capacity, np.int32), np.empty(capacity, np.int32), np.empty(capacity, dtype))
        count, done = plan.kernel.run_block(
            **neuron, adex=int(plan.adex_on), **plan.adex, **plan.conn, delay=dtype.type(plan.delay),
            in_step=b_step, in_source=b_source, in_offset=b_offset, in_end=bounds_in_block[1:].astype(np.int64),
            **state, step0=step, n_steps=plan.n_steps - step, rec_neuron=plan.record, rec_every=plan.rec_every, rec_v=rec_v,
            out_step=buf[0], out_neuron=buf[1], out_sample=buf[2], out_offset=buf[3], **ring, **scratch, simd=plan.simd,
        )
        out.append(tuple(a[:count] for a in buf))
        step += done
        capacity *= 2
    step_, neuron_, sample_, offset_ = (np.concatenate([o[i] for o in out]) for i in range(4))
    return sample_ + s0, (step_ + offset_.astype(float)) * plan.dt, neuron_, rec_v


def simulate(
    net: EmulatorNetwork,
    n_samples: int,
    duration_ms: float,
    *,
    dt_ms: float = DEFAULT_DT_MS,
    record: np.ndarray | None = None,
    record_every_ms: float = 0.1,
    dtype=np.float64,
    threads: int | None = None,
    simd: str | None = None,
) -> EmulatorResult:
    """Run ``net`` for ``n_samples`` independent samples of ``duration_ms`` (biological ms).

    ``simd`` picks the compiled LIF pass (``"avx512"``, ``"avx2"``, ``"baseline"``; one of
    :func:`simd_levels`); ``None``, the default, the best this CPU runs.
    """
    kernel = _require_kernel()
    level = _simd_level(kernel, simd)
    net.validate()
    if n_samples < 1:
        raise ConfigError(f"emulator n_samples: {n_samples} out of range; valid >= 1")
    if not (dt_ms > 0 and duration_ms > 0):
        raise ConfigError(f"emulator: dt_ms {dt_ms} and duration_ms {duration_ms} must be > 0")
    dtype = np.dtype(dtype)
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ConfigError(f"emulator dtype: {dtype} not supported; valid float32, float64")
    dt = float(dt_ms)
    n_steps = int(math.ceil(duration_ms / dt - 1e-9))
    neuron, adex, conn = _prepared(net, dt, dtype)
    record = np.zeros(0, dtype=np.int32) if record is None else np.ascontiguousarray(record, dtype=np.int32)
    rec_every = max(1, int(round(record_every_ms / dt)))
    threads = threads or min(os.cpu_count() or 1, n_samples, 8)
    # Small blocks of samples keep a block's state in cache while it runs through all its steps
    # (the state of all samples at once would be streamed from memory every step).
    block = max(1, min(_BLOCK_SAMPLES, -(-n_samples // threads)))
    bounds = np.append(np.arange(0, n_samples, block), n_samples)
    in_step, in_offset, in_sample, in_source = _inputs(net, dt, n_steps)
    plan = _Plan(kernel, neuron, adex, conn, net.adex, dtype, dt, n_steps, float(net.delay_ms / dt), bounds,
                 in_step, in_offset, in_sample, in_source, record, rec_every, n_steps // rec_every, level)

    n_blocks = bounds.size - 1
    if threads == 1:
        results = [_run_block(plan, b) for b in range(n_blocks)]
    else:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            results = list(pool.map(lambda b: _run_block(plan, b), range(n_blocks)))
    sample = np.concatenate([r[0] for r in results]).astype(np.int64)
    time = np.concatenate([r[1] for r in results])
    neuron_idx = np.concatenate([r[2] for r in results]).astype(np.int64)
    order = sort_order(sample, time)
    if order is None:
        order = slice(None)
    membrane = None
    times = None
    if record.size:
        membrane = np.concatenate([r[3] for r in results], axis=1).astype(float)
        times = (np.arange(plan.n_rec_t) + 1) * rec_every * dt
    return EmulatorResult(sample[order], time[order], neuron_idx[order], membrane, times)


def simulate_numpy(net: EmulatorNetwork, n_samples: int, duration_ms: float, *, dt_ms: float = DEFAULT_DT_MS) -> EmulatorResult:
    """The same scheme in plain NumPy (LIF only, no recording): slow, for testing the compiled kernel."""
    net.validate()
    dt = float(dt_ms)
    n_steps = int(math.ceil(duration_ms / dt - 1e-9))
    neuron, _, _ = _prepared(net, dt, np.float64)
    n = net.n_neurons
    v = np.repeat(neuron["e_l"][:, None], n_samples, axis=1)
    ge = np.zeros((n, n_samples))
    gi = np.zeros((n, n_samples))
    ae = np.zeros((n, n_samples))
    ai = np.zeros((n, n_samples))
    refr = np.full((n, n_samples), -1.0)
    delay = net.delay_ms / dt
    pending: dict[int, list] = {}
    t_steps = np.asarray(net.in_time_ms) / dt
    for s, t, src in zip(net.in_sample, t_steps, net.in_source):
        pending.setdefault(int(np.floor(t)), []).append((int(s), int(src), t - np.floor(t)))
    src_mask = net.pre < net.n_sources
    out = []
    P = {k: v_[:, None] for k, v_ in neuron.items()}
    for step in range(n_steps):
        for s, pre, off in pending.pop(step, []):
            idx = np.flatnonzero(net.pre == pre) if pre >= net.n_sources else np.flatnonzero(src_mask & (net.pre == pre))
            for k in idx:
                tgt = net.post[k]
                g, extra, sfx = (ge, ae, "e") if net.excitatory[k] else (gi, ai, "i")
                inv_tau, avg = neuron[f"inv_tau_{sfx}"][tgt], neuron[f"avg_{sfx}"][tgt]
                x = net.weight_ns[k] * np.exp(off * inv_tau)
                g[tgt, s] += x
                extra[tgt, s] += net.weight_ns[k] * (1 - np.exp(-(1 - off) * inv_tau)) / inv_tau - x * avg
        gei, gii = ge * P["avg_e"] + ae, gi * P["avg_i"] + ai
        ae[...] = 0
        ai[...] = 0
        clamped = refr >= step + 1
        partial = (refr > step) & ~clamped
        start = np.where(partial, refr - step, 0.0)
        v0 = np.where(partial, P["v_reset"], v)
        rem = 1 - start
        g_tot = P["g_l"] + gei + gii
        cur = P["g_l"] * P["e_l"] + gei * P["e_e"] + gii * P["e_i"]
        x = P["h"] * g_tot * rem
        v1 = (v0 * (1 - x / 2) + P["h"] * cur * rem) / (1 + x / 2)
        ge *= P["decay_e"]
        gi *= P["decay_i"]
        spike = (v1 >= P["v_th"]) & ~clamped
        frac = np.clip(np.where(v1 > v0, start + rem * (P["v_th"] - v0) / np.where(v1 > v0, v1 - v0, 1), start), 0, 1)
        v = np.where(clamped, P["v_reset"], np.where(spike, P["v_reset"], v1))
        for nn, s in zip(*np.nonzero(spike)):
            t_spike = step + frac[nn, s]
            refr[nn, s] = t_spike + neuron["t_ref"][nn]
            out.append((s, t_spike * dt, nn))
            arrive = frac[nn, s] + delay
            pending.setdefault(step + int(np.floor(arrive)) if np.floor(arrive) >= 1 else step + 1, []).append((int(s), int(net.n_sources + nn), arrive - np.floor(arrive) if np.floor(arrive) >= 1 else 0.0))
    if not out:
        z = np.zeros(0)
        return EmulatorResult(z.astype(np.int64), z, z.astype(np.int64), None, None)
    arr = np.array(out)
    order = np.lexsort((arr[:, 1], arr[:, 0]))
    arr = arr[order]
    return EmulatorResult(arr[:, 0].astype(np.int64), arr[:, 1], arr[:, 2].astype(np.int64), None, None)
