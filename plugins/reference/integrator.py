"""Reference integrator for conductance-based LIF neurons (NEST's ``iaf_cond_exp``).

This is the project's "ideal chip": an accurate, independent, pure-numpy
integration of the model the BrainScaleS-1 neurons are configured to emulate,
vectorised over neurons and over a batch of independent samples (the same
network driven by different input spike trains).

Model
-----
Per neuron, in biological units (ms, mV, nS, pF), exactly as NEST 3.x
``iaf_cond_exp`` with ``I_e = 0``:

.. math::

    C_m \\frac{dV}{dt} = -g_L (V - E_L) - g_e (V - E_e) - g_i (V - E_i)

    \\frac{dg_e}{dt} = -\\frac{g_e}{\\tau_e}, \\qquad \\frac{dg_i}{dt} = -\\frac{g_i}{\\tau_i}

A spike of a presynaptic source or neuron at :math:`t_s` reaching a synapse of
weight :math:`w` (nS) and delay :math:`d` makes :math:`g_e` (or :math:`g_i`)
jump by :math:`w` at :math:`t_s + d`. When :math:`V \\ge V_{th}` the neuron
spikes, :math:`V` is set to :math:`V_{reset}` and held there for
:math:`t_{ref}`; the conductances keep evolving while it is refractory.

Scheme (and why)
----------------
Time is cut into steps of ``dt_ms``. Over one step :math:`[t_0, t_1)`:

1. **Conductances are exact.** Between events a conductance decays
   analytically, :math:`g(t_1) = g(t_0) e^{-\\Delta t/\\tau}`. An event
   arriving at :math:`t_a` inside the step adds :math:`w e^{-(t_1-t_a)/\\tau}`
   to the end-of-step value. Events are *not* moved to the grid.
2. **The membrane sees the exact step average of each conductance,**
   :math:`\\bar g = \\frac{1}{\\Delta t}\\int_{t_0}^{t_1} g\\,dt`, i.e.
   :math:`g(t_0)\\frac{\\tau}{\\Delta t}(1-e^{-\\Delta t/\\tau})` plus
   :math:`w\\frac{\\tau}{\\Delta t}(1-e^{-(t_1-t_a)/\\tau})` per event in the
   step (computed once when the event is scheduled).
3. **V is integrated exactly for these frozen conductances** (exponential
   integrator): :math:`V` relaxes towards
   :math:`V_\\infty = (g_L E_L + \\bar g_e E_e + \\bar g_i E_i)/g_{tot}` with time
   constant :math:`C_m/g_{tot}`, :math:`g_{tot} = g_L + \\bar g_e + \\bar g_i`:
   :math:`V(t_1) = V_\\infty + (V(t_0) - V_\\infty) e^{-\\Delta t\\, g_{tot}/C_m}`.

The V equation is linear in V with time-dependent coefficients; freezing
them at their step averages is the exponential (first-order Magnus) midpoint
rule: local error :math:`O(\\Delta t^3)`, global :math:`O(\\Delta t^2)`, and
unconditionally stable (V never overshoots :math:`V_\\infty`, whatever the
conductance). Using the step *average* instead of the mid-step value keeps
the scheme second order when events arrive between grid points: a jump at
:math:`t_a` inside a step then costs :math:`O(w\\,\\Delta t^2)` once, instead of
the :math:`O(w\\,\\Delta t)` of rounding the event to a grid point or to the
mid-step sample. Splitting steps at every event time would be exact too but
breaks the vectorisation over neurons and samples; averaging does not.

Spike times are not tied to the grid. When :math:`V(t_1) \\ge V_{th}`, the
crossing time is solved exactly on the step's exponential trajectory,
:math:`t^* = t_0 + \\frac{C_m}{g_{tot}} \\ln\\frac{V_\\infty - V(t_0)}{V_\\infty - V_{th}}`.
If events arrived in that step, the step is first split at their (effective)
arrival times and the crossing is solved on the sub-interval where it happens
(:func:`_refined_crossing`); otherwise a crossing shortly after an arrival
would be smeared over the whole step and spike times would only be first
order in ``dt``. The neuron is refractory until :math:`t^* + t_{ref}`; in the
step where that ends, V relaxes from :math:`V_{reset}` over the rest of the
step only. A neuron's spike reaches its targets at :math:`t^* + d`, off the
grid like any event, which is why delays from neurons must be at least
``dt_ms``.

Like NEST, the threshold is checked once per step: an excursion above
threshold that begins and ends inside one step is missed, and a neuron spikes
at most once per step (this matters only if ``t_ref_ms < dt_ms``; a second
crossing is then reported at the start of the next step). NEST differs in
two ways that this integrator deliberately does not copy: NEST reports a
spike at the end of the step in which it detected it (up to one NEST step
late) and counts the refractory period from there.

Measured error (``docs/validation.md`` has the tables and the commands): the
membrane potential converges with second order (error ratio 4.0 per halving
of ``dt``), e.g. 3e-6 mV maximum error of a PSP trajectory at the default
``dt_ms = 0.025``, and so do spike times (median error 2e-5 to 7e-5 ms, 90th
percentile below 7e-4 ms at 0.025 ms). The 135-neuron, 1 s, 20-sample batch
takes about 3 s. Against NEST 3.10 (``iaf_cond_exp``, resolution 0.001 ms)
per-neuron spike counts agree within one spike and 96.5-100% of NEST's
spikes have one of ours within 0.2 ms. What is left comes from near-threshold
"grazing" crossings in the deeper layers, which also separate NEST at 0.01 ms
from NEST at 0.001 ms (89-93% there). At 0.0001 ms NEST reproduces every one of
our spikes in two of the three network samples.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import attrs
import numpy as np
import structlog

from hal.errors import ConfigError, known_names_hint

__all__ = [
    "DEFAULT_DT_MS",
    "SCHMITT2017_VALUES",
    "NeuronParameters",
    "Connections",
    "SpikeTrains",
    "SimulationResult",
    "simulate",
]

log = structlog.get_logger(__name__)

#: Default integration step (ms); see the module docstring for its measured error.
DEFAULT_DT_MS = 0.025

# Input spikes are expanded into synaptic events this many steps at a time; it bounds
# the memory of the event ring buffer to (chunk + max delay) steps.
_CHUNK_STEPS = 64


# --------------------------------------------------------------------------------------
# array converters and checks (messages: "Class.field[i]: value out of range; valid ...")
# --------------------------------------------------------------------------------------


def _readonly(arr: np.ndarray) -> np.ndarray:
    arr.setflags(write=False)
    return arr


def _to_float_array(value: object) -> object:
    """Converter: anything array-like of real numbers -> read-only float64 copy (lossless)."""
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        return value  # the validator reports what it got
    if np.asarray(value).dtype.kind not in "iuf":
        return value
    return _readonly(arr)


def _to_int_array(value: object) -> object:
    """Converter: integer array-like -> read-only int64 copy; floats are not rounded."""
    arr = np.asarray(value)
    if arr.size == 0:
        return _readonly(np.zeros(arr.shape, dtype=np.int64))
    if arr.dtype.kind in "iu":
        return _readonly(arr.astype(np.int64))
    return value


def _to_bool_array(value: object) -> object:
    arr = np.asarray(value)
    if arr.size == 0:
        return _readonly(np.zeros(arr.shape, dtype=bool))
    if arr.dtype.kind == "b":
        return _readonly(arr.astype(bool))
    return value


def _describe(value: object) -> str:
    if isinstance(value, np.ndarray):
        return f"dtype {value.dtype}"
    if isinstance(value, (list, tuple)):
        try:
            return f"{type(value).__name__} of {np.asarray(value).dtype}"
        except (TypeError, ValueError):
            pass
    return type(value).__name__


def _check_array(owner: str, name: str, value: object, kind: str) -> np.ndarray:
    expected = {"f": "real numbers (float64)", "i": "integers (int64)", "b": "booleans"}[kind]
    if not isinstance(value, np.ndarray) or value.dtype.kind != kind:
        raise ConfigError(f"{owner}.{name}: got {_describe(value)}; valid: a 1-d array of {expected}")
    if value.ndim != 1:
        raise ConfigError(f"{owner}.{name}: shape {value.shape}; valid: a 1-d array")
    if kind == "f":
        bad = np.flatnonzero(~np.isfinite(value))
        if bad.size:
            i = int(bad[0])
            raise ConfigError(f"{owner}.{name}[{i}]: {value[i].item()!r} is not finite; valid: finite numbers")
    return value


def _check_range(owner: str, name: str, value: np.ndarray, bad: np.ndarray, valid: str) -> None:
    idx = np.flatnonzero(bad)
    if idx.size:
        i = int(idx[0])
        more = f" (and {idx.size - 1} more)" if idx.size > 1 else ""
        raise ConfigError(f"{owner}.{name}[{i}]: {value[i].item()!r} out of range; valid {valid}{more}")


# --------------------------------------------------------------------------------------
# data classes
# --------------------------------------------------------------------------------------

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
    return attrs.field(converter=_to_float_array, eq=attrs.cmp_using(eq=np.array_equal))


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
            _check_array(owner, name, getattr(self, name), "f")
        n = self.c_m_pf.shape[0]
        if n == 0:
            raise ConfigError(f"{owner}.c_m_pf: 0 neurons; valid: at least 1")
        for name in _PARAMETER_FIELDS[1:]:
            shape = getattr(self, name).shape
            if shape != (n,):
                raise ConfigError(f"{owner}.{name}: shape {shape} does not match c_m_pf's ({n},); valid: one value per neuron")
        for name in ("c_m_pf", "g_l_ns", "tau_syn_e_ms", "tau_syn_i_ms"):
            value = getattr(self, name)
            _check_range(owner, name, value, ~(value > 0), "> 0")
        _check_range(owner, "t_ref_ms", self.t_ref_ms, ~(self.t_ref_ms >= 0), ">= 0")
        bad = ~(self.v_reset_mv < self.v_th_mv)
        _check_range(owner, "v_reset_mv", self.v_reset_mv, bad, "< v_th_mv (reset must lie below threshold)")

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

    pre: np.ndarray = attrs.field(converter=_to_int_array, eq=attrs.cmp_using(eq=np.array_equal))
    post: np.ndarray = attrs.field(converter=_to_int_array, eq=attrs.cmp_using(eq=np.array_equal))
    weight_ns: np.ndarray = _float_field()
    excitatory: np.ndarray = attrs.field(converter=_to_bool_array, eq=attrs.cmp_using(eq=np.array_equal))
    delay_ms: np.ndarray = _float_field()

    def __attrs_post_init__(self) -> None:
        owner = type(self).__name__
        for name, kind in (("pre", "i"), ("post", "i"), ("weight_ns", "f"), ("excitatory", "b"), ("delay_ms", "f")):
            _check_array(owner, name, getattr(self, name), kind)
        n = self.pre.shape[0]
        for name in ("post", "weight_ns", "excitatory", "delay_ms"):
            length = getattr(self, name).shape[0]
            if length != n:
                raise ConfigError(f"{owner}.{name}: length {length} does not match pre's {n}; valid: one entry per synapse")
        _check_range(owner, "pre", self.pre, self.pre < 0, ">= 0")
        _check_range(owner, "post", self.post, self.post < 0, ">= 0")
        _check_range(owner, "weight_ns", self.weight_ns, ~(self.weight_ns >= 0), ">= 0")
        _check_range(owner, "delay_ms", self.delay_ms, ~(self.delay_ms > 0), "> 0")

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
    index: np.ndarray = attrs.field(converter=_to_int_array, eq=attrs.cmp_using(eq=np.array_equal))

    def __attrs_post_init__(self) -> None:
        owner = type(self).__name__
        _check_array(owner, "times_ms", self.times_ms, "f")  # also rejects nan and inf
        _check_array(owner, "index", self.index, "i")
        if self.times_ms.shape != self.index.shape:
            raise ConfigError(
                f"{owner}.index: length {self.index.shape[0]} does not match times_ms's {self.times_ms.shape[0]}; valid: one index per spike"
            )
        _check_range(owner, "index", self.index, self.index < 0, ">= 0")
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
    """Output of :func:`simulate`.

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


# --------------------------------------------------------------------------------------
# simulation
# --------------------------------------------------------------------------------------


def _positive_scalar(name: str, value: object) -> float:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ConfigError(f"simulate {name}: {value!r} is not a number; valid: a finite number > 0") from None
    if not math.isfinite(x) or x <= 0:
        raise ConfigError(f"simulate {name}: {value!r} out of range; valid: a finite number > 0")
    return x


def _validate(params, connections, n_sources, inputs, duration_ms, dt_ms, record_membrane, membrane_dt_ms, v_init_mv):
    if not isinstance(params, NeuronParameters):
        raise ConfigError(f"simulate params: got {type(params).__name__}; valid: NeuronParameters")
    if not isinstance(connections, Connections):
        raise ConfigError(f"simulate connections: got {type(connections).__name__}; valid: Connections")
    if isinstance(n_sources, bool) or not isinstance(n_sources, (int, np.integer)) or n_sources < 0:
        raise ConfigError(f"simulate n_sources: {n_sources!r} out of range; valid: an integer >= 0")
    n_sources = int(n_sources)
    n = params.n_neurons
    duration = float(duration_ms) if isinstance(duration_ms, (int, float, np.number)) and not isinstance(duration_ms, bool) else duration_ms
    if not isinstance(duration, float) or not math.isfinite(duration) or duration < 0:
        raise ConfigError(f"simulate duration_ms: {duration_ms!r} out of range; valid: a finite number >= 0")
    dt = _positive_scalar("dt_ms", dt_ms)

    n_pre = n_sources + n
    _check_range("Connections", "pre", connections.pre, connections.pre >= n_pre, f"0..{n_pre - 1} ({n_sources} sources, then {n} neurons)")
    _check_range("Connections", "post", connections.post, connections.post >= n, f"0..{n - 1} (neurons)")
    from_neuron = connections.pre >= n_sources
    short = from_neuron & (connections.delay_ms < dt * (1 - 1e-9))
    _check_range("Connections", "delay_ms", connections.delay_ms, short, f">= dt_ms = {dt} for synapses from neurons")

    if isinstance(inputs, SpikeTrains) or not isinstance(inputs, Sequence):
        raise ConfigError(f"simulate inputs: got {type(inputs).__name__}; valid: a sequence of SpikeTrains, one per sample")
    if len(inputs) == 0:
        raise ConfigError("simulate inputs: 0 samples; valid: at least one SpikeTrains")
    for k, train in enumerate(inputs):
        if not isinstance(train, SpikeTrains):
            raise ConfigError(f"simulate inputs[{k}]: got {type(train).__name__}; valid: SpikeTrains")
        owner = f"inputs[{k}]"
        _check_range(owner, "times_ms", train.times_ms, (train.times_ms < 0) | (train.times_ms >= duration), f"[0, {duration}) (the duration)")
        _check_range(owner, "index", train.index, train.index >= n_sources, f"0..{n_sources - 1} (sources)" if n_sources else "none (n_sources = 0)")

    stride = 0
    recorded = np.zeros(0, dtype=np.int64)
    if record_membrane is not None:
        rec = np.asarray(record_membrane)
        if rec.ndim != 1 or (rec.size and rec.dtype.kind not in "iu"):
            raise ConfigError(f"simulate record_membrane: got {rec.dtype} array of shape {rec.shape}; valid: a 1-d array of neuron indices")
        recorded = rec.astype(np.int64)
        _check_range("simulate", "record_membrane", recorded, (recorded < 0) | (recorded >= n), f"0..{n - 1} (neurons)")
        mdt = _positive_scalar("membrane_dt_ms", membrane_dt_ms)
        ratio = mdt / dt
        stride = int(round(ratio))
        if stride < 1 or abs(ratio - stride) > 1e-6 * ratio:
            raise ConfigError(f"simulate membrane_dt_ms: {membrane_dt_ms!r} is not a multiple of dt_ms = {dt}; valid: k * dt_ms, k = 1, 2, ...")

    v_init = params.e_l_mv if v_init_mv is None else v_init_mv
    try:
        v0 = np.broadcast_to(np.asarray(v_init, dtype=np.float64), (len(inputs), n)).copy()
    except (TypeError, ValueError):
        shape = np.shape(v_init) if not isinstance(v_init, str) else "str"
        raise ConfigError(
            f"simulate v_init_mv: shape {shape}; valid: a scalar, (n_neurons,) = ({n},) or (samples, n_neurons) = ({len(inputs)}, {n})"
        ) from None
    if not np.all(np.isfinite(v0)):
        raise ConfigError("simulate v_init_mv: not finite; valid: finite potentials in mV")
    return n_sources, duration, dt, recorded, stride, v0


class _EventRing:
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
        self.n_slots = _CHUNK_STEPS + max_delay_steps + 2
        self.slots = np.zeros((self.n_slots, 4, n_samples, self.n))
        self._flat = self.slots.reshape(-1)

    def slot(self, step: int) -> np.ndarray:
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


def _time_to_threshold(v0, v_inf, v_th, rate, length):
    """Time for ``V`` relaxing from ``v0`` towards ``v_inf`` at ``rate`` (1/ms) to reach ``v_th``, clipped to [0, length].

    Call under ``np.errstate(divide="ignore", invalid="ignore")``.
    """
    t = np.log((v_inf - v0) / (v_inf - v_th)) / rate  # nan/inf only if v_inf <= v_th (no crossing)
    t = np.where(np.isfinite(t), np.minimum(np.maximum(t, 0.0), length), length)
    return np.where(v0 >= v_th, 0.0, t)


def _refined_crossing(t0, t1, dt, start, v_start, v_th, c_m, g_l, e_l, e_rev, tau, g_start, jump, average):
    """Threshold-crossing times of neurons known to cross inside the step ``[t0, t1)`` that received events in it.

    Per-neuron arrays; ``e_rev``, ``tau``, ``g_start`` (conductance at ``t0``),
    ``jump`` and ``average`` (the ring-buffer entries) are stacked as
    ``(2, m)``: excitatory, inhibitory.

    The ring buffer keeps, per step and neuron, only the end-of-step jump ``j``
    and the step-average contribution ``a`` of the step's events. Together they
    determine one *effective* event, weight ``w = j + a dt/tau`` at ``t1 + tau
    ln(j/w)``, with the same end value and integral (for a single event, that
    event exactly). The free part of the step (from ``start``) is split at
    the effective excitatory and inhibitory arrival times and V is integrated
    exactly for the sub-interval-averaged conductances, so a crossing shortly
    after an arrival is not smeared over the whole step (that would make spike
    times first order in ``dt``). Where the split trajectory stays below
    threshold (a borderline case) the spike is put at ``t1``.
    """
    weight = jump + average * (dt / tau)
    ratio = np.divide(jump, weight, out=np.ones_like(jump), where=weight > 0)
    t_event = np.maximum(t1 + tau * np.log(ratio), t0)  # t1 where there is no event
    cuts = np.minimum(np.maximum(np.sort(t_event, axis=0), start), t1)
    bounds = (start, cuts[0], cuts[1], np.full_like(start, t1))
    v = v_start
    t_cross = np.full_like(start, np.nan)
    for a, b in zip(bounds[:-1], bounds[1:]):
        length = b - a
        g = g_start * np.exp(-(a - t0) / tau) + np.where(t_event <= a, weight * np.exp(-(a - t_event) / tau), 0.0)
        g *= np.where(length > 0, tau / length * -np.expm1(-length / tau), 1.0)  # mean over [a, b]
        g_tot = g_l + g[0] + g[1]
        v_inf = (g_l * e_l + g[0] * e_rev[0] + g[1] * e_rev[1]) / g_tot
        rate = g_tot / c_m
        v_end = v_inf + (v - v_inf) * np.exp(-length * rate)
        new = np.isnan(t_cross) & (v_end >= v_th)
        if new.any():
            t_cross[new] = a[new] + _time_to_threshold(v[new], v_inf[new], v_th[new], rate[new], length[new])
        v = v_end
    return np.where(np.isnan(t_cross), t1, t_cross)


def simulate(
    params: NeuronParameters,
    connections: Connections,
    n_sources: int,
    inputs: Sequence[SpikeTrains],
    duration_ms: float,
    *,
    dt_ms: float = DEFAULT_DT_MS,
    record_membrane: Sequence[int] | np.ndarray | None = None,
    membrane_dt_ms: float = 0.1,
    v_init_mv: float | np.ndarray | None = None,
) -> SimulationResult:
    """Integrate the network for ``duration_ms`` for every sample of ``inputs``.

    Parameters
    ----------
    params
        The neurons.
    connections
        All synapses, from sources (``pre < n_sources``) and from neurons
        (``pre = n_sources + neuron``; their delays must be >= ``dt_ms``).
    n_sources
        Number of input sources.
    inputs
        One :class:`SpikeTrains` per sample, ``index`` = source, times in
        ``[0, duration_ms)``. Samples are independent runs of the same network.
    duration_ms
        Biological time to simulate (ms, >= 0). Spikes at or after it are dropped.
    dt_ms
        Integration step (ms); the module docstring gives the error it buys.
    record_membrane
        Neuron indices whose membrane potential is recorded, or ``None``.
    membrane_dt_ms
        Sampling interval of the recording (a multiple of ``dt_ms``); samples
        are taken at ``0, membrane_dt_ms, ...`` (``V_reset`` while refractory).
    v_init_mv
        Initial membrane potential: scalar, ``(n_neurons,)`` or ``(samples,
        n_neurons)``; default ``E_L``. Conductances start at 0.

    Returns
    -------
    SimulationResult

    Raises
    ------
    ConfigError
        For any invalid argument; the message names it, its value and what is valid.

    Examples
    --------
    One neuron driven by one strong excitatory input spike at 1 ms (1 ms delay):

    >>> p = NeuronParameters.schmitt2017(1)
    >>> c = Connections(pre=[0], post=[0], weight_ns=[20.0], excitatory=[True], delay_ms=[1.0])
    >>> r = simulate(p, c, 1, [SpikeTrains(times_ms=[1.0], index=[0])], 10.0)
    >>> [round(float(t), 3) for t in r.spikes[0].times_ms]
    [2.705]
    """
    n_sources, duration, dt, recorded, stride, v = _validate(
        params, connections, n_sources, inputs, duration_ms, dt_ms, record_membrane, membrane_dt_ms, v_init_mv
    )
    n_samples, n = len(inputs), params.n_neurons
    n_steps = int(math.ceil(duration / dt - 1e-9)) if duration > 0 else 0
    ring = _EventRing(params, connections, n_sources + n, n_samples, dt, n_steps)

    # Input spikes of all samples, merged and sorted by time, are expanded a chunk at a time.
    in_sample = np.concatenate([np.full(len(tr), k, dtype=np.int64) for k, tr in enumerate(inputs)])
    in_times = np.concatenate([tr.times_ms for tr in inputs])
    in_source = np.concatenate([tr.index for tr in inputs])
    order = np.argsort(in_times, kind="stable")
    in_sample, in_times, in_source = in_sample[order], in_times[order], in_source[order]
    chunk_ends = np.searchsorted(in_times, np.arange(0, n_steps + _CHUNK_STEPS, _CHUNK_STEPS) * dt)
    chunk_ends[-1] = in_times.shape[0]

    # A neuron's spike reaches its targets no earlier than `lag` steps later, so the spikes
    # of up to `lag` steps are scheduled together (fewer, larger vectorised operations).
    from_neuron = connections.pre >= n_sources
    lag = max(1, int(math.floor(float(connections.delay_ms[from_neuron].min()) / dt + 1e-9))) if from_neuron.any() else 0
    pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    pending_since = 0

    # per-neuron constants
    c_m, g_l, e_l = params.c_m_pf, params.g_l_ns, params.e_l_mv
    g_l_e_l = g_l * e_l
    e_e, e_i = params.e_rev_e_mv, params.e_rev_i_mv
    v_th, v_reset, t_ref = params.v_th_mv, params.v_reset_mv, params.t_ref_ms
    tau_e, tau_i = params.tau_syn_e_ms, params.tau_syn_i_ms
    decay_e, decay_i = np.exp(-dt / tau_e), np.exp(-dt / tau_i)
    mean_e = tau_e / dt * -np.expm1(-dt / tau_e)  # step average of g(t0) e^{-(t-t0)/tau}, over g(t0)
    mean_i = tau_i / dt * -np.expm1(-dt / tau_i)
    e_rev = np.stack([e_e, e_i])
    tau = np.stack([tau_e, tau_i])
    decay = np.stack([decay_e, decay_i])

    g_e = np.zeros((n_samples, n))
    g_i = np.zeros((n_samples, n))
    refractory_until = np.full((n_samples, n), -np.inf)
    n_time = int(math.ceil(duration / (stride * dt) - 1e-9)) if stride else 0
    membrane = np.empty((n_samples, recorded.shape[0], n_time)) if stride else None
    out_flat: list[np.ndarray] = []
    out_time: list[np.ndarray] = []

    with np.errstate(divide="ignore", invalid="ignore"):
        for k in range(n_steps):
            t0 = k * dt
            t1 = (k + 1) * dt
            if k % _CHUNK_STEPS == 0:
                lo, hi = chunk_ends[k // _CHUNK_STEPS], chunk_ends[k // _CHUNK_STEPS + 1]
                if hi > lo:
                    ring.add(in_sample[lo:hi], in_source[lo:hi], in_times[lo:hi], k)
            if pending and k >= pending_since + lag:
                ring.add(*(np.concatenate(parts) for parts in zip(*pending)), k)
                pending.clear()
            if stride and k % stride == 0 and k // stride < n_time:
                membrane[:, :, k // stride] = v[:, recorded]

            # conductances: exact decay plus the step's events; their step averages drive V
            slot = ring.slot(k)
            g_e_mean = g_e * mean_e + slot[2]
            g_i_mean = g_i * mean_i + slot[3]
            g_e *= decay_e
            g_e += slot[0]
            g_i *= decay_i
            g_i += slot[1]

            # V: exact relaxation towards v_inf over the non-refractory part of the step
            g_tot = g_l + g_e_mean + g_i_mean
            v_inf = (g_l_e_l + g_e_mean * e_e + g_i_mean * e_i) / g_tot
            rate = g_tot / c_m
            free = np.minimum(np.maximum(t1 - refractory_until, 0.0), dt)
            v_new = v_inf + (v - v_inf) * np.exp(-free * rate)

            spiking = np.flatnonzero(v_new >= v_th)
            if spiking.size:
                j = spiking % n  # neuron
                vi = np.take(v_inf, spiking)
                r = np.take(rate, spiking)
                h = np.take(free, spiking)
                v0 = np.take(v, spiking)
                start = t1 - h
                t_spike = start + _time_to_threshold(v0, vi, v_th[j], r, h)
                events = slot.reshape(4, -1)[:, spiking]
                refine = np.flatnonzero((events[0] > 0) | (events[1] > 0))
                if refine.size:
                    jr = j[refine]
                    ev = events[:, refine]
                    g_end = np.stack([np.take(g_e, spiking[refine]), np.take(g_i, spiking[refine])])
                    t_spike[refine] = _refined_crossing(
                        t0, t1, dt, start[refine], v0[refine], v_th[jr], c_m[jr], g_l[jr], e_l[jr], e_rev[:, jr],
                        tau[:, jr], (g_end - ev[:2]) / decay[:, jr], ev[:2], ev[2:],
                    )  # fmt: skip
                release = t_spike + t_ref[j]
                np.put(refractory_until, spiking, release)
                # refractoriness ending inside this step: V relaxes from V_reset for the rest of it
                rest = np.maximum(t1 - release, 0.0)
                np.put(v_new, spiking, vi + (v_reset[j] - vi) * np.exp(-rest * r))
                out_flat.append(spiking)
                out_time.append(t_spike)
                if lag:
                    if not pending:
                        pending_since = k
                    pending.append((spiking // n, j + n_sources, t_spike))
            slot[...] = 0.0
            v = v_new

    flat_all = np.concatenate(out_flat) if out_flat else np.zeros(0, dtype=np.int64)
    time_all = np.concatenate(out_time) if out_time else np.zeros(0)
    keep = time_all < duration
    sample_all, neuron_all, time_all = flat_all[keep] // n, flat_all[keep] % n, time_all[keep]
    order = np.lexsort((neuron_all, time_all, sample_all))
    sample_all, neuron_all, time_all = sample_all[order], neuron_all[order], time_all[order]
    bounds = np.searchsorted(sample_all, np.arange(n_samples + 1))
    spikes = tuple(SpikeTrains(times_ms=time_all[bounds[k] : bounds[k + 1]], index=neuron_all[bounds[k] : bounds[k + 1]]) for k in range(n_samples))
    log.debug(
        "reference_simulation_finished",
        samples=n_samples,
        neurons=n,
        synapses=len(connections),
        duration_ms=duration,
        dt_ms=dt,
        spikes=int(time_all.shape[0]),
    )
    return SimulationResult(
        spikes=spikes,
        membrane=membrane,
        membrane_times_ms=(np.arange(n_time) * stride * dt) if stride else None,
        recorded=recorded,
        n_neurons=n,
        duration_ms=duration,
        dt_ms=dt,
    )
