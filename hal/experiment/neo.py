"""Recordings as Neo objects, and Neo files: how results leave hal for the field's analysis tools.

:func:`to_neo` turns a :class:`~hal.experiment.Recording` into a :class:`neo.Block` with one
:class:`neo.Segment` per sample (``segment.index`` is the sample):

* one :class:`neo.SpikeTrain` per recorded logical neuron (the recording's columns, in order),
  in ms from 0 to the experiment's duration, annotated with ``hicann`` (enum), ``neuron`` (the
  firing denmem's enum), ``circuits`` (all merged denmems' enums) and ``column``; given the
  mapping (or a :class:`~hal.experiment.populations.PopulationMap`), also ``population`` and
  ``index`` (the neuron's index in its population);
* one :class:`neo.AnalogSignal` (mV, sampled every ``membrane_interval_ms``) per recorded
  membrane, named ``v``, annotated likewise.

The block's annotations say what was lost (``lost_input``, ``lost_output``, ``unattributed``
events) and the wafer; nothing is silently dropped. :func:`save_neo` writes a block to a NIX file
(``.nix``, through nixio) or an NWB file (``.nwb``, through pynwb), atomically.

Neo, quantities and nixio are optional (the extra ``interop``; pynwb is not part of it): they
are imported when first needed, and their absence is a :class:`~hal.errors.MissingExtraError` saying
how to install them.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from hal.errors import ConfigError, MissingExtraError
from hal.experiment.model import Recording
from hal.experiment.populations import PopulationMap
from hal.files import writable_output
from hal.logging import get_logger
from hal.mapping import MappingResult

__all__ = ["to_neo", "save_neo", "require", "NEO_SUFFIXES"]

log = get_logger(__name__)

#: File suffixes :func:`save_neo` writes, and the package each needs.
NEO_SUFFIXES = {".nix": "nixio", ".nwb": "pynwb"}


#: How to install the optional packages this module uses
_INSTALL = {"pynwb": "pip install pynwb"}


def require(module: str, what: str) -> Any:
    """Import the optional package ``module`` for ``what``, or raise :class:`MissingExtraError` saying how to install it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(module, what, how=_INSTALL.get(module)) from None


def _populations(mapping: MappingResult | PopulationMap | None) -> PopulationMap | None:
    if mapping is None or isinstance(mapping, PopulationMap):
        return mapping
    if isinstance(mapping, MappingResult):
        return PopulationMap(mapping)
    raise ConfigError(f"to_neo: mapping {type(mapping).__name__} is not a MappingResult or PopulationMap (or None)")


def to_neo(recording: Recording, mapping: MappingResult | PopulationMap | None = None) -> Any:
    """The recording as a :class:`neo.Block`: one segment per sample (see the module docstring)."""
    neo = require("neo", "Recording.to_neo")
    pq = require("quantities", "Recording.to_neo")
    if not isinstance(recording, Recording):
        raise ConfigError(f"to_neo: expected a Recording, got {type(recording).__name__}")
    where = _populations(mapping)
    experiment = recording.experiment
    t_stop = experiment.duration_ms * pq.ms
    neuron_notes = []
    for column, n in enumerate(recording.neurons):
        notes = {"hicann": n.hicann.enum, "neuron": n.firing.enum, "circuits": [d.enum for d in n.denmems], "column": column}
        owner = where.locate(n.hicann, n.firing) if where is not None else None
        if owner is not None:
            notes.update(population=owner[0], index=owner[1])
        neuron_notes.append(notes)
    membranes = []
    if experiment.record_membrane and recording.hardware.membrane is not None:
        for h, n in experiment.record_membrane:
            times, v = recording.membrane(h, n)
            notes = {"hicann": h.enum, "neuron": n.enum}
            owner = where.locate(h, n) if where is not None else None
            if owner is not None:
                notes.update(population=owner[0], index=owner[1])
            membranes.append((times, v, notes))
    lost = recording.lost_events
    block = neo.Block(name="hal recording", wafer=experiment.config.wafer.id, duration_ms=float(experiment.duration_ms),
                      samples=recording.n_samples, lost_input=int(sum(lost["input"].values())),
                      lost_output=int(sum(lost["output"].values())), unattributed=int(lost["unattributed"]))
    for sample in range(recording.n_samples):
        segment = neo.Segment(name=f"sample {sample}", index=sample)
        for times, notes in zip(recording.spike_trains(sample), neuron_notes):
            # a spike stamped exactly at the end tick is still inside the run; Neo wants t <= t_stop
            train = neo.SpikeTrain(np.minimum(np.sort(times), experiment.duration_ms) * pq.ms, t_start=0.0 * pq.ms, t_stop=t_stop, **notes)
            train.segment = segment
            segment.spiketrains.append(train)
        for times, v, notes in membranes:
            period = float(times[1] - times[0]) if times.size > 1 else float(experiment.membrane_interval_ms)
            signal = neo.AnalogSignal(v[sample][:, None] * pq.mV, t_start=float(times[0]) * pq.ms if times.size else 0.0 * pq.ms,
                                      sampling_period=period * pq.ms, name="v", **notes)
            signal.segment = segment
            segment.analogsignals.append(signal)
        segment.block = block
        block.segments.append(segment)
    return block


def save_neo(block: Any, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write a :class:`neo.Block` to ``path`` (``.nix`` or ``.nwb``), atomically; returns the path.

    The suffix chooses the format (:data:`NEO_SUFFIXES`); the file appears complete or not at all.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in NEO_SUFFIXES:
        raise ConfigError(f"Neo file {str(path)!r}: suffix {path.suffix or '(none)'!r} not supported; valid {', '.join(NEO_SUFFIXES)}")
    neo = require("neo", f"writing {suffix} files")
    require(NEO_SUFFIXES[suffix], f"writing {suffix} files")
    if not isinstance(block, neo.Block):
        raise ConfigError(f"save_neo: expected a neo.Block, got {type(block).__name__}")
    path = writable_output(path, what="Neo file", overwrite=overwrite)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    os.unlink(tmp)  # the writers create the file themselves
    try:
        if suffix == ".nix":
            io = neo.io.NixIO(filename=tmp, mode="ow")
        else:
            io = neo.io.NWBIO(filename=tmp, mode="w")
        try:
            io.write_block(block)
        finally:
            close = getattr(io, "close", None)
            if close is not None:
                close()
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    log.debug("neo_file_written", path=str(path), segments=len(block.segments))
    return path
