"""Input and output data of the reference integrator, validated when built.

:class:`NeuronParameters` (NEST ``iaf_cond_exp`` parameters, one array entry per
neuron), :class:`Connections` (synapses), :class:`SpikeTrains` (input or output
spikes of one sample) and :class:`SimulationResult` (what
:func:`hal_plugins.reference.integrator.simulate` returns). Every field is a
read-only numpy array; a wrong type, shape or value raises
:class:`~hal.errors.ConfigError` naming the field, the value and what is valid.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import numpy as np

from hal.errors import ConfigError, known_names_hint
from hal_plugins.reference._checks import check_array, check_range, to_bool_array, to_float_array, to_int_array

__all__ = [
    "SCHMITT2017_VALUES",
    "NeuronParameters",
    "Connections",
    "SpikeTrains",
    "SimulationResult",
]


_PARAMETER_FIELDS = (
    "c_m_pf",
    "g_l_ns",
    "e_l_mv",
    "v_th_mv",
    "v_reset_mv",
    "e_rev_e_mv",
    "e_rev_i_mv",
    "tau_syn_e_ms",
    "tau_syn_i_ms",
    "t_ref_ms",
)

#: Schmitt et al. 2017, Table II, with two choices the paper leaves open: C_m = 200 pF
#: (so g_L = C_m / tau_m = 10 nS for tau_m = 20 ms) and t_ref = 0.1 ms ("as small as
#: possible"; PyNN's default tau_refrac).
SCHMITT2017_VALUES = {
    "c_m_pf": 200.0,
    "g_l_ns": 10.0,
    "e_l_mv": -40.0,
    "v_th_mv": -37.5,
    "v_reset_mv": -64.0,
    "e_rev_e_mv": 0.0,
    "e_rev_i_mv": -80.0,
    "tau_syn_e_ms": 5.0,
    "tau_syn_i_ms": 5.0,
    "t_ref_ms": 0.1,
}


def _float_field():
    return attrs.field(converter=to_float_array, eq=attrs.cmp_using(eq=np.array_equal))


@attrs.frozen
class NeuronParameters:
    """Parameters of ``n_neurons`` neurons; every field is a float64 array of shape ``(n_neurons,)``.

    Names follow NEST's ``iaf_cond_exp`` (``C_m``, ``g_L``, ``E_L``, ``V_th``,
    ``V_reset``, ``E_ex``, ``E_in``, ``tau_syn_ex``, ``tau_syn_in``, ``t_ref``)
    with the unit in the name. The membrane time constant is ``c_m_pf / g_l_ns``
    (ms).

    Raises
    ------
    ConfigError
        If a field is not a finite 1-d array, the shapes differ, ``c_m_pf``,
        ``g_l_ns`` or a synaptic time constant is not > 0, ``t_ref_ms`` < 0, or
        ``v_reset_mv >= v_th_mv`` (NEST's rule).
    """

    c_m_pf: np.ndarray = _float_field()
    g_l_ns: np.ndarray = _float_field()
    e_l_mv: np.ndarray = _float_field()
    v_th_mv: np.ndarray = _float_field()
    v_reset_mv: np.ndarray = _float_field()
    e_rev_e_mv: np.ndarray = _float_field()
    e_rev_i_mv: np.ndarray = _float_field()
    tau_syn_e_ms: np.ndarray = _float_field()
    tau_syn_i_ms: np.ndarray = _float_field()
    t_ref_ms: np.ndarray = _float_field()

    def __attrs_post_init__(self) -> None:
        owner = type(self).__name__
        for name in _PARAMETER_FIELDS:
            check_array(owner, name, getattr(self, name), "f")
        n = self.c_m_pf.shape[0]
        if n == 0:
            raise ConfigError(f"{owner}.c_m_pf: 0 neurons; valid: at least 1")
        for name in _PARAMETER_FIELDS[1:]:
            shape = getattr(self, name).shape
            if shape != (n,):
                raise ConfigError(f"{owner}.{name}: shape {shape} does not match c_m_pf's ({n},); valid: one value per neuron")
        for name in ("c_m_pf", "g_l_ns", "tau_syn_e_ms", "tau_syn_i_ms"):
            value = getattr(self, name)
            check_range(owner, name, value, ~(value > 0), "> 0")
        check_range(owner, "t_ref_ms", self.t_ref_ms, ~(self.t_ref_ms >= 0), ">= 0")
        bad = ~(self.v_reset_mv < self.v_th_mv)
        check_range(owner, "v_reset_mv", self.v_reset_mv, bad, "< v_th_mv (reset must lie below threshold)")

    @property
    def n_neurons(self) -> int:
        return int(self.c_m_pf.shape[0])

    @property
    def tau_m_ms(self) -> np.ndarray:
        """Membrane time constant ``c_m_pf / g_l_ns`` (ms)."""
        return self.c_m_pf / self.g_l_ns

    @classmethod
    def uniform(cls, n: int, **values: float) -> NeuronParameters:
        """``n`` identical neurons; every field must be given as a scalar.

        >>> p = NeuronParameters.uniform(3, **SCHMITT2017_VALUES)
        >>> p.n_neurons, float(p.tau_m_ms[0])
        (3, 20.0)
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ConfigError(f"NeuronParameters.uniform n: {n!r} out of range; valid: an integer >= 1")
        unknown = sorted(set(values) - set(_PARAMETER_FIELDS))
        if unknown:
            raise ConfigError(f"NeuronParameters.uniform: unknown field {unknown[0]!r}; {known_names_hint(unknown[0], _PARAMETER_FIELDS)}")
        missing = [name for name in _PARAMETER_FIELDS if name not in values]
        if missing:
            raise ConfigError(f"NeuronParameters.uniform: missing field(s) {', '.join(missing)}; valid: all of {', '.join(_PARAMETER_FIELDS)}")
        arrays = {}
        for name, value in values.items():
            if isinstance(value, (bool, str, bytes)) or np.ndim(value) != 0:
                raise ConfigError(f"NeuronParameters.uniform {name}: {value!r}; valid: a real number")
            arrays[name] = np.full(int(n), value, dtype=np.float64)
        return cls(**arrays)

    @classmethod
    def schmitt2017(cls, n: int, **overrides: float) -> NeuronParameters:
        """``n`` neurons with :data:`SCHMITT2017_VALUES`, optionally overriding some fields."""
        return cls.uniform(n, **{**SCHMITT2017_VALUES, **overrides})


@attrs.frozen
class Connections:
    """Synapses, one array entry per synapse (all arrays of equal length).

    Attributes
    ----------
    pre : int64
        Presynaptic index: ``0 .. n_sources-1`` are input sources, ``n_sources +
        j`` is neuron ``j``.
    post : int64
        Postsynaptic neuron, ``0 .. n_neurons-1``.
    weight_ns : float64
        Conductance increment (nS, >= 0) at spike arrival.
    excitatory : bool
        True: increments ``g_e``; False: ``g_i``.
    delay_ms : float64
        Transmission delay (ms, > 0); arrival = presynaptic spike time + delay.
    """

    pre: np.ndarray = attrs.field(converter=to_int_array, eq=attrs.cmp_using(eq=np.array_equal))
    post: np.ndarray = attrs.field(converter=to_int_array, eq=attrs.cmp_using(eq=np.array_equal))
    weight_ns: np.ndarray = _float_field()
    excitatory: np.ndarray = attrs.field(converter=to_bool_array, eq=attrs.cmp_using(eq=np.array_equal))
    delay_ms: np.ndarray = _float_field()

    def __attrs_post_init__(self) -> None:
        owner = type(self).__name__
        for name, kind in (("pre", "i"), ("post", "i"), ("weight_ns", "f"), ("excitatory", "b"), ("delay_ms", "f")):
            check_array(owner, name, getattr(self, name), kind)
        n = self.pre.shape[0]
        for name in ("post", "weight_ns", "excitatory", "delay_ms"):
            length = getattr(self, name).shape[0]
            if length != n:
                raise ConfigError(f"{owner}.{name}: length {length} does not match pre's {n}; valid: one entry per synapse")
        check_range(owner, "pre", self.pre, self.pre < 0, ">= 0")
        check_range(owner, "post", self.post, self.post < 0, ">= 0")
        check_range(owner, "weight_ns", self.weight_ns, ~(self.weight_ns >= 0), ">= 0")
        check_range(owner, "delay_ms", self.delay_ms, ~(self.delay_ms > 0), "> 0")

    def __len__(self) -> int:
        return int(self.pre.shape[0])

    @classmethod
    def empty(cls) -> Connections:
        return cls(pre=[], post=[], weight_ns=[], excitatory=[], delay_ms=[])

    @classmethod
    def concatenate(cls, parts: Sequence[Connections]) -> Connections:
        """Join several synapse lists into one."""
        if not parts:
            return cls.empty()
        return cls(**{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in attrs.fields(cls)})


@attrs.frozen
class SpikeTrains:
    """Spike events of one sample, sorted by time.

    ``index`` is the source (for inputs) or the neuron (for outputs) that
    spiked at ``times_ms``. Events at equal times are ordered by index in
    outputs; inputs need only be sorted by time.
    """

    times_ms: np.ndarray = _float_field()
    index: np.ndarray = attrs.field(converter=to_int_array, eq=attrs.cmp_using(eq=np.array_equal))

    def __attrs_post_init__(self) -> None:
        owner = type(self).__name__
        check_array(owner, "times_ms", self.times_ms, "f")  # also rejects nan and inf
        check_array(owner, "index", self.index, "i")
        if self.times_ms.shape != self.index.shape:
            raise ConfigError(
                f"{owner}.index: length {self.index.shape[0]} does not match times_ms's {self.times_ms.shape[0]}; valid: one index per spike"
            )
        check_range(owner, "index", self.index, self.index < 0, ">= 0")
        unsorted = np.flatnonzero(np.diff(self.times_ms) < 0)
        if unsorted.size:
            i = int(unsorted[0]) + 1
            raise ConfigError(
                f"{owner}.times_ms[{i}]: {self.times_ms[i].item()!r} is earlier than the previous spike "
                f"({self.times_ms[i - 1].item()!r}); valid: sorted by time (use SpikeTrains.from_unsorted)"
            )

    def __len__(self) -> int:
        return int(self.times_ms.shape[0])

    @classmethod
    def from_unsorted(cls, times_ms: object, index: object) -> SpikeTrains:
        """Sort events by time (then index) and build the trains."""
        times = np.asarray(times_ms, dtype=np.float64)
        idx = np.asarray(index)
        if times.shape != idx.shape or times.ndim != 1:
            return cls(times_ms=times, index=idx)  # the validator reports the mismatch
        order = np.lexsort((idx, times))
        return cls(times_ms=times[order], index=idx[order])

    @classmethod
    def empty(cls) -> SpikeTrains:
        return cls(times_ms=np.zeros(0), index=np.zeros(0, dtype=np.int64))

    def times_of(self, index: int) -> np.ndarray:
        """Spike times (ms) of one source or neuron."""
        return self.times_ms[self.index == index]

    def counts(self, n: int) -> np.ndarray:
        """Number of spikes per index ``0 .. n-1``."""
        return np.bincount(self.index, minlength=n)[:n]


def _optional_array_equal(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    return a is b or (a is not None and b is not None and np.array_equal(a, b))


@attrs.frozen
class SimulationResult:
    """Output of :func:`hal_plugins.reference.integrator.simulate`.

    Attributes
    ----------
    spikes
        One :class:`SpikeTrains` per sample; ``index`` is the neuron.
    membrane
        ``V`` (mV) of the recorded neurons, shape ``(samples, len(recorded), n_time)``,
        sampled at ``membrane_times_ms``; ``None`` if nothing was recorded.
    membrane_times_ms
        Sample times (ms): ``0, membrane_dt_ms, ...`` below the duration; ``None`` if
        nothing was recorded.
    recorded
        Neuron indices of the rows of ``membrane`` (empty if nothing was recorded).
    n_neurons, duration_ms, dt_ms
        What was simulated.
    """

    spikes: tuple[SpikeTrains, ...]
    membrane: np.ndarray | None = attrs.field(eq=attrs.cmp_using(eq=_optional_array_equal))
    membrane_times_ms: np.ndarray | None = attrs.field(eq=attrs.cmp_using(eq=_optional_array_equal))
    recorded: np.ndarray = attrs.field(eq=attrs.cmp_using(eq=np.array_equal))
    n_neurons: int
    duration_ms: float
    dt_ms: float

    def spike_counts(self) -> np.ndarray:
        """Spikes per sample and neuron, shape ``(samples, n_neurons)``."""
        return np.stack([s.counts(self.n_neurons) for s in self.spikes]) if self.spikes else np.zeros((0, self.n_neurons), dtype=np.int64)
