"""Calibration routines: sweep DAC values, measure through the membrane readout, fit, store.

Each routine knows only what one could do on a real chip: write registers
(through :class:`~hal_plugins.calibration.harness.Harness`) and read membranes.
It never looks at a backend's hidden deviations, so the same routine runs
unchanged on any backend with membrane readout.

Measurements (hardware domain; sampling 0.02 ms biological):

* ``e_l_mv``: no input, threshold out of reach: the mean membrane.
* ``v_th_mv``: resting potential far above threshold (tonic firing): the
  highest membrane sample before each reset.
* ``v_reset_mv`` (per shared FG block): long refractory period: the clamped
  level, median over the block's circuits.
* ``e_rev_e_mv`` / ``e_rev_i_mv``: leak off, strong excitatory / inhibitory
  input: the level the membrane settles at.
* ``tau_m_us``: tonic firing with a calibrated resting potential: the slope
  of ``log(E_l - V)`` while the membrane recovers from reset.
* ``tau_syn_e_us`` / ``tau_syn_i_us``: leak off, sparse regular input: the
  decay of ``dV/dt`` after each input event (it follows the conductance).
* ``t_ref_us``: tonic firing: how long the membrane stays clamped at reset.
* ``gmax`` (per shared FG block, i.e. per quadrant's ``V_gmax0``): leak off, sparse regular
  input at weight 15 through the drivers of one side at a time: the fraction of the way to the
  (calibrated) excitatory reversal potential one event moves the membrane, median over the
  block's circuits.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs
import numpy as np
from hal_plugins.calibration.harness import measure_together

from hal import coordinates as C
from hal.analog.domains import PAPER_DOMAINS
from hal.calibration import Kind, Transform, fit_transform
from hal.logging import get_logger

__all__ = ["ORDER", "ROUTINES", "Routine", "measure_parameter", "measure_parameters", "measurements", "run_routine", "run_routines"]

log = get_logger(__name__)

_SHARED_BLOCK = np.array([C.NeuronOnHICANN.from_enum(i).to_shared_fg_block().enum for i in range(512)])


def _to_hw_us(ms):
    return np.asarray(ms) * 1e3 / PAPER_DOMAINS.speedup


def _mean_tail(times, v):
    """The settled level; NaN where the membrane has not settled (or fires), so that circuit fails."""
    tail = v[:, 3 * v.shape[1] // 4 :]
    settled = np.ptp(tail, axis=1) < 5.0
    return np.where(settled, tail.mean(axis=1), np.nan)


def _peak_before_reset(times, v):
    drops = np.diff(v, axis=1) < -50.0  # a reset: a fall of more than 50 mV (hardware) between samples
    out = np.full(v.shape[0], np.nan)
    for i in range(v.shape[0]):
        k = np.flatnonzero(drops[i])
        if k.size >= 2:
            out[i] = np.median(v[i, k])
    return out


def _clamp_level(times, v):
    return np.min(v[:, v.shape[1] // 4 :], axis=1)


def _per_block(values):
    return np.array([np.nanmedian(values[_SHARED_BLOCK == b]) for b in range(4)])


def _tau_recovery(e_l_hw):
    def measure(times, v):
        dt = float(times[1] - times[0])
        out = np.full(v.shape[0], np.nan)
        for i in range(v.shape[0]):
            gap = e_l_hw[i] - v[i]
            ok = gap > 5.0
            y = np.where(ok, np.log(np.where(ok, gap, 1.0)), np.nan)
            slope = np.diff(y) / dt
            rising = (np.diff(v[i]) > 0.01) & ok[1:] & ok[:-1]
            # away from the clamp and from threshold
            good = rising & np.isfinite(slope)
            if good.sum() >= 5:
                out[i] = -1.0 / np.median(slope[good])
        return _to_hw_us(out)

    return measure


def _grouped_median(rows: np.ndarray, values: np.ndarray, n: int, minimum: int = 1) -> np.ndarray:
    """Per row ``0..n-1`` the median of its ``values`` (as :func:`numpy.median`); NaN for rows with fewer than ``minimum``."""
    out = np.full(n, np.nan)
    if rows.size == 0:
        return out
    order = np.lexsort((values, rows))
    ordered = values[order]
    counts = np.bincount(rows, minlength=n)
    starts = np.cumsum(counts) - counts
    has = np.flatnonzero(counts >= max(minimum, 1))
    c, s0 = counts[has], starts[has]
    out[has] = (ordered[s0 + (c - 1) // 2] + ordered[s0 + c // 2]) / 2.0
    return out


def _onsets(d: np.ndarray, peak: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(circuit, sample) of every input event's onset in ``d`` (N, T): the sample where it first rises above half the peak."""
    p = peak[:, None]
    rows, cols = np.nonzero((d[:, 1:] > 0.5 * p) & (d[:, :-1] < 0.2 * p) & (p > 0))
    return rows, cols + 1


_SEGMENT = 400


def _tau_synaptic(times, v):
    """Per circuit: the median over input events of the decay time of |dV/dt| after the event's onset.

    Each event's segment runs from the sample after its onset for at most 400 samples, until
    |dV/dt| falls below 5 % of the onset's; the slope of its log (least squares) gives the decay.
    All circuits and events at once: the per-event fits are the closed-form least-squares slope.
    """
    dt = float(times[1] - times[0])
    dv = np.abs(np.diff(v, axis=1))
    n, length = dv.shape
    peak = np.percentile(dv, 99.5, axis=1)
    rows, onsets = _onsets(dv, peak)
    idx = onsets[:, None] + 1 + np.arange(_SEGMENT)[None, :]
    inside = idx < length
    seg = dv[rows[:, None], np.minimum(idx, length - 1)]
    below = (seg < 0.05 * dv[rows, onsets][:, None]) | ~inside
    stop = np.where(below.any(axis=1), below.argmax(axis=1), _SEGMENT)
    # the segment ends at its first sample below 5 %, or at the end of the recording
    keep = stop >= 4
    rows, seg, stop = rows[keep], seg[keep], stop[keep]
    use = np.arange(_SEGMENT)[None, :] < stop[:, None]
    t = np.arange(_SEGMENT) * dt
    y = np.log(np.where(use, seg, 1.0))
    m = stop.astype(float)
    t_mean = (t[None, :] * use).sum(axis=1) / m
    y_mean = (y * use).sum(axis=1) / m
    tc = np.where(use, t[None, :] - t_mean[:, None], 0.0)
    slopes = (tc * (y - y_mean[:, None])).sum(axis=1) / (tc * tc).sum(axis=1)
    return _to_hw_us(-1.0 / _grouped_median(rows, slopes, n))


def _clamp_duration(times, v):
    dt = float(times[1] - times[0])
    out = np.full(v.shape[0], np.nan)
    for i in range(v.shape[0]):
        low = v[i] <= v[i].min() + 1.0
        edges = np.diff(low.astype(int))
        starts, ends = np.flatnonzero(edges == 1) + 1, np.flatnonzero(edges == -1) + 1
        if starts.size and ends.size:
            ends = ends[ends > starts[0]]
            n = min(starts.size, ends.size)
            if n >= 2:
                # The sample after the crossing is already clamped; the clamp ends between samples.
                out[i] = np.median(ends[:n] - starts[:n]) * dt
    return _to_hw_us(out)


@attrs.frozen
class Routine:
    """How one parameter is calibrated: which DAC to sweep, how to set up, what to measure."""

    parameter: str
    fg_parameter: str
    sweep: tuple[int, ...]
    setup: Callable  # (harness, previous transforms) -> None
    measure: Callable  # (times_ms, membranes_hw) -> per circuit values (or per block for shared)
    kind: Kind = Kind.POLYNOMIAL
    degree: int = 1
    shared: bool = False
    unit: str = "mV"
    max_rms_dac: float = 8.0
    duration_ms: float = 100.0


def _calibrated(prev: dict, parameter: str, target: float, fallback: int) -> np.ndarray | int:
    """Per-circuit DAC for ``target`` from an earlier calibration; failed circuits keep ``fallback``."""
    t = prev.get(parameter)
    if t is None:
        return fallback
    dac = np.full(t.n_circuits, fallback, dtype=np.int64)
    ok = np.flatnonzero(t.success)
    dac[ok] = t.dac(target, ok, clip=True)
    return dac


def _quiet(h, *, e_l=500, v_t=1023, i_gl=300, i_pl=1023, v_reset=200):
    h.set("E_l", e_l)
    h.set("V_t", v_t)
    h.set("I_gl", i_gl)
    h.set("I_pl", i_pl)
    for name in ("I_gladapt", "I_fire", "I_bexp"):
        h.set(name, 0)
    h.set_shared("V_reset", v_reset)
    h.set_weights(0, 0)


def _setup_e_l(h, prev):
    _quiet(h)


def _setup_v_t(h, prev):
    _quiet(h, e_l=1000, v_reset=150)


def _setup_v_reset(h, prev):
    _quiet(h, e_l=1000, v_t=650, i_pl=10)


def _setup_e_syn(excitatory):
    def setup(h, prev):
        _quiet(h, i_gl=0)
        h.set("E_synx" if excitatory else "E_syni", 500)
        h.set_weights(15 if excitatory else 0, 0 if excitatory else 15)
        h.set_input_period(4)

    return setup


_TAU_M_REST_MV = 1300.0


def _setup_tau_m(h, prev):
    _quiet(h, v_t=600, v_reset=150)
    # Rest far above threshold, placed with the fresh E_l calibration so that the recovery's target is known.
    h.set("E_l", _calibrated(prev, "e_l_mv", _TAU_M_REST_MV, int(_TAU_M_REST_MV * 1023 / 1800)))


def _setup_tau_syn(excitatory):
    def setup(h, prev):
        _quiet(h, i_gl=0)
        h.set("E_synx", 1000)
        h.set("E_syni", 80)
        # Small, well separated events: the membrane moves little, so dV/dt follows the conductance.
        h.set_weights(1 if excitatory else 0, 0 if excitatory else 1)
        h.set_input_period(800)

    return setup


def _setup_t_ref(h, prev):
    _quiet(h, e_l=1000, v_t=650, v_reset=150)


_GMAX_REST_MV = 1450.0


def _setup_gmax(h, prev):
    _quiet(h, i_gl=0)
    h.set("E_synx", _calibrated(prev, "e_rev_e_mv", _GMAX_REST_MV, int(_GMAX_REST_MV * 1023 / 1800)))
    h.set_input_period(800)
    h.set("V_syntcx", 800)  # the nominal curve assumes the default synaptic time constant
    h.chip.synapse_rows.set_column("sel_gmax", 0)


def _efficacy(times, v):
    """Per circuit: median over events of dV / (E_exc - V) across one input period (all circuits at once)."""
    dv = np.diff(v, axis=1)
    n = v.shape[0]
    peak = np.percentile(dv, 99.5, axis=1)
    rows, onsets = _onsets(dv, peak)
    counts = np.bincount(rows, minlength=n)
    # consecutive onsets of the same circuit, in circuits with at least three events
    pair = (rows[:-1] == rows[1:]) & (counts[rows[:-1]] >= 3)
    r = rows[:-1][pair]
    before = v[r, onsets[:-1][pair] - 1]
    after = v[r, onsets[1:][pair] - 1]
    gap = _GMAX_REST_MV - before
    ok = gap > 20
    return _grouped_median(r[ok], (after[ok] - before[ok]) / gap[ok], n, minimum=2) * 1000.0  # per mille of the way to E_exc per event


def _measure_gmax(harnesses, backend, dacs):
    """Both sides in turn; per FG block (x = side, y = array), the median over its circuits."""
    results = [np.full(4, np.nan) for _ in harnesses]
    for side_index, side in enumerate(("left", "right")):
        for harness, dac in zip(harnesses, dacs):
            harness.set_weights(15, 0, side=side)
            harness.set_shared("V_gmax0", dac)
        times, membranes = measure_together(harnesses, backend)
        for result, v in zip(results, membranes):
            eff = _efficacy(times, v)
            for y in (0, 1):
                result[2 * y + side_index] = np.nanmedian(eff[y * 256 : (y + 1) * 256])
    return results


_TAU_SYN_SWEEP = (226, 360, 500, 640, 780, 900, 1022)

ROUTINES: dict[str, Routine] = {
    "e_l_mv": Routine("e_l_mv", "E_l", (200, 360, 520, 680, 840), _setup_e_l, _mean_tail),
    "v_th_mv": Routine("v_th_mv", "V_t", (350, 450, 550, 650, 750), _setup_v_t, _peak_before_reset),
    "v_reset_mv": Routine("v_reset_mv", "V_reset", (100, 200, 300, 400, 500), _setup_v_reset, lambda t, v: _per_block(_clamp_level(t, v)), shared=True),
    # Above ~1.6 V the threshold (at most 1.8 V, minus its deviation) would be crossed: sweep below it.
    "e_rev_e_mv": Routine("e_rev_e_mv", "E_synx", (400, 520, 640, 760, 880), _setup_e_syn(True), _mean_tail, duration_ms=200.0),
    "e_rev_i_mv": Routine("e_rev_i_mv", "E_syni", (60, 180, 300, 420, 540), _setup_e_syn(False), _mean_tail, duration_ms=200.0),
    "tau_m_us": Routine("tau_m_us", "I_gl", (80, 150, 280, 520, 1000), _setup_tau_m, _tau_recovery(np.full(512, _TAU_M_REST_MV)),
                        kind=Kind.INVERSE_POLYNOMIAL, unit="us", max_rms_dac=12.0),
    # tau_syn and t_ref: the whole DAC range the chip's curve spans (tau_syn 1.51 -> 0.13 us nominal; t_ref
    # 1.73 us at I_pl 10), so that a circuit at either end of the gain spread (lognormal, 25 %: 0.33..2.9 over a
    # wafer's 196,608 circuits) still brackets the targets in the middle (tau_syn 0.38..0.50 us, t_ref 0.12..0.57 us).
    "tau_syn_e_us": Routine("tau_syn_e_us", "V_syntcx", _TAU_SYN_SWEEP, _setup_tau_syn(True), _tau_synaptic,
                            kind=Kind.LOOKUP, unit="us", duration_ms=400.0),
    "tau_syn_i_us": Routine("tau_syn_i_us", "V_syntci", _TAU_SYN_SWEEP, _setup_tau_syn(False), _tau_synaptic,
                            kind=Kind.LOOKUP, unit="us", duration_ms=400.0),
    "t_ref_us": Routine("t_ref_us", "I_pl", (10, 15, 25, 45, 80, 150), _setup_t_ref, _clamp_duration,
                        kind=Kind.INVERSE_POLYNOMIAL, unit="us", max_rms_dac=6.0, duration_ms=200.0),
    "gmax": Routine("gmax", "V_gmax0", (200, 400, 600, 800, 1000), _setup_gmax, None, shared=True,
                    unit="per mille per event", max_rms_dac=15.0, duration_ms=400.0),
}

#: Calibration order: later routines use earlier results (tau_m needs E_l).
ORDER = ("e_l_mv", "v_th_mv", "v_reset_mv", "e_rev_e_mv", "e_rev_i_mv", "tau_m_us", "tau_syn_e_us", "tau_syn_i_us", "t_ref_us", "gmax")


def measurements(routine: Routine, *, report: bool) -> int:
    """How many measurements (set-up, write, run, read) calibrating ``routine`` on one HICANN takes."""
    return len(routine.sweep) + (2 if report else 0)  # the report measures before and after


def measure_parameter(harness, backend, routine: Routine, dac, previous: dict) -> np.ndarray:
    """Set up, write ``dac`` (scalar, per circuit, or per block for shared parameters), measure."""
    return measure_parameters([harness], backend, routine, [dac], [previous])[0]


def measure_parameters(harnesses, backend, routine: Routine, dacs, previous) -> list[np.ndarray]:
    """:func:`measure_parameter` for harnesses sharing one configuration, in one backend run (two for gmax).

    ``dacs`` and ``previous`` hold one entry per harness. Each HICANN is set up and analysed on its
    own exactly as when measured alone; only the run is shared.
    """
    for harness, prev in zip(harnesses, previous):
        routine.setup(harness, prev)
        harness.duration_ms = routine.duration_ms
    if routine.parameter == "gmax":
        return _measure_gmax(harnesses, backend, dacs)
    for harness, dac in zip(harnesses, dacs):
        if routine.shared:
            harness.set_shared(routine.fg_parameter, dac)
        else:
            harness.set(routine.fg_parameter, dac)
    times, membranes = measure_together(harnesses, backend)
    return [routine.measure(times, v) for v in membranes]


def run_routine(harness, backend, routine: Routine, previous: dict, *, measured: Callable[[], None] | None = None) -> Transform:
    """Sweep, measure and fit one parameter on one HICANN; ``measured()`` is called after each sweep point."""
    return run_routines([harness], backend, routine, [previous], measured=measured and (lambda _: measured()))[0]


def run_routines(harnesses, backend, routine: Routine, previous, *, measured: Callable[[int], None] | None = None) -> list[Transform]:
    """:func:`run_routine` for harnesses sharing one configuration: one run per sweep point for all of them.

    ``previous`` holds each harness's earlier transforms; ``measured(k)`` is called for harness ``k``
    after each sweep point.
    """
    columns = [[] for _ in harnesses]
    for dac in routine.sweep:
        values = measure_parameters(harnesses, backend, routine, [dac] * len(harnesses), previous)
        for k, (harness, value) in enumerate(zip(harnesses, values)):
            columns[k].append(value)
            log.debug("calibration_point_measured", parameter=routine.parameter, hicann=harness.hicann.enum, dac=dac)
            if measured:
                measured(k)
    transforms = []
    for harness, cols in zip(harnesses, columns):
        transform = fit_transform(routine.parameter, routine.kind, np.array(routine.sweep, dtype=float), np.stack(cols, axis=1),
                                  degree=routine.degree, unit=routine.unit, max_rms_dac=routine.max_rms_dac)
        log.info("calibration_routine_finished", parameter=routine.parameter, hicann=harness.hicann.enum,
                 failed=int((~transform.success).sum()), circuits=transform.n_circuits)
        transforms.append(transform)
    return transforms
