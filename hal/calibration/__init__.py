"""Calibration: per-circuit transforms from hardware-domain targets to DAC values, and their database.

* :mod:`hal.calibration.transforms` -- the transforms and their fitting;
* :mod:`hal.calibration.database` -- the SQLite store of calibration sets (each set stored,
  checked and marked complete in one transaction; :mod:`hal.calibration.checks` are the checks,
  :mod:`hal.calibration.setfile` the portable file);
* :class:`Calibration` -- what parameter translation asks: "which DAC gives
  this target on this circuit?", answered from a set in a store or from the
  nominal (ideal-chip) transfer functions;
* :func:`apply_parameters` -- biological neuron parameters -> floating-gate
  values of given circuits through a calibration.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hal import coordinates as C
from hal.calibration.database import CalibrationStore, Defect, SetInfo, SQLiteStore, UnknownSetError, open_store
from hal.calibration.parameters import PARAMETERS
from hal.calibration.transforms import (
    CalibrationMissingError,
    CalibrationOutOfRangeError,
    Kind,
    Transform,
    fit_transform,
)
from hal.analog.domains import PAPER_DOMAINS, Domains
from hal.errors import CalibrationError, ConfigError
from hal.hardware.hicann import HICANNConfig
from hal.analog.transfer import C_BIG_PF, nominal, synaptic_unit_conductance_ns
from hal.logging import get_logger
from hal.network.parameters import LIFParameters

__all__ = [
    "apply_nominal",
    "PARAMETERS",
    "Calibration",
    "Transform",
    "Kind",
    "fit_transform",
    "CalibrationStore",
    "SQLiteStore",
    "SetInfo",
    "Defect",
    "open_store",
    "UnknownSetError",
    "CalibrationMissingError",
    "CalibrationOutOfRangeError",
    "nominal_transform",
    "apply_parameters",
    "apply_gmax",
    "gmax_target",
    "GMAX_REFERENCE_DAC",
]

log = get_logger(__name__)

def _nominal_curve(parameter: str):
    if parameter == "gmax":

        tau = nominal("tau_syn_e_us")(800)  # the routine leaves V_syntcx at its default
        return (lambda dac: 1000 * (1 - np.exp(-15 * synaptic_unit_conductance_ns(dac, 1) * tau / C_BIG_PF * 1e-3))), (100, 1023)
    if parameter == "tau_m_us":
        g = nominal("g_l_ns")
        return (lambda dac: C_BIG_PF / (np.maximum(g(dac), 1e-12) * 1e-3)), (11, 1023)  # tau = C / g (pF / nS = ms)
    t = nominal(parameter)
    return t.forward, t.domain


def nominal_transform(parameter: str, n_circuits: int) -> Transform:
    """The calibration of the ideal chip: the nominal transfer function inverted (as a lookup)."""
    if parameter not in PARAMETERS:
        raise CalibrationMissingError(f"no calibrated parameter {parameter!r}; known: {', '.join(PARAMETERS)}")
    forward, (lo, hi) = _nominal_curve(parameter)
    dac = np.arange(lo, hi + 1, dtype=float)  # every DAC value: the lookup is exact at integer DACs
    values = forward(dac)
    n = n_circuits
    return Transform(
        parameter, Kind.LOOKUP, dac[None, :], np.full(n, values.min()), np.full(n, values.max()),
        np.zeros(n), np.ones(n, dtype=bool), values[None, :], PARAMETERS[parameter][2],
    )


class Calibration:
    """Transforms of one wafer, from a calibration set, or nominal.

    ``fallback="nominal"`` answers missing entries with the nominal transform
    and logs a warning each time; the default raises. There is no silent
    "no calibration". An unknown set id raises
    :class:`~hal.calibration.database.UnknownSetError`; a set that is not marked complete is
    used (it was asked for by id) with a warning.
    """

    def __init__(self, store: CalibrationStore | None = None, set_id: int | None = None, *, fallback: str | None = None):
        if (store is None) != (set_id is None):
            raise ConfigError("Calibration: give both a store and a set id, or neither (nominal)")
        if fallback not in (None, "nominal"):
            raise ConfigError(f"Calibration fallback: {fallback!r} not valid; valid None (raise) or 'nominal'")
        if store is not None and hasattr(store, "set_info"):
            info = store.set_info(set_id)  # an unknown id fails here, not as "missing entry" later
            if not info.complete:
                log.warning("calibration_set_incomplete", set_id=set_id, wafer=info.wafer, problem=info.problem or "never completed")
        self.store = store
        self.set_id = set_id
        self.fallback = fallback
        self._cache: dict[tuple[int, str], Transform] = {}
        self._entries: set | None = None

    @classmethod
    def nominal(cls) -> Calibration:
        return cls()

    @property
    def is_nominal(self) -> bool:
        return self.store is None

    def has(self, hicann: C.HICANNOnWafer, parameter: str) -> bool:
        """Whether the set holds ``parameter`` for ``hicann`` (the nominal calibration holds everything)."""
        if self.store is None:
            return parameter in PARAMETERS
        if self._entries is None:
            self._entries = set(self.store.entries(self.set_id))
        return (hicann.enum, parameter) in self._entries

    def transform(self, hicann: C.HICANNOnWafer, parameter: str) -> Transform:
        key = (hicann.enum, parameter)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        n = 4 if PARAMETERS.get(parameter, (None, False))[1] else 512
        if self.store is None:
            t = nominal_transform(parameter, n)
        else:
            try:
                t = self.store.load(self.set_id, hicann.enum, parameter)
            except CalibrationMissingError:
                if self.fallback != "nominal":
                    raise
                log.warning("calibration_fallback_to_nominal", set_id=self.set_id, hicann=hicann.enum, parameter=parameter)
                t = nominal_transform(parameter, n)
        self._cache[key] = t
        return t


def apply_parameters(chip: HICANNConfig, hicann: C.HICANNOnWafer, denmems: Sequence[C.NeuronOnHICANN], params, calibration: Calibration | None = None,
                     domains: Domains = PAPER_DOMAINS, *, clip: bool = False) -> None:
    """Write the floating-gate values that give ``params`` (:class:`hal.network.parameters.LIFParameters`) on ``denmems``.

    Every target goes through ``calibration`` (nominal when None). A target
    outside a circuit's calibrated range raises, naming the circuit, the
    parameter, the target and the range. Adaptation and the exponential term
    are switched off.
    """

    if not isinstance(params, LIFParameters):
        raise ConfigError(f"apply_parameters: expected LIFParameters, got {type(params).__name__}")
    calibration = calibration or Calibration.nominal()
    neurons = list(denmems)
    enums = np.array([n.enum for n in neurons])
    names = [f"{hicann!r} {n!r}" for n in neurons]
    hw = lambda v: float(domains.mv_to_hw_mv(v))  # noqa: E731
    targets = {
        "e_l_mv": hw(params.e_l_mv),
        "v_th_mv": hw(params.v_th_mv),
        "e_rev_e_mv": hw(params.e_rev_e_mv),
        "e_rev_i_mv": hw(params.e_rev_i_mv),
        "tau_m_us": float(domains.tau_to_hw_us(params.tau_m_ms)),
        "tau_syn_e_us": float(domains.tau_to_hw_us(params.tau_syn_e_ms)),
        "tau_syn_i_us": float(domains.tau_to_hw_us(params.tau_syn_i_ms)),
    }
    if params.t_ref_ms is not None:
        targets["t_ref_us"] = float(domains.tau_to_hw_us(params.t_ref_ms))
    else:
        chip.set_neuron_parameter("I_pl", 1023, neurons=neurons)  # as short as the chip allows
    for parameter, target in targets.items():
        transform = calibration.transform(hicann, parameter)
        try:
            dac = transform.dac(target, enums, clip=clip, names=names)
        except CalibrationError as exc:
            raise type(exc)(f"{exc} (biological parameters {params})") from None
        chip.set_neuron_parameter(PARAMETERS[parameter][0], dac, neurons=neurons)
    for name in ("I_gladapt", "I_fire", "I_bexp"):
        chip.set_neuron_parameter(name, 0, neurons=neurons)
    blocks = sorted({n.to_shared_fg_block().enum for n in neurons})
    reset = calibration.transform(hicann, "v_reset_mv").dac(hw(params.v_reset_mv), blocks, clip=clip,
                                                             names=[f"{hicann!r} FG block {b}" for b in blocks])
    chip.set_shared_parameter("V_reset", reset, blocks=blocks)


#: The synapse-driver setting behind :attr:`hal.network.Network.ns_per_weight_bit`'s default: on the
#: nominal chip, V_gmax0 = 1000 with divisor 1 gives that conductance per weight bit.
GMAX_REFERENCE_DAC = 1000


def gmax_target(ns_per_weight_bit: float, reference_ns_per_weight_bit: float) -> float:
    """The ``gmax`` calibration target (per mille per event) that realises ``ns_per_weight_bit``.

    The unit conductance of a row is proportional to the V_gmax0 current, so the declared
    conversion asks for ``GMAX_REFERENCE_DAC * ns_per_weight_bit / reference`` on the nominal
    chip; the target is the nominal chip's ``gmax`` measure at that DAC value. A calibrated
    quadrant that is stronger or weaker gets another DAC value for the same target.
    """
    if not (np.isfinite(ns_per_weight_bit) and ns_per_weight_bit > 0):
        raise ConfigError(f"ns_per_weight_bit: {ns_per_weight_bit!r} out of range; valid a finite number > 0")
    forward, _ = _nominal_curve("gmax")
    return float(forward(GMAX_REFERENCE_DAC * ns_per_weight_bit / reference_ns_per_weight_bit))


def apply_gmax(chip: HICANNConfig, hicann: C.HICANNOnWafer, blocks: Sequence[int], target: float, calibration: Calibration | None = None,
               *, clip: bool = False) -> tuple[np.ndarray, str]:
    """Write V_gmax0 of the FG ``blocks`` (quadrants) so that their rows realise ``target`` (see :func:`gmax_target`).

    Returns (DAC per block, ``"calibrated"`` or ``"nominal"``). A calibration without a ``gmax``
    entry for this HICANN falls back to the nominal transform, and says so (logged and returned):
    nominal is what the chip gets without a gmax calibration. A quadrant whose calibration failed,
    or a target outside a quadrant's calibrated range, raises (unless ``clip``), naming both.
    """
    calibration = calibration or Calibration.nominal()
    blocks = [int(b) for b in blocks]
    source = "nominal" if calibration.is_nominal else "calibrated"
    if calibration.has(hicann, "gmax"):
        transform = calibration.transform(hicann, "gmax")
    else:
        log.warning("gmax_calibration_missing", hicann=hicann.enum, set_id=calibration.set_id, used="nominal")
        transform, source = nominal_transform("gmax", 4), "nominal"
    if transform.n_circuits != 4:
        raise CalibrationError(f"calibration gmax for {hicann!r}: {transform.n_circuits} entries; expected 4, one per FG block (quadrant)")
    names = [f"{hicann!r} FG block {b} (V_gmax0 of its quadrant's synapse drivers)" for b in blocks]
    dac = transform.dac(target, blocks, clip=clip, names=names)
    chip.set_shared_parameter("V_gmax0", dac, blocks=blocks)
    return dac, source


def apply_nominal(chip: HICANNConfig, denmems: Sequence[C.NeuronOnHICANN], params: LIFParameters, domains: Domains = PAPER_DOMAINS,
                  hicann: C.HICANNOnWafer = C.HICANNOnWafer(0)) -> None:
    """Write the floating-gate values that give ``params`` on the ideal chip to ``denmems``.

    The nominal case of :func:`hal.calibration.apply_parameters` (adaptation and
    the exponential term off; V_reset set for every shared block touched).
    """
    apply_parameters(chip, hicann, denmems, params, Calibration.nominal(), domains)
