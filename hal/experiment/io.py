"""Saving and loading experiments and recordings (zip archives of a JSON manifest and ``.npy`` arrays)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from hal import coordinates as C
from hal.analog.domains import Domains
from hal.configuration.archive import read_archive, write_archive
from hal.configuration.configurator import Verify
from hal.configuration.io import config_from_dict, config_to_dict
from hal.coordinates import InputAddress
from hal.errors import ConfigError, FileFormatError, HalError
from hal.experiment.model import Experiment, PoissonInput, SpikeArrayInput

__all__ = ["EXPERIMENT_FORMAT", "RECORDING_FORMAT", "save_experiment", "load_experiment", "save_recording", "load_recording_summary"]

EXPERIMENT_FORMAT = "hal-experiment"
RECORDING_FORMAT = "hal-recording"


def _address_list(targets) -> list[list[int]]:
    return [[t.hicann.enum, t.channel, t.address] for t in targets]


def save_experiment(experiment, path: str | Path) -> None:
    """Write an :class:`~hal.experiment.Experiment` (configuration, stimuli, recording spec) to ``path``."""
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


def load_experiment(path: str | Path):
    """Read an experiment written by :func:`save_experiment`."""
    manifest, arrays = read_archive(path, EXPERIMENT_FORMAT, range(1, 2))
    try:
        config_arrays = {k[len("config/"):]: v for k, v in arrays.items() if k.startswith("config/")}
        config = config_from_dict(manifest["config"], config_arrays)
        inputs = []
        for i, spec in enumerate(manifest["inputs"]):
            targets = [InputAddress(C.HICANNOnWafer(h), c, a) for h, c, a in spec["targets"]]
            if spec["kind"] == "poisson":
                inputs.append(PoissonInput(targets, arrays[f"inputs/{i}/rates_hz.npy"], spec["start_ms"], spec["stop_ms"], spec["seed"]))
            elif spec["kind"] == "spike_array":
                spikes = [(arrays[f"inputs/{i}/{k}/times_ms.npy"], arrays[f"inputs/{i}/{k}/index.npy"]) for k in range(spec["samples"])]
                inputs.append(SpikeArrayInput(targets, spikes))
            else:
                raise ConfigError(f"inputs[{i}].kind: {spec['kind']!r} unknown; valid poisson, spike_array")
        return Experiment(
            config,
            manifest["duration_ms"],
            inputs,
            manifest["n_samples"],
            [(C.HICANNOnWafer(h), C.NeuronOnHICANN.from_enum(n)) for h, n in manifest["record_membrane"]],
            manifest["membrane_interval_ms"],
            Domains(**manifest["domains"]),
            manifest["seed"],
            Verify(manifest["verify"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise FileFormatError(path, f"malformed experiment ({type(exc).__name__}: {exc})") from None
    except HalError as exc:
        raise FileFormatError(path, f"invalid content: {exc}") from exc


def save_recording(recording, path: str | Path) -> None:
    """Write a :class:`~hal.experiment.Recording`: spikes per sample, counts, membranes and the raw trace."""
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


def load_recording_summary(path: str | Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The manifest and arrays of a saved recording (for analysis outside hal)."""
    return read_archive(path, RECORDING_FORMAT, range(1, 2))
