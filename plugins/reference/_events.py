"""Scheduling of synaptic events: input spikes and neuron spikes into a ring of future steps.

Events are *not* moved to the grid: an event arriving at :math:`t_a` inside
the step :math:`[t_0, t_1)` is stored, when it is scheduled, as its jump of
the end-of-step conductance, :math:`w e^{-(t_1-t_a)/\\tau}`, and its
contribution to the step average, :math:`w\\frac{\\tau}{\\Delta t}(1-e^{-(t_1-t_a)/\\tau})`
(:mod:`hal_plugins.reference.integrator` explains why).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from hal_plugins.reference.data import Connections, NeuronParameters, SpikeTrains

__all__ = ["CHUNK_STEPS", "EventRing", "InputFeed", "SpikeRelay"]

# Input spikes are expanded into synaptic events this many steps at a time; it bounds
# the memory of the event ring buffer to (chunk + max delay) steps.
CHUNK_STEPS = 64


class EventRing:
    """Synaptic events, aggregated per step, target neuron and sample, in a ring of future steps.

    Slot layout ``(4, samples, neurons)``: planes 0/1 hold the jump of
    ``g_e``/``g_i`` at the end of the step (``w e^{-(t1-ta)/tau}`` summed over
    the step's events), planes 2/3 their contribution to the step average
    (``w tau/dt (1 - e^{-(t1-ta)/tau})``). Synapses are kept sorted by
    presynaptic index (CSR) so that a batch of spikes expands into its events
    with a few vectorised operations.
    """

    def __init__(self, params: NeuronParameters, connections: Connections, n_pre: int, n_samples: int, dt: float, n_steps: int):
        order = np.argsort(connections.pre, kind="stable")
        pre = connections.pre[order]
        self.ptr = np.searchsorted(pre, np.arange(n_pre + 1)).astype(np.int64)
        self.fan_out = np.diff(self.ptr)
        post = connections.post[order]
        exc = connections.excitatory[order]
        self.weight = connections.weight_ns[order]
        self.delay = connections.delay_ms[order]
        self.tau = np.where(exc, params.tau_syn_e_ms[post], params.tau_syn_i_ms[post])
        self.n = params.n_neurons
        self.plane = n_samples * self.n
        self.target = np.where(exc, 0, self.plane) + post  # offset inside a slot
        self.dt = dt
        self.n_steps = n_steps
        max_delay_steps = int(math.ceil(float(self.delay.max()) / dt)) if len(connections) else 0
        self.n_slots = CHUNK_STEPS + max_delay_steps + 2
        self.slots = np.zeros((self.n_slots, 4, n_samples, self.n))
        self._flat = self.slots.reshape(-1)

    def slot(self, step: int) -> np.ndarray:
        """The ``(4, samples, neurons)`` slot of ``step`` (a view; the caller zeroes it once the step is done)."""
        return self.slots[step % self.n_slots]

    def add(self, sample: np.ndarray, pre: np.ndarray, t_spike: np.ndarray, first_step: int) -> None:
        """Schedule the events of spikes ``(sample, pre, t_spike)``; none may arrive before ``first_step``."""
        counts = self.fan_out[pre]
        total = int(counts.sum())
        if total == 0:
            return
        which = np.repeat(np.arange(pre.shape[0]), counts)
        first = np.cumsum(counts) - counts
        s = self.ptr[pre][which] + (np.arange(total) - first[which])
        t_arrive = t_spike[which] + self.delay[s]
        step = np.maximum(np.floor(t_arrive / self.dt).astype(np.int64), first_step)
        keep = step < self.n_steps
        if not keep.all():
            s, which, t_arrive, step = s[keep], which[keep], t_arrive[keep], step[keep]
        remaining = np.minimum(np.maximum((step + 1) * self.dt - t_arrive, 0.0), self.dt)  # arrival -> end of step
        tau = self.tau[s]
        w = self.weight[s]
        x = remaining / tau
        jump = w * np.exp(-x)
        average = w * (tau / self.dt) * -np.expm1(-x)
        index = (step % self.n_slots) * (4 * self.plane) + self.target[s] + sample[which] * self.n
        np.add.at(self._flat, np.concatenate([index, index + 2 * self.plane]), np.concatenate([jump, average]))


class InputFeed:
    """The input spikes of all samples, merged and sorted by time, scheduled :data:`CHUNK_STEPS` steps at a time."""

    def __init__(self, inputs: Sequence[SpikeTrains], n_steps: int, dt: float):
        sample = np.concatenate([np.full(len(tr), k, dtype=np.int64) for k, tr in enumerate(inputs)])
        times = np.concatenate([tr.times_ms for tr in inputs])
        source = np.concatenate([tr.index for tr in inputs])
        order = np.argsort(times, kind="stable")
        self.sample, self.times, self.source = sample[order], times[order], source[order]
        self.chunk_ends = np.searchsorted(self.times, np.arange(0, n_steps + CHUNK_STEPS, CHUNK_STEPS) * dt)
        self.chunk_ends[-1] = self.times.shape[0]

    def schedule(self, ring: EventRing, step: int) -> None:
        """At the first step of a chunk, put the events of the chunk's input spikes into ``ring``."""
        if step % CHUNK_STEPS == 0:
            lo, hi = self.chunk_ends[step // CHUNK_STEPS], self.chunk_ends[step // CHUNK_STEPS + 1]
            if hi > lo:
                ring.add(self.sample[lo:hi], self.source[lo:hi], self.times[lo:hi], step)


class SpikeRelay:
    """Spikes of neurons, held until their events are due and then scheduled together.

    A neuron's spike reaches its targets no earlier than ``lag`` steps later (the
    shortest delay from a neuron, >= ``dt``), so the spikes of up to ``lag`` steps are
    scheduled together (fewer, larger vectorised operations). ``lag`` is 0 if no
    synapse starts at a neuron; spikes are then not kept.
    """

    def __init__(self, connections: Connections, n_sources: int, n_neurons: int, dt: float):
        from_neuron = connections.pre >= n_sources
        self.lag = max(1, int(math.floor(float(connections.delay_ms[from_neuron].min()) / dt + 1e-9))) if from_neuron.any() else 0
        self.n_sources = n_sources
        self.n = n_neurons
        self.pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.pending_since = 0

    def schedule(self, ring: EventRing, step: int) -> None:
        """Put the held spikes into ``ring`` once the first of them is ``lag`` steps old."""
        if self.pending and step >= self.pending_since + self.lag:
            ring.add(*(np.concatenate(parts) for parts in zip(*self.pending)), step)
            self.pending.clear()

    def hold(self, step: int, spiking: np.ndarray, t_spike: np.ndarray) -> None:
        """Keep the spikes of ``step``: ``spiking`` as flat ``sample * n_neurons + neuron`` indices, at ``t_spike`` (ms)."""
        if self.lag:
            if not self.pending:
                self.pending_since = step
            self.pending.append((spiking // self.n, spiking % self.n + self.n_sources, t_spike))
