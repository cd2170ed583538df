"""The ``torch`` backend: the trainers' software twin run on the register-level configuration.

Like the reference backend it is the ideal chip: the registers are read through
:func:`hal.netlist.wiring.extract_wiring` (nominal transfer functions, no mismatch, no noise),
links are lossless, and every connection (from an FPGA source or from a neuron) has the L1
delay :data:`hal.netlist.bio.L1_DELAY_HW_S`. What differs is the integrator: all logical
neurons of the configuration are stepped together by :func:`hal_plugins.torch.dynamics.integrate`
on a fixed grid of ``dt_ms``, vectorised over the samples of a batch, on CPU or GPU.

Grid (step ``k`` is ``[k dt, (k+1) dt)``, biological ms):

* An input event arriving at ``t_a = (k + f) dt`` (its FPGA tick plus the L1 delay) is split
  between the starts of steps ``k`` and ``k+1`` with weights ``1 - f`` and ``f``: the
  conductance's integral and its centre in time are those of the exact event. On a grid that
  divides both the tick (0.04 ms) and the L1 delay (0.1 ms), e.g. 0.02 ms, every input event
  lies on a step's start and the split is exact.
* A neuron spikes at the end of the step in which ``V >= V_th``; that grid time, rounded to a
  tick, is what the trace reports (the reference solves for the crossing inside the step).
* A neuron's spike reaches its targets :data:`recurrent_delay_steps` later: the start of the step
  closest to ``grid spike time - dt/2 + L1 delay`` (the crossing lies on average half a step
  before the grid time).
* Membranes are sampled every ``membrane_interval`` ticks, at ``0, interval, ...``, as the
  reference samples them: the value at a step's start, ``V_reset`` after a spike and while
  refractory; ``dt`` is made to divide the interval (:func:`hal.netlist.bio.integration_step`).

The error this buys against the reference is measured in ``tests/plugins/torch/``.

Options: ``dt_ms`` (default :data:`DEFAULT_DT_MS`), ``device`` (``"auto"``: CUDA when torch
sees a GPU, else CPU; ``"cpu"``, ``"cuda"``), ``dtype`` (``"float32"``, ``"float64"``),
``threads`` (``torch.set_num_threads`` for the run, restored afterwards; torch's default when
not given), ``chunk_mib`` (the memory one chunk of samples may take, default
:data:`DEFAULT_CHUNK_MIB`: a batch whose ``(samples, steps, neurons)`` tensors would not fit
runs in chunks of samples; a chunk holds about :data:`TENSORS_PER_CHUNK` of them at its peak).
"""

from __future__ import annotations

import contextlib
import math

import attrs
import numpy as np
import torch

from hal.analog.domains import PAPER_DOMAINS, Domains
from hal.backend import Backend, Capabilities, HardwareEvents, RunRequest, RunResult
from hal.errors import CapabilityError, ConfigValueError
from hal.logging import get_logger
from hal.netlist import Netlist, build_netlist, trace_events
from hal.netlist.bio import L1_DELAY_HW_S, bio_parameters, integration_step, membrane_neurons
from hal.netlist.wiring import Wiring, extract_wiring
from hal_plugins.torch.dynamics import NeuronTensors, integrate

__all__ = ["TorchBackend", "DEFAULT_DT_MS", "DEFAULT_CHUNK_MIB", "TENSORS_PER_CHUNK", "DEVICES", "DTYPES", "recurrent_delay_steps"]

log = get_logger(__name__)

#: Default step (biological ms). It divides the FPGA tick (0.04 ms) and the L1 delay (0.1 ms),
#: so input events are exact; the agreement with the reference it buys is measured in the tests.
DEFAULT_DT_MS = 0.02
#: Valid values of the ``device`` option.
DEVICES = ("auto", "cpu", "cuda")
#: Valid values of the ``dtype`` option.
DTYPES = {"float32": torch.float32, "float64": torch.float64}
#: Default memory budget of one chunk of samples, MiB. Every step's spikes and membranes are kept
#: (integrate returns them whole), so a sample of 1 s of the paper network takes 216 MiB at 0.02 ms:
#: long runs of many samples run in several chunks, each paying the steps' fixed cost again.
DEFAULT_CHUNK_MIB = 2048.0
#: (samples, steps, neurons) tensors a chunk holds at its peak: the two input conductances, the
#: steps' spikes and membranes as lists and stacked, and the allocator's slack (measured: peak
#: resident memory grows by 7.9-8.4 times one such tensor).
TENSORS_PER_CHUNK = 8


def recurrent_delay_steps(delay_ms: float, dt_ms: float) -> int:
    """Steps from a neuron's spike step to the step its spike arrives in (``recurrent_delay`` of
    :func:`~hal_plugins.torch.dynamics.integrate`, >= 1).

    A spike found in step ``k`` is reported at ``(k+1) dt``; the crossing lies on average at
    ``(k + 1/2) dt``. Arriving ``delay_ms`` after that, it is added at the start of step
    ``k + round(delay_ms / dt + 1/2)``.
    """
    return max(1, math.floor(delay_ms / dt_ms + 1.0 + 1e-9))  # round(delay / dt + 1/2), halves up


def _resolve_device(device: object) -> torch.device:
    if device not in DEVICES:
        raise ConfigValueError("torch backend", "device", device, ", ".join(DEVICES))
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigValueError("torch backend", "device", device, "auto, cpu (torch sees no CUDA device: torch.cuda.is_available() is False)")
    return torch.device(device)


@contextlib.contextmanager
def _torch_threads(threads: int | None):
    """torch's intra-op threads set to ``threads`` for the block (process-wide, so restored after)."""
    if threads is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@attrs.frozen(eq=False)
class _Model:
    """The network as tensors: neurons, input weights (sources, neurons) and recurrent weights
    (neurons, neurons) [post, pre], all nS biological; recurrent ones None when no neuron feeds any."""

    neurons: NeuronTensors
    input_e: torch.Tensor
    input_i: torch.Tensor
    recurrent_e: torch.Tensor | None
    recurrent_i: torch.Tensor | None


def _model(params: dict[str, np.ndarray], net: Netlist, domains: Domains, device: torch.device, dtype: torch.dtype) -> _Model:
    """Neuron parameters and the connections of the netlist summed into dense weight matrices."""
    n, n_src = net.n_neurons, net.n_sources
    weight = net.conductance_ns / domains.speedup
    exc = net.excitatory.astype(bool)
    from_source = net.pre < n_src

    def matrix(select: np.ndarray, flat: np.ndarray, rows: int, cols: int) -> torch.Tensor:
        summed = np.bincount(flat[select], weights=weight[select], minlength=rows * cols) if rows * cols else np.zeros(0)
        return torch.as_tensor(summed.reshape(rows, cols), dtype=dtype, device=device)

    # int64: the netlist's index columns are int32, and a flat index of a dense matrix outgrows them
    pre, post = net.pre.astype(np.int64), net.post.astype(np.int64)
    src_flat = pre * n + post  # [source, post]
    input_e = matrix(from_source & exc, src_flat, n_src, n)
    input_i = matrix(from_source & ~exc, src_flat, n_src, n)
    recurrent_e = recurrent_i = None
    if not from_source.all():
        rec_flat = post * n + (pre - n_src)  # [post, pre neuron]
        recurrent_e = matrix(~from_source & exc, rec_flat, n, n)
        recurrent_i = matrix(~from_source & ~exc, rec_flat, n, n)
    neurons = NeuronTensors.from_mapping(params, dtype=dtype, device=device)
    return _Model(neurons, input_e, input_i, recurrent_e, recurrent_i)


@attrs.frozen(eq=False)
class _InputGrid:
    """Input events on the grid, sorted by sample: each event's (sample, step, source, weight fraction)."""

    sample: np.ndarray
    step: np.ndarray
    source: np.ndarray
    fraction: np.ndarray

    def chunk(self, first: int, stop: int) -> _InputGrid:
        lo, hi = np.searchsorted(self.sample, [first, stop], side="left")
        return _InputGrid(self.sample[lo:hi] - first, self.step[lo:hi], self.source[lo:hi], self.fraction[lo:hi])


def _input_grid(net: Netlist, domains: Domains, delay_ms: float, dt_ms: float, n_steps: int) -> _InputGrid:
    """Each input event split between the starts of the two steps round its arrival (module docstring)."""
    x = (domains.ticks_to_ms(net.in_time) + delay_ms) / dt_ms
    step = np.floor(x)
    frac = x - step
    on_next = frac > 1 - 1e-6  # on a grid point, up to rounding
    step = np.where(on_next, step + 1, step).astype(np.int64)
    frac = np.where(on_next | (frac < 1e-6), 0.0, frac)
    sample = np.concatenate([net.in_sample, net.in_sample])
    steps = np.concatenate([step, step + 1])
    source = np.concatenate([net.in_source, net.in_source])
    fraction = np.concatenate([1.0 - frac, frac])
    keep = (fraction > 0) & (steps < n_steps)
    order = np.argsort(sample[keep], kind="stable")
    return _InputGrid(sample[keep][order], steps[keep][order], source[keep][order], fraction[keep][order])


def _input_conductances(model: _Model, grid: _InputGrid, n_samples: int, n_steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(samples, steps, neurons) excitatory and inhibitory input conductances (nS) of one chunk.

    The event grid is a sparse (steps x samples, sources) matrix times the input weights. The
    result is laid out time-major and returned as a (samples, steps, neurons) view of it, the
    layout :func:`~hal_plugins.torch.dynamics.integrate` steps through, so it is not copied there.
    """
    neurons = model.neurons
    n, dtype, device = neurons.size, neurons.c_m_pf.dtype, neurons.c_m_pf.device
    rows = torch.as_tensor(grid.step * n_samples + grid.sample, device=device)
    index = torch.stack([rows, torch.as_tensor(grid.source, device=device)])
    events = torch.sparse_coo_tensor(index, torch.as_tensor(grid.fraction, dtype=dtype, device=device),
                                     (n_steps * n_samples, model.input_e.shape[0]), check_invariants=False)

    def conductance(weights: torch.Tensor) -> torch.Tensor:
        if grid.step.size == 0:
            g = torch.zeros(n_steps * n_samples, n, dtype=dtype, device=device)
        else:
            g = torch.sparse.mm(events, weights)
        return g.view(n_steps, n_samples, n).transpose(0, 1)

    return conductance(model.input_e), conductance(model.input_i)


def _chunk_samples(n_samples: int, n_steps: int, n_neurons: int, dtype: torch.dtype, budget_mib: float) -> int:
    """Samples per chunk: as many as fit ``budget_mib`` (at least one)."""
    per_sample = TENSORS_PER_CHUNK * n_steps * n_neurons * torch.empty((), dtype=dtype).element_size()
    return int(min(n_samples, max(1, budget_mib * 2**20 // max(per_sample, 1))))


class TorchBackend(Backend):
    """The ideal chip, integrated on a grid in torch: the trainers' software twin as a backend."""

    name = "torch"
    capabilities = Capabilities(membrane_readout=True, deterministic=True)

    def __init__(self, wafer=0, *, dt_ms: float = DEFAULT_DT_MS, device: str = "auto", dtype: str = "float32",
                 threads: int | None = None, chunk_mib: float = DEFAULT_CHUNK_MIB, domains: Domains = PAPER_DOMAINS,
                 **options):
        super().__init__(wafer, **options)
        if not (isinstance(dt_ms, (int, float)) and not isinstance(dt_ms, bool) and 0.001 <= dt_ms <= 0.1):
            raise ConfigValueError("torch backend", "dt_ms", dt_ms, "0.001 <= dt_ms <= 0.1 (biological ms)")
        if dtype not in DTYPES:
            raise ConfigValueError("torch backend", "dtype", dtype, ", ".join(DTYPES))
        if threads is not None and (not isinstance(threads, int) or isinstance(threads, bool) or threads < 1):
            raise ConfigValueError("torch backend", "threads", threads, "None or an integer >= 1")
        if not (isinstance(chunk_mib, (int, float)) and not isinstance(chunk_mib, bool) and chunk_mib > 0):
            raise ConfigValueError("torch backend", "chunk_mib", chunk_mib, "> 0 (MiB)")
        self.dt_ms = float(dt_ms)
        self.device = _resolve_device(device)
        self.dtype = DTYPES[dtype]
        self.threads = threads
        self.chunk_mib = float(chunk_mib)
        self.domains = domains

    def _run(self, request: RunRequest) -> RunResult:
        config = self.wafer_config()
        wiring = extract_wiring(config)
        self.require_locked()
        _refuse_adex(wiring)
        if len(wiring.neurons) == 0:
            return RunResult(HardwareEvents.empty(), info={"neurons": 0})
        d = self.domains
        net = build_netlist(wiring, request.playback, request.n_samples, request.duration, request.seed)
        membrane_idx = membrane_neurons(wiring, request)
        dt, membrane_dt = integration_step(self.dt_ms, request, d, membrane_idx is not None)
        duration_ms = float(d.ticks_to_ms(request.duration))
        n_steps = math.ceil(duration_ms / dt - 1e-9)
        delay_ms = float(d.hw_s_to_ms(L1_DELAY_HW_S))
        with _torch_threads(self.threads), torch.no_grad():
            model = _model(bio_parameters(wiring.parameters, d), net, d, self.device, self.dtype)
            grid = _input_grid(net, d, delay_ms, dt, n_steps)
            spikes, membrane, chunks = self._integrate(model, grid, request.n_samples, n_steps, dt, delay_ms,
                                                       membrane_idx, membrane_dt, duration_ms)
        sample, step, neuron = spikes
        ticks = d.ms_to_ticks((step + 1) * dt)
        trace = trace_events(wiring, sample, ticks, neuron, config, request.duration)
        times = None
        if membrane is not None:
            times = d.ms_to_ticks(np.arange(membrane.shape[2]) * membrane_dt)
            membrane = d.mv_to_hw_mv(membrane)
        info = {"neurons": net.n_neurons, "synapses": net.n_connections, "sources": net.n_sources, "dt_ms": dt,
                "device": str(self.device), "dtype": str(self.dtype).removeprefix("torch."), "chunks": chunks}
        log.debug("torch_backend_run_finished", backend=self.name, samples=request.n_samples, steps=n_steps,
                  spikes=int(sample.size), **info)
        lost_input = {"unrouted": net.unrouted} if net.unrouted else {}
        return RunResult(trace, membrane, times, lost_input=lost_input, info=info)

    def _integrate(self, model: _Model, grid: _InputGrid, n_samples: int, n_steps: int, dt: float, delay_ms: float,
                   membrane_idx: np.ndarray | None, membrane_dt: float, duration_ms: float):
        """Every chunk of samples through :func:`integrate`: spikes (sample, step, neuron) and membranes (bio mV)."""
        chunk = _chunk_samples(n_samples, n_steps, model.neurons.size, self.dtype, self.chunk_mib)
        delay = recurrent_delay_steps(delay_ms, dt)
        stride = max(1, round(membrane_dt / dt))
        n_times = math.ceil(duration_ms / (stride * dt) - 1e-9)
        found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        membranes: list[np.ndarray] = []
        for first in range(0, n_samples, chunk):
            stop = min(first + chunk, n_samples)
            g_e, g_i = _input_conductances(model, grid.chunk(first, stop), stop - first, n_steps)
            trace = integrate(model.neurons, g_e, g_i, dt, recurrent_e=model.recurrent_e, recurrent_i=model.recurrent_i,
                              recurrent_delay=delay)
            del g_e, g_i
            b, k, j = trace.spikes.nonzero(as_tuple=True)
            found.append((b.cpu().numpy() + first, k.cpu().numpy(), j.cpu().numpy()))
            if membrane_idx is not None:
                membranes.append(_sampled_membrane(model.neurons, trace.v, trace.spikes, membrane_idx, stride, n_times))
            del trace
        spikes = tuple(np.concatenate(column).astype(np.int64) for column in zip(*found))
        membrane = np.concatenate(membranes) if membranes else None
        return spikes, membrane, len(found)


def _sampled_membrane(neurons: NeuronTensors, v: torch.Tensor, spikes: torch.Tensor, idx: np.ndarray, stride: int,
                      n_times: int) -> np.ndarray:
    """(samples, traces, times) V at ``0, stride, 2 stride, ...`` steps' starts: E_L at 0, then the
    end of the step before, ``V_reset`` where that step spiked (as the reference samples)."""
    which = torch.as_tensor(idx, device=v.device)
    at = slice(stride - 1, stride * (n_times - 1), stride)  # end of step m*stride - 1, m = 1 .. n_times-1
    sampled = v[:, at][:, :, which]
    fired = spikes[:, at][:, :, which] > 0
    sampled = torch.where(fired, neurons.v_reset_mv[which], sampled)
    start = neurons.e_l_mv[which].expand(v.shape[0], 1, which.numel())
    return torch.cat([start, sampled], dim=1).transpose(1, 2).to(torch.float64).cpu().numpy()


def _refuse_adex(wiring: Wiring) -> None:
    if wiring.adex_in_use:
        n = wiring.adex_in_use[0]
        raise CapabilityError(
            f"backend 'torch' implements LIF only (capability adaptation_and_exponential); {n!r} has adaptation "
            f"or the exponential term on: set its I_gladapt, I_fire and I_bexp to 0"
        )
