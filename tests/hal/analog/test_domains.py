"""hal.analog.domains: biological <-> hardware units, round trips and the paper's numbers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hal.analog.domains import PAPER_DOMAINS, TICK_HW_S, TICKS_PER_HW_SECOND, Domains
from hal.errors import ConfigError

domains = st.builds(
    Domains,
    speedup=st.floats(1.0, 1e5),
    alpha=st.floats(0.5, 100.0),
    shift_mv=st.floats(-2000.0, 2000.0),
)
times_ms = st.floats(0.0, 1e4)
voltages_mv = st.floats(-200.0, 200.0)


@given(d=domains, t=times_ms)
def test_time_round_trips(d, t):
    assert d.hw_s_to_ms(d.ms_to_hw_s(t)) == pytest.approx(t, rel=1e-12, abs=1e-12)
    assert d.tau_to_bio_ms(d.tau_to_hw_us(t)) == pytest.approx(t, rel=1e-12, abs=1e-12)
    # hardware time is biological time divided by the speed-up
    assert d.ms_to_hw_s(t) == pytest.approx(t * 1e-3 / d.speedup, rel=1e-12, abs=1e-300)


@given(d=domains, v=voltages_mv)
def test_voltage_round_trips_and_is_affine(d, v):
    hw = d.mv_to_hw_mv(v)
    assert d.hw_mv_to_mv(hw) == pytest.approx(v, rel=1e-9, abs=1e-9)
    # a difference of two voltages maps without the shift
    assert d.voltage_difference_to_bio(d.mv_to_hw_mv(v + 1.0) - hw) == pytest.approx(1.0, rel=1e-6)


@given(d=domains, g=st.floats(1e-3, 1e3), c_hw=st.floats(0.1, 5.0), c_bio=st.floats(0.01, 1.0))
def test_conductance_round_trips_and_keeps_g_over_c(d, g, c_hw, c_bio):
    g_bio = d.conductance_to_bio(g, c_hw, c_bio)
    assert d.conductance_to_hw(g_bio, c_hw, c_bio) == pytest.approx(g, rel=1e-12)
    # the time constant C/g is the hardware one times the speed-up (pF/nS = ms * 1e-3)
    tau_hw_s = c_hw * 1e-12 / (g * 1e-9)
    tau_bio_s = c_bio * 1e-9 / (g_bio * 1e-9)
    assert tau_bio_s == pytest.approx(tau_hw_s * d.speedup, rel=1e-9)


@given(d=domains, ticks=st.integers(0, 10**9))
def test_whole_ticks_survive_the_way_through_milliseconds(d, ticks):
    assert int(d.ms_to_ticks(d.ticks_to_ms(ticks))) == ticks


@given(d=domains, t=times_ms)
def test_milliseconds_to_ticks_round_to_the_nearest_tick(d, t):
    back = float(d.ticks_to_ms(d.ms_to_ticks(t)))
    assert abs(back - t) <= d.tick_ms / 2 * (1 + 1e-9)


def test_arrays_convert_element_by_element():
    t = np.array([0.0, 0.04, 1.0, 250.0])
    assert PAPER_DOMAINS.ms_to_ticks(t).tolist() == [0, 1, 25, 6250]
    assert PAPER_DOMAINS.mv_to_hw_mv(np.array([-40.0, -65.0])).tolist() == [1000.0, 500.0]


def test_the_paper_numbers():
    d = PAPER_DOMAINS
    assert (d.speedup, d.alpha, d.shift_mv) == (1e4, 20.0, 1800.0)
    assert float(d.mv_to_hw_mv(-40.0)) == 1000.0  # the resting potential sits at 1 V on the chip
    assert d.tick_ms == pytest.approx(0.04)  # 4 ns hardware time
    assert TICK_HW_S * TICKS_PER_HW_SECOND == pytest.approx(1.0)
    assert float(d.tau_to_hw_us(10.0)) == pytest.approx(1.0)  # 10 ms biological -> 1 us hardware


@pytest.mark.parametrize("field, value", [("speedup", 0.0), ("speedup", -1.0), ("alpha", 0.0), ("alpha", float("nan")),
                                          ("shift_mv", float("inf")), ("speedup", True)])
def test_invalid_domains_name_the_field(field, value):
    with pytest.raises(ConfigError, match=f"Domains.{field}"):
        Domains(**{field: value})
