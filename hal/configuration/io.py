"""Saving and loading configurations: structure as JSON (cattrs), bulk arrays as ``.npy``.

A wafer configuration file is a zip (see :mod:`hal.configuration.archive`) whose
``manifest.json`` holds, per configured chip, every value register instance that
differs from reset as a readable record (``{"neuron": {"12": {"l1_address": 5,
...}}}``), and whose ``.npy`` entries hold the bulk arrays in their typed form
(4-bit weights as a (448, 256) uint8 array, floating-gate cells as (4, 24, 129)).
Loading validates every value against its field, so a hand-edited file with a
weight of 16 is an error naming the chip, register and field.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Any

import cattrs
import numpy as np
from cattrs.errors import ClassValidationError
from cattrs.v import format_exception, transform_error

from hal import coordinates as C
from hal.configuration.archive import read_archive, write_archive
from hal.errors import ConfigError, FileFormatError, HalError
from hal.hardware._chip import ChipConfig
from hal.hardware.fpga import FPGAConfig
from hal.hardware.hicann import HICANNConfig
from hal.hardware.wafer import WaferConfig
from hal.registers import ArrayRegister, RegisterValue

__all__ = [
    "FORMAT",
    "VERSION",
    "make_converter",
    "save_config",
    "load_config",
    "config_to_dict",
    "config_from_dict",
]

FORMAT = "hal-wafer-config"
VERSION = 1


def make_converter() -> cattrs.Converter:
    """A private converter: strict about unknown keys, numpy scalars as Python numbers."""
    conv = cattrs.Converter(forbid_extra_keys=True)
    conv.register_unstructure_hook(enum.Enum, lambda e: e.name)
    conv.register_unstructure_hook(np.generic, lambda v: v.item())
    # IntEnum before int: a repeater mode is read by name ("FORWARDING"), not as a bare number.
    conv.register_structure_hook(enum.IntEnum, _structure_enum)
    conv.register_structure_hook(enum.Enum, _structure_enum)
    # cattrs' defaults call int()/bool(), which would turn 5.7 into 5 and "false" into True.
    conv.register_structure_hook(int, _structure_int)
    conv.register_structure_hook(bool, _structure_bool)
    return conv


def _format_exception(exc: BaseException, type_: Any) -> str:
    # Our hooks' ValueErrors already say what was wrong and what is valid.
    if isinstance(exc, ValueError):
        return str(exc)
    return format_exception(exc, type_)


def _structure_enum(value: Any, enum_type: type[enum.Enum]) -> enum.Enum:
    if isinstance(value, str) and value in enum_type.__members__:
        return enum_type[value]
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return enum_type(value)
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not one of {', '.join(enum_type.__members__)}")


def _structure_int(value: Any, _: type) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{value!r} is not an integer")
    return value


def _structure_bool(value: Any, _: type) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ValueError(f"{value!r} is not true/false")


_CONVERTER = make_converter()


def _structure_value(cls: type[RegisterValue], data: Any, where: str) -> RegisterValue:
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected an object of {cls.__name__} fields, got {type(data).__name__}")
    try:
        return _CONVERTER.structure(data, cls)
    except ClassValidationError as exc:
        messages = transform_error(exc, path=where, format_exception=_format_exception)
        raise ConfigError("; ".join(messages)) from exc
    except HalError as exc:  # our validators raise typed errors directly
        raise ConfigError(f"{where}: {exc}") from exc


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
    if not isinstance(data, dict) or set(data) - {"registers"}:
        raise ConfigError(f"{prefix}: expected {{'registers': ...}}, got {str(data)[:80]}")
    chip = cls()
    rf = chip.register_file
    for name, entries in data.get("registers", {}).items():
        kind = rf.kinds.get(name)
        if kind is None or isinstance(kind, ArrayRegister) or name not in chip.image:
            known = [n for n, k in rf.kinds.items() if not isinstance(k, ArrayRegister) and n in chip.image]
            raise ConfigError(f"{prefix}: unknown value register {name!r}; known: {', '.join(known)}")
        if not isinstance(entries, dict):
            raise ConfigError(f"{prefix}.{name}: expected an object mapping instance index to fields")
        reg = rf[name]
        for key, record in entries.items():
            if not key.isdigit() or not int(key) < reg.count:
                raise ConfigError(f"{prefix}.{name}: instance {key!r} out of range; valid 0..{reg.count - 1}")
            value = _structure_value(kind, record, f"{prefix}.{name}[{key}]")
            chip.image[name][int(key)] = value.to_word()
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
    """Write ``config`` to ``path`` (atomically)."""
    if not isinstance(config, WaferConfig):
        raise ConfigError(f"save_config: expected a WaferConfig, got {type(config).__name__}")
    manifest, arrays = config_to_dict(config)
    write_archive(path, FORMAT, VERSION, manifest, arrays)


def config_from_dict(manifest: dict[str, Any], arrays: dict[str, np.ndarray]) -> WaferConfig:
    """Inverse of :func:`config_to_dict`; consumes the arrays it uses. Raises :class:`ConfigError`."""
    extra = set(manifest) - {"format", "version", "wafer", "hicanns", "fpgas"}
    if extra:
        raise ConfigError(f"unknown top-level keys {sorted(extra)}")
    config = WaferConfig(C.Wafer(manifest.get("wafer", 0)))
    for kind, coord_type, cls in (("hicanns", C.HICANNOnWafer, HICANNConfig), ("fpgas", C.FPGAOnWafer, FPGAConfig)):
        section = manifest.get(kind, {})
        if not isinstance(section, dict):
            raise ConfigError(f"{kind}: expected an object keyed by chip number")
        for key, data in section.items():
            if not key.isdigit():
                raise ConfigError(f"{kind}: chip key {key!r} is not a number")
            coord = coord_type(int(key))
            prefix = f"{kind[:-1]}/{key}"
            chip = _chip_from_dict(cls, data, arrays, prefix)
            (config.hicann(coord) if cls is HICANNConfig else config.fpga(coord)).image.update(chip.image)
    return config


def load_config(path: str | Path) -> WaferConfig:
    """Read a configuration written by :func:`save_config`.

    Raises :class:`~hal.errors.FileFormatError` for a missing, corrupt,
    truncated or foreign file and for any invalid content, naming the place.
    """
    manifest, arrays = read_archive(path, FORMAT, range(1, VERSION + 1))
    try:
        config = config_from_dict(manifest, arrays)
        if arrays:
            raise ConfigError(f"arrays that belong to no configured chip: {sorted(arrays)[:5]}")
    except HalError as exc:
        raise FileFormatError(path, f"invalid content: {exc}") from exc
    return config
