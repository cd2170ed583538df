"""The emulator backend: a Cython kernel of the analog chip with its fixed-pattern mismatch and link limits.

Public names for other plugins: the backend (imported on first use, so that listing
plugins works without the compiled kernel), its perturbation interface
(:mod:`hal_plugins.emulator.perturbation`) and the fixed-pattern models
(:mod:`hal_plugins.emulator.mismatch`).
"""

from __future__ import annotations

from hal_plugins.emulator.mismatch import NONE, TABLE_II, TABLE_II_VOLTAGE_SPREAD_BIO_MV, UNCALIBRATED, CircuitDeviations, MismatchModel
from hal_plugins.emulator.perturbation import FLOATING_GATE_CELLS, Events, Perturbation, RunContext, Trial

__all__ = [
    "EmulatorBackend",
    "Perturbation",
    "Trial",
    "RunContext",
    "Events",
    "FLOATING_GATE_CELLS",
    "MismatchModel",
    "CircuitDeviations",
    "UNCALIBRATED",
    "TABLE_II",
    "NONE",
    "TABLE_II_VOLTAGE_SPREAD_BIO_MV",
]


def __getattr__(name: str):
    if name == "EmulatorBackend":  # imports the compiled kernel's wrapper: only when asked for
        from hal_plugins.emulator.backend import EmulatorBackend

        return EmulatorBackend
    raise AttributeError(f"module 'hal_plugins.emulator' has no attribute {name!r}")
