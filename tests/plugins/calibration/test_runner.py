"""The calibration runner: one progress bar over all measurements from the start, quiet per-measurement logs, one stored set."""

from __future__ import annotations

from typing import ClassVar

import pytest
from hal_plugins.calibration import runner
from hal_plugins.calibration.routines import ROUTINES
from hal_plugins.emulator.kernel import kernel_available

import hal
from hal import coordinates as C
from hal.calibration import open_store
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


def test_a_run_that_fails_midway_stores_nothing(tmp_path, monkeypatch):
    backend = hal.get_backend("emulator", wafer=3, links="lossless")
    real = runner.run_routine
    done = []

    def fail_on_the_second(*args, **kwargs):
        if done:
            raise KeyboardInterrupt  # as a user's Ctrl-C in the middle of the second HICANN
        done.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "run_routine", fail_on_the_second)
    with open_store(tmp_path / "cal.db") as store:
        with pytest.raises(KeyboardInterrupt):
            runner.calibrate(backend, "emulator", 3, [C.HICANNOnWafer(100), C.HICANNOnWafer(101)], store, parameters=("v_reset_mv",), report=False)
        assert store.sets(include_incomplete=True) == [] and store.defects(3) == []
