"""Calibration transforms: hardware-domain target -> floating-gate DAC value, per circuit.

A :class:`Transform` holds one kind of function for many circuits at once
(arrays with one row per circuit), the target domain in which each circuit's
function is valid, the fit quality, and a success mask. Kinds:

* ``polynomial``: ``dac = sum_k c_k * target**k`` (voltages: linear);
* ``inverse_polynomial``: ``dac = sum_k c_k / target**k`` (leak and
  refractory currents: ``I ~ 1/tau``; calibtic's NegativePowersPolynomial /
  OneOverPolynomial);
* ``lookup``: monotone piecewise-linear interpolation of measured (target,
  dac) points (synaptic time constants; calibtic uses DAC-indexed lookups).

A request outside a circuit's domain raises :class:`CalibrationOutOfRangeError`
naming the circuit, the target and the domain; clipping happens only when the
caller asks for it, and is logged. A failed circuit (``success`` False) raises
unless the caller passes the circuits it wants to skip.
"""

from __future__ import annotations

import enum
from typing import Any

import attrs
import numpy as np

from hal.errors import CalibrationError, ConfigError
from hal.logging import get_logger

__all__ = ["Kind", "Transform", "CalibrationOutOfRangeError", "CalibrationMissingError", "fit_transform"]

log = get_logger(__name__)


class CalibrationOutOfRangeError(CalibrationError):
    """A target lies outside what a circuit's calibration covers."""


class CalibrationMissingError(CalibrationError):
    """No calibration entry exists for what was asked."""


class Kind(str, enum.Enum):
    POLYNOMIAL = "polynomial"
    INVERSE_POLYNOMIAL = "inverse_polynomial"
    LOOKUP = "lookup"


def _array(dtype=float):
    return attrs.field(converter=lambda a: np.array(a, dtype=dtype), eq=attrs.cmp_using(eq=np.array_equal))


@attrs.frozen
class Transform:
    """One parameter's calibration for ``n`` circuits (see the module docstring).

    ``coefficients`` is (n, k): polynomial coefficients in increasing power, or,
    for ``lookup``, the DAC values at the targets in ``points`` (n, k).
    """

    parameter: str
    kind: Kind = attrs.field(converter=Kind)
    coefficients: np.ndarray = _array()
    domain_lo: np.ndarray = _array()
    domain_hi: np.ndarray = _array()
    rms_dac: np.ndarray = _array()
    success: np.ndarray = _array(bool)
    points: np.ndarray | None = attrs.field(default=None, converter=lambda a: None if a is None else np.array(a, dtype=float),
                                            eq=attrs.cmp_using(eq=lambda a, b: (a is None and b is None) or (a is not None and b is not None and np.array_equal(a, b))))
    unit: str = ""
    dac_max: int = 1023

    def __attrs_post_init__(self):
        n = self.domain_lo.size
        if self.coefficients.ndim != 2 or self.coefficients.shape[0] not in (1, n):
            raise ConfigError(f"Transform {self.parameter}: coefficients must be (circuits, k) or (1, k) shared by all, got shape {self.coefficients.shape}")
        for name in ("domain_lo", "domain_hi", "rms_dac", "success"):
            if getattr(self, name).shape != (n,):
                raise ConfigError(f"Transform {self.parameter}.{name}: shape {getattr(self, name).shape}; expected ({n},)")
        if self.kind is Kind.LOOKUP and (self.points is None or self.points.shape != self.coefficients.shape):
            raise ConfigError(f"Transform {self.parameter}: a lookup needs points of the same shape as coefficients {self.coefficients.shape}")

    @property
    def n_circuits(self) -> int:
        return int(self.domain_lo.size)

    @property
    def shared(self) -> bool:
        """One function for all circuits (the nominal calibration)."""
        return self.coefficients.shape[0] == 1

    def _raw(self, target: np.ndarray, circuits: np.ndarray) -> np.ndarray:
        if self.shared:
            circuits = np.zeros_like(circuits)
        c = self.coefficients[circuits]
        if self.kind is Kind.POLYNOMIAL:
            powers = target[:, None] ** np.arange(c.shape[1])[None, :]
            return np.sum(c * powers, axis=1)
        if self.kind is Kind.INVERSE_POLYNOMIAL:
            with np.errstate(divide="ignore", invalid="ignore"):
                powers = target[:, None] ** (-np.arange(c.shape[1]))[None, :]
            return np.sum(c * powers, axis=1)
        if self.shared:
            x, y = self.points[0], self.coefficients[0]
            order = np.argsort(x)
            return np.interp(target, x[order], y[order])
        out = np.empty(target.size)
        for i, (t, k) in enumerate(zip(target, circuits)):
            x, y = self.points[k], self.coefficients[k]
            order = np.argsort(x)
            out[i] = np.interp(t, x[order], y[order])
        return out

    def dac(self, target: Any, circuits: Any = None, *, clip: bool = False, names: Any = None) -> np.ndarray:
        """DAC values that give ``target`` (scalar or per circuit) on ``circuits`` (default: all).

        ``names`` (optional, per circuit) label circuits in error messages.
        """
        circuits = np.arange(self.n_circuits) if circuits is None else np.atleast_1d(np.asarray(circuits, dtype=np.int64))
        if circuits.size and (circuits.min() < 0 or circuits.max() >= self.n_circuits):
            raise ConfigError(f"calibration {self.parameter}: circuit index out of range; valid 0..{self.n_circuits - 1}")
        target = np.broadcast_to(np.asarray(target, dtype=float), circuits.shape).astype(float)
        label = (lambda i: str(names[i])) if names is not None else (lambda i: f"circuit {int(circuits[i])}")
        failed = ~self.success[circuits]
        if np.any(failed):
            i = int(np.flatnonzero(failed)[0])
            raise CalibrationError(f"calibration {self.parameter}: {label(i)} failed calibration (it is on the defect list); do not use it")
        lo, hi = self.domain_lo[circuits], self.domain_hi[circuits]
        outside = (target < lo) | (target > hi) | ~np.isfinite(target)
        if np.any(outside):
            i = int(np.flatnonzero(outside)[0])
            if not clip:
                raise CalibrationOutOfRangeError(
                    f"calibration {self.parameter}: target {target[i]:.6g} {self.unit} for {label(i)} is outside its "
                    f"calibrated range {lo[i]:.6g}..{hi[i]:.6g} {self.unit}; pass clip=True to clip"
                )
            log.warning("calibration_target_clipped", parameter=self.parameter, circuits=int(outside.sum()),
                        first=label(i), target=float(target[i]), low=float(lo[i]), high=float(hi[i]))
            target = np.clip(np.nan_to_num(target, nan=lo), lo, hi)
        raw = self._raw(target, circuits)
        return np.clip(np.rint(raw), 0, self.dac_max).astype(np.int64)

    def achievable(self, circuit: int) -> tuple[float, float]:
        return float(self.domain_lo[circuit]), float(self.domain_hi[circuit])

    def to_arrays(self) -> dict[str, np.ndarray]:
        out = {"coefficients": self.coefficients, "domain_lo": self.domain_lo, "domain_hi": self.domain_hi,
               "rms_dac": self.rms_dac, "success": self.success}
        if self.points is not None:
            out["points"] = self.points
        return out

    @classmethod
    def from_arrays(cls, parameter: str, kind: str, unit: str, arrays: dict[str, np.ndarray]) -> Transform:
        return cls(parameter, kind, arrays["coefficients"], arrays["domain_lo"], arrays["domain_hi"], arrays["rms_dac"],
                   arrays["success"], arrays.get("points"), unit)


def fit_transform(parameter: str, kind: Kind | str, dac: np.ndarray, measured: np.ndarray, *, degree: int = 1, unit: str = "",
                  max_rms_dac: float = 8.0) -> Transform:
    """Fit ``measured`` (circuits, points) values at the swept ``dac`` values (points,) per circuit.

    A circuit succeeds when its values are finite, monotone in the DAC value and
    the fit's rms residual is at most ``max_rms_dac`` DAC steps.
    """
    kind = Kind(kind)
    dac = np.asarray(dac, dtype=float)
    measured = np.asarray(measured, dtype=float)
    n, k = measured.shape
    if dac.shape != (k,):
        raise ConfigError(f"fit_transform {parameter}: {dac.size} DAC values for {k} measurements per circuit")
    finite = np.all(np.isfinite(measured), axis=1)
    steps = np.diff(measured, axis=1)
    monotone = np.all(steps > 0, axis=1) | np.all(steps < 0, axis=1)
    lo = np.where(finite, np.nanmin(np.where(np.isfinite(measured), measured, np.nan), axis=1), np.nan)
    hi = np.where(finite, np.nanmax(np.where(np.isfinite(measured), measured, np.nan), axis=1), np.nan)
    if kind is Kind.LOOKUP:
        coefficients = np.tile(dac, (n, 1))
        points = np.where(np.isfinite(measured), measured, 0.0)
        rms = np.zeros(n)
    else:
        x = measured if kind is Kind.POLYNOMIAL else np.where(measured != 0, 1.0 / np.where(measured != 0, measured, 1), np.nan)
        coefficients = np.zeros((n, degree + 1))
        rms = np.full(n, np.inf)
        for i in np.flatnonzero(finite & monotone):
            c = np.polynomial.polynomial.polyfit(x[i], dac, degree)
            coefficients[i] = c
            rms[i] = float(np.sqrt(np.mean((np.polynomial.polynomial.polyval(x[i], c) - dac) ** 2)))
        points = None
    success = finite & monotone & (rms <= max_rms_dac)
    return Transform(parameter, kind, coefficients, np.nan_to_num(lo, nan=0.0), np.nan_to_num(hi, nan=0.0), np.where(np.isfinite(rms), rms, -1.0),
                     success, points, unit)
