"""Populations on the hardware: the glue between a mapped network's names and indices and a run's data.

A :class:`~hal.mapping.MappingResult` knows where each neuron of a population went (HICANN and
merged denmems; the first denmem fires) and which FPGA input address plays each source. A
:class:`~hal.experiment.Recording` knows spikes per logical neuron (a column) and membranes per
(HICANN, denmem). :class:`PopulationMap` joins the two, so that a user asks in the network's
terms -- population name and index -- and never builds a column table by hand:

* :meth:`~PopulationMap.spike_trains` / :meth:`~PopulationMap.spike_counts`: spikes per index;
* :meth:`~PopulationMap.membrane_targets` (for :attr:`Experiment.record_membrane`) and
  :meth:`~PopulationMap.membranes`: membrane traces per index;
* :meth:`~PopulationMap.spike_input` (a stimulus given per source index) and
  :meth:`~PopulationMap.input_spike_trains` (what an experiment played to each source index);
* :meth:`~PopulationMap.locate`: which population and index a hardware neuron belongs to.

A neuron whose spikes do not reach the FPGA trace has no column: its train is empty and its
count zero (the mapping decides which neurons are read out). A source that reaches no neuron has
no input address (``None``): spikes given to it are not played.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import numpy as np

from hal import coordinates as C
from hal.coordinates import InputAddress
from hal.errors import ConfigError, UnknownNameError
from hal.experiment.model import Experiment, PoissonInput, Recording, SpikeArrayInput
from hal.mapping import MappingResult
from hal.validators import shown

__all__ = ["PopulationMap", "Neuron"]

#: A hardware neuron as the mapping places it: its HICANN and firing denmem.
Neuron = tuple[C.HICANNOnWafer, C.NeuronOnHICANN]


@attrs.frozen(eq=False)
class PopulationMap:
    """Population names and indices <-> hardware neurons, input addresses and recording columns."""

    mapping: MappingResult = attrs.field(validator=attrs.validators.instance_of(MappingResult))
    #: (HICANN, denmem) -> (population, index), for :meth:`locate`
    _owner: dict = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self):
        owner = {(h, d): (p.name, i) for p in self.mapping.network.populations
                 for i, (h, denmems) in enumerate(self.mapping.neurons_of(p.name)) for d in denmems}
        object.__setattr__(self, "_owner", owner)

    # -- the network's names ---------------------------------------------------------------------

    @property
    def populations(self) -> tuple[str, ...]:
        """Neuron populations, in the network's order."""
        return tuple(p.name for p in self.mapping.network.populations)

    @property
    def sources(self) -> tuple[str, ...]:
        """Source populations, in the network's order."""
        return tuple(s.name for s in self.mapping.network.sources)

    def _population(self, name: str) -> list:
        if not isinstance(name, str) or name not in self.mapping.placement or self.mapping.network.is_source(name):
            raise UnknownNameError("neuron population", str(name), self.populations)
        return self.mapping.neurons_of(name)

    def _source(self, name: str) -> list:
        if not isinstance(name, str) or name not in self.mapping.source_address:
            raise UnknownNameError("source population", str(name), self.sources)
        return self.mapping.source_address[name]

    def _indices(self, name: str, size: int, indices: Sequence[int] | None) -> np.ndarray:
        if indices is None:
            return np.arange(size)
        try:
            idx = np.asarray(indices)
        except (TypeError, ValueError):
            raise ConfigError(f"population {name!r}: indices {shown(indices)} are not a list of integers") from None
        if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
            raise ConfigError(f"population {name!r}: indices {shown(indices)} are not a list of integers")
        if idx.size and (idx.min() < 0 or idx.max() >= size):
            bad = int(idx.min()) if idx.min() < 0 else int(idx.max())
            raise ConfigError(f"population {name!r}: index {bad} out of range; valid 0..{size - 1}")
        return idx.astype(np.int64)

    # -- hardware neurons --------------------------------------------------------------------------

    def neurons(self, population: str) -> tuple[Neuron, ...]:
        """(HICANN, firing denmem) of each neuron of ``population``, by index."""
        return tuple((h, denmems[0]) for h, denmems in self._population(population))

    def circuits(self, population: str) -> tuple[tuple[C.HICANNOnWafer, tuple[C.NeuronOnHICANN, ...]], ...]:
        """(HICANN, all merged denmems) of each neuron of ``population``, by index."""
        return tuple((h, tuple(denmems)) for h, denmems in self._population(population))

    def input_addresses(self, source: str) -> tuple[InputAddress | None, ...]:
        """The FPGA input address of each source of ``source`` (None: it reaches no neuron)."""
        return tuple(self._source(source))

    def locate(self, hicann: C.HICANNOnWafer, neuron: C.NeuronOnHICANN) -> tuple[str, int] | None:
        """(population, index) of the neuron that contains denmem ``neuron`` of ``hicann``; None if none does."""
        return self._owner.get((hicann, neuron))

    # -- spikes ---------------------------------------------------------------------------------------

    def columns(self, recording: Recording, population: str) -> np.ndarray:
        """The recording column of each neuron of ``population`` (-1: its spikes are not recorded)."""
        column_of = {(n.hicann, n.firing): i for i, n in enumerate(recording.neurons)}
        return np.array([column_of.get(key, -1) for key in self.neurons(population)], dtype=np.int64)

    def spike_trains(self, recording: Recording, population: str, sample: int = 0) -> list[np.ndarray]:
        """Spike times (biological ms) of each neuron of ``population`` in one sample, by index."""
        columns = self.columns(recording, population)
        times, cols = recording.spikes(sample)
        index_of_column = np.full(len(recording.neurons) + 1, -1, dtype=np.int64)
        ok = columns >= 0
        index_of_column[columns[ok]] = np.flatnonzero(ok)
        index = index_of_column[cols] if cols.size else np.zeros(0, dtype=np.int64)
        order = np.argsort(index, kind="stable")  # stable: times stay sorted within a train
        index, times = index[order], times[order]
        bounds = np.searchsorted(index, np.arange(len(columns) + 1))
        return [times[bounds[i]:bounds[i + 1]] for i in range(len(columns))]

    def spike_counts(self, recording: Recording, population: str) -> np.ndarray:
        """(samples, size) spike counts of ``population`` over the whole run."""
        columns = self.columns(recording, population)
        counts = recording.spike_counts
        out = np.zeros((recording.n_samples, len(columns)), dtype=np.int64)
        ok = columns >= 0
        out[:, ok] = counts[:, columns[ok]]
        return out

    # -- membranes --------------------------------------------------------------------------------

    def membrane_targets(self, population: str, indices: Sequence[int] | None = None) -> list[Neuron]:
        """(HICANN, firing denmem) to record for the neurons ``indices`` of ``population`` (all if None)."""
        neurons = self.neurons(population)
        return [neurons[i] for i in self._indices(population, len(neurons), indices)]

    def membranes(self, recording: Recording, population: str, indices: Sequence[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(times_ms, (samples, len(indices), times) membrane in biological mV) of neurons of ``population``.

        Every neuron asked for must have been recorded (:meth:`membrane_targets` in the experiment's
        ``record_membrane``); otherwise the error lists what was recorded.
        """
        targets = self.membrane_targets(population, indices)
        if not targets:
            return np.zeros(0), np.zeros((recording.n_samples, 0, 0))
        traces, times = [], np.zeros(0)
        for h, n in targets:
            times, v = recording.membrane(h, n)
            traces.append(v)
        return times, np.stack(traces, axis=1)

    # -- inputs -----------------------------------------------------------------------------------

    def spike_input(self, source: str, spike_times: Sequence, *, per_sample: bool = False) -> SpikeArrayInput | None:
        """A stimulus for ``source``: ``spike_times[i]`` (ms) for source index ``i``, the same in every sample;
        with ``per_sample``, ``spike_times[k][i]`` for sample ``k``.

        Sources that reach no neuron are left out (nothing would receive them); None when no
        source with an input address has a spike.
        """
        addresses = self.input_addresses(source)
        samples = _listed(spike_times, f"spike_input {source!r}: spike_times") if per_sample else [spike_times]
        played = [i for i, a in enumerate(addresses) if a is not None]
        arrays = []
        for k, trains in enumerate(samples):
            trains = _trains(source, trains, len(addresses), f" (sample {k})" if per_sample else "")
            times = [trains[i] for i in played]
            index = [np.full(t.size, j, dtype=np.int64) for j, t in enumerate(times)]
            arrays.append((np.concatenate(times) if times else np.zeros(0), np.concatenate(index) if index else np.zeros(0, np.int64)))
        if not played or not any(t.size for t, _ in arrays):
            return None
        return SpikeArrayInput([addresses[i] for i in played], arrays)

    def input_spike_trains(self, experiment: Experiment, source: str, sample: int = 0) -> list[np.ndarray]:
        """What ``experiment`` plays to each source of ``source`` in one sample (ms, by index).

        Poisson inputs are drawn as the run draws them (same seeds), so these are the spikes the
        hardware received (before any loss on the links, which :attr:`Recording.lost_events` counts).
        """
        addresses = self.input_addresses(source)
        if not 0 <= sample < experiment.batch_size:
            raise ConfigError(f"sample {sample} out of range; valid 0..{experiment.batch_size - 1}")
        index_of = {a: i for i, a in enumerate(addresses) if a is not None}
        trains: list[list[np.ndarray]] = [[] for _ in addresses]
        for inp in experiment.inputs:
            owners = np.array([index_of.get(t, -1) for t in inp.targets], dtype=np.int64)
            if not (owners >= 0).any():
                continue
            times, target = inp.spikes(sample, experiment.duration_ms) if isinstance(inp, PoissonInput) else inp.spikes_of(sample)
            who = owners[target]
            for i in np.unique(who[who >= 0]):
                trains[int(i)].append(times[who == i])
        return [np.sort(np.concatenate(t)) if t else np.zeros(0) for t in trains]


def _listed(value, what: str) -> list:
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__len__"):
        raise ConfigError(f"{what}: {shown(value)} is not a list")
    return list(value)


def _trains(source: str, trains, size: int, where: str) -> list[np.ndarray]:
    """``trains`` as one float array of spike times per source index; anything else is refused."""
    trains = _listed(trains, f"spike_input {source!r}{where}: spike times")
    if len(trains) != size:
        raise ConfigError(f"spike_input {source!r}{where}: {len(trains)} spike-time lists; the population has {size} sources")
    out = []
    for i, t in enumerate(trains):
        try:
            array = np.asarray(t)
        except (TypeError, ValueError):
            array = None
        if array is None or array.ndim != 1 or (array.size and array.dtype.kind not in "iuf") or not np.all(np.isfinite(array)):
            raise ConfigError(f"spike_input {source!r}{where}: spike times of source {i} ({shown(t)}) are not a list of finite numbers (ms)")
        out.append(array.astype(float))
    return out
