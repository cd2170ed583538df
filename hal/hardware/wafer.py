"""The whole wafer's configuration: the HICANNs and FPGAs in use, created on first touch.

A HICANN or FPGA that was never touched is in its reset state and costs no
memory; a full wafer with every synapse set stays far below 300 MB (see
``tests/hal/hardware/test_wafer.py`` and ``docs/benchmarks.md``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs

from hal import coordinates as C
from hal.errors import ConfigError
from hal.hardware import floating_gates as fg
from hal.hardware.fpga import FPGAConfig
from hal.hardware.hicann import HICANNConfig, SYNAPSE_COLUMNS, SYNAPSE_ROWS

__all__ = ["WaferConfig", "wafer_counts"]


@attrs.define(eq=False, repr=False)
class WaferConfig:
    """Register-level configuration of one wafer.

    Parameters
    ----------
    wafer:
        Which wafer this configuration is for (emulators derive the chip's
        fixed-pattern mismatch from it).
    """

    wafer: C.Wafer = attrs.field(factory=lambda: C.Wafer(0))
    _hicanns: dict[C.HICANNOnWafer, HICANNConfig] = attrs.field(factory=dict, alias="hicanns")
    _fpgas: dict[C.FPGAOnWafer, FPGAConfig] = attrs.field(factory=dict, alias="fpgas")

    def __attrs_post_init__(self):
        if not isinstance(self.wafer, C.Wafer):
            raise ConfigError(f"WaferConfig.wafer: {self.wafer!r} is not a Wafer coordinate; use hal.coordinates.Wafer(id)")
        for key, value in self._hicanns.items():
            _check_entry("hicanns", key, C.HICANNOnWafer, value, HICANNConfig)
        for key, value in self._fpgas.items():
            _check_entry("fpgas", key, C.FPGAOnWafer, value, FPGAConfig)

    def __repr__(self) -> str:
        return f"WaferConfig({self.wafer!r}, {len(self._hicanns)} HICANN(s), {len(self._fpgas)} FPGA(s) configured)"

    def hicann(self, coordinate: C.HICANNOnWafer) -> HICANNConfig:
        """The configuration of one HICANN, created in its reset state on first access."""
        _check_key("hicann", coordinate, C.HICANNOnWafer)
        cfg = self._hicanns.get(coordinate)
        if cfg is None:
            cfg = self._hicanns[coordinate] = HICANNConfig()
        return cfg

    def fpga(self, coordinate: C.FPGAOnWafer) -> FPGAConfig:
        """The configuration of one FPGA, created in its reset state on first access."""
        _check_key("fpga", coordinate, C.FPGAOnWafer)
        cfg = self._fpgas.get(coordinate)
        if cfg is None:
            cfg = self._fpgas[coordinate] = FPGAConfig()
        return cfg

    def has_hicann(self, coordinate: C.HICANNOnWafer) -> bool:
        return coordinate in self._hicanns

    def has_fpga(self, coordinate: C.FPGAOnWafer) -> bool:
        return coordinate in self._fpgas

    def hicanns(self) -> Iterator[tuple[C.HICANNOnWafer, HICANNConfig]]:
        """The HICANNs that have a configuration, in enum order."""
        return iter(sorted(self._hicanns.items(), key=lambda kv: kv[0]))

    def fpgas(self) -> Iterator[tuple[C.FPGAOnWafer, FPGAConfig]]:
        return iter(sorted(self._fpgas.items(), key=lambda kv: kv[0]))

    def chips(self) -> Iterator[tuple[Any, Any]]:
        """Every configured chip: HICANNs then FPGAs."""
        yield from self.hicanns()
        yield from self.fpgas()

    def remove_hicann(self, coordinate: C.HICANNOnWafer) -> None:
        """Forget a HICANN's configuration (it goes back to reset when next applied)."""
        self._hicanns.pop(coordinate, None)

    def copy(self) -> WaferConfig:
        return WaferConfig(
            self.wafer,
            hicanns={k: v.copy() for k, v in self._hicanns.items()},
            fpgas={k: v.copy() for k, v in self._fpgas.items()},
        )

    def nbytes(self) -> int:
        """Memory held by the register images."""
        return sum(c.nbytes() for _, c in self.chips())

    def __eq__(self, other: object) -> bool:
        """Equal when every chip's registers are equal; an absent chip equals a reset one."""
        if not isinstance(other, WaferConfig):
            return NotImplemented
        if self.wafer != other.wafer:
            return False
        for mine, theirs in ((self._hicanns, other._hicanns), (self._fpgas, other._fpgas)):
            for key in mine.keys() | theirs.keys():
                a, b = mine.get(key), theirs.get(key)
                if a is None or b is None:
                    present = a if a is not None else b
                    if not present.is_reset():
                        return False
                elif a != b:
                    return False
        return True

    __hash__ = None


def _check_key(kind: str, key: Any, expected: type) -> None:
    if not isinstance(key, expected):
        raise ConfigError(f"WaferConfig.{kind}: {key!r} is not a {expected.__name__}; build one with {expected.__name__}(...)")


def _check_entry(kind: str, key: Any, key_type: type, value: Any, value_type: type) -> None:
    _check_key(kind, key, key_type)
    if not isinstance(value, value_type):
        raise ConfigError(f"WaferConfig.{kind}[{key!r}]: {type(value).__name__} is not a {value_type.__name__}")


def wafer_counts() -> dict[str, int]:
    """Whole-wafer totals of the addressable resources (``hal info wafer``)."""
    hicanns = C.HICANNOnWafer.size
    per_hicann_synapses = SYNAPSE_ROWS * SYNAPSE_COLUMNS
    neurons_per_hicann = C.NeuronOnHICANN.size
    return {
        "wafers": 1,
        "reticles": C.DNCOnWafer.size,
        "hicanns": hicanns,
        "fpgas": C.FPGAOnWafer.size,
        "neuron_circuits": hicanns * neurons_per_hicann,
        "neuron_circuits_per_hicann": neurons_per_hicann,
        "synapses": hicanns * per_hicann_synapses,
        "synapses_per_hicann": per_hicann_synapses,
        "synapse_rows_per_hicann": SYNAPSE_ROWS,
        "synapse_columns_per_hicann": SYNAPSE_COLUMNS,
        "synapses_per_circuit": SYNAPSE_ROWS // 2,
        # Schmitt et al. 2017, Table I (MaxHW) and section II-A: 220 usable synapses per circuit.
        "synapses_usable_paper": hicanns * neurons_per_hicann * 220,
        "synapses_usable_per_circuit_paper": 220,
        "synapse_drivers": hicanns * C.SynapseDriverOnHICANN.size,
        "synapse_drivers_per_hicann": C.SynapseDriverOnHICANN.size,
        "fg_blocks": hicanns * fg.FG_BLOCKS,
        "fg_parameters_per_circuit": len(fg.NEURON_PARAMETERS),
        # V_bout/V_bexp and V_clra/V_clrc share a row between left and right blocks.
        "fg_shared_parameters_per_block": sum(1 for p in fg.SHARED_PARAMETERS.values() if p.row_left >= 0),
        "fg_cells": hicanns * fg.FG_BLOCKS * fg.FG_ROWS * fg.FG_COLUMNS,
        "l1_hlines_per_hicann": C.HLineOnHICANN.size,
        "l1_vlines_per_hicann": C.VLineOnHICANN.size,
        "background_generators": hicanns * C.BackgroundGeneratorOnHICANN.size,
    }
