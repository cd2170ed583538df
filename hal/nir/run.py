"""Running an imported NIR graph: hal's one mapper, an :class:`~hal.Experiment`, :func:`hal.run`.

:meth:`MappedNIR.map` maps :attr:`ImportedNetwork.network` with :func:`hal.mapping.map_network`
(options from :meth:`ImportedNetwork.mapping_options`); :meth:`MappedNIR.run` plays input spikes
given per NIR step -- an array (samples, steps, size) of 0/1 per ``Input`` node, as a
discrete-time framework feeds them -- as spike arrays at ``k * step_ms``, runs on any backend,
and returns spike counts of the output populations (and membranes, in the nodes' NIR units).
The population bookkeeping is :class:`hal.experiment.populations.PopulationMap`.
"""

from __future__ import annotations

import attrs
import numpy as np

import hal
from hal import coordinates as C
from hal.backend import Backend
from hal.errors import ConfigError, UnknownNameError
from hal.experiment.populations import PopulationMap
from hal.hardware.wafer import WaferConfig
from hal.logging import get_logger
from hal.mapping import MappingOptions, MappingResult, map_network
from hal.nir.importer import ImportedNetwork

__all__ = ["MappedNIR", "NIRResult"]

log = get_logger(__name__)


@attrs.frozen(eq=False)
class NIRResult:
    """What a run of an imported graph gave: ``counts[population]`` (samples, size) for every output
    population, ``membranes[population]`` (times_ms, (samples, size, times) in NIR units) for those
    recorded, and the :class:`~hal.Recording` itself."""

    counts: dict
    membranes: dict
    recording: hal.Recording


@attrs.frozen(eq=False)
class MappedNIR:
    """An :class:`ImportedNetwork` mapped onto a wafer: its configuration, mapping and population map."""

    imported: ImportedNetwork
    config: WaferConfig
    mapping: MappingResult
    populations: PopulationMap

    @classmethod
    def map(cls, imported: ImportedNetwork, *, wafer: int = 0, options: MappingOptions | None = None) -> MappedNIR:
        """Map ``imported`` onto ``wafer`` (``options`` default: :meth:`ImportedNetwork.mapping_options`)."""
        if not isinstance(imported, ImportedNetwork):
            raise ConfigError(f"MappedNIR.map: expected an ImportedNetwork (from hal.nir.from_nir), got {type(imported).__name__}")
        options = options if options is not None else imported.mapping_options()
        if options.circuits_per_neuron != imported.circuits_per_neuron:
            raise ConfigError(f"MappedNIR.map: options.circuits_per_neuron {options.circuits_per_neuron} differs from the "
                              f"{imported.circuits_per_neuron} the weights were computed for (use imported.mapping_options(...))")
        config, mapping = map_network(imported.network, C.Wafer(wafer), options)
        return cls(imported, config, mapping, PopulationMap(mapping))

    def _spikes(self, spikes) -> dict[str, np.ndarray]:
        inputs = self.imported.inputs
        if not isinstance(spikes, dict):
            if len(inputs) != 1:
                raise ConfigError(f"MappedNIR.run: the graph has {len(inputs)} inputs ({', '.join(inputs)}); give spikes as a dict by input")
            spikes = {inputs[0]: spikes}
        out = {}
        for name, value in spikes.items():
            if name not in inputs:
                raise UnknownNameError("input (MappedNIR.run spikes)", str(name), inputs)
            size = self.imported.network.size(name)
            a = np.asarray(value)
            if a.ndim != 3 or a.shape[2] != size:
                raise ConfigError(f"MappedNIR.run: spikes of input {name!r} of shape {a.shape}; expected (samples, steps, {size})")
            if a.size and not np.all((a == 0) | (a == 1)):
                bad = a[(a != 0) & (a != 1)].ravel()[0].item()
                raise ConfigError(f"MappedNIR.run: spikes of input {name!r} hold {bad!r}; valid 0 or 1 per step and source")
            out[name] = a
        missing = [n for n in inputs if n not in out]
        if missing:
            raise ConfigError(f"MappedNIR.run: no spikes for input(s) {', '.join(missing)}")
        if len({a.shape[:2] for a in out.values()}) > 1:
            raise ConfigError(f"MappedNIR.run: inputs disagree on (samples, steps): {[a.shape[:2] for a in out.values()]}")
        return out

    def experiment(self, spikes, *, tail_steps: int = 5, record_membrane: tuple[str, ...] = (), membrane_interval_ms: float | None = None,
                   seed: int = 0) -> hal.Experiment:
        """The experiment that plays ``spikes`` (see the module docstring) and runs ``tail_steps`` steps past the last."""
        arrays = self._spikes(spikes)
        samples, steps = next(iter(arrays.values())).shape[:2]
        if not (isinstance(tail_steps, int) and tail_steps >= 0):
            raise ConfigError(f"MappedNIR.run: tail_steps {tail_steps!r} out of range; valid an integer >= 0")
        step = self.imported.step_ms
        inputs = []
        for name, a in arrays.items():
            per_sample = []
            for k in range(samples):
                step_idx, source = np.nonzero(a[k])
                per_sample.append([step_idx[source == i] * step for i in range(a.shape[2])])
            stimulus = self.populations.spike_input(name, per_sample, per_sample=True)
            if stimulus is not None:
                inputs.append(stimulus)
        targets = [t for pop in record_membrane for t in self.populations.membrane_targets(pop)]
        return hal.Experiment(self.config, (steps + tail_steps) * step, inputs, n_samples=samples, record_membrane=targets,
                              membrane_interval_ms=membrane_interval_ms or step / 10, seed=seed)

    def run(self, spikes, backend: Backend | str, *, tail_steps: int = 5, record_membrane: tuple[str, ...] = (), seed: int = 0,
            wafer: int = 0) -> NIRResult:
        """Run ``spikes`` on ``backend`` (a :class:`~hal.Backend` or a registered name); see the module docstring."""
        if isinstance(backend, str):
            backend = hal.get_backend(backend, wafer=wafer)
        experiment = self.experiment(spikes, tail_steps=tail_steps, record_membrane=record_membrane, seed=seed)
        recording = hal.run(experiment, backend)
        lost = recording.lost_events["total"]
        if lost:
            log.warning("nir_run_lost_events", lost=lost, note="events lost on the FPGA links; counts may be low")
        counts = {pop: self.populations.spike_counts(recording, pop) for pop in self.imported.outputs}
        membranes = {}
        for pop in record_membrane:
            times, v = self.populations.membranes(recording, pop)
            membranes[pop] = (times, self.imported.voltage[pop].to_nir(v))
        return NIRResult(counts, membranes, recording)
