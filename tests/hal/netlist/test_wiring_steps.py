"""The named steps of hal.netlist: reading neurons, the drivers each origin reaches, the synapses,
and the steps of build_netlist, each checked on the hand-configured HICANN of conftest.py."""

from __future__ import annotations

import attrs
import numpy as np
import pytest

from hal import coordinates as C
from hal.backend.events import HardwareEvents
from hal.hardware.hicann import NEURONS, RepeaterMode
from hal.netlist import build as B
from hal.netlist.l1 import Origin, drivers_reached
from hal.netlist.neurons import PARAMETER_NAMES, denmem_parameters, read_neurons
from hal.netlist.synapses import SYNAPSE_DTYPES, SynapseTable, read_synapses
from hal.netlist.wiring import extract_wiring

INPUT_CHANNEL, RECORD_CHANNEL = 2, 0


def test_read_neurons_gives_the_neurons_and_which_denmem_belongs_to_which(hand_wired):
    found = read_neurons(dict(hand_wired.config.hicanns()))
    assert found.neurons == extract_wiring(hand_wired.config).neurons
    owner = found.post_of_denmem[hand_wired.hicann.enum]
    assert owner.shape == (NEURONS,)
    assert owner[[hand_wired.a.enum, hand_wired.a_bottom.enum, hand_wired.b.enum]].tolist() == [0, 0, 1]
    assert np.count_nonzero(owner >= 0) == 3
    assert sorted(found.parameters) == sorted(PARAMETER_NAMES)
    assert all(v.shape == (2,) for v in found.parameters.values())
    p = found.parameters
    uses_adex = (p["a_ns"] > 0) | (p["b_na"] > 0) | (p["exp_bias_na"] > 0)
    assert found.adex == tuple(n for n, on in zip(found.neurons, uses_adex) if on)


def test_read_neurons_applies_the_transform_to_each_chip_before_combining(hand_wired):
    calls = []

    def shift_threshold(hicann, per_denmem):
        calls.append(hicann)
        return {**per_denmem, "v_th_mv": per_denmem["v_th_mv"] + 7.0}

    chips = dict(hand_wired.config.hicanns())
    nominal = read_neurons(chips).parameters["v_th_mv"]
    shifted = read_neurons(chips, shift_threshold).parameters["v_th_mv"]
    assert calls == list(chips)
    assert shifted == pytest.approx(nominal + 7.0)
    assert denmem_parameters(hand_wired.chip)["v_th_mv"][hand_wired.a.enum] == pytest.approx(nominal[0])


def test_a_wafer_without_firing_denmems_has_no_neurons(hand_wired):
    for n in (hand_wired.a, hand_wired.b):
        hand_wired.chip.neurons.update(n, activate_firing=False)
    found = read_neurons(dict(hand_wired.config.hicanns()))
    assert found.neurons == () and found.post_of_denmem == {}
    assert all(v.shape == (0,) for v in found.parameters.values())


def test_each_origin_reaches_the_driver_fed_from_its_line(hand_wired):
    h = hand_wired.hicann
    reached = drivers_reached(hand_wired.config, [Origin(h, INPUT_CHANNEL), Origin(h, RECORD_CHANNEL)])
    assert reached == [{h.enum: [hand_wired.row_exc // 2]}, {h.enum: [hand_wired.row_rec // 2]}]


def test_an_origin_whose_sending_repeater_does_not_output_reaches_nothing(hand_wired):
    h = hand_wired.hicann
    repeater = C.DNCMergerOnHICANN(INPUT_CHANNEL).to_sending_repeater().to_hrepeater()
    hand_wired.chip.h_repeaters.update(repeater, mode=RepeaterMode.IDLE)
    assert drivers_reached(hand_wired.config, [Origin(h, INPUT_CHANNEL)]) == [{}]


def test_read_synapses_is_the_synapse_table_of_the_wiring(hand_wired):
    w = extract_wiring(hand_wired.config)
    chips = dict(hand_wired.config.hicanns())
    table = read_synapses(chips, drivers_reached(hand_wired.config, w.origins), read_neurons(chips).post_of_denmem)
    assert len(table) == len(w.synapses) == 3  # the synapse under no neuron is not read
    for name in ("origin", "address", "post", "conductance_ns", "excitatory", "row", "column", "hicann"):
        assert getattr(table, name).tolist() == getattr(w.synapses, name).tolist(), name


def test_read_synapses_of_nothing_is_an_empty_table_of_the_declared_types(hand_wired):
    table = read_synapses(dict(hand_wired.config.hicanns()), [], {})
    assert isinstance(table, SynapseTable) and len(table) == 0
    assert tuple(getattr(table, f.name).dtype for f in attrs.fields(SynapseTable)) == SYNAPSE_DTYPES


def _playback(*events):
    """(sample, tick, hicann, channel, address) tuples -> HardwareEvents."""
    return HardwareEvents(*(np.array(column) for column in zip(*events)))


def test_only_playback_into_an_input_origin_is_accepted(hand_wired):
    w = extract_wiring(hand_wired.config)
    h = hand_wired.hicann.enum
    pb = _playback((0, 10, h, INPUT_CHANNEL, 5), (0, 20, h, RECORD_CHANNEL, 5), (0, 30, h + 1, INPUT_CHANNEL, 5))
    accepted, keys = B._accept_playback(w, pb)
    input_origin = w.origins.index(Origin(hand_wired.hicann, INPUT_CHANNEL))
    assert accepted.tolist() == [True, False, False]
    assert keys.tolist() == [input_origin * 64 + 5]


def test_connections_follow_the_synapse_table_from_sources_then_from_neurons(hand_wired):
    """The netlist against a plain reading: one connection per (sender, synapse listening to its key)."""
    w = extract_wiring(hand_wired.config)
    h = hand_wired.hicann.enum
    pb = _playback((0, 10, h, INPUT_CHANNEL, hand_wired.input_address), (0, 12, h, INPUT_CHANNEL, 9))
    net = B.build_netlist(w, pb, n_samples=1, duration_ticks=1000)

    syn = w.synapses
    keys = [int(o) * 64 + int(a) for o, a in zip(syn.origin, syn.address)]
    source_keys = net.source_keys.tolist()
    expected = [(source_keys.index(k), i) for i, k in enumerate(keys) if k in source_keys]
    for k, n in enumerate(w.neurons):
        if w.neuron_origin[k] >= 0 and n.address is not None:
            expected += [(net.n_sources + k, i) for i, key in enumerate(keys) if key == w.neuron_origin[k] * 64 + n.address]
    assert [(int(p), int(c)) for p, c in zip(net.pre, net.post)] == [(pre, int(syn.post[i])) for pre, i in expected]
    assert net.conductance_ns.tolist() == [syn.conductance_ns[i] for _, i in expected]
    assert net.n_sources == 2 and net.unrouted == 0
    assert net.in_source.tolist() == [0, 1] and net.in_link.tolist() == [h, h]


def test_connections_share_the_table_when_every_synapse_has_one_source_and_no_neuron_sends(hand_wired):
    h = hand_wired.hicann.enum
    hand_wired.chip.neurons.update(hand_wired.a, enable_spl1_output=False)  # A's synapse onto B now listens to nobody
    w = extract_wiring(hand_wired.config)
    keep = w.synapses.origin == w.origins.index(Origin(hand_wired.hicann, INPUT_CHANNEL))
    assert not keep.all()  # the synapse of the recorded channel has no source
    pb = _playback((0, 10, h, INPUT_CHANNEL, hand_wired.input_address))
    _, accepted_keys = B._accept_playback(w, pb)
    source_keys, source_index = B._sources(w, accepted_keys, [])
    pre, which = B._connections(w, source_index, int(source_keys.size))
    assert which is not None and which.tolist() == np.flatnonzero(keep).tolist()

    # with a source on every synapse's key, the connections are the table itself
    recorded_origin = w.origins.index(Origin(hand_wired.hicann, RECORD_CHANNEL))
    all_keys = np.unique(w.synapses.origin * 64 + w.synapses.address)
    source_keys, source_index = B._sources(w, all_keys, [])
    pre, which = B._connections(w, source_index, int(source_keys.size))
    assert which is None
    assert pre.tolist() == source_index[w.synapses.origin * 64 + w.synapses.address].tolist()
    assert recorded_origin * 64 + hand_wired.a_address in all_keys.tolist()


def test_input_events_repeat_background_in_every_sample_and_sort_by_sample_then_time(hand_wired):
    w = extract_wiring(hand_wired.config)
    h = hand_wired.hicann.enum
    origin = w.origins.index(Origin(hand_wired.hicann, INPUT_CHANNEL))
    pb = _playback((1, 5, h, INPUT_CHANNEL, 3), (0, 50, h, INPUT_CHANNEL, 3))
    accepted, accepted_keys = B._accept_playback(w, pb)
    bg = [(origin * 64 + 7, np.array([20, 40]))]
    _, source_index = B._sources(w, accepted_keys, bg)
    sample, tick, source, link = B._input_events(w, pb, accepted, source_index[accepted_keys], bg, source_index, 2)
    assert sample.tolist() == [0, 0, 0, 1, 1, 1]
    assert tick.tolist() == [20, 40, 50, 5, 20, 40]
    assert source.tolist() == [1, 1, 0, 0, 1, 1]
    assert link.tolist() == [-1 - h, -1 - h, h, h, -1 - h, -1 - h]
