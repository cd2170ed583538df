"""Saving and loading configurations: structure as JSON (cattrs), bulk arrays as ``.npy``.

A wafer configuration file is a zip (see :mod:`hal.configuration.archive`) whose
``manifest.json`` holds, per configured chip, every value register instance that
differs from reset as a readable record (``{"neuron": {"12": {"l1_address": 5,
...}}}``), and whose ``.npy`` entries hold the bulk arrays in their typed form
(4-bit weights as a (448, 256) uint8 array, floating-gate cells as (4, 24, 129)).
Loading validates every value against its field, so a hand-edited file with a
weight of 16 is an error naming the chip, register and field. Nothing is filled in:
``wafer``, ``hicanns``, ``fpgas``, each chip's ``registers`` and every field of a record
are required (a record states the whole register), unknown keys are refused with the
valid ones, and only the ``.npy`` members of configured chips' array registers, with
exactly their shapes, are read (checked before decompressing and before allocating).
"""

from __future__ import annotations

import enum
import re
from pathlib import Path
from typing import Any

import cattrs
import numpy as np
from cattrs.errors import ClassValidationError, IterableValidationError

from hal import coordinates as C
from hal.configuration.archive import ArraySpec, read_archive, write_archive
from hal.errors import ConfigError, FileFormatError, HalError
from hal.hardware._chip import ChipConfig
from hal.hardware.fpga import FPGAConfig
from hal.hardware.hicann import HICANNConfig
from hal.hardware.wafer import WaferConfig
from hal.files import writable_output
from hal.registers import ArrayRegister, RegisterValue
from hal.validators import strict_converter, structure_errors

__all__ = [
    "FORMAT",
    "VERSION",
    "make_converter",
    "save_config",
    "load_config",
    "config_to_dict",
    "config_from_dict",
    "config_array_spec",
]

FORMAT = "hal-wafer-config"
VERSION = 1


def make_converter() -> cattrs.Converter:
    """A private converter on :func:`~hal.validators.strict_converter`: no coercion, no unknown or missing keys.

    Its one relaxation, explicit: a bit field reads ``0``/``1`` as well as ``false``/``true``.
    Enums are read by name (``"FORWARDING"``) or by value.
    """
    conv = strict_converter()
    conv.register_unstructure_hook(enum.Enum, lambda e: e.name)
    conv.register_unstructure_hook(np.generic, lambda v: v.item())
    # IntEnum before int: a repeater mode is read by name ("FORWARDING"), not as a bare number.
    conv.register_structure_hook(enum.IntEnum, _structure_enum)
    conv.register_structure_hook(enum.Enum, _structure_enum)
    conv.register_structure_hook(bool, _structure_bool)
    return conv


def _structure_enum(value: Any, enum_type: type[enum.Enum]) -> enum.Enum:
    if isinstance(value, str) and value in enum_type.__members__:
        return enum_type[value]
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return enum_type(value)
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not one of {', '.join(enum_type.__members__)}")


def _structure_bool(value: Any, _: type) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ValueError(f"{value!r} is not true/false")


_CONVERTER = make_converter()


#: A chip or instance key: a decimal number as :func:`config_to_dict` writes it (no sign, no
#: leading zeros, no other digits than 0-9).
_INDEX = re.compile(r"0|[1-9][0-9]{0,5}")


def _index(key: Any, where: str, what: str, count: int) -> int:
    if not isinstance(key, str) or not _INDEX.fullmatch(key) or int(key) >= count:
        raise ConfigError(f"{where}: {what} {key!r} out of range; valid 0..{count - 1} (written as a decimal string)")
    return int(key)


def _structure_value(cls: type[RegisterValue], data: Any, where: str) -> RegisterValue:
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected an object of {cls.__name__} fields, got {type(data).__name__}")
    try:
        return _CONVERTER.structure(data, cls)
    except (ClassValidationError, IterableValidationError, HalError, ValueError, TypeError, KeyError) as exc:
        raise ConfigError("; ".join(structure_errors(exc, where))) from exc


def _chip_to_dict(chip: ChipConfig, prefix: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    values: dict[str, dict[str, Any]] = {}
    arrays: dict[str, np.ndarray] = {}
    rf = chip.register_file
    for name, words in chip.image.items():
        kind = rf.kinds[name]
        if isinstance(kind, ArrayRegister):
            if not np.array_equal(words, chip._reset[name]):
                arrays[f"{prefix}/{name}.npy"] = kind.from_words(words)
            continue
        changed = np.flatnonzero(words != chip._reset[name])
        if changed.size:
            values[name] = {str(i): _CONVERTER.unstructure(kind.from_word(words[i])) for i in changed.tolist()}
    return {"registers": values}, arrays


def _chip_from_dict(cls: type[ChipConfig], data: Any, arrays: dict[str, np.ndarray], prefix: str) -> ChipConfig:
    if not isinstance(data, dict) or set(data) != {"registers"}:
        raise ConfigError(f"{prefix}: expected {{'registers': {{...}}}}, got {str(data)[:80]}")
    registers = data["registers"]
    if not isinstance(registers, dict):
        raise ConfigError(f"{prefix}.registers: expected an object keyed by register name, got {type(registers).__name__}")
    chip = cls()
    rf = chip.register_file
    for name, entries in registers.items():
        kind = rf.kinds.get(name)
        if kind is None or isinstance(kind, ArrayRegister) or name not in chip.image:
            known = [n for n, k in rf.kinds.items() if not isinstance(k, ArrayRegister) and n in chip.image]
            raise ConfigError(f"{prefix}: unknown value register {name!r}; known: {', '.join(known)}")
        if not isinstance(entries, dict):
            raise ConfigError(f"{prefix}.{name}: expected an object mapping instance index to fields")
        reg = rf[name]
        for key, record in entries.items():
            index = _index(key, f"{prefix}.{name}", "instance", reg.count)
            value = _structure_value(kind, record, f"{prefix}.{name}[{key}]")
            chip.image[name][index] = value.to_word()
    for name, words in chip.image.items():
        kind = rf.kinds[name]
        path = f"{prefix}/{name}.npy"
        if isinstance(kind, ArrayRegister) and path in arrays:
            array = arrays.pop(path)
            if array.shape != kind.shape or array.dtype.kind not in "ub":
                raise ConfigError(f"{path}: array of shape {array.shape} and dtype {array.dtype}; expected shape {kind.shape} unsigned")
            try:
                checked = kind.check(array, kind.describe_index)
            except HalError as exc:
                raise ConfigError(f"{path}: {exc}") from exc
            words[:] = kind.to_words(checked)
    return chip


def _array_specs() -> dict[tuple[str, str], ArraySpec]:
    specs = {}
    for section, cls in (("hicann", HICANNConfig), ("fpga", FPGAConfig)):
        for name, kind in cls().register_file.kinds.items():
            if isinstance(kind, ArrayRegister):
                specs[section, name] = ArraySpec(kinds="ub", shape=tuple(kind.shape))
    return specs


_ARRAY_SPECS = _array_specs()
_ARRAY_NAME = re.compile(r"(hicann|fpga)/(0|[1-9][0-9]{0,5})/(\w+)\.npy")


def config_array_spec(name: str) -> ArraySpec | None:
    """What the archive member ``name`` of a configuration may hold (an array register's shape), or None.

    Used by :func:`load_config` (and the experiment reader) to check members before they are read.
    """
    match = _ARRAY_NAME.fullmatch(name)
    return _ARRAY_SPECS.get((match[1], match[3])) if match else None


def config_to_dict(config: WaferConfig) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The JSON-ready structure and the arrays of a configuration."""
    manifest: dict[str, Any] = {"wafer": config.wafer.id, "hicanns": {}, "fpgas": {}}
    arrays: dict[str, np.ndarray] = {}
    for coord, chip in config.hicanns():
        manifest["hicanns"][str(coord.enum)], a = _chip_to_dict(chip, f"hicann/{coord.enum}")
        arrays.update(a)
    for coord, chip in config.fpgas():
        manifest["fpgas"][str(coord.enum)], a = _chip_to_dict(chip, f"fpga/{coord.enum}")
        arrays.update(a)
    return manifest, arrays


def save_config(config: WaferConfig, path: str | Path) -> None:
    """Write ``config`` to ``path`` (atomically; the path is checked before any work)."""
    path = writable_output(path, what="configuration")
    if not isinstance(config, WaferConfig):
        raise ConfigError(f"save_config: expected a WaferConfig, got {type(config).__name__}")
    manifest, arrays = config_to_dict(config)
    write_archive(path, FORMAT, VERSION, manifest, arrays)


def config_from_dict(manifest: dict[str, Any], arrays: dict[str, np.ndarray]) -> WaferConfig:
    """Inverse of :func:`config_to_dict`; consumes the arrays it uses. Raises :class:`ConfigError`."""
    if not isinstance(manifest, dict):
        raise ConfigError(f"configuration: expected an object with keys wafer, hicanns, fpgas; got {type(manifest).__name__}")
    extra = set(manifest) - {"format", "version", "wafer", "hicanns", "fpgas"}
    if extra:
        raise ConfigError(f"unknown top-level keys {sorted(extra)}; valid keys: wafer, hicanns, fpgas")
    missing = [k for k in ("wafer", "hicanns", "fpgas") if k not in manifest]
    if missing:
        raise ConfigError(f"missing key(s) {', '.join(missing)}; required: wafer, hicanns, fpgas")
    wafer = manifest["wafer"]
    if isinstance(wafer, bool) or not isinstance(wafer, int):
        raise ConfigError(f"wafer: {wafer!r} is not an integer")
    config = WaferConfig(C.Wafer(wafer))
    for kind, coord_type, cls in (("hicanns", C.HICANNOnWafer, HICANNConfig), ("fpgas", C.FPGAOnWafer, FPGAConfig)):
        section = manifest[kind]
        if not isinstance(section, dict):
            raise ConfigError(f"{kind}: expected an object keyed by chip number")
        for key, data in section.items():
            coord = coord_type(_index(key, kind, "chip", coord_type.size))
            prefix = f"{kind[:-1]}/{key}"
            chip = _chip_from_dict(cls, data, arrays, prefix)
            (config.hicann(coord) if cls is HICANNConfig else config.fpga(coord)).image.update(chip.image)
    return config


def load_config(path: str | Path) -> WaferConfig:
    """Read a configuration written by :func:`save_config`.

    Raises :class:`~hal.errors.FileFormatError` for a missing, corrupt,
    truncated or foreign file and for any invalid content, naming the place.
    """
    manifest, arrays = read_archive(path, FORMAT, range(1, VERSION + 1), arrays=config_array_spec)
    try:
        config = config_from_dict(manifest, arrays)
        if arrays:
            raise ConfigError(f"arrays that belong to no configured chip: {sorted(arrays)[:5]}")
    except HalError as exc:
        raise FileFormatError(path, f"invalid content: {exc}") from exc
    return config
