"""Validation of :func:`~hal_plugins.reference.integrator.simulate`'s arguments.

The data types check themselves when built (:mod:`hal_plugins.reference.data`);
what is checked here are the arguments against each other: synapse indices
against the numbers of sources and neurons, delays from neurons against the
step, input spike times against the duration, the membrane recording and the
initial potential.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import attrs
import numpy as np

from hal.errors import ConfigError
from hal_plugins.reference._checks import check_range
from hal_plugins.reference.data import Connections, NeuronParameters, SpikeTrains

__all__ = ["Arguments", "positive_scalar", "validate_arguments"]


@attrs.frozen(eq=False)
class Arguments:
    """:func:`~hal_plugins.reference.integrator.simulate`'s arguments, checked and normalised.

    Attributes
    ----------
    n_sources
        Number of input sources.
    duration_ms, dt_ms
        Simulated time and integration step (ms), as floats.
    recorded
        Neuron indices whose membrane is recorded (int64; empty if none).
    stride
        Recording interval in steps (``membrane_dt_ms / dt_ms``); 0 if nothing is recorded.
    v_init_mv
        Initial membrane potential, a writable ``(samples, n_neurons)`` float64 array.
    """

    n_sources: int
    duration_ms: float
    dt_ms: float
    recorded: np.ndarray
    stride: int
    v_init_mv: np.ndarray


def positive_scalar(name: str, value: object) -> float:
    """``value`` as a float if it is a finite number > 0, else :class:`ConfigError` naming ``simulate``'s ``name``."""
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ConfigError(f"simulate {name}: {value!r} is not a number; valid: a finite number > 0") from None
    if not math.isfinite(x) or x <= 0:
        raise ConfigError(f"simulate {name}: {value!r} out of range; valid: a finite number > 0")
    return x


def validate_arguments(
    params, connections, n_sources, inputs, duration_ms, dt_ms, record_membrane, membrane_dt_ms, v_init_mv
) -> Arguments:
    """Check :func:`~hal_plugins.reference.integrator.simulate`'s arguments against each other.

    Raises
    ------
    ConfigError
        For the first invalid argument, naming it, its value and what is valid.
    """
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
    dt = positive_scalar("dt_ms", dt_ms)

    n_pre = n_sources + n
    check_range("Connections", "pre", connections.pre, connections.pre >= n_pre, f"0..{n_pre - 1} ({n_sources} sources, then {n} neurons)")
    check_range("Connections", "post", connections.post, connections.post >= n, f"0..{n - 1} (neurons)")
    from_neuron = connections.pre >= n_sources
    short = from_neuron & (connections.delay_ms < dt * (1 - 1e-9))
    check_range("Connections", "delay_ms", connections.delay_ms, short, f">= dt_ms = {dt} for synapses from neurons")

    if isinstance(inputs, SpikeTrains) or not isinstance(inputs, Sequence):
        raise ConfigError(f"simulate inputs: got {type(inputs).__name__}; valid: a sequence of SpikeTrains, one per sample")
    if len(inputs) == 0:
        raise ConfigError("simulate inputs: 0 samples; valid: at least one SpikeTrains")
    for k, train in enumerate(inputs):
        if not isinstance(train, SpikeTrains):
            raise ConfigError(f"simulate inputs[{k}]: got {type(train).__name__}; valid: SpikeTrains")
        owner = f"inputs[{k}]"
        check_range(owner, "times_ms", train.times_ms, (train.times_ms < 0) | (train.times_ms >= duration), f"[0, {duration}) (the duration)")
        check_range(owner, "index", train.index, train.index >= n_sources, f"0..{n_sources - 1} (sources)" if n_sources else "none (n_sources = 0)")

    stride = 0
    recorded = np.zeros(0, dtype=np.int64)
    if record_membrane is not None:
        rec = np.asarray(record_membrane)
        if rec.ndim != 1 or (rec.size and rec.dtype.kind not in "iu"):
            raise ConfigError(f"simulate record_membrane: got {rec.dtype} array of shape {rec.shape}; valid: a 1-d array of neuron indices")
        recorded = rec.astype(np.int64)
        check_range("simulate", "record_membrane", recorded, (recorded < 0) | (recorded >= n), f"0..{n - 1} (neurons)")
        mdt = positive_scalar("membrane_dt_ms", membrane_dt_ms)
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
    return Arguments(n_sources=n_sources, duration_ms=duration, dt_ms=dt, recorded=recorded, stride=stride, v_init_mv=v0)

