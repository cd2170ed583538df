"""Running a PyNN model on a hal backend: map when the network changed, play the sources, record.

The wafer runs every experiment from t = 0 (there is no pausing the analog chip). So
``run(a); run(b)`` runs the experiment again from 0 to ``a + b``: the sources replay what they
played up to ``a`` (a Poisson source keeps its spikes) and continue with their current
parameters, and on a deterministic backend (``reference``, ``emulator``) the neurons repeat the
first part exactly. Neurons and synapses cannot change between two such runs (that would change
the past); ``reset()`` first, as the error says.

Hardware options come from ``setup()`` (:class:`Session`): the backend by name, the wafer, a
calibration, the mapping's options (circuits per neuron, HICANNs, placement, loss policy).
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

import hal
from hal import coordinates as C
from hal.analog.domains import PAPER_DOMAINS
from hal.errors import CalibrationError, CapabilityError, ConfigError
from hal.experiment.populations import PopulationMap
from hal.logging import get_logger
from hal.mapping import MappingOptions, MappingResult, map_network
from hal.netlist.bio import L1_DELAY_HW_S
from hal.pynn.network import NF_PER_CIRCUIT, Built, build_network, nominal_ranges
from hal.pynn.weights import refine_weights

__all__ = ["Session", "LastRun", "run_until", "hardware_delay_ms"]

log = get_logger(__name__)


def hardware_delay_ms(domains=PAPER_DOMAINS) -> float:
    """The one delay of every on-wafer connection, biological ms (0.1 ms at speed-up 10^4)."""
    return float(domains.hw_s_to_ms(L1_DELAY_HW_S))


@attrs.define
class Session:
    """What ``setup()`` chose, and the mapping of the current network (remade when it changes)."""

    backend_name: str
    backend: hal.Backend
    wafer: int
    options: MappingOptions
    seed: int = 0
    _mapped: tuple | None = None  # (state version, Built, config, MappingResult, PopulationMap)

    def forget(self) -> None:
        self._mapped = None

    def check_membranes(self, state) -> None:
        """Refuse recording more membranes than the backend reads out (before any run)."""
        wanted = _membranes_asked(state)
        caps = self.backend.capabilities
        if wanted and not caps.membrane_readout:
            raise CapabilityError(f"hal.pynn: recording 'v' of {wanted} neuron(s): backend {self.backend_name!r} has no membrane "
                                  "readout; record spikes only, or choose a backend with membrane_readout")
        if caps.max_membrane_traces is not None and wanted > caps.max_membrane_traces:
            raise CapabilityError(f"hal.pynn: recording 'v' of {wanted} neurons: backend {self.backend_name!r} records at most "
                                  f"{caps.max_membrane_traces} membranes per run; record fewer")

    def mapped(self, state) -> tuple[Built, Any, MappingResult, PopulationMap]:
        if self._mapped is None or self._mapped[0] != state.version:
            # Without a calibration the nominal chip's reach is known up front: refuse in PyNN's terms.
            ranges = nominal_ranges(self.options.domains) if self.options.calibration is None else None
            built = build_network(state.populations, state.projections, delay_ms=state.min_delay,
                                  circuits_per_neuron=self.options.circuits_per_neuron, ranges=ranges)
            try:
                config, mapping = map_network(built.network, C.Wafer(self.wafer), self.options)
            except CalibrationError as exc:
                raise type(exc)(f"hal.pynn: a neuron parameter is outside what the calibrated chip realises: {exc} "
                                f"(hardware time = biological / {self.options.domains.speedup:g})") from exc
            refine_weights(built.network, config, mapping, hal_cm_nf=NF_PER_CIRCUIT * self.options.circuits_per_neuron,
                           speedup=self.options.domains.speedup)
            self._mapped = (state.version, built, config, mapping, PopulationMap(mapping))
            log.info("pynn_network_mapped", populations=len(built.network.populations), sources=len(built.network.sources),
                     synapses=mapping.synapses, synapses_lost=mapping.synapses_lost)
            if mapping.synapses_lost:  # only with allow_loss: the mapper raises otherwise
                log.warning("pynn_synapses_lost", lost=mapping.synapses_lost, of=mapping.synapses + mapping.synapses_lost,
                            reasons=mapping.lost_reasons, note="sim.realised_weights(projection) shows them as 0")
        return self._mapped[1:]


def _membranes_asked(state) -> int:
    return sum(len(ids) for r in state.recorders for var, ids in r.recorded.items() if var.name == "v")


@attrs.frozen(eq=False)
class LastRun:
    """The current segment's run: its recording, the mapping it ran on, and the stimuli played."""

    version: int
    t_stop: float
    built: Built
    mapping: MappingResult
    populations: PopulationMap
    recording: hal.Recording
    played: dict  # PyNN source population -> list of spike-time arrays (ms), by index
    _block: list = attrs.field(factory=list)  # the Neo block, made on first use

    def block(self):
        if not self._block:
            self._block.append(self.recording.to_neo(self.populations))
        return self._block[0]

    def spike_trains(self, population) -> list[np.ndarray]:
        if population in self.played:
            return self.played[population]
        trains = [np.zeros(0) for _ in range(population.size)]
        for train in self.block().segments[0].spiketrains:
            owner = self.built.cell(train.annotations["population"], train.annotations["index"]) \
                if "population" in train.annotations else None
            if owner is not None and owner[0] is population:
                trains[owner[1]] = np.asarray(train.magnitude, dtype=float)
        return trains

    def hardware_notes(self, population, index: int) -> dict:
        """HICANN and circuits of a neuron (empty for a source)."""
        if population in self.played:
            return {}
        name, local = self.built.place(population, index)
        h, denmems = self.populations.circuits(name)[local]
        return {"hicann": h.enum, "neuron": denmems[0].enum, "circuits": [d.enum for d in denmems]}

    def membranes(self, population, index: np.ndarray, interval_ms: float, t_start: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """(times_ms, (times, len(index)) mV) of recorded neurons of ``population`` on the grid
        ``t_start, t_start + interval_ms, ... <= t_stop`` (PyNN's: both ends included).

        The chip samples on whole FPGA ticks (4 ns: 0.04 ms biological); where the grid falls
        between two samples the value is interpolated linearly, and the end holds the last sample.
        """
        by_cell = {(s.annotations.get("population"), s.annotations.get("index")): s for s in self.block().segments[0].analogsignals}
        places = [self.built.place(population, int(i)) for i in index]
        missing = [int(i) for i, place in zip(index, places) if place not in by_cell]
        if missing:
            raise ConfigError(f"hal.pynn: membrane of {population.label!r}[{missing[0]}] was not recorded in this run; "
                              "record('v') before run()")
        signals = [by_cell[place] for place in places]
        sampled = np.asarray(signals[0].times.rescale("ms").magnitude, dtype=float)
        grid = t_start + interval_ms * np.arange(int(np.floor((self.t_stop - t_start) / interval_ms + 1e-9)) + 1)
        values = np.stack([np.interp(grid, sampled, np.asarray(s.magnitude, dtype=float).ravel()) for s in signals], axis=1)
        return grid, values


def membrane_interval_ticks(intervals_ms, domains) -> int:
    """The chip's sampling interval (ticks) for the requested ones: their common divisor when all are whole
    ticks, else one tick (the values between are interpolated)."""
    import math

    tick_ms = float(domains.ticks_to_ms(1))
    ticks = [interval / tick_ms for interval in intervals_ms]
    if ticks and all(abs(t - round(t)) < 1e-6 and round(t) >= 1 for t in ticks):
        return math.gcd(*(int(round(t)) for t in ticks))
    return 1


def _source_trains(population, t_from: float, t_to: float, rng: np.random.Generator) -> list[np.ndarray]:
    """Spikes of a source population in ``[t_from, t_to)`` from its current parameters."""
    kind = type(population.celltype).__name__
    if kind == "SpikeSourceArray":
        out = []
        for i, seq in enumerate(np.broadcast_to(np.asarray(population._parameters["spike_times"], dtype=object), (population.size,))):
            times = np.asarray(getattr(seq, "value", seq), dtype=float).ravel()
            if not np.all(np.isfinite(times)) or (times < 0).any():
                raise ConfigError(f"hal.pynn: {population.label!r}[{i}] spike_times: {float(times[~np.isfinite(times) | (times < 0)][0])!r} ms "
                                  "out of range; valid finite times >= 0")
            out.append(np.sort(times[(times >= t_from) & (times < t_to)]))
        return out
    rate, start, duration = (np.broadcast_to(np.asarray(population._parameters[k], dtype=float), (population.size,))
                             for k in ("rate", "start", "duration"))
    out = []
    for i in range(population.size):
        lo, hi = max(t_from, start[i]), min(t_to, start[i] + duration[i])
        if not (rate[i] >= 0 and np.isfinite(rate[i])):
            raise ConfigError(f"hal.pynn: {population.label!r}[{i}] rate {float(rate[i])!r} Hz out of range; valid a finite rate >= 0")
        if hi <= lo or rate[i] == 0:
            out.append(np.zeros(0))
            continue
        n = rng.poisson(rate[i] * (hi - lo) * 1e-3)
        out.append(np.sort(lo + rng.random(n) * (hi - lo)))
    return out


def run_until(state, tstop: float) -> None:
    """Run the model from 0 to ``tstop`` (see the module docstring); keep the result as ``state.last``."""
    session: Session | None = state.hardware
    if session is None:
        raise ConfigError("hal.pynn: run() before setup(); call hal.pynn.setup(backend=...) first")
    last = state.last
    if last is not None and last.version != state.version:
        raise CapabilityError("hal.pynn: neurons or synapses changed since the last run() of this segment; the wafer runs every "
                              "experiment from t = 0, so it cannot change them mid-run: call reset() first")
    if tstop <= 0:
        state.t = max(state.t, float(tstop))
        return
    built, config, mapping, where = session.mapped(state)
    t_prev = last.t_stop if last is not None else 0.0
    inputs, played = [], {}
    sources = [p for p in state.populations if not p.celltype.injectable]
    for k, pop in enumerate(sources):
        rng = np.random.default_rng([session.seed, state.segment_counter, k, int(round(t_prev * 1e3))])
        new = _source_trains(pop, t_prev, tstop, rng)
        old = last.played[pop] if last is not None else [np.zeros(0)] * pop.size
        trains = [np.concatenate([o[o < t_prev], n]) for o, n in zip(old, new)]
        played[pop] = trains
        stimulus = where.spike_input(built.name_of[pop], trains)
        if stimulus is not None:
            inputs.append(stimulus)
    membranes, intervals = [], []
    for pop in state.populations:
        for var, ids in pop.recorder.recorded.items():
            if var.name == "v" and ids:
                index = sorted(pop.id_to_index(int(i)) for i in ids)
                membranes += built.neurons(where, pop, index)
                intervals.append(pop.recorder.sampling_interval)
    session.check_membranes(state)
    domains = session.options.domains
    interval = float(domains.ticks_to_ms(membrane_interval_ticks(intervals, domains)))
    experiment = hal.Experiment(config, float(tstop), inputs, record_membrane=membranes, membrane_interval_ms=interval,
                                seed=session.seed + state.segment_counter, domains=domains)
    recording = hal.run(experiment, session.backend)
    lost = recording.lost_events
    if lost["total"] or lost["unattributed"]:  # also in get_data()'s block: the hal recording's annotations
        log.warning("pynn_events_lost", input=sum(lost["input"].values()), output=sum(lost["output"].values()),
                    unattributed=lost["unattributed"], note="events the backend's links dropped; see Recording.lost_events")
    _check_readout(state, built, where, recording)
    state.t = float(tstop)
    state.running = True
    state.last = LastRun(state.version, float(tstop), built, mapping, where, recording, played)


def _check_readout(state, built: Built, where: PopulationMap, recording) -> None:
    """Every neuron whose spikes PyNN records must reach the FPGA trace (otherwise it would look silent)."""
    for pop in state.populations:
        if not pop.celltype.injectable:
            continue
        ids = [i for var, cells in pop.recorder.recorded.items() if var.name == "spikes" for i in cells]
        if not ids:
            continue
        column_of = {name: where.columns(recording, name) for name in set(built.cells[pop][0])}
        index = np.array(sorted(pop.id_to_index(int(i)) for i in ids))
        unread = np.array([i for i in index if column_of[built.place(pop, int(i))[0]][built.place(pop, int(i))[1]] < 0], dtype=np.int64)
        if unread.size:
            raise CapabilityError(f"hal.pynn: spikes of {pop.label!r}[{int(unread[0])}] ({unread.size} neuron(s)) do not reach the "
                                  "FPGA trace in this mapping, so they cannot be recorded; record fewer neurons per HICANN or "
                                  "spread the population (setup(hicanns=...))")
