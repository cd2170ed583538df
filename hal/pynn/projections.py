"""``Projection``: PyNN's common projection, its connections kept as arrays until ``run()`` maps them.

PyNN's connectors (all-to-all, one-to-one, fixed probability, fixed number pre/post, from list,
...) call :meth:`Projection._convergent_connect`; this backend stores (pre index, post index,
weight in uS, delay in ms) per connection. The hardware's limits (weights of 4 bits, one fixed
delay) are checked when the network is mapped (:mod:`hal.pynn.network`), as PyNN's other
backends check theirs when they build the simulator's network.
"""

from __future__ import annotations

import numpy as np
from pyNN import common
from pyNN.space import Space

from hal.errors import CapabilityError
from hal.pynn import simulator
from hal.pynn.standardmodels import StaticSynapse

__all__ = ["Projection", "Connection"]


class Connection(common.Connection):
    """One connection of a projection: a view of its arrays (setting weight or delay changes the projection)."""

    def __init__(self, projection, k):
        self._projection, self._k = projection, k
        self.presynaptic_index = int(projection._pre[k])
        self.postsynaptic_index = int(projection._post[k])

    def _get(self, column: int) -> float:
        return float(self._projection._columns()[column][self._k])

    def _set(self, column: int, value) -> None:
        self._projection._columns()[column][self._k] = float(value)
        simulator.state.changed()

    weight = property(lambda self: self._get(2), lambda self, v: self._set(2, v))
    delay = property(lambda self: self._get(3), lambda self, v: self._set(3, v))

    def as_tuple(self, *attribute_names):
        return tuple(getattr(self, name) for name in attribute_names)


class Projection(common.Projection):
    __doc__ = common.Projection.__doc__
    _simulator = simulator
    _static_synapse_class = StaticSynapse

    def __init__(self, presynaptic_population, postsynaptic_population, connector, synapse_type=None, source=None,
                 receptor_type=None, space=Space(), label=None):
        if synapse_type is not None and not isinstance(synapse_type, StaticSynapse):
            raise CapabilityError(f"hal.pynn: synapse type {type(synapse_type).__name__} is not available; synapses on "
                                  "BrainScaleS-1 (as hal models it) are static: use hal.pynn.StaticSynapse")
        if source is not None:
            raise CapabilityError(f"hal.pynn: source {source!r} not supported; neurons have one spike output")
        common.Projection.__init__(self, presynaptic_population, postsynaptic_population, connector, synapse_type, source,
                                   receptor_type, space, label)
        self._parts: list[tuple[np.ndarray, ...]] = []
        self._arrays = None
        connector.connect(self)
        simulator.state.projections.append(self)
        simulator.state.changed()

    # -- connections as arrays -------------------------------------------------------------------

    def _convergent_connect(self, presynaptic_indices, postsynaptic_index, location_selector=None, **connection_parameters):
        if location_selector is not None:
            raise CapabilityError("hal.pynn: location_selector: neurons are point neurons (no compartments)")
        pre = np.asarray(presynaptic_indices, dtype=np.int64).ravel()
        n = pre.size
        weight = np.broadcast_to(np.asarray(connection_parameters.get("weight", 0.0), dtype=float), (n,))
        delay = np.broadcast_to(np.asarray(connection_parameters.get("delay", simulator.state.min_delay), dtype=float), (n,))
        self._parts.append((pre, np.full(n, int(postsynaptic_index), dtype=np.int64), weight.copy(), delay.copy()))
        self._arrays = None

    def _columns(self):
        if self._arrays is None:
            if self._parts:
                self._arrays = tuple(np.concatenate([p[i] for p in self._parts]) for i in range(4))
            else:
                self._arrays = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
            self._parts = [self._arrays]
        return self._arrays

    @property
    def _pre(self):
        return self._columns()[0]

    @property
    def _post(self):
        return self._columns()[1]

    @property
    def _weight(self):
        return self._columns()[2]

    @property
    def _delay(self):
        return self._columns()[3]

    @property
    def connections(self):
        return [Connection(self, k) for k in range(len(self))]

    def __len__(self):
        return int(self._pre.size)

    def __getitem__(self, i):
        if isinstance(i, (int, np.integer)):
            if not -len(self) <= i < len(self):
                raise IndexError(f"connection {i} out of range; the projection has {len(self)}")
            return Connection(self, int(i) % len(self))
        return [Connection(self, k) for k in range(len(self))[i]]

    def _get_attributes_as_list(self, names):
        columns = {"presynaptic_index": self._pre, "postsynaptic_index": self._post, "weight": self._weight, "delay": self._delay}
        for name in names:
            if name not in columns:
                raise CapabilityError(f"hal.pynn: connection attribute {name!r} does not exist; valid weight, delay")
        return [tuple(columns[name][k].item() for name in names) for k in range(len(self))]

    def _get_attributes_as_arrays(self, names, multiple_synapses="sum"):
        operation = common.Projection.MULTI_SYNAPSE_OPERATIONS[multiple_synapses]
        out = []
        for name in names:
            name = name[:-1] if name in ("weights", "delays") else name
            values = {"weight": self._weight, "delay": self._delay}.get(name)
            if values is None:
                raise CapabilityError(f"hal.pynn: connection attribute {name!r} does not exist; valid weight, delay")
            array = np.full((self.pre.size, self.post.size), np.nan)
            for i, j, v in zip(self._pre, self._post, values):
                array[i, j] = v if np.isnan(array[i, j]) else operation(array[i, j], v)
            out.append(array)
        return out

    def _set_attributes(self, parameter_space):
        parameter_space.evaluate(simplify=False)
        pre, post = self._pre, self._post
        weight, delay = self._weight.copy(), self._delay.copy()
        for name, value in parameter_space.items():
            if name not in ("weight", "delay"):
                raise CapabilityError(f"hal.pynn: connection attribute {name!r} does not exist; valid weight, delay")
            array = np.asarray(value, dtype=float)
            new = array[pre, post] if array.ndim == 2 else np.broadcast_to(array, pre.shape)
            (weight if name == "weight" else delay)[:] = new
        self._arrays = (pre, post, weight, delay)
        self._parts = [self._arrays]
        simulator.state.changed()

    def _set_initial_value_array(self, variable, initial_value):
        raise CapabilityError(f"hal.pynn: initial value of {variable!r}: static synapses have no state")
