"""Saving and loading experiments and recordings (zip archives of a JSON manifest and ``.npy`` arrays).

Reading is strict and bounded: the manifest's keys are exactly the ones :func:`save_experiment`
writes (unknown ones refused with the valid ones, none filled in), integers are integers,
numbers finite, and the archive holds exactly the arrays the manifest calls for, each checked
(dtype, dimensions, size) before it is read. The experiment is then built through its own
constructors, so a file cannot describe a run the Python API would refuse.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from hal import coordinates as C
from hal.analog.domains import Domains
from hal.configuration.archive import ArraySpec, read_archive, write_archive
from hal.configuration.configurator import Verify
from hal.configuration.io import config_array_spec, config_from_dict, config_to_dict
from hal.coordinates import InputAddress
from hal.errors import ConfigError, FileFormatError, HalError
from hal.experiment.model import MAX_SAMPLES, Experiment, PoissonInput, SpikeArrayInput
from hal.files import writable_output
from hal.validators import is_finite_number

__all__ = ["EXPERIMENT_FORMAT", "RECORDING_FORMAT", "save_experiment", "load_experiment", "save_recording", "load_recording_summary"]

EXPERIMENT_FORMAT = "hal-experiment"
RECORDING_FORMAT = "hal-recording"

_KEYS = ("config", "duration_ms", "n_samples", "inputs", "record_membrane", "membrane_interval_ms", "domains", "seed", "verify")
_INPUT_KEYS = {"poisson": ("kind", "targets", "start_ms", "stop_ms", "seed"), "spike_array": ("kind", "targets", "samples")}
_DOMAIN_KEYS = ("speedup", "alpha", "shift_mv")


def _address_list(targets) -> list[list[int]]:
    return [[t.hicann.enum, t.channel, t.address] for t in targets]


def save_experiment(experiment, path: str | Path) -> None:
    """Write an :class:`~hal.experiment.Experiment` (configuration, stimuli, recording spec) to ``path``.

    The path is checked before anything is converted; the file is written atomically.
    """
    path = writable_output(path, what="experiment")
    if not isinstance(experiment, Experiment):
        raise ConfigError(f"save_experiment: expected an Experiment, got {type(experiment).__name__}")
    config_manifest, arrays = config_to_dict(experiment.config)
    arrays = {f"config/{k}": v for k, v in arrays.items()}
    inputs = []
    for i, inp in enumerate(experiment.inputs):
        if isinstance(inp, PoissonInput):
            arrays[f"inputs/{i}/rates_hz.npy"] = inp.rates_hz
            inputs.append({"kind": "poisson", "targets": _address_list(inp.targets), "start_ms": inp.start_ms, "stop_ms": inp.stop_ms, "seed": inp.seed})
        else:
            for k, (t, idx) in enumerate(inp.spikes):
                arrays[f"inputs/{i}/{k}/times_ms.npy"] = t
                arrays[f"inputs/{i}/{k}/index.npy"] = idx
            inputs.append({"kind": "spike_array", "targets": _address_list(inp.targets), "samples": len(inp.spikes)})
    d = experiment.domains
    manifest = {
        "config": config_manifest,
        "duration_ms": experiment.duration_ms,
        "n_samples": experiment.n_samples,
        "inputs": inputs,
        "record_membrane": [[h.enum, n.enum] for h, n in experiment.record_membrane],
        "membrane_interval_ms": experiment.membrane_interval_ms,
        "domains": {"speedup": d.speedup, "alpha": d.alpha, "shift_mv": d.shift_mv},
        "seed": experiment.seed,
        "verify": experiment.verify.value,
    }
    write_archive(path, EXPERIMENT_FORMAT, 1, manifest, arrays)


_INDEX = r"(?:0|[1-9][0-9]{0,6})"
_INPUT_ARRAY = re.compile(rf"inputs/{_INDEX}/(?:rates_hz|{_INDEX}/(times_ms|index))\.npy")


def _experiment_array_spec(name: str) -> ArraySpec | None:
    if name.startswith("config/"):
        return config_array_spec(name[len("config/"):])
    match = _INPUT_ARRAY.fullmatch(name)
    if match is None:
        return None
    if match[1] is None:
        return ArraySpec(kinds="iuf", ndims=(1, 2), what="rates_hz: (targets,) or (samples, targets) numbers")
    if match[1] == "times_ms":
        return ArraySpec(kinds="iuf", ndims=(1,), what="times_ms: 1-d numbers")
    return ArraySpec(kinds="iu", ndims=(1,), what="index: 1-d integers")


def _object(value: Any, where: str, keys: tuple[str, ...]) -> dict[str, Any]:
    """``value`` as a dict with exactly ``keys`` (the message lists what is missing or unknown)."""
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected an object with keys {', '.join(keys)}; got {type(value).__name__}")
    unknown = sorted(set(value) - set(keys))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(map(str, unknown))}; valid keys: {', '.join(keys)}")
    missing = [k for k in keys if k not in value]
    if missing:
        raise ConfigError(f"{where}: missing key(s) {', '.join(missing)}; required: {', '.join(keys)}")
    return value


def _list(value: Any, where: str) -> list:
    if not isinstance(value, list):
        raise ConfigError(f"{where}: expected a list, got {type(value).__name__}")
    return value


def _int(value: Any, where: str, lo: int, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{where}: {value!r} is not an integer")
    if value < lo or (hi is not None and value > hi):
        raise ConfigError(f"{where}: {value!r} out of range; valid " + (f"{lo}..{hi}" if hi is not None else f"an integer >= {lo}"))
    return value


def _number(value: Any, where: str) -> float:
    if not is_finite_number(value):
        raise ConfigError(f"{where}: {value!r} is not a finite number")
    return value


def _ints(value: Any, where: str, n: int) -> list[int]:
    items = _list(value, where)
    if len(items) != n:
        raise ConfigError(f"{where}: {items!r} has {len(items)} entries; expected {n}")
    return [_int(x, f"{where}[{k}]", 0) for k, x in enumerate(items)]


def _targets(value: Any, where: str) -> list[InputAddress]:
    return [InputAddress(C.HICANNOnWafer(h), c, a) for k, t in enumerate(_list(value, where)) for h, c, a in [_ints(t, f"{where}[{k}]", 3)]]


class _Arrays:
    """The archive's arrays, taken one by one, so that both missing and left-over members are named."""

    def __init__(self, arrays: dict[str, np.ndarray]):
        self.arrays = arrays

    def take(self, name: str) -> np.ndarray:
        if name not in self.arrays:
            raise ConfigError(f"missing member {name} (the manifest calls for it)")
        return self.arrays.pop(name)

    def check_used(self) -> None:
        if self.arrays:
            raise ConfigError(f"members the manifest does not call for: {', '.join(sorted(self.arrays)[:5])}")


def _inputs(value: Any, arrays: _Arrays) -> list[PoissonInput | SpikeArrayInput]:
    inputs = []
    for i, spec in enumerate(_list(value, "inputs")):
        where = f"inputs[{i}]"
        kind = spec.get("kind") if isinstance(spec, dict) else None
        if not isinstance(kind, str) or kind not in _INPUT_KEYS:
            raise ConfigError(f"{where}.kind: {kind!r} unknown; valid {', '.join(_INPUT_KEYS)}")
        spec = _object(spec, where, _INPUT_KEYS[kind])
        targets = _targets(spec["targets"], f"{where}.targets")
        if kind == "poisson":
            stop = None if spec["stop_ms"] is None else _number(spec["stop_ms"], f"{where}.stop_ms")
            inputs.append(PoissonInput(targets, arrays.take(f"inputs/{i}/rates_hz.npy"), _number(spec["start_ms"], f"{where}.start_ms"), stop,
                                       _int(spec["seed"], f"{where}.seed", 0)))
        else:
            samples = _int(spec["samples"], f"{where}.samples", 1, MAX_SAMPLES)
            spikes = [(arrays.take(f"inputs/{i}/{k}/times_ms.npy"), arrays.take(f"inputs/{i}/{k}/index.npy")) for k in range(samples)]
            inputs.append(SpikeArrayInput(targets, spikes))
    return inputs


def _experiment(manifest: dict[str, Any], arrays: dict[str, np.ndarray]) -> Experiment:
    manifest = _object({k: v for k, v in manifest.items() if k not in ("format", "version")}, "manifest", _KEYS)
    config_arrays = {k[len("config/"):]: arrays.pop(k) for k in [k for k in arrays if k.startswith("config/")]}
    config = config_from_dict(manifest["config"], config_arrays)
    if config_arrays:
        raise ConfigError(f"members that belong to no configured chip: {', '.join('config/' + k for k in sorted(config_arrays)[:5])}")
    taken = _Arrays(arrays)
    inputs = _inputs(manifest["inputs"], taken)
    taken.check_used()
    n_samples = None if manifest["n_samples"] is None else _int(manifest["n_samples"], "n_samples", 1, MAX_SAMPLES)
    record = []
    for k, pair in enumerate(_list(manifest["record_membrane"], "record_membrane")):
        h, n = _ints(pair, f"record_membrane[{k}]", 2)
        record.append((C.HICANNOnWafer(h), C.NeuronOnHICANN.from_enum(n)))
    d = _object(manifest["domains"], "domains", _DOMAIN_KEYS)
    domains = Domains(**{k: _number(d[k], f"domains.{k}") for k in _DOMAIN_KEYS})
    verify = manifest["verify"]
    if verify not in [v.value for v in Verify]:
        raise ConfigError(f"verify: {verify!r} unknown; valid {', '.join(v.value for v in Verify)}")
    return Experiment(
        config,
        _number(manifest["duration_ms"], "duration_ms"),
        inputs,
        n_samples,
        record,
        _number(manifest["membrane_interval_ms"], "membrane_interval_ms"),
        domains,
        _int(manifest["seed"], "seed", 0),
        Verify(verify),
    )


def load_experiment(path: str | Path) -> Experiment:
    """Read an experiment written by :func:`save_experiment`.

    Every problem is a :class:`~hal.errors.FileFormatError` naming the file and the place.
    """
    manifest, arrays = read_archive(path, EXPERIMENT_FORMAT, range(1, 2), arrays=_experiment_array_spec)
    try:
        return _experiment(manifest, arrays)
    except HalError as exc:
        raise FileFormatError(path, f"invalid content: {exc}") from exc


def save_recording(recording, path: str | Path) -> None:
    """Write a :class:`~hal.experiment.Recording`: spikes per sample, counts, membranes and the raw trace.

    The path is checked before anything is converted; the file is written atomically.
    """
    path = writable_output(path, what="recording")
    arrays: dict[str, np.ndarray] = {"spike_counts.npy": recording.spike_counts}
    for s, (t, col) in enumerate(recording.spike_times_ms):
        arrays[f"spikes/{s}/times_ms.npy"] = t
        arrays[f"spikes/{s}/neuron.npy"] = col
    trace = recording.hardware.trace
    for name in ("sample", "time", "hicann", "channel", "address"):
        arrays[f"trace/{name}.npy"] = getattr(trace, name)
    if recording.hardware.membrane is not None:
        for k, (h, n) in enumerate(recording.experiment.record_membrane):
            t, v = recording.membrane(h, n)
            arrays[f"membrane/{k}/times_ms.npy"] = t
            arrays[f"membrane/{k}/v_mv.npy"] = v
    manifest = {
        "neurons": [{"hicann": n.hicann.enum, "firing": n.firing.enum, "denmems": [d.enum for d in n.denmems], "address": n.address} for n in recording.neurons],
        "samples": recording.n_samples,
        "duration_ms": recording.experiment.duration_ms,
        "membrane": [[h.enum, n.enum] for h, n in recording.experiment.record_membrane],
        "lost_events": recording.lost_events,
        "info": {k: v for k, v in recording.hardware.info.items() if isinstance(v, (int, float, str, bool))},
    }
    write_archive(path, RECORDING_FORMAT, 1, manifest, arrays)


_RECORDING_ARRAY = re.compile(rf"spike_counts\.npy|spikes/{_INDEX}/(?:times_ms|neuron)\.npy|trace/(?:sample|time|hicann|channel|address)\.npy"
                              rf"|membrane/{_INDEX}/(?:times_ms|v_mv)\.npy")


def _recording_array_spec(name: str) -> ArraySpec | None:
    if not _RECORDING_ARRAY.fullmatch(name):
        return None
    return ArraySpec(kinds="iuf", ndims=(2,) if name == "spike_counts.npy" or name.endswith("v_mv.npy") else (1,))


_RECORDING_KEYS = ("format", "version", "neurons", "samples", "duration_ms", "membrane", "lost_events", "info")
_NEURON_KEYS = ("hicann", "firing", "denmems", "address")


def _check_recording(manifest: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """The manifest's fields as :func:`save_recording` writes them, and the arrays consistent with it."""
    _object(manifest, "manifest", _RECORDING_KEYS)
    neurons = _list(manifest["neurons"], "neurons")
    for k, neuron in enumerate(neurons):
        where = f"neurons[{k}]"
        _object(neuron, where, _NEURON_KEYS)
        _int(neuron["hicann"], f"{where}.hicann", 0, C.HICANNOnWafer.size - 1)
        _int(neuron["firing"], f"{where}.firing", 0, C.NeuronOnHICANN.size - 1)
        for d, denmem in enumerate(_list(neuron["denmems"], f"{where}.denmems")):
            _int(denmem, f"{where}.denmems[{d}]", 0, C.NeuronOnHICANN.size - 1)
        _int(neuron["address"], f"{where}.address", 0, 63)
    samples = _int(manifest["samples"], "samples", 0, MAX_SAMPLES)
    if not _number(manifest["duration_ms"], "duration_ms") > 0:
        raise ConfigError(f"duration_ms: {manifest['duration_ms']!r} out of range; valid > 0")
    for k, pair in enumerate(_list(manifest["membrane"], "membrane")):
        h, n = _ints(pair, f"membrane[{k}]", 2)
        _int(h, f"membrane[{k}][0]", 0, C.HICANNOnWafer.size - 1)
        _int(n, f"membrane[{k}][1]", 0, C.NeuronOnHICANN.size - 1)
    lost = _object(manifest["lost_events"], "lost_events", ("input", "output", "unattributed", "total"))
    for side in ("input", "output"):
        per_link = lost[side]
        if not isinstance(per_link, dict):
            raise ConfigError(f"lost_events.{side}: expected an object of counts per link; got {type(per_link).__name__}")
        for link, count in per_link.items():
            _int(count, f"lost_events.{side}[{link!r}]", 0)
    _int(lost["unattributed"], "lost_events.unattributed", 0)
    _int(lost["total"], "lost_events.total", 0)
    info = manifest["info"]
    if not isinstance(info, dict) or not all(isinstance(v, (int, float, str, bool)) for v in info.values()):
        raise ConfigError(f"info: expected an object of numbers, strings and booleans; got {info!r:.80}")
    counts = arrays.get("spike_counts.npy")
    if counts is None or counts.shape != (samples, len(neurons)):
        raise ConfigError(f"spike_counts.npy: shape {None if counts is None else counts.shape}; "
                          f"expected ({samples}, {len(neurons)}) for {samples} samples of {len(neurons)} neurons")


def load_recording_summary(path: str | Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The manifest and arrays of a saved recording (for analysis outside hal).

    Members are checked as for experiments, and the manifest's fields as :func:`save_recording`
    writes them: anything else is a :class:`~hal.errors.FileFormatError` naming the file and field.
    """
    manifest, arrays = read_archive(path, RECORDING_FORMAT, range(1, 2), arrays=_recording_array_spec)
    try:
        _check_recording(manifest, arrays)
    except HalError as exc:
        raise FileFormatError(path, f"invalid content: {exc}") from exc
    return manifest, arrays
