"""Calibration routines recover the deviations a backend hides, measuring only membranes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hal_plugins.calibration.harness import Harness
from hal_plugins.calibration.routines import ROUTINES, run_routine
from hal_plugins.emulator.kernel import kernel_available
from hal_plugins.emulator.mismatch import MismatchModel
from hypothesis import given, settings
from hypothesis import strategies as st

import hal
from hal import coordinates as C
from hal.analog.transfer import dac_to_voltage_mv, nominal
from hal.calibration import open_store
from hal.cli import main

pytestmark = pytest.mark.skipif(not kernel_available(), reason="emulator kernel not built (pip install -e .)")

H = C.HICANNOnWafer(100)


def test_resting_potential_routine_recovers_the_hidden_gain_and_offset():
    model = MismatchModel(voltage_offset_mv=40.0, voltage_gain=0.05, g_l=0, tau_syn=0, t_ref=0, capacitance=0, gmax_driver=0, synapse=0)
    backend = hal.get_backend("emulator", wafer=5, mismatch=model, links="lossless")
    t = run_routine(Harness(5, H), backend, ROUTINES["e_l_mv"], {})
    # A circuit whose threshold deviates below the sweep fires and fails: that is what the defect list is for.
    assert t.success.mean() > 0.99
    ok = np.flatnonzero(t.success)
    dev = backend.deviations(H.enum)  # the test may look; the routine did not
    gain, offset = dev.voltage_gain["e_l_mv"][ok], dev.voltage_offset_mv["e_l_mv"][ok]
    target = 1000.0
    dac = t.dac(target, ok)
    achieved = gain * dac_to_voltage_mv(dac) + offset
    assert np.all(np.abs(achieved - target) <= 0.5 * 1800 / 1023 * gain + 0.05)


def test_membrane_time_constant_routine_recovers_the_hidden_leak_gain():
    model = MismatchModel(voltage_offset_mv=0, voltage_gain=0, g_l=0.3, tau_syn=0, t_ref=0, capacitance=0, gmax_driver=0, synapse=0)
    backend = hal.get_backend("emulator", wafer=6, mismatch=model, links="lossless")
    harness = Harness(6, H)
    previous = {"e_l_mv": run_routine(harness, backend, ROUTINES["e_l_mv"], {})}
    t = run_routine(harness, backend, ROUTINES["tau_m_us"], previous)
    assert t.success.mean() > 0.99
    gain = backend.deviations(H.enum).gain["g_l_ns"]
    target = 2.0  # us hardware = 20 ms biological
    dac = t.dac(target, np.flatnonzero(t.success))
    achieved = 2 * 2.16456 / (nominal("g_l_ns")(dac) * gain[t.success] * 1e-3) / 2  # tau = C / g per circuit
    assert np.median(np.abs(achieved / target - 1)) < 0.01


def test_calibrate_command_reports_spreads_and_stores_a_set(tmp_path, capsys):
    db, report = tmp_path / "cal.db", tmp_path / "report.json"
    code = main(["calibrate", "--backend", "emulator", "--wafer", "3", "--hicann", "100", "--db", str(db),
                 "--routine", "e-l-mv", "--report-json", str(report)])
    assert code == 0
    data = json.loads(report.read_text())
    entry = data["parameters"]["e_l_mv"]
    assert entry["spread_after"] < entry["spread_before"] and entry["spread_after"] < entry["table_ii"]
    assert data["wall_s"] > 0
    with open_store(db, create=False) as store:
        assert store.entries(data["set_id"]) == [(100, "e_l_mv")]
    capsys.readouterr()
    assert main(["calib", "show", "--db", str(db), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["sets"][0]["entries"][0]["parameter"] == "e_l_mv" and shown["sets"][0]["backend"] == "emulator"
    assert main(["calib", "export", "--db", str(db), "1", str(tmp_path / "set.hal")]) == 0
    assert main(["calib", "import", "--db", str(db), str(tmp_path / "set.hal")]) == 0
    assert main(["calib", "diff", "--db", str(db), "1", "2"]) == 0  # identical content


def _usage_error(argv, capsys) -> str:
    """argparse refuses ``argv``: exit status 2; returns its message."""
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    return capsys.readouterr().err


def test_calibrate_bad_arguments(tmp_path, capsys):
    db = tmp_path / "c.db"
    base = ["calibrate", "--backend", "emulator", "--wafer", "3", "--db", str(db)]
    assert "argument --hicann: '1x' is not an integer; valid HICANN enums 0..383" in _usage_error(base + ["--hicann", "1x"], capsys)
    assert "argument --hicann: 400 out of range; valid HICANN enums 0..383" in _usage_error(base + ["--hicann", "400"], capsys)
    assert main(base + ["--hicann", "1", "--routine", "nope"]) == 2
    assert "unknown calibration 'nope'" in capsys.readouterr().err
    assert not db.exists()  # refused before the database was created


def test_a_backend_with_few_readout_channels_is_measured_in_groups():
    from hal_plugins.emulator.backend import EmulatorBackend

    from hal.backend import Capabilities

    class TwoTraces(EmulatorBackend):
        name = "two-traces"
        capabilities = Capabilities(membrane_readout=True, max_membrane_traces=128)

    backend = TwoTraces(wafer=2, mismatch="none", links="lossless")
    t = run_routine(Harness(2, H), backend, ROUTINES["e_l_mv"], {})
    assert t.success.all() and t.dac(1000.0, [0])[0] == round(1000.0 * 1023 / 1800)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.floats(-1e3, 1e3, allow_nan=False)), max_size=40), st.integers(0, 3))
def test_grouped_median_is_numpys_median_per_row(pairs, minimum):
    from hal_plugins.calibration.routines import _grouped_median

    rows = np.array([r for r, _ in pairs], dtype=np.int64)
    values = np.array([v for _, v in pairs], dtype=float)
    got = _grouped_median(rows, values, 6, minimum=minimum)
    for row in range(6):
        mine = values[rows == row]
        if mine.size >= max(minimum, 1):
            assert got[row] == np.median(mine)
        else:
            assert np.isnan(got[row])


def test_synaptic_time_constant_analysis_recovers_known_decays_for_every_circuit_at_once():
    """Synthetic membranes: events every 80 ms whose dV/dt decays with a per-circuit tau; one circuit gets no input."""
    from hal_plugins.calibration.routines import _tau_synaptic

    dt, n = 0.02, 20_000
    times = np.arange(n) * dt
    tau_ms = np.linspace(0.5, 5.0, 7)
    slope = np.zeros((tau_ms.size + 1, n))
    for at in (10.0, 90.0, 170.0, 250.0, 330.0):
        since = times - at
        slope[:-1] += np.where(since >= 0, np.exp(-np.maximum(since, 0)[None, :] / tau_ms[:, None]), 0.0)
    v = 500.0 + np.cumsum(slope, axis=1) * dt  # hardware mV; the last circuit stays flat
    got = _tau_synaptic(times, v)
    np.testing.assert_allclose(got[:-1], tau_ms * 1e3 / 1e4, rtol=1e-6)  # biological ms -> hardware us
    assert np.isnan(got[-1])
