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

What a run can carry is bounded before anything is allocated: a Poisson source's rate by
one event per FPGA timestamp tick, the expected playback events by :data:`MAX_PLAYBACK_EVENTS`,
the sampled membrane values by :data:`MAX_MEMBRANE_VALUES`, the duration by the FPGA trace's
time range, and the batch by :data:`MAX_SAMPLES`.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from hal import coordinates as C
from hal.coordinates import InputAddress
from hal.backend import Backend, RunRequest, RunResult
from hal.configuration.configurator import Verify
from hal.analog.domains import PAPER_DOMAINS, TICK_HW_S, Domains
from hal.logging import get_logger
from hal.validators import at_least, finite, in_range, instance_of, positive, shown
from hal.errors import ConfigError, ConfigValueError
from hal.backend.events import HardwareEvents
from hal.hardware.wafer import WaferConfig
from hal.netlist.wiring import LogicalNeuron, Wiring

__all__ = ["PoissonInput", "SpikeArrayInput", "Experiment", "Recording", "max_source_rate_hz", "max_duration_ms",
           "MAX_PLAYBACK_EVENTS", "MAX_MEMBRANE_VALUES", "MAX_SAMPLES", "MAX_RUN_TICKS", "LINK_EVENTS_PER_HW_S"]

log = get_logger(__name__)

#: The expected number of Poisson playback events an experiment may ask for, over all inputs
#: and samples (hal holds each as a 16-byte event: 2 GiB). Larger batches are split into runs.
MAX_PLAYBACK_EVENTS = 2**27
#: Sampled membrane values a run may return (samples x traces x time points; 2 GiB as float64).
MAX_MEMBRANE_VALUES = 2**28
#: Samples (independent input patterns) in one run.
MAX_SAMPLES = 2**20
#: Events a HICANN's FPGA link carries per second of hardware time: one per 56 ns (HARDWARE_FACTS.md section 7).
LINK_EVENTS_PER_HW_S = 1e9 / 56
#: The longest run in FPGA timestamp ticks: the trace's 15-bit timestamps extended by
#: overflow entries that count up to 31 bits (HARDWARE_FACTS.md section 7).
MAX_RUN_TICKS = 2**46


def max_source_rate_hz(domains: Domains) -> float:
    """The highest rate (biological Hz) one source can be played at: one event per timestamp tick.

    The FPGA timestamps events in 4 ns ticks (0.04 ms biological at speed-up 10^4: 25 kHz);
    two events of one source within a tick cannot be told apart. (A HICANN link carries far
    less, one event per 56 ns; beyond that, events are dropped and counted, see
    :data:`hal.experiment.LINK_CAPACITY_HZ`.)
    """
    return 1.0 / (TICK_HW_S * domains.speedup)


def max_duration_ms(domains: Domains) -> float:
    """The longest experiment (biological ms): :data:`MAX_RUN_TICKS` timestamp ticks."""
    return float(domains.ticks_to_ms(MAX_RUN_TICKS))


def _numbers(value: Any, owner: str, field: str, kinds: str, valid: str) -> np.ndarray:
    """``value`` as an array of the numeric ``kinds``; strings, booleans and objects are refused, not coerced."""
    if isinstance(value, np.ndarray):
        array = value
    else:
        try:
            array = np.asarray(value)
        except (ValueError, TypeError):  # ragged
            raise ConfigValueError(owner, field, shown(value), valid) from None
    if array.dtype.kind not in kinds and array.size:
        raise ConfigValueError(owner, field, shown(value), f"{valid}; not {array.dtype}")
    return array


def _targets(value: Any) -> tuple[InputAddress, ...]:
    if isinstance(value, (str, bytes, dict)):
        raise ConfigError(f"input targets: {shown(value)} is not a list of InputAddress")
    try:
        items = tuple(value)
    except TypeError:
        raise ConfigError(f"input targets: {shown(value)} is not a list of InputAddress") from None
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
    rates_hz: np.ndarray = attrs.field(
        converter=lambda r: _numbers(r, "PoissonInput", "rates_hz", "iuf", "a finite rate >= 0 per target").astype(float))
    start_ms: float = attrs.field(default=0.0, validator=finite(what="time", unit="ms"))
    stop_ms: float | None = attrs.field(default=None, validator=attrs.validators.optional(finite(what="time", unit="ms")))
    seed: int = attrs.field(default=0, validator=at_least(0))

    def __attrs_post_init__(self):
        r = self.rates_hz
        if r.ndim not in (1, 2) or r.shape[-1] != len(self.targets):
            raise ConfigError(f"PoissonInput.rates_hz: shape {r.shape}; expected ({len(self.targets)},) or (samples, {len(self.targets)})")
        if not np.all(np.isfinite(r)) or np.any(r < 0):
            bad = r.ravel()[np.flatnonzero(~np.isfinite(r.ravel()) | (r.ravel() < 0))[0]]
            raise ConfigError(f"PoissonInput.rates_hz: {float(bad)!r} Hz out of range; valid a finite rate >= 0")
        if self.start_ms < 0 or (self.stop_ms is not None and self.stop_ms < self.start_ms):
            raise ConfigError(f"PoissonInput: window [{self.start_ms}, {self.stop_ms}) ms is not valid; need 0 <= start <= stop")

    def expected_events(self, n_samples: int, duration_ms: float) -> float:
        """The mean number of spikes over ``n_samples`` samples (to bound a run before drawing them)."""
        stop = duration_ms if self.stop_ms is None else self.stop_ms
        per_sample = self.rates_hz.sum(axis=-1) * (stop - self.start_ms) * 1e-3
        return float(per_sample.sum() if self.rates_hz.ndim == 2 else per_sample * n_samples)

    def n_samples(self) -> int | None:
        return self.rates_hz.shape[0] if self.rates_hz.ndim == 2 else None

    def spikes(self, sample: int, duration_ms: float) -> tuple[np.ndarray, np.ndarray]:
        """(times_ms, target index) of one sample, sorted by time."""
        stop = duration_ms if self.stop_ms is None else self.stop_ms
        rates = self.rates_hz[sample] if self.rates_hz.ndim == 2 else self.rates_hz
        expected = float(rates.sum()) * (stop - self.start_ms) * 1e-3
        if not expected <= MAX_PLAYBACK_EVENTS:  # also NaN: nothing is drawn before this holds
            raise ConfigError(f"PoissonInput: sample {sample} expects {expected:.4g} spikes in [{self.start_ms}, {stop}) ms; "
                              f"at most {MAX_PLAYBACK_EVENTS} playback events fit a run")
        rng = np.random.default_rng([self.seed, sample])
        window_s = (stop - self.start_ms) * 1e-3
        counts = rng.poisson(rates * window_s)
        index = np.repeat(np.arange(len(self.targets)), counts)
        times = self.start_ms + rng.random(index.size) * (stop - self.start_ms)
        order = np.argsort(times, kind="stable")
        return times[order], index[order]


def _spike_arrays(value: Any) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """(times as float, target indices as int64) per sample; indices must be integers, times numbers."""
    if isinstance(value, (str, bytes, dict)):
        raise ConfigError(f"SpikeArrayInput.spikes: {shown(value)} is not a list of (times_ms, target_index) pairs")
    try:
        pairs = [tuple(p) for p in value]
    except TypeError:
        raise ConfigError(f"SpikeArrayInput.spikes: {shown(value)} is not a list of (times_ms, target_index) pairs") from None
    out = []
    for k, pair in enumerate(pairs):
        if len(pair) != 2:
            raise ConfigError(f"SpikeArrayInput.spikes[{k}]: {shown(pair)} is not a (times_ms, target_index) pair")
        times = _numbers(pair[0], "SpikeArrayInput", f"spikes[{k}].times_ms", "iuf", "finite times in ms")
        index = _numbers(pair[1], "SpikeArrayInput", f"spikes[{k}].target_index", "iu", "integer target indices")
        out.append((times.astype(float), index.astype(np.int64)))
    return tuple(out)


@attrs.frozen(eq=False)
class SpikeArrayInput:
    """Explicit spike times: ``spikes[k] = (times_ms, target index)`` for sample k (one entry = all samples)."""

    targets: tuple[InputAddress, ...] = attrs.field(converter=_targets)
    spikes: tuple[tuple[np.ndarray, np.ndarray], ...] = attrs.field(converter=lambda s: _spike_arrays(s))

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

    def batch(self, n_samples: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(sample, times_ms, target index) of samples ``0..n_samples - 1``: :meth:`spikes_of` of each, one after another.

        In one pass (a training batch of 100 images is one call, not 100).
        """
        per_sample = [self.spikes[k if len(self.spikes) > 1 else 0] for k in range(n_samples)]
        sizes = [t.size for t, _ in per_sample]
        sample = np.repeat(np.arange(n_samples), sizes)
        times = np.concatenate([t for t, _ in per_sample]) if per_sample else np.zeros(0)
        index = np.concatenate([i for _, i in per_sample]) if per_sample else np.zeros(0, dtype=np.int64)
        order = np.lexsort((times, sample))  # by sample, then time; stable like spikes_of's argsort
        return sample[order], times[order], index[order]


Input = PoissonInput | SpikeArrayInput


_positive_ms = positive(what="time", unit="ms")


def _tuple_of(value: Any, field: str) -> Any:
    if isinstance(value, (str, bytes, dict)):
        raise ConfigError(f"Experiment.{field}: {shown(value)} is not a list")
    try:
        return tuple(value)
    except TypeError:
        raise ConfigError(f"Experiment.{field}: {shown(value)} is not a list") from None


@attrs.frozen(eq=False)
class Experiment:
    """A configured network, its stimuli, what to record and for how long (biological units)."""

    config: WaferConfig
    duration_ms: float = attrs.field(validator=_positive_ms)
    inputs: tuple[Input, ...] = attrs.field(default=(), converter=lambda v: _tuple_of(v, "inputs"))
    n_samples: int | None = attrs.field(default=None, validator=attrs.validators.optional(in_range(1, MAX_SAMPLES, error=ConfigValueError)))
    record_membrane: tuple[tuple[C.HICANNOnWafer, C.NeuronOnHICANN], ...] = attrs.field(default=(), converter=lambda v: _tuple_of(v, "record_membrane"))
    membrane_interval_ms: float = attrs.field(default=0.1, validator=_positive_ms)
    domains: Domains = attrs.field(default=PAPER_DOMAINS, validator=instance_of(Domains))
    seed: int = attrs.field(default=0, validator=at_least(0))
    verify: Verify = attrs.field(default=Verify.VERIFY, validator=instance_of(Verify))

    def __attrs_post_init__(self):
        if not isinstance(self.config, WaferConfig):
            raise ConfigError(f"Experiment.config: expected a WaferConfig, got {type(self.config).__name__}")
        longest = max_duration_ms(self.domains)
        if self.duration_ms > longest:
            raise ConfigValueError("Experiment", "duration_ms", self.duration_ms,
                                   f"a time > 0 and <= {longest:.6g} ms ({MAX_RUN_TICKS} FPGA timestamp ticks, the trace's time range)")
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
        self._check_bounds()

    def _check_bounds(self) -> None:
        """What the run would allocate, from the rates and sizes alone: rates, playback events, membrane samples."""
        top = max_source_rate_hz(self.domains)
        expected = 0.0
        for i, inp in enumerate(self.inputs):
            if isinstance(inp, PoissonInput):
                if inp.rates_hz.size and inp.rates_hz.max() > top:
                    raise ConfigError(
                        f"Experiment.inputs[{i}].rates_hz: {float(inp.rates_hz.max())!r} Hz out of range; valid 0..{top:.6g} Hz "
                        f"(one event per {TICK_HW_S * 1e9:.0f} ns FPGA timestamp tick at speed-up {self.domains.speedup:g}; "
                        f"a HICANN link carries {LINK_EVENTS_PER_HW_S / self.domains.speedup:.6g} Hz without loss)")
                expected += inp.expected_events(self.batch_size, self.duration_ms)
        if expected > MAX_PLAYBACK_EVENTS:
            raise ConfigError(f"Experiment: the Poisson inputs expect {expected:.4g} playback events over {self.batch_size} sample(s); "
                              f"at most {MAX_PLAYBACK_EVENTS} fit a run (split the batch or shorten the stimulus)")
        if self.record_membrane:
            points = int(self.domains.ms_to_ticks(self.duration_ms)) // max(1, int(self.domains.ms_to_ticks(self.membrane_interval_ms))) + 1
            values = points * len(self.record_membrane) * self.batch_size
            if values > MAX_MEMBRANE_VALUES:
                raise ConfigError(f"Experiment: recording {len(self.record_membrane)} membrane(s) every {self.membrane_interval_ms} ms for "
                                  f"{self.duration_ms} ms in {self.batch_size} sample(s) gives {values} values; at most {MAX_MEMBRANE_VALUES} "
                                  "fit a run (record fewer, less often, or split the batch)")

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
            if isinstance(inp, SpikeArrayInput):
                sample, times, index = inp.batch(self.batch_size)
                parts.append(HardwareEvents(sample, self.domains.ms_to_ticks(times), hicann[index], channel[index], address[index]))
                continue
            for k in range(self.batch_size):
                times, index = inp.spikes(k, self.duration_ms)
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
    # (hicann, denmem) -> its index in the experiment's record_membrane, filled on first use: a
    # trainer reads hundreds of traces per run, and searching the list for each was quadratic.
    _membrane_index: dict = attrs.field(init=False, factory=dict, repr=False)

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
        index = self._membrane_index
        if not index:
            # The first occurrence of each, as list.index finds it.
            for k, key in reversed(list(enumerate(self.experiment.record_membrane))):
                index[key] = k
        k = index.get(wanted)
        if k is None or self.hardware.membrane is None:
            raise ConfigError(f"{hicann!r} {neuron!r}: membrane not recorded; recorded: {list(self.experiment.record_membrane)}")
        d = self.experiment.domains
        return d.ticks_to_ms(self.hardware.membrane_times), d.hw_mv_to_mv(self.hardware.membrane[:, k, :])

    def to_neo(self, mapping=None) -> Any:
        """This recording as a :class:`neo.Block`, one segment per sample (:func:`hal.experiment.neo.to_neo`).

        ``mapping`` (a :class:`~hal.mapping.MappingResult` or
        :class:`~hal.experiment.populations.PopulationMap`) adds population and index to each train.
        Needs the optional extra ``interop`` (neo).
        """
        from hal.experiment.neo import to_neo  # neo.py builds on this module, and neo is optional

        return to_neo(self, mapping)

    @property
    def lost_events(self) -> dict[str, Any]:
        """Events lost on the links (per link) and trace events that no single neuron explains."""
        return {
            "input": dict(self.hardware.lost_input),
            "output": dict(self.hardware.lost_output),
            "unattributed": self.unattributed_events,
            "total": sum(self.hardware.lost_input.values()) + sum(self.hardware.lost_output.values()),
        }
