"""hal.netlist.wiring: a hand-configured HICANN (tests/hal/netlist/conftest.py) read back as
neurons, parameters, origins and synapses."""

from __future__ import annotations

import numpy as np
import pytest

from hal import coordinates as C
from hal.analog.transfer import C_BIG_PF, dac_to_voltage_mv, nominal, synaptic_unit_conductance_ns
from hal.hardware.hicann import RepeaterMode
from hal.hardware.wafer import WaferConfig
from hal.netlist.wiring import LogicalNeuron, Origin, extract_wiring


def test_merged_denmems_are_one_neuron_and_a_lone_firing_denmem_another(hand_wired):
    w = extract_wiring(hand_wired.config)
    assert w.neurons == (
        LogicalNeuron(hand_wired.hicann, hand_wired.a, (hand_wired.a, hand_wired.a_bottom), 17),
        LogicalNeuron(hand_wired.hicann, hand_wired.b, (hand_wired.b,), None),
    )
    assert w.neuron_index() == {(hand_wired.hicann, hand_wired.a): 0, (hand_wired.hicann, hand_wired.b): 1}


def test_denmems_without_a_firing_member_make_no_neuron(hand_wired):
    hand_wired.chip.neurons.update(hand_wired.b, activate_firing=False)
    hand_wired.chip.neuron_quads.update(40, vertical_left=True)  # merged, but nobody fires
    assert [n.firing for n in extract_wiring(hand_wired.config).neurons] == [hand_wired.a]


def test_parameters_combine_the_members_through_the_nominal_curves(hand_wired):
    p = extract_wiring(hand_wired.config).parameters
    # capacitance and leak add up; the resting potential is the leak-weighted mean (equal leaks here)
    assert p["c_pf"].tolist() == pytest.approx([2 * C_BIG_PF, C_BIG_PF])
    assert p["g_l_ns"][0] == pytest.approx(2 * p["g_l_ns"][1])
    assert p["e_l_mv"][0] == pytest.approx(float(dac_to_voltage_mv(450)))
    # threshold and refractory time are the firing denmem's
    assert p["v_th_mv"][0] == pytest.approx(float(dac_to_voltage_mv(600)))
    chip = hand_wired.chip
    assert p["tau_syn_e_us"][1] == pytest.approx(float(nominal("tau_syn_e_us")(chip.neuron_parameter("V_syntcx")[hand_wired.b.enum])))


def test_origins_input_and_recording(hand_wired):
    w = extract_wiring(hand_wired.config)
    h = hand_wired.hicann
    assert w.origins == (Origin(h, 0), Origin(h, 2))
    assert {w.origins[o] for o in w.input_origins} == {Origin(h, 2)}
    assert w.neuron_origin.tolist() == [0, -1]  # A's block enters L1 at DNC merger 0; B sends nothing
    assert w.recorded.tolist() == [True, False]
    assert w.trace_key_to_neurons() == {(h.enum, 0, 17): [0]}
    assert w.background == ()


def test_neurons_with_adaptation_or_exponential_current_are_listed_as_adex(hand_wired):
    chip = hand_wired.chip
    for name in ("I_gladapt", "I_fire", "I_bexp"):
        chip.set_neuron_parameter(name, 0)
    assert extract_wiring(hand_wired.config).adex_in_use == ()
    chip.set_neuron_parameter("I_fire", 300, [hand_wired.b])
    assert [n.firing for n in extract_wiring(hand_wired.config).adex_in_use] == [hand_wired.b]


def test_the_synapses_read_back_with_address_target_sign_and_conductance(hand_wired):
    w = extract_wiring(hand_wired.config)
    s = w.synapses
    unit_exc = float(synaptic_unit_conductance_ns(hand_wired.v_gmax, hand_wired.div_exc))
    unit_inh = float(synaptic_unit_conductance_ns(hand_wired.v_gmax, hand_wired.div_inh))
    got = {
        (w.origins[o], int(a), int(post), bool(e), int(r), int(c)): float(g)
        for o, a, post, e, r, c, g in zip(s.origin, s.address, s.post, s.excitatory, s.row, s.column, s.conductance_ns)
    }
    h = hand_wired.hicann
    assert got == pytest.approx({
        (Origin(h, 2), 5, 0, True, hand_wired.row_exc, 3): 9 * unit_exc,
        (Origin(h, 2), 5, 1, False, hand_wired.row_inh, 40): 4 * unit_inh,
        (Origin(h, 0), 17, 1, True, hand_wired.row_rec, 40): 6 * unit_exc,
    })
    assert set(s.hicann.tolist()) == {h.enum}
    assert len(s) == 3  # the weight under denmem (100, 0), which is in no neuron, is not a synapse


def test_a_disabled_driver_or_open_switch_cuts_the_synapses_behind_it(hand_wired):
    d_in = hand_wired.row_exc // 2
    hand_wired.chip.synapse_drivers.update(d_in, enable=False)
    s = extract_wiring(hand_wired.config).synapses
    assert s.row.tolist() == [hand_wired.row_rec]


def test_input_that_does_not_reach_l1_makes_no_synapse(hand_wired):
    # without the sending repeater in output mode the channel's events stay off L1
    rep = C.DNCMergerOnHICANN(2).to_sending_repeater().to_hrepeater()
    hand_wired.chip.h_repeaters.update(rep, mode=RepeaterMode.IDLE)
    s = extract_wiring(hand_wired.config).synapses
    assert s.row.tolist() == [hand_wired.row_rec]


def test_an_empty_configuration_has_nothing():
    w = extract_wiring(WaferConfig(C.Wafer(0)))
    assert w.neurons == () and w.origins == () and len(w.synapses) == 0
    assert set(w.parameters) >= {"c_pf", "g_l_ns", "e_l_mv"} and all(v.size == 0 for v in w.parameters.values())


def test_a_denmem_transform_changes_the_parameters_before_they_combine(hand_wired):
    def shift_threshold(hicann, per_denmem):
        assert hicann == hand_wired.hicann and per_denmem["v_th_mv"].shape == (512,)
        return {**per_denmem, "v_th_mv": per_denmem["v_th_mv"] + 10.0}

    plain = extract_wiring(hand_wired.config).parameters["v_th_mv"]
    shifted = extract_wiring(hand_wired.config, denmem_transform=shift_threshold).parameters["v_th_mv"]
    np.testing.assert_allclose(shifted, plain + 10.0)
