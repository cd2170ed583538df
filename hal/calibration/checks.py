"""What a calibration set must satisfy before it is marked complete, and its content hash.

A set is stored, checked and marked complete in one transaction (:mod:`hal.calibration.database`);
these are the checks, shared by that transaction, by the strict reader of set files
(:mod:`hal.calibration.setfile`) and by the migration that judges sets written before sets had a
completeness mark. Each raises the project's typed error naming the entry, the field, the value
and what is valid:

* provenance: wafer id 0..65535, seed ``None`` or 0..2**63-1, text fields are strings;
* an entry: HICANN enum 0..383, a known parameter with its unit, 512 circuits (4 for parameters
  shared per floating-gate block), every number finite, ``domain_lo <= domain_hi`` where the
  circuit succeeded, rms ``>= 0`` (``-1`` marks a failed fit), lookup DAC values in
  ``0..dac_max``;
* the set: at least one entry, no (HICANN, parameter) twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import numpy as np

from hal import coordinates as C
from hal.calibration.parameters import PARAMETERS, circuits_of
from hal.calibration.transforms import Kind, Transform
from hal.errors import ConfigError, ConfigValueError, CoordinateError, UnknownNameError

__all__ = ["check_wafer", "check_provenance", "check_entry", "check_entries", "content_hash", "entry_hash_items", "integer", "SEED_MAX"]

#: the largest seed SQLite's INTEGER (signed 64 bit) and numpy's default_rng both take
SEED_MAX = 2**63 - 1


def integer(value: object) -> bool:
    """An int or numpy integer that is not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_wafer(wafer: object, owner: str = "CalibrationSet") -> None:
    """A wafer id 0..65535 (an integer; ``True`` is not one)."""
    if not integer(wafer) or not 0 <= int(wafer) <= 65535:
        raise CoordinateError(owner, "wafer", wafer, "a wafer id 0..65535")


def check_provenance(wafer: object, seed: object, **texts: object) -> None:
    """Wafer id, seed and the text fields (backend, routine, note, ...) of a set."""
    check_wafer(wafer)
    if seed is not None and (not integer(seed) or not 0 <= int(seed) <= SEED_MAX):
        raise ConfigValueError("CalibrationSet", "seed", seed, "None or an integer 0..2**63-1")
    for name, text in texts.items():
        if not isinstance(text, str):
            raise ConfigValueError("CalibrationSet", name, text, "a string")


def _first_bad(values: np.ndarray, bad: np.ndarray) -> tuple[str, float]:
    """The first flagged element: its index as ``"3"`` or ``"3, 0"``, and its value."""
    where = np.unravel_index(np.flatnonzero(bad.ravel())[0], values.shape)
    return ", ".join(str(int(i)) for i in where), values[where].item()


def check_entry(hicann: object, transform: Transform) -> None:
    """One (HICANN, transform) entry of a set (see the module docstring)."""
    if not integer(hicann) or not 0 <= int(hicann) < C.HICANNOnWafer.size:
        raise CoordinateError("HICANNOnWafer", "enum", hicann, f"0..{C.HICANNOnWafer.size - 1}")
    parameter = transform.parameter
    if parameter not in PARAMETERS:
        raise UnknownNameError("calibrated parameter", str(parameter), PARAMETERS)
    owner = f"Transform[HICANN {int(hicann)} {parameter}]"
    unit = PARAMETERS[parameter][2]
    if transform.unit != unit:
        raise ConfigValueError(owner, "unit", transform.unit, repr(unit))
    n = circuits_of(parameter)
    if transform.n_circuits != n:
        raise ConfigValueError(owner, "circuits", transform.n_circuits,
                               f"{n} (one per {'floating-gate block' if n == 4 else 'denmem'})")
    for name, values in transform.to_arrays().items():
        if name == "success":
            continue
        bad = ~np.isfinite(values)
        if bad.any():
            i, v = _first_bad(values, bad)
            raise ConfigValueError(owner, f"{name}[{i}]", v, "a finite number")
    ok = transform.success
    inverted = ok & (transform.domain_lo > transform.domain_hi)
    if inverted.any():
        i = int(np.flatnonzero(inverted)[0])
        raise ConfigValueError(owner, f"domain_lo[{i}]", float(transform.domain_lo[i]), f"<= domain_hi[{i}] = {transform.domain_hi[i]!r}")
    rms = transform.rms_dac
    bad = (rms < 0) & (rms != -1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ConfigValueError(owner, f"rms_dac[{i}]", float(rms[i]), ">= 0, or -1 for a failed fit")
    if transform.kind is Kind.LOOKUP:
        dac = transform.coefficients
        bad = (dac < 0) | (dac > transform.dac_max)
        if bad.any():
            i, v = _first_bad(dac, bad)
            raise ConfigValueError(owner, f"coefficients[{i}] (a lookup's DAC value)", v, f"0..{transform.dac_max}")


def check_entries(entries: Sequence[tuple[int, Transform]]) -> None:
    """Every entry, at least one, and no (HICANN, parameter) twice."""
    if not entries:
        raise ConfigError("calibration set: holds no transforms; valid at least one (HICANN, parameter) entry")
    seen = set()
    for hicann, transform in entries:
        check_entry(hicann, transform)
        key = (int(hicann), transform.parameter)
        if key in seen:
            raise ConfigError(f"calibration set: HICANN {key[0]} {key[1]!r} given twice; valid one transform per HICANN and parameter")
        seen.add(key)


def entry_hash_items(hicann: int, transform: Transform) -> tuple[int, str, str, str, dict[str, np.ndarray]]:
    """The fields of an entry that its content hash covers, as the database stores them."""
    return int(hicann), transform.parameter, transform.kind.value, transform.unit, transform.to_arrays()


def content_hash(items: Iterable[tuple[int, str, str, str, dict[str, np.ndarray]]]) -> str:
    """sha256 over (hicann, parameter, kind, unit, arrays) sorted by HICANN and parameter.

    Covers the content, not the provenance: equal transforms, equal hash. The byte layout is
    the one hal has always hashed, so hashes in files exported earlier still verify.
    """
    h = hashlib.sha256()
    for hicann, parameter, kind, unit, arrays in sorted(items, key=lambda item: (item[0], item[1])):
        h.update(f"{hicann}|{parameter}|{kind}|{unit}|".encode())
        for name, arr in sorted(arrays.items()):
            h.update(name.encode())
            h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()
