"""Calibrating HICANNs end to end: run the routines, store the set, list failures as defects, report.

The set is stored once, complete, at the end (one transaction with its defects), so an
interrupted calibration leaves the database as it was.

The report compares each parameter's spread over the circuits (std / mean of
the measured hardware-domain value) with every circuit at the *nominal* DAC
for a target (before) and at its *calibrated* DAC (after), next to the
paper's post-calibration variation (Schmitt et al. 2017, Table II).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
from hal_plugins.calibration.harness import Harness
from hal_plugins.calibration.routines import (
    ORDER,
    ROUTINES,
    measure_parameters,
    measurements,
    run_routines,
)

from hal import coordinates as C
from hal.analog.domains import PAPER_DOMAINS
from hal.calibration import Calibration, Defect, nominal_transform
from hal.hardware.wafer import WaferConfig
from hal.logging import get_logger
from hal.progress import ProgressBar

__all__ = ["BATCH", "TABLE_II", "TARGETS", "calibrate", "spread"]

log = get_logger(__name__)

#: HICANNs measured together in one emulator run. Bounded by memory: a 400 ms routine's membranes
#: are 512 x 20,000 samples (82 MB) per HICANN.
BATCH = 8

_d = PAPER_DOMAINS
#: Hardware-domain targets for the before/after report: the paper's neuron (Table II) where the chip reaches it.
TARGETS = {
    "e_l_mv": float(_d.mv_to_hw_mv(-40.0)),
    "v_th_mv": float(_d.mv_to_hw_mv(-37.5)),
    "v_reset_mv": float(_d.mv_to_hw_mv(-64.0)),
    # 0 mV bio maps to 1800 mV, the top of the DAC range and above what the threshold allows to
    # measure (HARDWARE_FACTS.md section 8: E_synx calibration saturates high): report at 1.45 V.
    "e_rev_e_mv": 1450.0,
    "e_rev_i_mv": float(_d.mv_to_hw_mv(-80.0)),
    "tau_m_us": float(_d.tau_to_hw_us(20.0)),
    "tau_syn_e_us": float(_d.tau_to_hw_us(5.0)),
    "tau_syn_i_us": float(_d.tau_to_hw_us(5.0)),
    "t_ref_us": float(_d.tau_to_hw_us(2.0)),
    "gmax": 145.0,  # per mille per event: the nominal chip's value at V_gmax0 = 600
}
#: Post-calibration relative variation reported by Schmitt et al. 2017 (Table II); None: not in the table.
TABLE_II = {"e_rev_i_mv": 0.05, "v_reset_mv": 0.02, "e_l_mv": 0.10, "v_th_mv": 0.005, "e_rev_e_mv": 0.005,
            "tau_syn_e_us": 0.10, "tau_syn_i_us": 0.10, "tau_m_us": 0.10, "t_ref_us": None, "gmax": None}


def spread(values: np.ndarray) -> float:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return float(np.std(v) / abs(np.mean(v))) if v.size > 1 and np.mean(v) != 0 else float("nan")


def calibrate(backend, backend_name: str, wafer: int, hicanns: Sequence[C.HICANNOnWafer], store, *, parameters: Sequence[str] = ORDER,
              report: bool = True, progress: Callable[[int, int, str], None] | None = None, batch: int = BATCH) -> dict:
    """Calibrate ``parameters`` of every circuit of ``hicanns`` on ``backend``; store one set; return the report.

    The HICANNs are measured ``batch`` at a time, in one backend run per measurement for the whole
    batch; each HICANN's result is the one it gives measured alone (the set-ups are not connected).
    Everything is measured first and stored at the end as one complete set, with the failed
    circuits as defects, in one transaction (:meth:`~hal.calibration.SQLiteStore.add_set`): a run
    that is interrupted stores nothing. Progress (measurements done of all, with ETA) is shown on a
    terminal; ``progress(done, total, info)`` is called after each HICANN's measurement as well.
    """
    unknown = [p for p in parameters if p not in ROUTINES]
    if unknown:
        from hal.errors import UnknownNameError

        raise UnknownNameError("calibration routine", unknown[0], ROUTINES)
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        from hal.errors import ConfigError

        raise ConfigError(f"calibration batch: {batch!r} HICANNs per run is not valid; valid: an integer >= 1")
    started = time.perf_counter()
    total = len(hicanns) * sum(measurements(ROUTINES[p], report=report) for p in parameters)
    done = 0
    entries, defects = [], []
    result: dict = {"wafer": wafer, "hicanns": [h.enum for h in hicanns], "parameters": {}, "batch": batch}
    with ProgressBar(total, "calibrate", unit="measurement") as bar:
        for first in range(0, len(hicanns), batch):
            group = list(hicanns[first : first + batch])
            config = WaferConfig(C.Wafer(wafer))
            harnesses = [Harness(wafer, h, config=config) for h in group]
            previous: list[dict] = [{} for _ in group]
            failed_here = [0] * len(group)
            per_hicann: list[list] = [[] for _ in group]
            for name in parameters:
                routine = ROUTINES[name]

                def measured(k: int, name: str = name, group: list = group) -> None:
                    nonlocal done
                    done += 1
                    info = f"HICANN {group[k].enum} {name}"
                    bar.update(done, info)
                    if progress:
                        progress(done, total, info)

                transforms = run_routines(harnesses, backend, routine, previous, measured=measured)
                entry = result["parameters"].setdefault(name, {"failed_circuits": 0, "table_ii": TABLE_II[name], "unit": routine.unit})
                component = "fg_block" if routine.shared else "neuron"
                for k, (hicann, transform) in enumerate(zip(group, transforms)):
                    per_hicann[k].append((hicann.enum, transform))
                    previous[k][name] = transform
                    failed = np.flatnonzero(~transform.success)
                    failed_here[k] += failed.size
                    defects += [Defect(wafer, component, hicann.enum, int(i), f"{name} calibration failed", "calibration") for i in failed]
                    entry["failed_circuits"] += int(failed.size)
                if report:
                    _before_after(entry, harnesses, backend, routine, transforms, previous, measured)
            for k, hicann in enumerate(group):
                entries += per_hicann[k]
                log.info("calibration_hicann_finished", hicann=hicann.enum, parameters=len(parameters), failed_circuits=int(failed_here[k]))
    for entry in result["parameters"].values():
        for key in ("spread_before", "spread_after", "mean_before", "mean_after"):
            if key in entry:
                entry[key] = float(np.mean(entry[key]))
    set_id = store.add_set(wafer, entries, backend=backend_name, routine="plugins.calibration:" + ",".join(parameters), defects=defects)
    result["set_id"] = set_id
    result["wall_s"] = time.perf_counter() - started
    result["calibration"] = Calibration(store, set_id)
    log.info("calibration_finished", set_id=set_id, wafer=wafer, hicanns=len(hicanns), wall_s=round(result["wall_s"], 1))
    return result


def _before_after(entry: dict, harnesses, backend, routine, transforms, previous: list, measured: Callable[[int], None]) -> None:
    """Measure the spread at the nominal DAC for the target (before) and at the calibrated one (after), per HICANN."""
    name = routine.parameter
    target = TARGETS[name]
    n = 4 if routine.shared else 512
    nominal_dac = nominal_transform(name, n).dac(target)
    before = measure_parameters(harnesses, backend, routine, [nominal_dac] * len(harnesses), previous)
    for k in range(len(harnesses)):
        measured(k)
    dacs = []
    for transform in transforms:
        ok = transform.success
        dac = nominal_dac.copy()
        dac[ok] = transform.dac(target, np.flatnonzero(ok), clip=True)
        dacs.append(dac)
    after = measure_parameters(harnesses, backend, routine, dacs, previous)
    for k in range(len(harnesses)):
        measured(k)
    for transform, b, a in zip(transforms, before, after):
        ok = transform.success
        entry.setdefault("spread_before", []).append(spread(b))
        entry.setdefault("spread_after", []).append(spread(a[ok]))
        entry.setdefault("mean_before", []).append(float(np.nanmean(b)))
        entry.setdefault("mean_after", []).append(float(np.nanmean(a[ok])))
    entry["target"] = target
