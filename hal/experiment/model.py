"""Experiments and recordings in biological units.

An :class:`Experiment` says which inputs receive which spike trains (seeded
Poisson sources or explicit spike arrays), for how long, for how many
independent samples (the same configured network run once per input pattern),
and which membranes to record. :func:`run` applies the configuration to a
backend (writing only what changed since the backend's last configuration),
converts the stimuli to FPGA playback events, runs, and turns the trace back
into a :class:`Recording`: spike times per logical neuron in biological time,
counts and rates per sample, membrane traces, lost events — with the hardware
events still reachable. All unit conversion goes through :mod:`hal.analog.domains`.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from hal import coordinates as C
from hal.coordinates import InputAddress
from hal.backend import Backend, RunRequest, RunResult
from hal.configuration.configurator import Verify
from hal.analog.domains import PAPER_DOMAINS, Domains
from hal.logging import get_logger
from hal.validators import at_least, positive
from hal.errors import ConfigError
from hal.backend.events import HardwareEvents
from hal.hardware.wafer import WaferConfig
from hal.netlist.wiring import LogicalNeuron, Wiring

__all__ = ["PoissonInput", "SpikeArrayInput", "Experiment", "Recording"]

log = get_logger(__name__)


def _targets(value: Any) -> tuple[InputAddress, ...]:
    items = tuple(value)
    for i, t in enumerate(items):
        if not isinstance(t, InputAddress):
            raise ConfigError(f"input targets[{i}]: {t!r} is not an InputAddress")
    if not items:
        raise ConfigError("input targets: empty; give at least one InputAddress")
    return items


@attrs.frozen(eq=False)
class PoissonInput:
    """Independent Poisson spike trains, one per target, seeded.

    ``rates_hz`` has shape (targets,) — the same rates for every sample — or
    (samples, targets). Spikes fall in ``[start_ms, stop_ms)``; ``stop_ms``
    defaults to the experiment's duration. Sample ``k`` draws from
    ``numpy.random.default_rng([seed, k])``, so a sample's spikes do not depend
    on the batch it is run in.
    """

    targets: tuple[InputAddress, ...] = attrs.field(converter=_targets)
    rates_hz: np.ndarray = attrs.field(converter=lambda r: np.asarray(r, dtype=float))
    start_ms: float = 0.0
    stop_ms: float | None = None
    seed: int = 0

    def __attrs_post_init__(self):
        r = self.rates_hz
        if r.ndim not in (1, 2) or r.shape[-1] != len(self.targets):
            raise ConfigError(f"PoissonInput.rates_hz: shape {r.shape}; expected ({len(self.targets)},) or (samples, {len(self.targets)})")
        if not np.all(np.isfinite(r)) or np.any(r < 0):
            bad = r.ravel()[np.flatnonzero(~np.isfinite(r.ravel()) | (r.ravel() < 0))[0]]
            raise ConfigError(f"PoissonInput.rates_hz: {float(bad)!r} Hz out of range; valid a finite rate >= 0")
        if self.start_ms < 0 or (self.stop_ms is not None and self.stop_ms < self.start_ms):
            raise ConfigError(f"PoissonInput: window [{self.start_ms}, {self.stop_ms}) ms is not valid; need 0 <= start <= stop")

    def n_samples(self) -> int | None:
        return self.rates_hz.shape[0] if self.rates_hz.ndim == 2 else None

    def spikes(self, sample: int, duration_ms: float) -> tuple[np.ndarray, np.ndarray]:
        """(times_ms, target index) of one sample, sorted by time."""
        stop = duration_ms if self.stop_ms is None else self.stop_ms
        rates = self.rates_hz[sample] if self.rates_hz.ndim == 2 else self.rates_hz
        rng = np.random.default_rng([self.seed, sample])
        window_s = (stop - self.start_ms) * 1e-3
        counts = rng.poisson(rates * window_s)
        index = np.repeat(np.arange(len(self.targets)), counts)
        times = self.start_ms + rng.random(index.size) * (stop - self.start_ms)
        order = np.argsort(times, kind="stable")
        return times[order], index[order]


@attrs.frozen(eq=False)
class SpikeArrayInput:
    """Explicit spike times: ``spikes[k] = (times_ms, target index)`` for sample k (one entry = all samples)."""

    targets: tuple[InputAddress, ...] = attrs.field(converter=_targets)
    spikes: tuple[tuple[np.ndarray, np.ndarray], ...] = attrs.field(
        converter=lambda s: tuple((np.asarray(t, dtype=float), np.asarray(i, dtype=np.int64)) for t, i in s)
    )

    def __attrs_post_init__(self):
        if not self.spikes:
            raise ConfigError("SpikeArrayInput.spikes: empty; give (times_ms, target_index) per sample")
        for k, (t, i) in enumerate(self.spikes):
            if t.shape != i.shape or t.ndim != 1:
                raise ConfigError(f"SpikeArrayInput.spikes[{k}]: times {t.shape} and indices {i.shape} must be 1-d of equal length")
            if not np.all(np.isfinite(t)):
                raise ConfigError(f"SpikeArrayInput.spikes[{k}]: spike times must be finite")
            if i.size and (i.min() < 0 or i.max() >= len(self.targets)):
                bad = int(i.min()) if i.min() < 0 else int(i.max())
                raise ConfigError(f"SpikeArrayInput.spikes[{k}]: target index {bad} out of range; valid 0..{len(self.targets) - 1}")

    def n_samples(self) -> int | None:
        return len(self.spikes) if len(self.spikes) > 1 else None

    def spikes_of(self, sample: int) -> tuple[np.ndarray, np.ndarray]:
        t, i = self.spikes[sample if len(self.spikes) > 1 else 0]
        order = np.argsort(t, kind="stable")
        return t[order], i[order]


Input = PoissonInput | SpikeArrayInput


_positive_ms = positive(what="time", unit="ms")


@attrs.frozen(eq=False)
class Experiment:
    """A configured network, its stimuli, what to record and for how long (biological units)."""

    config: WaferConfig
    duration_ms: float = attrs.field(validator=_positive_ms)
    inputs: tuple[Input, ...] = attrs.field(default=(), converter=tuple)
    n_samples: int | None = attrs.field(default=None, validator=attrs.validators.optional(at_least(1)))
    record_membrane: tuple[tuple[C.HICANNOnWafer, C.NeuronOnHICANN], ...] = attrs.field(default=(), converter=tuple)
    membrane_interval_ms: float = attrs.field(default=0.1, validator=_positive_ms)
    domains: Domains = PAPER_DOMAINS
    seed: int = 0
    verify: Verify = Verify.VERIFY

    def __attrs_post_init__(self):
        if not isinstance(self.config, WaferConfig):
            raise ConfigError(f"Experiment.config: expected a WaferConfig, got {type(self.config).__name__}")
        for i, inp in enumerate(self.inputs):
            if not isinstance(inp, (PoissonInput, SpikeArrayInput)):
                raise ConfigError(f"Experiment.inputs[{i}]: {type(inp).__name__} is not a PoissonInput or SpikeArrayInput")
            if isinstance(inp, PoissonInput):
                stop = self.duration_ms if inp.stop_ms is None else inp.stop_ms
                if stop > self.duration_ms:
                    raise ConfigError(f"Experiment.inputs[{i}]: stimulus until {stop} ms outside the experiment; valid up to duration_ms={self.duration_ms}")
            else:
                for k, (t, _) in enumerate(inp.spikes):
                    if t.size and (t.min() < 0 or t.max() >= self.duration_ms):
                        bad = float(t.min()) if t.min() < 0 else float(t.max())
                        raise ConfigError(
                            f"Experiment.inputs[{i}].spikes[{k}]: spike at {bad} ms outside the experiment; valid 0 <= t < {self.duration_ms} ms"
                        )
        sizes = {inp.n_samples() for inp in self.inputs} - {None}
        if self.n_samples is not None:
            sizes.add(self.n_samples)
        if len(sizes) > 1:
            raise ConfigError(f"Experiment: inputs disagree on the number of samples ({sorted(sizes)}); give every input the same batch size")
        for i, pair in enumerate(self.record_membrane):
            if not (isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], C.HICANNOnWafer) and isinstance(pair[1], C.NeuronOnHICANN)):
                raise ConfigError(f"Experiment.record_membrane[{i}]: {pair!r} is not a (HICANNOnWafer, NeuronOnHICANN) pair")

    @property
    def batch_size(self) -> int:
        sizes = {inp.n_samples() for inp in self.inputs} - {None}
        return self.n_samples or (sizes.pop() if sizes else 1)

    def playback(self) -> HardwareEvents:
        """The stimuli as FPGA playback events (hardware ticks and addresses), all samples."""
        parts = []
        for inp in self.inputs:
            hicann = np.array([t.hicann.enum for t in inp.targets])
            channel = np.array([t.channel for t in inp.targets])
            address = np.array([t.address for t in inp.targets])
            for k in range(self.batch_size):
                times, index = inp.spikes(k, self.duration_ms) if isinstance(inp, PoissonInput) else inp.spikes_of(k)
                ticks = self.domains.ms_to_ticks(times)
                parts.append(HardwareEvents(np.full(ticks.size, k), ticks, hicann[index], channel[index], address[index]))
        return HardwareEvents.concatenate(parts)

    def request(self) -> RunRequest:
        interval = max(1, int(self.domains.ms_to_ticks(self.membrane_interval_ms)))
        duration = int(self.domains.ms_to_ticks(self.duration_ms))
        playback = self.playback()
        if len(playback):
            # A spike just below duration_ms can round up onto the end tick.
            playback = playback.select(playback.time < duration)
        return RunRequest(playback, self.batch_size, duration, self.record_membrane, interval, self.seed)

    def run(self, backend: Backend) -> Recording:
        """Run on ``backend``: the same as :func:`hal.run`."""
        from hal.experiment.run import run  # run.py builds on this module

        return run(self, backend)


def check_inputs(experiment: Experiment, wiring: Wiring) -> None:
    accepting = {(wiring.origins[o].hicann, wiring.origins[o].channel) for o in wiring.input_origins}
    for i, inp in enumerate(experiment.inputs):
        for t in inp.targets:
            if (t.hicann, t.channel) not in accepting:
                raise ConfigError(
                    f"Experiment.inputs[{i}]: {t.hicann!r} channel {t.channel} does not accept FPGA events in this configuration "
                    f"(needs gbit_link[{t.channel}].direction TO_HICANN, dnc_merger[{t.channel}] passing its right input, "
                    f"the FPGA's highspeed link {t.hicann.to_highspeed_link().value} enabled and playback on); "
                    f"accepting: {sorted((h.enum, c) for h, c in accepting) or 'none'}"
                )
    denmem_owner = {(n.hicann, d): n for n in wiring.neurons for d in n.denmems}
    for i, (h, n) in enumerate(experiment.record_membrane):
        if (h, n) not in denmem_owner:
            raise ConfigError(f"Experiment.record_membrane[{i}]: {h!r} {n!r} belongs to no logical neuron (no firing denmem in its group)")


@attrs.frozen(eq=False)
class Recording:
    """Results of one run in biological units, with the hardware-level result kept in :attr:`hardware`.

    ``neurons`` are the logical neurons whose spikes reach the FPGA trace, in
    a fixed order; columns of :attr:`spike_counts` follow it.
    """

    experiment: Experiment
    neurons: tuple[LogicalNeuron, ...]
    spike_times_ms: tuple[tuple[np.ndarray, np.ndarray], ...]  # per sample: (times_ms, neuron column)
    hardware: RunResult
    unattributed_events: int

    @classmethod
    def from_result(cls, experiment: Experiment, wiring: Wiring, result: RunResult) -> Recording:
        recorded = [i for i in range(len(wiring.neurons)) if wiring.recorded[i]]
        column_of = {wiring_index: column for column, wiring_index in enumerate(recorded)}
        # Dense lookup (hicann, channel, address) -> column; -1 where no single neuron can have sent it.
        channels, addresses = C.DNCMergerOnHICANN.size, C.L1Address.size
        table = np.full(C.HICANNOnWafer.size * channels * addresses, -1, dtype=np.int64)
        for (h, c, a), owners in wiring.trace_key_to_neurons().items():
            if len(owners) == 1:
                table[(h * channels + c) * addresses + a] = column_of[owners[0]]
        trace = result.trace
        key = (trace.hicann.astype(np.int64) * channels + trace.channel.astype(np.int64)) * addresses + trace.address.astype(np.int64)
        valid = (trace.hicann >= 0) & (trace.channel >= 0) & (trace.address >= 0)
        columns = np.where(valid, table[np.where(valid, key, 0)], -1)
        unattributed = int(np.count_nonzero(columns < 0))
        times = experiment.domains.ticks_to_ms(trace.time)
        # The trace is sorted by sample: cut it at the sample boundaries instead of masking per sample.
        order = np.argsort(trace.sample, kind="stable")
        samples, times, columns = trace.sample[order], times[order], columns[order]
        bounds = np.searchsorted(samples, np.arange(experiment.batch_size + 1))
        per_sample = []
        for s in range(experiment.batch_size):
            t, c = times[bounds[s]:bounds[s + 1]], columns[bounds[s]:bounds[s + 1]]
            keep = c >= 0
            per_sample.append((t[keep], c[keep]))
        return cls(experiment, tuple(wiring.neurons[i] for i in recorded), tuple(per_sample), result, unattributed)

    @property
    def n_samples(self) -> int:
        return len(self.spike_times_ms)

    def column(self, hicann: C.HICANNOnWafer, neuron: C.NeuronOnHICANN) -> int:
        """Column of the logical neuron that contains denmem ``neuron`` of ``hicann``."""
        for i, n in enumerate(self.neurons):
            if n.hicann == hicann and neuron in n.denmems:
                return i
        known = ", ".join(f"({n.hicann.enum}, {n.firing.enum})" for n in self.neurons[:10])
        raise ConfigError(f"{hicann!r} {neuron!r} is not a recorded neuron; recorded (hicann, denmem enum): {known}{' ...' if len(self.neurons) > 10 else ''}")

    def spikes(self, sample: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """(times_ms, neuron column) of one sample."""
        if not 0 <= sample < self.n_samples:
            raise ConfigError(f"sample {sample} out of range; valid 0..{self.n_samples - 1}")
        return self.spike_times_ms[sample]

    def spike_trains(self, sample: int = 0) -> list[np.ndarray]:
        """Spike times (ms) of each neuron in one sample."""
        times, cols = self.spikes(sample)
        return [times[cols == i] for i in range(len(self.neurons))]

    @property
    def spike_counts(self) -> np.ndarray:
        """(samples, neurons) spike counts over the whole run."""
        return self._count(0.0, np.inf)

    def rates_hz(self, start_ms: float = 0.0, stop_ms: float | None = None) -> np.ndarray:
        """(samples, neurons) firing rates in the window ``[start_ms, stop_ms)``."""
        stop = self.experiment.duration_ms if stop_ms is None else stop_ms
        if not 0 <= start_ms < stop <= self.experiment.duration_ms:
            raise ConfigError(f"rate window [{start_ms}, {stop}) ms not valid; need 0 <= start < stop <= {self.experiment.duration_ms}")
        return self._count(start_ms, stop) / ((stop - start_ms) * 1e-3)

    def _count(self, start_ms: float, stop_ms: float) -> np.ndarray:
        """(samples, neurons) spike counts in ``[start_ms, stop_ms)``, all samples in one pass."""
        n = len(self.neurons)
        if not self.spike_times_ms:
            return np.zeros((0, n), dtype=np.int64)
        lengths = [t.size for t, _ in self.spike_times_ms]
        sample = np.repeat(np.arange(self.n_samples), lengths)
        times = np.concatenate([t for t, _ in self.spike_times_ms])
        cols = np.concatenate([c for _, c in self.spike_times_ms]).astype(np.int64)
        sel = (times >= start_ms) & (times < stop_ms)
        flat = np.bincount(sample[sel] * n + cols[sel], minlength=self.n_samples * n)
        return flat.reshape(self.n_samples, n)

    def membrane(self, hicann: C.HICANNOnWafer, neuron: C.NeuronOnHICANN) -> tuple[np.ndarray, np.ndarray]:
        """(times_ms, (samples, times) membrane in biological mV) of a recorded denmem."""
        wanted = (hicann, neuron)
        if wanted not in self.experiment.record_membrane or self.hardware.membrane is None:
            raise ConfigError(f"{hicann!r} {neuron!r}: membrane not recorded; recorded: {list(self.experiment.record_membrane)}")
        k = self.experiment.record_membrane.index(wanted)
        d = self.experiment.domains
        return d.ticks_to_ms(self.hardware.membrane_times), d.hw_mv_to_mv(self.hardware.membrane[:, k, :])

    @property
    def lost_events(self) -> dict[str, Any]:
        """Events lost on the links (per link) and trace events that no single neuron explains."""
        return {
            "input": dict(self.hardware.lost_input),
            "output": dict(self.hardware.lost_output),
            "unattributed": self.unattributed_events,
            "total": sum(self.hardware.lost_input.values()) + sum(self.hardware.lost_output.values()),
        }
