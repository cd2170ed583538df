"""Calibration transforms and the calibration database."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hal import coordinates as C
from hal.calibration import (
    Calibration,
    CalibrationMissingError,
    CalibrationOutOfRangeError,
    Defect,
    Kind,
    apply_parameters,
    fit_transform,
    nominal_transform,
    UnknownSetError,
    open_store,
)
from hal.errors import CalibrationError, FileFormatError
from hal.hardware.hicann import HICANNConfig
from hal.network.parameters import SCHMITT2017
from hal.analog.transfer import nominal


@given(gain=st.floats(0.8, 1.2), offset=st.floats(-40, 40), fraction=st.floats(0.0, 1.0))
def test_linear_transform_inverts_a_linear_chip(gain, offset, fraction):
    dac = np.array([200.0, 400.0, 600.0, 800.0])
    measured = (dac * 1800 / 1023 * gain + offset)[None, :]
    t = fit_transform("e_l_mv", Kind.POLYNOMIAL, dac, measured)
    assert t.success.all()
    # the calibrated range is what was measured, and every target in it is reachable
    assert (t.domain_lo[0], t.domain_hi[0]) == (measured.min(), measured.max())
    target = t.domain_lo[0] + fraction * (t.domain_hi[0] - t.domain_lo[0])
    d = t.dac(target)[0]
    assert 200 <= d <= 800
    assert abs(d * 1800 / 1023 * gain + offset - target) <= 0.5 * 1800 / 1023 * gain + 1e-6  # within half a DAC step
    with pytest.raises(CalibrationOutOfRangeError):
        t.dac(t.domain_hi[0] + 1.0)
    with pytest.raises(CalibrationOutOfRangeError):
        t.dac(t.domain_lo[0] - 1.0)


@given(scale=st.floats(0.5, 2.0), fraction=st.floats(0.0, 1.0))
def test_inverse_polynomial_inverts_a_one_over_x_chip(scale, fraction):
    dac = np.array([80.0, 150.0, 280.0, 520.0, 1000.0])
    tau = 550.0 * scale / dac  # tau ~ 1/I
    t = fit_transform("tau_m_us", Kind.INVERSE_POLYNOMIAL, dac, tau[None, :], unit="us")
    assert t.success.all()
    assert (t.domain_lo[0], t.domain_hi[0]) == (tau.min(), tau.max())
    target = t.domain_lo[0] + fraction * (t.domain_hi[0] - t.domain_lo[0])
    d = t.dac(target)[0]
    assert 80 <= d <= 1000
    # the DAC value is the nearest one to the exact inverse 550 * scale / target
    assert abs(d - 550.0 * scale / target) <= 0.5 + 1e-6
    with pytest.raises(CalibrationOutOfRangeError, match="tau_m_us"):
        t.dac(t.domain_hi[0] * 1.01)


def test_lookup_round_trip_and_nominal_matches_the_transfer_function():
    t = nominal_transform("tau_syn_e_us", 512)
    for dac in (300, 585, 900):
        value = float(nominal("tau_syn_e_us")(dac))
        assert t.dac(value, [7])[0] == dac


def test_out_of_domain_raises_unless_clipped_and_failed_circuits_raise():
    dac = np.array([200.0, 400.0, 600.0])
    measured = np.vstack([dac * 1.76, [np.nan, 1, 2]])
    t = fit_transform("v_th_mv", Kind.POLYNOMIAL, dac, measured, unit="mV")
    assert t.success.tolist() == [True, False]
    with pytest.raises(CalibrationOutOfRangeError) as info:
        t.dac(5000.0, [0], names=["HICANN 3 neuron 0"])
    assert "target 5000 mV for HICANN 3 neuron 0 is outside its calibrated range 352..1056 mV; pass clip=True" in str(info.value)
    assert t.dac(5000.0, [0], clip=True)[0] == 600
    with pytest.raises(CalibrationError, match="circuit 1 failed calibration"):
        t.dac(500.0, [1])


def test_store_round_trip_history_hash_diff_export_import(tmp_path):
    store = open_store(tmp_path / "cal.db")
    a = store.create_set(3, backend="emulator", routine="test")
    b = store.create_set(3, backend="emulator", routine="test")
    t = fit_transform("e_l_mv", Kind.POLYNOMIAL, np.array([200.0, 500.0, 800.0]), np.outer(np.linspace(0.9, 1.1, 512), [352.0, 880.0, 1408.0]), unit="mV")
    store.store(a, 12, t)
    moved = fit_transform("e_l_mv", Kind.POLYNOMIAL, np.array([200.0, 500.0, 800.0]), np.outer(np.linspace(0.9, 1.1, 512), [352.0, 880.0, 1408.0]) + 10, unit="mV")
    store.store(b, 12, moved)
    assert store.load(a, 12, "e_l_mv") == t
    assert store.sets(3) == [] and [s.id for s in store.sets(3, include_incomplete=True)] == [a, b]  # drafts until completed
    store.complete_set(a)
    store.complete_set(b)
    assert [s.id for s in store.sets(3)] == [a, b] and store.latest_set(3).id == b
    assert store.content_hash(a) != store.content_hash(b)
    diff = store.diff(a, b)
    assert diff[0]["circuits_moved"] == 512 and diff[0]["max_delta_dac"] > 4
    store.export_set(a, tmp_path / "a.hal")
    c = store.import_set(tmp_path / "a.hal")
    assert store.content_hash(c) == store.content_hash(a) and "imported" in store.set_info(c).note
    with pytest.raises(CalibrationMissingError, match="has no 'tau_m_us' for HICANN 12; it holds for that HICANN: e_l_mv"):
        store.load(a, 12, "tau_m_us")
    with pytest.raises(UnknownSetError, match=r"no calibration set 99; known sets: 1, 2, 3"):
        store.load(99, 12, "e_l_mv")
    store.add_defects([Defect(3, "neuron", 12, 5, "test", "set 1")])
    assert [(d.hicann, d.item) for d in store.defects(3, "neuron")] == [(12, 5)]


def test_missing_entry_raises_or_falls_back_to_nominal_with_a_warning(tmp_path):
    from hal.logging import capture_events

    store = open_store(tmp_path / "cal.db")
    s = store.create_set(1, backend="x", routine="y")
    with pytest.raises(CalibrationMissingError):
        Calibration(store, s).transform(C.HICANNOnWafer(5), "e_l_mv")
    with capture_events() as logs:
        t = Calibration(store, s, fallback="nominal").transform(C.HICANNOnWafer(5), "e_l_mv")
    assert t.shared and any(e["event"] == "calibration_fallback_to_nominal" for e in logs)


def test_apply_parameters_names_circuit_and_range_when_a_target_is_unreachable():
    chip = HICANNConfig()
    import attrs

    bad = attrs.evolve(SCHMITT2017, tau_m_ms=2000.0)
    with pytest.raises(CalibrationOutOfRangeError) as info:
        apply_parameters(chip, C.HICANNOnWafer(3), [C.NeuronOnHICANN(x=1, y=0)], bad)
    message = str(info.value)
    assert "tau_m_us" in message and "HICANNOnWafer(3) NeuronOnHICANN(x=1, y=0)" in message and "calibrated range" in message


def test_corrupt_and_foreign_database_files(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(FileFormatError, match="not a calibration database"):
        open_store(junk)
    foreign = tmp_path / "foreign.db"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE stuff (x)")
    con.commit()
    con.close()
    with pytest.raises(FileFormatError, match="an SQLite file of another application"):
        open_store(foreign)
    newer = tmp_path / "newer.db"
    open_store(newer).close()
    con = sqlite3.connect(newer)
    con.execute("PRAGMA user_version = 99")
    con.commit()
    con.close()
    with pytest.raises(FileFormatError, match="schema version 99 is newer than this hal supports"):
        open_store(newer)
    with pytest.raises(FileFormatError, match="absent.db: no such file: no calibration database here"):
        open_store(tmp_path / "absent.db", create=False)


def _writer(path, hicann, n):
    store = open_store(path)
    set_id = store.create_set(0, backend="test", routine=f"writer {hicann}")
    t = fit_transform("e_l_mv", Kind.POLYNOMIAL, np.array([1.0, 2.0]), np.tile([10.0, 20.0], (512, 1)), unit="mV")
    for k in range(n):
        store.store(set_id, hicann * n + k, t)
    store.close()


def test_concurrent_writers_lose_nothing(tmp_path):
    path = tmp_path / "cal.db"
    open_store(path).close()
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, h, 15)) for h in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    store = open_store(path)
    drafts = store.sets(0, include_incomplete=True)
    assert len(drafts) == 4
    assert sum(len(store.entries(s.id)) for s in drafts) == 60


def test_a_writer_killed_mid_transaction_leaves_the_last_committed_state(tmp_path):
    path = tmp_path / "cal.db"
    store = open_store(path)
    kept = store.create_set(0, backend="test", routine="kept")
    store.close()
    script = textwrap.dedent(f"""
        import sqlite3, time, sys
        con = sqlite3.connect({str(path)!r}, isolation_level=None)
        con.execute("BEGIN IMMEDIATE")
        con.execute("INSERT INTO calibration_sets (wafer, created, backend, routine, hal_version) VALUES (0, 'x', 'y', 'half-written', 'z')")
        print("inside", flush=True)
        time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "inside"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    store = open_store(path)
    assert [s.routine for s in store.sets(0, include_incomplete=True)] == ["kept"] and store.sets(0, include_incomplete=True)[0].id == kept
