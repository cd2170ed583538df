"""The calibration runner: one progress bar over all measurements from the start, quiet per-measurement logs, one stored set."""

from __future__ import annotations

import re
from typing import ClassVar

import numpy as np
import pytest
from hal_plugins.calibration import runner
from hal_plugins.calibration.routines import ROUTINES
from hal_plugins.emulator.kernel import kernel_available

import hal
from hal import coordinates as C
from hal.calibration import open_store
from hal.errors import ConfigError
from hal.logging import capture_events

pytestmark = pytest.mark.skipif(not kernel_available(), reason="emulator kernel not built (pip install -e .)")


class _RecordingBar:
    """Stands in for hal.progress.ProgressBar and keeps what it was told."""

    made: ClassVar[list] = []

    def __init__(self, total, label, *, unit="step", **_):
        self.total, self.label, self.unit, self.updates = total, label, unit, []
        _RecordingBar.made.append(self)

    def update(self, done, info=""):
        self.updates.append((done, info))

    def close(self):
        self.closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def test_one_bar_over_every_measurement_known_from_the_start_and_one_stored_set(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "ProgressBar", _RecordingBar)
    _RecordingBar.made = []
    backend = hal.get_backend("emulator", wafer=3, links="lossless")
    calls = []
    hicanns = [C.HICANNOnWafer(100), C.HICANNOnWafer(101)]
    per_hicann = len(ROUTINES["v_reset_mv"].sweep) + 2  # sweep, then before and after for the report
    with open_store(tmp_path / "cal.db") as store, capture_events() as events:
        report = runner.calibrate(backend, "emulator", 3, hicanns, store, parameters=("v_reset_mv",),
                                  progress=lambda done, total, info: calls.append((done, total, info)))
        assert [s.id for s in store.sets(include_incomplete=True)] == [report["set_id"]] and store.latest_set(3).complete
        assert store.entries(report["set_id"]) == [(100, "v_reset_mv"), (101, "v_reset_mv")]
    [bar] = _RecordingBar.made
    assert (bar.total, bar.label, bar.unit, bar.closed) == (2 * per_hicann, "calibrate", "measurement", True)
    assert [done for done, _ in bar.updates] == list(range(1, 2 * per_hicann + 1))
    assert bar.updates[0][1] == "HICANN 100 v_reset_mv" and bar.updates[-1][1] == "HICANN 101 v_reset_mv"
    assert calls == [(done, 2 * per_hicann, info) for done, info in bar.updates]
    ours = [e for e in events if e["event"].startswith("calibration")]
    assert {e["event"] for e in ours if e["log_level"] == "debug"} == {"calibration_point_measured"}
    assert len([e for e in ours if e["event"] == "calibration_point_measured"]) == 2 * len(ROUTINES["v_reset_mv"].sweep)
    # info: per parameter and HICANN, per HICANN, the stored set and the run -- never per measurement
    assert sorted(e["event"] for e in ours if e["log_level"] == "info") == sorted(
        ["calibration_routine_finished"] * 2 + ["calibration_hicann_finished"] * 2 + ["calibration_set_stored", "calibration_finished"])


def test_a_run_that_fails_midway_stores_nothing(tmp_path):
    backend = hal.get_backend("emulator", wafer=3, links="lossless")

    def interrupt_in_the_second_batch(done, total, info):
        if info.startswith("HICANN 101"):
            raise KeyboardInterrupt  # as a user's Ctrl-C in the middle of the second batch

    with open_store(tmp_path / "cal.db") as store:
        with pytest.raises(KeyboardInterrupt):
            runner.calibrate(backend, "emulator", 3, [C.HICANNOnWafer(100), C.HICANNOnWafer(101)], store, parameters=("v_reset_mv",),
                             report=False, batch=1, progress=interrupt_in_the_second_batch)
        assert store.sets(include_incomplete=True) == [] and store.defects(3) == []


def test_batched_hicanns_get_the_transforms_they_get_measured_one_at_a_time(tmp_path):
    """The emulator has no trial-to-trial noise and the set-ups are not connected: batching changes no number.

    HICANNs 100 and 101 are neighbours on the same horizontal lines, 116 the one above 100's row.
    """
    backend = hal.get_backend("emulator", wafer=3, links="lossless")
    hicanns = [C.HICANNOnWafer(100), C.HICANNOnWafer(101), C.HICANNOnWafer(116)]
    parameters = ("e_rev_e_mv",)  # driven by each HICANN's own background generator through its L1 lines
    with open_store(tmp_path / "one.db") as one, open_store(tmp_path / "all.db") as together:
        alone = runner.calibrate(backend, "emulator", 3, hicanns, one, parameters=parameters, report=False, batch=1)
        batched = runner.calibrate(backend, "emulator", 3, hicanns, together, parameters=parameters, report=False, batch=3)
        assert one.entries(alone["set_id"]) == together.entries(batched["set_id"])
        for hicann in hicanns:
            for name in parameters:
                a, b = one.load(alone["set_id"], hicann.enum, name), together.load(batched["set_id"], hicann.enum, name)
                assert (a.parameter, a.kind, a.unit) == (b.parameter, b.kind, b.unit)
                for field in ("coefficients", "domain_lo", "domain_hi", "rms_dac", "success"):
                    np.testing.assert_array_equal(getattr(a, field), getattr(b, field))  # NaN (failed circuits) equal NaN
        assert one.defects(3) == together.defects(3)


@pytest.mark.parametrize("batch", [0, -1, 2.5, True, "4"])
def test_a_batch_size_that_is_not_a_positive_integer_is_refused_before_any_measurement(tmp_path, batch):
    backend = hal.get_backend("emulator", wafer=3, links="lossless")
    with open_store(tmp_path / "cal.db") as store:
        with pytest.raises(ConfigError, match=rf"calibration batch: {re.escape(repr(batch))} HICANNs per run is not valid; valid: an integer >= 1"):
            runner.calibrate(backend, "emulator", 3, [C.HICANNOnWafer(100)], store, parameters=("v_reset_mv",), batch=batch)
        assert store.sets(include_incomplete=True) == []
