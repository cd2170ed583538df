"""Reference integrator for conductance-based LIF neurons (NEST's ``iaf_cond_exp``).

This is the project's "ideal chip": an accurate, independent, pure-numpy
integration of the model the BrainScaleS-1 neurons are configured to emulate,
vectorised over neurons and over a batch of independent samples (the same
network driven by different input spike trains).

Model
-----
Per neuron, in biological units (ms, mV, nS, pF), exactly as NEST 3.x
``iaf_cond_exp`` with ``I_e = 0``:

.. math::

    C_m \\frac{dV}{dt} = -g_L (V - E_L) - g_e (V - E_e) - g_i (V - E_i)

    \\frac{dg_e}{dt} = -\\frac{g_e}{\\tau_e}, \\qquad \\frac{dg_i}{dt} = -\\frac{g_i}{\\tau_i}

A spike of a presynaptic source or neuron at :math:`t_s` reaching a synapse of
weight :math:`w` (nS) and delay :math:`d` makes :math:`g_e` (or :math:`g_i`)
jump by :math:`w` at :math:`t_s + d`. When :math:`V \\ge V_{th}` the neuron
spikes, :math:`V` is set to :math:`V_{reset}` and held there for
:math:`t_{ref}`; the conductances keep evolving while it is refractory.

Scheme (and why)
----------------
Time is cut into steps of ``dt_ms``. Over one step :math:`[t_0, t_1)`:

1. **Conductances are exact.** Between events a conductance decays
   analytically, :math:`g(t_1) = g(t_0) e^{-\\Delta t/\\tau}`. An event
   arriving at :math:`t_a` inside the step adds :math:`w e^{-(t_1-t_a)/\\tau}`
   to the end-of-step value. Events are *not* moved to the grid.
2. **The membrane sees the exact step average of each conductance,**
   :math:`\\bar g = \\frac{1}{\\Delta t}\\int_{t_0}^{t_1} g\\,dt`, i.e.
   :math:`g(t_0)\\frac{\\tau}{\\Delta t}(1-e^{-\\Delta t/\\tau})` plus
   :math:`w\\frac{\\tau}{\\Delta t}(1-e^{-(t_1-t_a)/\\tau})` per event in the
   step (computed once when the event is scheduled).
3. **V is integrated exactly for these frozen conductances** (exponential
   integrator): :math:`V` relaxes towards
   :math:`V_\\infty = (g_L E_L + \\bar g_e E_e + \\bar g_i E_i)/g_{tot}` with time
   constant :math:`C_m/g_{tot}`, :math:`g_{tot} = g_L + \\bar g_e + \\bar g_i`:
   :math:`V(t_1) = V_\\infty + (V(t_0) - V_\\infty) e^{-\\Delta t\\, g_{tot}/C_m}`.

The V equation is linear in V with time-dependent coefficients; freezing
them at their step averages is the exponential (first-order Magnus) midpoint
rule: local error :math:`O(\\Delta t^3)`, global :math:`O(\\Delta t^2)`, and
unconditionally stable (V never overshoots :math:`V_\\infty`, whatever the
conductance). Using the step *average* instead of the mid-step value keeps
the scheme second order when events arrive between grid points: a jump at
:math:`t_a` inside a step then costs :math:`O(w\\,\\Delta t^2)` once, instead of
the :math:`O(w\\,\\Delta t)` of rounding the event to a grid point or to the
mid-step sample. Splitting steps at every event time would be exact too but
breaks the vectorisation over neurons and samples; averaging does not.

Spike times are not tied to the grid. When :math:`V(t_1) \\ge V_{th}`, the
crossing time :math:`t^*` is solved exactly on the step's exponential
trajectory, split at the arrival times of the step's events, if any
(:mod:`hal_plugins.reference._crossing` has the equations and why the split
keeps spike times second order). The neuron is refractory until :math:`t^* + t_{ref}`; in the
step where that ends, V relaxes from :math:`V_{reset}` over the rest of the
step only. A neuron's spike reaches its targets at :math:`t^* + d`, off the
grid like any event, which is why delays from neurons must be at least
``dt_ms``.

Like NEST, the threshold is checked once per step: an excursion above
threshold that begins and ends inside one step is missed, and a neuron spikes
at most once per step (this matters only if ``t_ref_ms < dt_ms``; a second
crossing is then reported at the start of the next step). NEST differs in
two ways that this integrator deliberately does not copy: NEST reports a
spike at the end of the step in which it detected it (up to one NEST step
late) and counts the refractory period from there.

Measured error (``docs/validation.md`` has the tables and the commands): the
membrane potential converges with second order (error ratio 4.0 per halving
of ``dt``), e.g. 3e-6 mV maximum error of a PSP trajectory at the default
``dt_ms = 0.025``, and so do spike times (median error 2e-5 to 7e-5 ms, 90th
percentile below 7e-4 ms at 0.025 ms). The 135-neuron, 1 s, 20-sample batch
takes about 3 s. Against NEST 3.10 (``iaf_cond_exp``, resolution 0.001 ms)
per-neuron spike counts agree within one spike and 96.5-100% of NEST's
spikes have one of ours within 0.2 ms. What is left comes from near-threshold
"grazing" crossings in the deeper layers, which also separate NEST at 0.01 ms
from NEST at 0.001 ms (89-93% there). At 0.0001 ms NEST reproduces every one of
our spikes in two of the three network samples.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from hal_plugins.reference._arguments import validate_arguments
from hal_plugins.reference._crossing import refined_crossing, time_to_threshold
from hal_plugins.reference._events import EventRing, InputFeed, SpikeRelay
from hal_plugins.reference.data import SCHMITT2017_VALUES, Connections, NeuronParameters, SimulationResult, SpikeTrains

from hal.logging import get_logger

__all__ = [
    "DEFAULT_DT_MS",
    "SCHMITT2017_VALUES",
    "NeuronParameters",
    "Connections",
    "SpikeTrains",
    "SimulationResult",
    "simulate",
]

log = get_logger(__name__)

#: Default integration step (ms); see the module docstring for its measured error.
DEFAULT_DT_MS = 0.025


def simulate(
    params: NeuronParameters,
    connections: Connections,
    n_sources: int,
    inputs: Sequence[SpikeTrains],
    duration_ms: float,
    *,
    dt_ms: float = DEFAULT_DT_MS,
    record_membrane: Sequence[int] | np.ndarray | None = None,
    membrane_dt_ms: float = 0.1,
    v_init_mv: float | np.ndarray | None = None,
) -> SimulationResult:
    """Integrate the network for ``duration_ms`` for every sample of ``inputs``.

    Parameters
    ----------
    params
        The neurons.
    connections
        All synapses, from sources (``pre < n_sources``) and from neurons
        (``pre = n_sources + neuron``; their delays must be >= ``dt_ms``).
    n_sources
        Number of input sources.
    inputs
        One :class:`SpikeTrains` per sample, ``index`` = source, times in
        ``[0, duration_ms)``. Samples are independent runs of the same network.
    duration_ms
        Biological time to simulate (ms, >= 0). Spikes at or after it are dropped.
    dt_ms
        Integration step (ms); the module docstring gives the error it buys.
    record_membrane
        Neuron indices whose membrane potential is recorded, or ``None``.
    membrane_dt_ms
        Sampling interval of the recording (a multiple of ``dt_ms``); samples
        are taken at ``0, membrane_dt_ms, ...`` (``V_reset`` while refractory).
    v_init_mv
        Initial membrane potential: scalar, ``(n_neurons,)`` or ``(samples,
        n_neurons)``; default ``E_L``. Conductances start at 0.

    Returns
    -------
    SimulationResult

    Raises
    ------
    ConfigError
        For any invalid argument; the message names it, its value and what is valid.

    Examples
    --------
    One neuron driven by one strong excitatory input spike at 1 ms (1 ms delay):

    >>> p = NeuronParameters.schmitt2017(1)
    >>> c = Connections(pre=[0], post=[0], weight_ns=[20.0], excitatory=[True], delay_ms=[1.0])
    >>> r = simulate(p, c, 1, [SpikeTrains(times_ms=[1.0], index=[0])], 10.0)
    >>> [round(float(t), 3) for t in r.spikes[0].times_ms]
    [2.705]
    """
    args = validate_arguments(params, connections, n_sources, inputs, duration_ms, dt_ms, record_membrane, membrane_dt_ms, v_init_mv)
    duration, dt = args.duration_ms, args.dt_ms
    n_samples, n = len(inputs), params.n_neurons
    n_steps = int(math.ceil(duration / dt - 1e-9)) if duration > 0 else 0
    ring = EventRing(params, connections, args.n_sources + n, n_samples, dt, n_steps)
    feed = InputFeed(inputs, n_steps, dt)
    relay = SpikeRelay(connections, args.n_sources, n, dt)
    recorder = _MembraneRecorder(n_samples, args.recorded, args.stride, duration, dt)
    out_flat, out_time = _run(n_steps, dt, _Neurons(params, dt), _State(args.v_init_mv), ring, feed, relay, recorder)
    spikes = _spike_trains(out_flat, out_time, n, n_samples, duration)
    total = sum(len(s) for s in spikes)
    log.debug("reference_simulation_finished", samples=n_samples, neurons=n, synapses=len(connections), duration_ms=duration, dt_ms=dt, spikes=total)
    return SimulationResult(
        spikes=spikes,
        membrane=recorder.membrane,
        membrane_times_ms=recorder.times_ms,
        recorded=args.recorded,
        n_neurons=n,
        duration_ms=duration,
        dt_ms=dt,
    )


class _Neurons:
    """Per-neuron constants of a step of ``dt`` ms: shape ``(n_neurons,)``, or ``(2, n_neurons)`` (excitatory, inhibitory)."""

    def __init__(self, params: NeuronParameters, dt: float):
        self.n = params.n_neurons
        self.c_m, self.g_l, self.e_l = params.c_m_pf, params.g_l_ns, params.e_l_mv
        self.g_l_e_l = self.g_l * self.e_l
        self.e_e, self.e_i = params.e_rev_e_mv, params.e_rev_i_mv
        self.v_th, self.v_reset, self.t_ref = params.v_th_mv, params.v_reset_mv, params.t_ref_ms
        tau_e, tau_i = params.tau_syn_e_ms, params.tau_syn_i_ms
        self.decay_e, self.decay_i = np.exp(-dt / tau_e), np.exp(-dt / tau_i)
        self.mean_e = tau_e / dt * -np.expm1(-dt / tau_e)  # step average of g(t0) e^{-(t-t0)/tau}, over g(t0)
        self.mean_i = tau_i / dt * -np.expm1(-dt / tau_i)
        self.e_rev = np.stack([self.e_e, self.e_i])
        self.tau = np.stack([tau_e, tau_i])
        self.decay = np.stack([self.decay_e, self.decay_i])


class _State:
    """What the integration carries from step to step, per sample and neuron ``(samples, n_neurons)``.

    ``g_e``, ``g_i``: conductances (nS) at the start of the step; ``v``: membrane
    potential (mV) there; ``refractory_until``: end of the refractory period (ms).
    """

    __slots__ = ("g_e", "g_i", "v", "refractory_until")

    def __init__(self, v_init_mv: np.ndarray):
        self.g_e = np.zeros(v_init_mv.shape)
        self.g_i = np.zeros(v_init_mv.shape)
        self.refractory_until = np.full(v_init_mv.shape, -np.inf)
        self.v = v_init_mv


class _MembraneRecorder:
    """V of the recorded neurons every ``stride`` steps below the duration (nothing if ``stride`` is 0)."""

    def __init__(self, n_samples: int, recorded: np.ndarray, stride: int, duration: float, dt: float):
        self.recorded, self.stride = recorded, stride
        self.n_time = int(math.ceil(duration / (stride * dt) - 1e-9)) if stride else 0
        self.membrane = np.empty((n_samples, recorded.shape[0], self.n_time)) if stride else None
        self.times_ms = (np.arange(self.n_time) * stride * dt) if stride else None

    def sample(self, step: int, v: np.ndarray) -> None:
        if self.stride and step % self.stride == 0 and step // self.stride < self.n_time:
            self.membrane[:, :, step // self.stride] = v[:, self.recorded]


def _run(n_steps, dt, neurons, state, ring, feed, relay, recorder) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The step loop: events in, one step of the scheme, spikes out.

    Returns the spikes of every step that had any: flat ``sample * n_neurons +
    neuron`` indices and times (ms), in step order.
    """
    out_flat: list[np.ndarray] = []
    out_time: list[np.ndarray] = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for k in range(n_steps):
            t0 = k * dt
            t1 = (k + 1) * dt
            feed.schedule(ring, k)
            relay.schedule(ring, k)
            recorder.sample(k, state.v)
            slot = ring.slot(k)
            v_new, v_inf, rate, free = _advance(state, neurons, slot, t1, dt)
            spiking = np.flatnonzero(v_new >= neurons.v_th)
            if spiking.size:
                t_spike = _fire(spiking, t0, t1, dt, state, neurons, slot, v_new, v_inf, rate, free)
                out_flat.append(spiking)
                out_time.append(t_spike)
                relay.hold(k, spiking, t_spike)
            slot[...] = 0.0
            state.v = v_new
    return out_flat, out_time


def _advance(state: _State, neurons: _Neurons, slot: np.ndarray, t1: float, dt: float):
    """One step of the scheme (module docstring) up to ``t1``, ignoring the threshold.

    Moves ``state.g_e``/``g_i`` in place to their exact values at ``t1`` and
    returns ``(v_new, v_inf, rate, free)``: V at ``t1``, the potential it relaxes
    towards (mV), the relaxation rate ``g_tot / C_m`` (1/ms) and the length of
    the non-refractory part of the step (ms).
    """
    # conductances: exact decay plus the step's events; their step averages drive V
    g_e_mean = state.g_e * neurons.mean_e + slot[2]
    g_i_mean = state.g_i * neurons.mean_i + slot[3]
    state.g_e *= neurons.decay_e
    state.g_e += slot[0]
    state.g_i *= neurons.decay_i
    state.g_i += slot[1]

    # V: exact relaxation towards v_inf over the non-refractory part of the step
    g_tot = neurons.g_l + g_e_mean + g_i_mean
    v_inf = (neurons.g_l_e_l + g_e_mean * neurons.e_e + g_i_mean * neurons.e_i) / g_tot
    rate = g_tot / neurons.c_m
    free = np.minimum(np.maximum(t1 - state.refractory_until, 0.0), dt)
    v_new = v_inf + (state.v - v_inf) * np.exp(-free * rate)
    return v_new, v_inf, rate, free


def _fire(spiking, t0, t1, dt, state, neurons, slot, v_new, v_inf, rate, free) -> np.ndarray:
    """Spike times of the neurons that crossed threshold in ``[t0, t1)``; resets them and starts their refractoriness.

    ``spiking`` holds flat ``sample * n_neurons + neuron`` indices into the
    ``(samples, n_neurons)`` arrays. Writes ``state.refractory_until`` and the
    reset potential into ``v_new``.
    """
    j = spiking % neurons.n  # neuron
    vi = np.take(v_inf, spiking)
    r = np.take(rate, spiking)
    h = np.take(free, spiking)
    v0 = np.take(state.v, spiking)
    start = t1 - h
    t_spike = start + time_to_threshold(v0, vi, neurons.v_th[j], r, h)
    events = slot.reshape(4, -1)[:, spiking]
    refine = np.flatnonzero((events[0] > 0) | (events[1] > 0))
    if refine.size:
        jr = j[refine]
        ev = events[:, refine]
        g_end = np.stack([np.take(state.g_e, spiking[refine]), np.take(state.g_i, spiking[refine])])
        t_spike[refine] = refined_crossing(
            t0, t1, dt, start[refine], v0[refine], neurons.v_th[jr], neurons.c_m[jr], neurons.g_l[jr], neurons.e_l[jr],
            neurons.e_rev[:, jr], neurons.tau[:, jr], (g_end - ev[:2]) / neurons.decay[:, jr], ev[:2], ev[2:],
        )  # fmt: skip
    release = t_spike + neurons.t_ref[j]
    np.put(state.refractory_until, spiking, release)
    # refractoriness ending inside this step: V relaxes from V_reset for the rest of it
    rest = np.maximum(t1 - release, 0.0)
    np.put(v_new, spiking, vi + (neurons.v_reset[j] - vi) * np.exp(-rest * r))
    return t_spike


def _spike_trains(out_flat, out_time, n: int, n_samples: int, duration: float) -> tuple[SpikeTrains, ...]:
    """The spikes before ``duration``, one :class:`SpikeTrains` per sample, sorted by time, then neuron."""
    flat_all = np.concatenate(out_flat) if out_flat else np.zeros(0, dtype=np.int64)
    time_all = np.concatenate(out_time) if out_time else np.zeros(0)
    keep = time_all < duration
    sample_all, neuron_all, time_all = flat_all[keep] // n, flat_all[keep] % n, time_all[keep]
    order = np.lexsort((neuron_all, time_all, sample_all))
    sample_all, neuron_all, time_all = sample_all[order], neuron_all[order], time_all[order]
    bounds = np.searchsorted(sample_all, np.arange(n_samples + 1))
    return tuple(SpikeTrains(times_ms=time_all[bounds[k] : bounds[k + 1]], index=neuron_all[bounds[k] : bounds[k + 1]]) for k in range(n_samples))
