"""hal.analog.transfer: the nominal chip's DAC -> parameter curves and their inverses."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hal.analog.transfer import (
    C_BIG_PF,
    NOMINAL,
    dac_to_current_na,
    dac_to_voltage_mv,
    nominal,
    nominal_inverse,
    synaptic_unit_conductance_ns,
)
from hal.errors import CalibrationError, UnknownNameError
from hal.hardware.floating_gates import FG_DAC_MAX, FG_MAX_CURRENT_NA, FG_MAX_VOLTAGE_MV

PARAMETERS = sorted(NOMINAL)


@pytest.mark.parametrize("parameter", PARAMETERS)
def test_inverse_undoes_forward_on_every_dac_of_the_domain(parameter):
    t = nominal(parameter)
    lo, hi = t.domain
    dac = np.arange(lo, hi + 1)
    assert nominal_inverse(parameter, t(dac)).tolist() == dac.tolist()


@pytest.mark.parametrize("parameter", PARAMETERS)
def test_forward_is_strictly_monotone_on_the_domain(parameter):
    t = nominal(parameter)
    values = np.asarray(t(np.arange(t.domain[0], t.domain[1] + 1)), dtype=float)
    steps = np.diff(values)
    assert np.all(np.isfinite(values))
    assert np.all(steps > 0) or np.all(steps < 0)


@given(parameter=st.sampled_from(PARAMETERS), fraction=st.floats(0.0, 1.0))
def test_inverse_of_a_value_between_dac_steps_is_the_nearest_step(parameter, fraction):
    t = nominal(parameter)
    lo, hi = t.domain
    reach = sorted(float(t(d)) for d in (lo, hi))
    value = reach[0] + fraction * (reach[1] - reach[0])
    dac = int(nominal_inverse(parameter, value))
    assert lo <= dac <= hi
    # the chosen step lies on the value's side of the exact inverse, within half a step
    assert abs(dac - float(t.inverse(value))) <= 0.5 + 1e-9


@pytest.mark.parametrize("parameter", ["e_l_mv", "tau_syn_e_us", "t_ref_us", "g_l_ns"])
def test_values_the_nominal_chip_cannot_reach_raise_unless_clipped(parameter):
    t = nominal(parameter)
    lo, hi = t.domain
    values = [float(t(lo)), float(t(hi))]
    beyond = max(values) * 1.5 if max(values) > 0 else max(values) + 1
    with pytest.raises(CalibrationError, match=rf"{parameter}: .* outside what the nominal chip reaches \(.*, DAC {lo}\.\.{hi}\); pass clip=True"):
        nominal_inverse(parameter, beyond)
    clipped = int(nominal_inverse(parameter, beyond, clip=True))
    assert clipped == (hi if values[1] > values[0] else lo)


def test_an_array_with_one_value_out_of_reach_names_that_value():
    with pytest.raises(CalibrationError, match="5000"):
        nominal_inverse("v_th_mv", np.array([500.0, 5000.0]))


def test_unknown_parameter_lists_the_known_ones():
    with pytest.raises(UnknownNameError, match="e_l_mv"):
        nominal("e_leak")


def test_the_anchor_points_of_the_curves():
    # voltages and currents scale linearly to the floating gates' full scale
    assert float(dac_to_voltage_mv(FG_DAC_MAX)) == pytest.approx(FG_MAX_VOLTAGE_MV)
    assert float(dac_to_current_na(FG_DAC_MAX)) == pytest.approx(FG_MAX_CURRENT_NA)
    assert float(nominal("e_l_mv")(0)) == 0.0
    # calibtic's default domains: tau_syn 1.51 -> 0.13 us over DAC 226..1022, tau_ref 1.73 us at DAC 10
    assert float(nominal("tau_syn_e_us")(226)) == pytest.approx(1.51)
    assert float(nominal("tau_syn_i_us")(1022)) == pytest.approx(0.13)
    assert float(nominal("t_ref_us")(10)) == pytest.approx(1.73)
    # the leak: with the big capacitance, tau_m = C / g_l over DAC 11..1023 covers calibtic's 0.54..48 us
    # (pF / nS = 1e3 us)
    g = nominal("g_l_ns")
    assert C_BIG_PF / float(g(1023)) * 1e3 == pytest.approx(0.54, rel=0.01)
    assert C_BIG_PF / float(g(11)) * 1e3 >= 48
    # adaptation terms are off at DAC 0
    assert float(nominal("a_ns")(0)) == 0.0 and float(nominal("b_na")(0)) == 0.0


@given(v_gmax=st.integers(0, FG_DAC_MAX), div=st.integers(1, 15))
def test_synaptic_unit_conductance_scales_with_the_current_and_divides_by_the_divisor(v_gmax, div):
    g = float(synaptic_unit_conductance_ns(v_gmax, div))
    assert g == pytest.approx(float(synaptic_unit_conductance_ns(v_gmax, 1)) / div)
    assert float(synaptic_unit_conductance_ns(v_gmax, 0)) == 0.0  # divisor 0: the input is off
    assert (g > 0) == (v_gmax > 0)
