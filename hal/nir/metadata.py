"""The hal terms a NIR graph cannot say, kept in its metadata so that hal -> NIR -> hal is exact.

NIR's neurons are current-based; hal's are conductance-based with 4-bit weights. :func:`hal.nir.to_nir`
writes the linearised NIR parameters for other tools *and* the exact hal terms in metadata
(flat keys with JSON text values, which NIR's HDF5 files keep):

* the graph: ``hal_format`` (``"hal-nir"``), ``hal_version``, ``hal_network`` (populations and
  sources in order, ``ns_per_weight_bit``) and ``hal_mapping`` (the conversion's constants);
* each neuron node: ``hal_params``, the population's :class:`~hal.network.LIFParameters`;
* each ``Linear`` node: ``hal_projections``, the hal projections it stands for (receptor,
  connector, pairs, ``weight_bits`` or ``weight_ns``, ``ns_per_weight_bit``, and their index
  in the network's order).

:func:`hal.nir.from_nir` rebuilds the network from these when ``hal_format`` is present.
"""

from __future__ import annotations

import json
from typing import Any

import attrs
import numpy as np

from hal.errors import ConfigError, HalError
from hal.network import LIFParameters, Projection

__all__ = ["FORMAT", "VERSION", "text", "params_json", "params_from", "projections_json", "projections_from", "read_json"]

FORMAT = "hal-nir"
VERSION = 1


def text(value: Any) -> str:
    """A metadata value as text (NIR's HDF5 reader gives bytes, or a numpy scalar)."""
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).decode("utf-8")
    return str(value)


def read_json(owner: str, key: str, value: Any) -> Any:
    try:
        return json.loads(text(value))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"NIR {owner} metadata {key}: not JSON ({exc}); hal writes it with to_nir") from None


def params_json(params: LIFParameters) -> str:
    return json.dumps(attrs.asdict(params))


def params_from(owner: str, value: Any) -> LIFParameters:
    data = read_json(owner, "hal_params", value)
    names = [a.name for a in attrs.fields(LIFParameters)]
    if not isinstance(data, dict) or set(data) != set(names):
        found = sorted(data) if isinstance(data, dict) else type(data).__name__
        raise ConfigError(f"NIR {owner} metadata hal_params: keys {found}; expected {', '.join(names)}")
    try:
        return LIFParameters(**data)
    except (HalError, TypeError) as exc:
        raise ConfigError(f"NIR {owner} metadata hal_params: {exc}") from None


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return {"array": value.tolist(), "dtype": value.dtype.str}
    if isinstance(value, np.generic):
        return value.item()
    return value


def _restore(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"array", "dtype"}:
        return np.asarray(value["array"], dtype=np.dtype(value["dtype"]))
    return value


_PROJECTION_KEYS = ("index", "pre", "post", "receptor", "connector", "pairs", "weight_bits", "weight_ns", "ns_per_weight_bit")


def projections_json(indexed: list[tuple[int, Projection]]) -> str:
    out = []
    for index, p in indexed:
        out.append({"index": index, "pre": p.pre, "post": p.post, "receptor": p.receptor, "connector": p.connector,
                    "pairs": None if p.pairs is None else [list(pair) for pair in p.pairs],
                    "weight_bits": _plain(p.weight_bits), "weight_ns": _plain(p.weight_ns), "ns_per_weight_bit": p.ns_per_weight_bit})
    return json.dumps(out)


def projections_from(owner: str, value: Any) -> list[tuple[int, Projection]]:
    data = read_json(owner, "hal_projections", value)
    if not isinstance(data, list):
        raise ConfigError(f"NIR {owner} metadata hal_projections: a {type(data).__name__}; expected a list of projections")
    out = []
    for k, item in enumerate(data):
        if not isinstance(item, dict) or set(item) != set(_PROJECTION_KEYS):
            found = sorted(item) if isinstance(item, dict) else type(item).__name__
            raise ConfigError(f"NIR {owner} metadata hal_projections[{k}]: keys {found}; expected {', '.join(_PROJECTION_KEYS)}")
        fields = {key: _restore(item[key]) for key in _PROJECTION_KEYS if key != "index"}
        try:
            out.append((int(item["index"]), Projection(**fields)))
        except (HalError, TypeError, ValueError) as exc:
            raise ConfigError(f"NIR {owner} metadata hal_projections[{k}]: {exc}") from None
    return out
