"""``Population``, ``PopulationView`` and ``Assembly``: PyNN's common classes over hal's state.

Parameters are stored per cell as PyNN gives them (native names = PyNN names); they become hal
populations when ``run()`` maps the network. Changing a neuron parameter marks the network
changed, so the next run maps again.
"""

from __future__ import annotations

import numpy as np
from pyNN import common, errors
from pyNN.parameters import ParameterSpace, simplify
from pyNN.standardmodels import StandardCellType

from hal.errors import CapabilityError, ConfigError
from hal.pynn import simulator
from hal.pynn.recording import Recorder

__all__ = ["Population", "PopulationView", "Assembly", "SpikeTimesError"]


class SpikeTimesError(ConfigError, errors.InvalidParameterValueError):
    """Spike times of a SpikeSourceArray that are not finite, not >= 0 or not in ascending order (also PyNN's error type)."""


def _check_spike_times(population) -> None:
    if "spike_times" not in population._parameters:
        return
    for i, seq in enumerate(np.broadcast_to(np.asarray(population._parameters["spike_times"], dtype=object), (population.size,))):
        times = np.asarray(getattr(seq, "value", seq), dtype=float).ravel()
        if not np.all(np.isfinite(times)) or (times < 0).any():
            bad = times[~np.isfinite(times) | (times < 0)][0]
            raise SpikeTimesError(f"hal.pynn: {population.label!r}[{i}] spike_times: {float(bad)!r} ms out of range; valid finite times >= 0")
        if times.size > 1 and (np.diff(times) < 0).any():
            k = int(np.flatnonzero(np.diff(times) < 0)[0])
            raise SpikeTimesError(f"hal.pynn: {population.label!r}[{i}] spike_times: {float(times[k + 1])!r} ms follows {float(times[k])!r} ms; "
                                  "valid: times in ascending order")


class Assembly(common.Assembly):
    _simulator = simulator


def _parameters_of(celltype, native):
    if isinstance(celltype, StandardCellType):
        return celltype.reverse_translate(native)
    return native


class PopulationView(common.PopulationView):
    _assembly_class = Assembly
    _simulator = simulator

    def _get_parameters(self, *names):
        native = {}
        for name in self.celltype.get_native_names(*names) if isinstance(self.celltype, StandardCellType) else names:
            value = self.parent._parameters[name]
            native[name] = simplify(value[self.mask] if isinstance(value, np.ndarray) else value)
        return _parameters_of(self.celltype, ParameterSpace(native, shape=(self.size,)))

    def _set_parameters(self, parameter_space):
        for name, value in parameter_space.items():
            try:
                self.parent._parameters[name][self.mask] = value.evaluate(simplify=True)
            except ValueError:
                raise errors.InvalidParameterValueError(f"{name} should not be of type {type(value)}") from None
        self.parent._touched()

    def _set_initial_value_array(self, variable, initial_values):
        self.grandparent._check_initial(variable, initial_values, self.index_in_grandparent(np.arange(self.size)))

    def _get_view(self, selector, label=None):
        return PopulationView(self, selector, label)


class Population(common.Population):
    __doc__ = common.Population.__doc__
    _simulator = simulator
    _recorder_class = Recorder
    _assembly_class = Assembly

    def _create_cells(self):
        state = simulator.state
        ids = np.arange(state.id_counter, state.id_counter + self.size)
        self.all_cells = np.array([simulator.ID(i) for i in ids], dtype=simulator.ID)
        self._mask_local = np.ones(self.size, dtype=bool)
        space = self.celltype.native_parameters if isinstance(self.celltype, StandardCellType) else self.celltype.parameter_space
        space.shape = (self.size,)
        space.evaluate(simplify=False)
        self._parameters = space.as_dict()
        for cell in self.all_cells:
            cell.parent = self
        state.id_counter += self.size
        state.populations.append(self)
        self._touched()

    def _touched(self):
        if not self.celltype.injectable:  # sources: their spikes are stimuli, not configuration
            _check_spike_times(self)
            return
        simulator.state.changed()

    def __init__(self, *args, **kwargs):
        self._constructing = True  # PyNN's defaults (v = -65 mV) are applied then: not the user's request
        super().__init__(*args, **kwargs)
        self._constructing = False

    def _set_initial_value_array(self, variable, initial_values):
        self._check_initial(variable, initial_values, np.arange(self.size))

    def _check_initial(self, variable, initial_values, indices):
        """The chip starts every run at rest: a neuron cannot be preset to another potential."""
        if getattr(self, "_constructing", False) or variable != "v" or "v_rest" not in self._parameters:
            return
        values = np.broadcast_to(np.asarray(initial_values.evaluate(simplify=False) if hasattr(initial_values, "evaluate")
                                            else initial_values, dtype=float), indices.shape)
        v_rest = np.broadcast_to(np.asarray(self._parameters["v_rest"], dtype=float), (self.size,))[indices]
        bad = ~np.isclose(values, v_rest)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise CapabilityError(f"hal.pynn: initial v {values[k]:g} mV of {self.label!r}[{int(indices[k])}]: the hardware starts "
                                  f"every run at the resting potential (v_rest = {v_rest[k]:g} mV); valid: v_rest")

    def _get_view(self, selector, label=None):
        return PopulationView(self, selector, label)

    def _get_parameters(self, *names):
        native_names = self.celltype.get_native_names(*names) if isinstance(self.celltype, StandardCellType) else names
        native = {name: simplify(self._parameters[name]) for name in native_names}
        return _parameters_of(self.celltype, ParameterSpace(native, shape=(self.size,)))

    def _set_parameters(self, parameter_space):
        parameter_space.evaluate(simplify=False, mask=self._mask_local)
        for name, value in parameter_space.items():
            self._parameters[name] = value
        self._touched()
