"""A :class:`~hal.configuration.configurator.WriteStream` as a file: written atomically, read strictly and bounded.

The archive (:mod:`hal.configuration.archive`) holds a manifest with one record per write
(stage, subsystem, chip, register) and two arrays per write (``N/indices.npy``,
``N/words.npy``). Reading checks the members from the zip's directory before decompressing
(only those names, none larger than the largest register's words), then every record and
array against its register; any problem is a :class:`~hal.errors.FileFormatError` naming the
file and the write.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from hal import coordinates as C
from hal.configuration.archive import ArraySpec, read_archive, write_archive
from hal.configuration.configurator import _FILES, STAGES, SUBSYSTEMS, RegisterWrite, _chip_key, _chip_kind
from hal.errors import FileFormatError, UnknownNameError
from hal.files import writable_output

__all__ = ["save_writes", "load_writes"]

_STREAM_FORMAT = "hal-write-stream"
_STREAM_VERSION = 1

#: A write never holds more words than its register has instances (the largest: 14,336 synapse words).
_MAX_INSTANCES = max(reg.count for rf in _FILES.values() for reg in rf)
_MEMBER = re.compile(r"(0|[1-9][0-9]{0,8})/(indices|words)\.npy")
_CHIP_KEY = re.compile(r"(hicann|fpga)/(0|[1-9][0-9]{0,5})")
_CHIP_TYPES = {"hicann": C.HICANNOnWafer, "fpga": C.FPGAOnWafer}
_STAGE_OF = {name: stage.name for stage in STAGES for name in stage.subsystems}
_WRITE_KEYS = ("stage", "subsystem", "chip", "register")


@attrs.frozen
class _WriteArraySpec(ArraySpec):
    """A write's ``indices`` or ``words``: 1-d unsigned, at most one word per instance of the largest register.

    The bound is what lets :func:`read_archive` refuse an oversized member from the zip's
    directory, before decompressing; the exact length is checked against the manifest after.
    """

    def max_bytes(self) -> int:
        return 12 + 10_000 + _MAX_INSTANCES * 8  # .npy prefix, numpy's header limit, uint64 words


_INDICES_SPEC = _WriteArraySpec(kinds="u", ndims=(1,), what="indices: 1-d")
_WORDS_SPEC = _WriteArraySpec(kinds="u", ndims=(1,), what="words: 1-d")


def _stream_array_spec(name: str) -> ArraySpec | None:
    """What the archive member ``name`` of a write stream may hold, or None for a name that is not a write's."""
    match = _MEMBER.fullmatch(name)
    if match is None:
        return None
    return _INDICES_SPEC if match[2] == "indices" else _WORDS_SPEC


class _Invalid(ValueError):
    """One problem of a write stream's content (the caller adds the file)."""


def _chip_from_record(key: object, where: str) -> Any:
    """``"hicann/N"`` or ``"fpga/N"`` exactly as :func:`_chip_key` writes it, in the coordinate's range."""
    match = _CHIP_KEY.fullmatch(key) if isinstance(key, str) else None
    if match is None:
        raise _Invalid(f"{where}.chip: {key!r} is not a chip; valid hicann/N or fpga/N (N a decimal)")
    coord = _CHIP_TYPES[match[1]]
    if int(match[2]) >= coord.size:
        raise _Invalid(f"{where}.chip: {key!r} out of range; valid {match[1]}/0..{match[1]}/{coord.size - 1}")
    return coord(int(match[2]))


def _write_from_record(i: int, meta: object, arrays: dict[str, np.ndarray]) -> RegisterWrite:
    """Write ``i`` of a stream file from its manifest record and its two arrays, every field checked."""
    where = f"writes[{i}]"
    if not isinstance(meta, dict) or set(meta) != set(_WRITE_KEYS):
        got = sorted(meta) if isinstance(meta, dict) else type(meta).__name__
        raise _Invalid(f"{where}: expected an object with exactly the keys {', '.join(_WRITE_KEYS)}; got {got}")
    for key in _WRITE_KEYS:
        if not isinstance(meta[key], str):
            raise _Invalid(f"{where}.{key}: {meta[key]!r} is not a string")
    subsystem = SUBSYSTEMS.get(meta["subsystem"])
    if subsystem is None:
        raise _Invalid(f"{where}.subsystem: {UnknownNameError('subsystem', meta['subsystem'], SUBSYSTEMS)}")
    if meta["stage"] != _STAGE_OF[subsystem.name]:
        raise _Invalid(f"{where}.stage: {meta['stage']!r}; subsystem {subsystem.name} is written in stage {_STAGE_OF[subsystem.name]!r}")
    chip = _chip_from_record(meta["chip"], where)
    if _chip_kind(chip) != subsystem.chip:
        raise _Invalid(f"{where}.chip: {meta['chip']!r}; subsystem {subsystem.name} is on {subsystem.chip} chips")
    if meta["register"] not in subsystem.registers:
        raise _Invalid(f"{where}.register: {UnknownNameError(f'register of subsystem {subsystem.name}', meta['register'], subsystem.registers)}")
    reg = _FILES[subsystem.chip][meta["register"]]
    missing = [n for n in (f"{i}/indices.npy", f"{i}/words.npy") if n not in arrays]
    if missing:
        raise _Invalid(f"{where}: member(s) {', '.join(missing)} missing")
    indices, words = arrays[f"{i}/indices.npy"], arrays[f"{i}/words.npy"]
    if indices.size != words.size:
        raise _Invalid(f"{where}: {indices.size} indices but {words.size} words; expected one word per index")
    if indices.size > reg.count:
        raise _Invalid(f"{where}: {indices.size} words for {reg.name}, which has {reg.count} instances")
    if indices.size and int(indices.max()) >= reg.count:
        raise _Invalid(f"{where}: index {int(indices.max())} out of range; valid {reg.name} 0..{reg.count - 1}")
    if words.size and words.dtype.itemsize * 8 > reg.width and int(words.max()) >> reg.width:
        raise _Invalid(f"{where}: word {hex(int(words.max()))} does not fit {reg.name}'s {reg.width} bits; valid 0x0..{hex((1 << reg.width) - 1)}")
    return RegisterWrite(meta["stage"], subsystem.name, chip, reg.name, indices, words)


def _writes_from(manifest: dict[str, Any], arrays: dict[str, np.ndarray]) -> tuple[RegisterWrite, ...]:
    """The writes of a stream file: exactly the keys :meth:`WriteStream.save` writes and exactly the members they call for."""
    extra = sorted(set(manifest) - {"format", "version", "writes"})
    if extra:
        raise _Invalid(f"unknown key(s) {extra} in the manifest; valid: format, version, writes")
    records = manifest.get("writes")
    if not isinstance(records, list):
        raise _Invalid(f"writes: expected a list of write records, got {type(records).__name__}")
    writes = tuple(_write_from_record(i, meta, arrays) for i, meta in enumerate(records))
    unclaimed = sorted(name for name in arrays if int(name.partition("/")[0]) >= len(records))
    if unclaimed:
        raise _Invalid(f"member {unclaimed[0]!r} belongs to no write (the manifest lists {len(records)})")
    return writes


def save_writes(writes: Sequence[RegisterWrite], path: str | Path) -> None:
    """Write ``writes`` to ``path`` (atomically; the path is checked first)."""
    path = writable_output(path, what="write stream")
    manifest = {"writes": []}
    arrays = {}
    for i, w in enumerate(writes):
        manifest["writes"].append({"stage": w.stage, "subsystem": w.subsystem, "chip": _chip_key(w.chip), "register": w.register})
        arrays[f"{i}/indices.npy"] = w.indices
        arrays[f"{i}/words.npy"] = w.words
    write_archive(path, _STREAM_FORMAT, _STREAM_VERSION, manifest, arrays)


def load_writes(path: str | Path) -> tuple[RegisterWrite, ...]:
    """The writes of a stream file written by :func:`save_writes` (module docstring)."""
    manifest, arrays = read_archive(path, _STREAM_FORMAT, range(1, _STREAM_VERSION + 1), arrays=_stream_array_spec)
    try:
        return _writes_from(manifest, arrays)
    except _Invalid as exc:
        raise FileFormatError(path, f"invalid write stream: {exc}") from None
