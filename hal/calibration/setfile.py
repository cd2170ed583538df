"""The portable calibration-set file (``hal calib export`` / ``import``), read strictly.

A hal archive (:mod:`hal.configuration.archive`) of kind ``hal-calibration-set``, version 1:
``manifest.json`` holds the set's provenance (``set``), its ``content_hash`` and one
``entries[i]`` object (``hicann``, ``parameter``, ``kind``, ``unit``) per transform, whose arrays
are ``i/<name>.npy`` (``coefficients``, ``domain_lo``, ``domain_hi``, ``rms_dac``, ``success``, and
``points`` for a lookup).

:func:`read_set_file` checks everything before anything is written anywhere: keys exactly as
listed (unknown ones refused), integers that are integers, wafer and HICANN ranges, known
parameters with their units, array dtypes (numbers; ``success`` boolean), shapes, finite values
(:mod:`hal.calibration.checks`), no entry twice, and the content hash. Every problem is a
:class:`~hal.errors.FileFormatError` naming the file, the place in it, the value and what is valid.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

import attrs
import cattrs
import numpy as np

from hal.calibration.checks import (
    SEED_MAX,
    check_entries,
    check_entry,
    content_hash,
    entry_hash_items,
)
from hal.calibration.parameters import PARAMETERS
from hal.calibration.transforms import Kind, Transform
from hal.configuration.archive import read_archive, write_archive
from hal.errors import ConfigValueError, FileFormatError, HalError
from hal.validators import (
    at_least,
    in_range,
    one_of,
    strict_converter,
    structure_errors,
)

__all__ = ["SetFile", "read_set_file", "write_set_file", "FORMAT", "VERSION"]

FORMAT, VERSION = "hal-calibration-set", 1

_NUMERIC = ("coefficients", "domain_lo", "domain_hi", "rms_dac")
_HASH = re.compile(r"[0-9a-f]{64}")


def _seed(instance, attribute, value):
    if value is not None:
        in_range(0, SEED_MAX)(instance, attribute, value)


def _sha256(instance, attribute, value):
    if not _HASH.fullmatch(value):
        raise ConfigValueError(type(instance).__name__, attribute.name, value, "a sha256 digest (64 lowercase hex digits)")


@attrs.frozen
class Provenance:
    """Where a set came from (the ``set`` object of the manifest)."""

    id: int = attrs.field(validator=at_least(1))
    wafer: int = attrs.field(validator=in_range(0, 65535))
    created: str
    backend: str
    seed: int | None = attrs.field(validator=_seed)
    routine: str
    hal_version: str
    note: str


@attrs.frozen
class _Entry:
    hicann: int = attrs.field(validator=in_range(0, 383))
    parameter: str = attrs.field(validator=one_of(tuple(PARAMETERS)))
    kind: str = attrs.field(validator=one_of(tuple(k.value for k in Kind)))
    unit: str


@attrs.frozen
class _Manifest:
    format: str
    version: int
    set: Provenance
    content_hash: str = attrs.field(validator=_sha256)
    entries: tuple[_Entry, ...]


@attrs.frozen
class SetFile:
    """A set file's content, every check passed."""

    provenance: Provenance
    entries: tuple[tuple[int, Transform], ...]
    content_hash: str


def _structure(path, manifest: dict) -> _Manifest:
    try:
        return strict_converter().structure(manifest, _Manifest)
    except (cattrs.BaseValidationError, HalError, ValueError, TypeError) as exc:
        problems = structure_errors(exc)
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise FileFormatError(path, "invalid manifest: " + "; ".join(problems[:3]) + more) from exc


def _arrays_of(path, where: str, entry: _Entry, arrays: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    names = {*_NUMERIC, "success"} | ({"points"} if entry.kind == Kind.LOOKUP.value else set())
    found = {key[len(prefix):-len(".npy")]: value for key, value in arrays.items() if key.startswith(prefix) and key.endswith(".npy")}
    missing, extra = sorted(names - found.keys()), sorted(found.keys() - names)
    if missing or extra:
        problem = (f"missing array(s) {', '.join(missing)}" if missing else "") + ("; " if missing and extra else "") \
            + (f"unknown array(s) {', '.join(extra)}" if extra else "")
        raise FileFormatError(path, f"{where}: {problem}; valid {', '.join(sorted(names))}")
    for name, value in found.items():
        want_bool = name == "success"
        ok = value.dtype == np.bool_ if want_bool else value.dtype.kind in "fiu"
        if not ok:
            raise FileFormatError(path, f"{where}.{name}: dtype {value.dtype} not valid; valid {'bool' if want_bool else 'integer or floating-point numbers'}")
    return found


def read_set_file(path: str | os.PathLike) -> SetFile:
    """Read and check a set file (see the module docstring); nothing is written."""
    manifest, arrays = read_archive(path, FORMAT, range(VERSION, VERSION + 1))
    parsed = _structure(path, manifest)
    known = {f"{i}/" for i in range(len(parsed.entries))}
    stray = sorted(k for k in arrays if k.split("/", 1)[0] + "/" not in known)
    if stray:
        raise FileFormatError(path, f"unknown array(s) {', '.join(stray[:5])}; valid i/<name>.npy for entries 0..{len(parsed.entries) - 1}")
    entries = []
    for i, entry in enumerate(parsed.entries):
        where = f"entries[{i}] (HICANN {entry.hicann} {entry.parameter})"
        data = _arrays_of(path, where, entry, arrays, f"{i}/")
        try:
            transform = Transform.from_arrays(entry.parameter, entry.kind, entry.unit, data)
            check_entry(entry.hicann, transform)
        except HalError as exc:
            raise FileFormatError(path, f"{where}: {exc}") from exc
        entries.append((entry.hicann, transform))
    try:
        check_entries(entries)
    except HalError as exc:
        raise FileFormatError(path, str(exc)) from exc
    digest = content_hash(entry_hash_items(h, t) for h, t in entries)
    if digest != parsed.content_hash:
        raise FileFormatError(path, f"content hash {digest[:12]}... of the transforms differs from the manifest's "
                                    f"{parsed.content_hash[:12]}...: the file was altered")
    return SetFile(parsed.set, tuple(entries), digest)


def write_set_file(path: str | os.PathLike, provenance: Provenance, entries: Sequence[tuple[int, Transform]], digest: str) -> None:
    """Write a set file atomically (the inverse of :func:`read_set_file`)."""
    manifest = {"set": attrs.asdict(provenance), "content_hash": digest, "entries": []}
    arrays = {}
    for i, (hicann, transform) in enumerate(entries):
        manifest["entries"].append({"hicann": int(hicann), "parameter": transform.parameter, "kind": transform.kind.value, "unit": transform.unit})
        for name, arr in transform.to_arrays().items():
            arrays[f"{i}/{name}.npy"] = arr
    write_archive(path, FORMAT, VERSION, manifest, arrays)
