"""The model on a backend: mapped once, weights rewritten in place, batches run and measured.

:class:`MappedModel` maps the model's network with :func:`hal.mapping.map_network` (lost
synapses are accepted and masked in the twin), builds the :class:`~hal_trainers.snn.twin.Twin`
from what the mapping realised, writes new weights through the mapping's weight-only path, and
runs batches: input spikes as FPGA playback, spikes of every layer from the trace, membranes
where the backend records them, all put on the twin's time grid (:class:`Measured`).

Which membranes are recorded decides the in-the-loop scheme (:attr:`MappedModel.scheme`):

* ``"membrane"``: the backend records every neuron's membrane (capability ``membrane_readout``
  without a ``max_membrane_traces`` below the network's size): the twin's membranes are
  replaced by the measured ones, as Cramer et al. do;
* ``"spikes"``: few or no traces (BrainScaleS-1 has two analog outputs per HICANN): every twin
  layer is driven by the measured spikes of its inputs and its own spikes are the measured
  ones; the readout's membranes are measured if they fit into the traces, else the twin's
  readout integrates the measured spikes (said in the logs and by :attr:`readout_source`).
"""

from __future__ import annotations

import time

import numpy as np
import torch

import hal
from hal import coordinates as C
from hal.backend import Backend
from hal.errors import ConfigError
from hal.logging import get_logger
from hal.mapping import MappingOptions, map_network
from hal.netlist.wiring import extract_wiring
from hal_trainers.snn.model import INPUT, SpikingModel
from hal_trainers.snn.twin import Measured, Twin

__all__ = ["MappedModel", "SCHEMES"]

log = get_logger(__name__)

SCHEMES = ("membrane", "spikes")


class MappedModel:
    """``model`` mapped onto ``backend`` (a :class:`hal.backend.Backend` or a registered backend's name)."""

    def __init__(self, model: SpikingModel, backend: Backend | str, *, wafer: int = 0, options: MappingOptions | None = None,
                 scheme: str | None = None, ns_per_weight_bit: float | None = None):
        if isinstance(backend, str):
            backend = hal.get_backend(backend, wafer=wafer)
        if not isinstance(backend, Backend):
            raise ConfigError(f"MappedModel: backend must be a hal Backend or a backend name, got {type(backend).__name__}")
        self.model, self.backend = model, backend
        # Lost synapses are masked in the twin; spread sources keep latency-coded input bursts under each link's capacity.
        options = options or MappingOptions(allow_loss=True, spread_sources=True)
        self.network, self.index = model.network(ns_per_weight_bit)
        started = time.perf_counter()
        self.config, self.mapping = map_network(self.network, C.Wafer(wafer), options)
        self.mapping_s = time.perf_counter() - started
        wiring = extract_wiring(self.config)
        self.twin = Twin.from_mapping(model, self.config, self.mapping, self.index, wiring=wiring)
        #: Per layer: which neurons' spikes reach the FPGA trace (a neuron that cannot be read
        #: out looks silent to the loop).
        sending = {(n.hicann, n.firing) for n, r in zip(wiring.neurons, wiring.recorded) if r}
        self.readable = tuple(np.array([key in sending for key in self._neurons(l)]) for l in range(len(model.layers)))
        for l, layer in enumerate(model.layers):
            if layer.spiking and not self.readable[l].all():
                log.warning("neurons_not_readable", layer=self.index.layers[l], count=int((~self.readable[l]).sum()),
                            note="their spikes do not reach the FPGA trace; the loop sees them silent")
        self.scheme, self.readout_source = self._choose_scheme(scheme)
        self._written = [self._weights(k) for k in range(len(model.all_projections()))]
        log.info("model_mapped", backend=backend.name, scheme=self.scheme, readout=self.readout_source,
                 synapses=self.mapping.synapses, synapses_lost=self.mapping.synapses_lost,
                 hicanns=len(self.mapping.hicanns_used), seconds=round(self.mapping_s, 2))

    # -- what is recorded ----------------------------------------------------------------------------

    def _neurons(self, layer: int) -> list[tuple[C.HICANNOnWafer, C.NeuronOnHICANN]]:
        return [(h, denmems[0]) for h, denmems in self.mapping.placement[self.index.layers[layer]]]

    def _choose_scheme(self, scheme: str | None) -> tuple[str, str]:
        caps = self.backend.capabilities
        total = sum(self.model.sizes[1:])
        limit = caps.max_membrane_traces
        can_all = caps.membrane_readout and (limit is None or limit >= total)
        can_readout = caps.membrane_readout and (limit is None or limit >= self.model.sizes[-1])
        if scheme is None:
            scheme = "membrane" if can_all else "spikes"
        if scheme not in SCHEMES:
            raise ConfigError(f"MappedModel.scheme: {scheme!r} not valid; valid {', '.join(SCHEMES)} (or None: from the backend's capabilities)")
        if scheme == "membrane" and not can_all:
            raise ConfigError(f"MappedModel: scheme 'membrane' needs all {total} membranes recorded; backend {self.backend.name!r} "
                              f"has membrane_readout={caps.membrane_readout}, max_membrane_traces={limit}; use scheme 'spikes'")
        readout = "measured membrane" if can_readout else "twin driven by measured spikes"
        return scheme, readout

    def _recorded_layers(self) -> list[int]:
        last = len(self.model.layers) - 1
        if self.scheme == "membrane":
            return list(range(last + 1))
        return [last] if self.readout_source == "measured membrane" else []

    # -- weights ---------------------------------------------------------------------------------------

    def _row_pairs(self) -> list[list[tuple[int, int]]]:
        """Per projection (all_projections' order): its (excitatory, inhibitory) network indices, coarse then fine."""
        index = self.index
        feedforward = [[pair] + ([index.fine_pair(j)] if index.fine_pair(j) is not None else []) for j, pair in enumerate(index.feedforward)]
        return feedforward + [[r] for r in index.recurrent if r is not None]

    def _weights(self, k: int) -> list[np.ndarray]:
        """Projection ``k``'s integer weights per row pair (coarse, then fine if it has them)."""
        proj = self.model.all_projections()[k]
        return [proj.bits()] + ([proj.fine_bits()] if proj.fine_divisor is not None else [])

    def write_weights(self) -> int:
        """Write the model's current integer weights; only changed projections are touched. Returns synapses changed."""
        changed = 0
        for k, pairs in enumerate(self._row_pairs()):
            for part, (bits, (j_e, j_i)) in enumerate(zip(self._weights(k), pairs)):
                diff = int(np.count_nonzero(bits != self._written[k][part]))
                if not diff:
                    continue
                # Matrix projections list their edges post-major, as bits.ravel() does.
                self.mapping.set_weights(self.config, j_e, np.where(bits > 0, bits, 0).ravel())
                self.mapping.set_weights(self.config, j_i, np.where(bits < 0, -bits, 0).ravel())
                self._written[k][part] = bits.copy()
                changed += diff
        return changed

    # -- running ---------------------------------------------------------------------------------------

    def run(self, x, *, seed: int = 0) -> tuple[Measured, torch.Tensor, dict]:
        """Run images ``x`` (samples, inputs) with the current weights.

        Returns the measurements on the twin's grid, the input spikes on that grid and a
        summary (lost events, wall time).
        """
        self.write_weights()
        model = self.model
        spikes_in, grid = model.encode_grid(x, seed)
        targets = self.mapping.source_address[INPUT]
        recorded = self._recorded_layers()
        membranes = [n for l in recorded for n in self._neurons(l)]
        experiment = hal.Experiment(self.config, model.duration_ms, [hal.SpikeArrayInput(targets, spikes_in)],
                                    n_samples=len(spikes_in), record_membrane=membranes, membrane_interval_ms=model.dt_ms, seed=seed)
        started = time.perf_counter()
        rec = hal.run(experiment, self.backend)
        wall = time.perf_counter() - started
        measured = Measured(tuple(self._spikes(rec, l) if layer.spiking else None for l, layer in enumerate(model.layers)),
                            tuple(self._membrane(rec, l) if l in recorded else None for l in range(len(model.layers))))
        return measured, grid, {"lost_events": rec.lost_events["total"], "backend_s": wall}

    def _spikes(self, rec, layer: int) -> torch.Tensor:
        model = self.model
        column_of = {(n.hicann, n.firing): i for i, n in enumerate(rec.neurons)}
        columns = np.array([column_of.get(key, -1) for key in self._neurons(layer)])
        index_of_column = np.full(len(rec.neurons) + 1, -1, dtype=np.int64)
        ok = columns >= 0
        index_of_column[columns[ok]] = np.flatnonzero(ok)
        out = np.zeros((rec.n_samples, model.steps, len(columns)), dtype=np.float32)
        for s in range(rec.n_samples):
            t, col = rec.spikes(s)
            idx = index_of_column[col]
            # A spike in ((k) dt, (k + 1) dt] belongs to step k, whose end the twin's spike marks.
            step = np.ceil(t / model.dt_ms - 1e-9).astype(np.int64) - 1
            keep = (idx >= 0) & (step >= 0) & (step < model.steps)
            np.add.at(out[s], (step[keep], idx[keep]), 1.0)
        return torch.from_numpy(np.minimum(out, 1.0))

    def _membrane(self, rec, layer: int) -> torch.Tensor | None:
        model = self.model
        if rec.hardware.membrane is None:
            return None
        wanted = (np.arange(model.steps) + 1) * model.dt_ms
        traces = []
        for key in self._neurons(layer):
            times, v = rec.membrane(*key)
            at = np.clip(np.searchsorted(times, wanted - 0.5 * model.dt_ms), 0, len(times) - 1)
            traces.append(v[:, at])
        return torch.as_tensor(np.stack(traces, axis=2), dtype=torch.float32)
