"""hal.netlist.build: the netlist, background trains and FPGA trace of the hand-configured HICANN
in tests/hal/netlist/conftest.py."""

from __future__ import annotations

import attrs
import numpy as np
import pytest

from hal import coordinates as C
from hal.analog.domains import TICKS_PER_HW_SECOND
from hal.analog.transfer import synaptic_unit_conductance_ns
from hal.backend.events import HardwareEvents
from hal.hardware.recipes import ChannelSource, configure_channel
from hal.netlist.build import background_trains, build_netlist, trace_events
from hal.netlist.wiring import extract_wiring


def _events(*rows) -> HardwareEvents:
    """(sample, tick, hicann, channel, address) rows."""
    columns = np.array(rows, dtype=np.int64).reshape(-1, 5).T
    return HardwareEvents(*columns)


def _connections(net):
    return {(int(p), int(q), bool(e)): float(g) for p, q, e, g in zip(net.pre, net.post, net.excitatory, net.conductance_ns)}


def test_sources_connections_and_input_events(hand_wired):
    wiring = extract_wiring(hand_wired.config)
    h = hand_wired.hicann.enum
    playback = _events(
        (0, 10, h, 6, 5),   # channel 6 carries no input: unrouted
        (0, 100, h, 2, 5),
        (0, 300, h, 2, 9),  # accepted: a source, though no synapse listens to address 9
        (1, 50, h, 2, 5),
    )
    net = build_netlist(wiring, playback, n_samples=2, duration_ticks=1000)
    input_origin = wiring.origins.index(next(o for o in wiring.origins if o.channel == 2))
    assert net.source_keys.tolist() == [input_origin * 64 + 5, input_origin * 64 + 9]
    assert (net.n_sources, net.n_neurons, net.unrouted) == (2, 2, 1)
    unit_exc = float(synaptic_unit_conductance_ns(hand_wired.v_gmax, hand_wired.div_exc))
    unit_inh = float(synaptic_unit_conductance_ns(hand_wired.v_gmax, hand_wired.div_inh))
    a, b = 0, 1
    assert _connections(net) == pytest.approx({
        (0, a, True): 9 * unit_exc,             # source address 5 -> A, excitatory
        (0, b, False): 4 * unit_inh,            # source address 5 -> B, inhibitory
        (net.n_sources + a, b, True): 6 * unit_exc,  # neuron A -> B
    })
    assert net.n_connections == 3
    # each connection keeps the synapse it was made from
    rows = dict(zip(zip(net.pre.tolist(), net.post.tolist()), net.synapse_row.tolist()))
    assert rows == {(0, a): hand_wired.row_exc, (0, b): hand_wired.row_inh, (net.n_sources + a, b): hand_wired.row_rec}
    assert set(net.synapse_hicann.tolist()) == {h}
    # accepted input events, in (sample, tick) order, entering through the HICANN's link
    assert list(zip(net.in_sample.tolist(), net.in_time.tolist(), net.in_source.tolist())) == [(0, 100, 0), (0, 300, 1), (1, 50, 0)]
    assert net.in_link.tolist() == [h, h, h]


def test_no_playback_means_no_sources_but_the_neuron_connection_stays(hand_wired):
    net = build_netlist(extract_wiring(hand_wired.config), HardwareEvents.empty(), n_samples=1, duration_ticks=100)
    assert (net.n_sources, net.unrouted, net.in_time.size) == (0, 0, 0)
    assert set(_connections(net)) == {(0, 1, True)}  # A (index 0 + 0 sources) -> B


def _with_background(hand_wired, period: int, random: bool):
    chip = hand_wired.chip
    chip.background_generators.update(4, enable=True, random=random, address=0, period=period, seed=7)
    configure_channel(chip, C.DNCMergerOnHICANN(4), ChannelSource.BACKGROUND, record=False)
    return extract_wiring(hand_wired.config)


def test_a_regular_background_generator_fires_every_period(hand_wired):
    wiring = _with_background(hand_wired, period=400, random=False)
    pll_mhz = wiring.pll_mhz[hand_wired.hicann]
    isi = 400 / (pll_mhz * 1e6) * TICKS_PER_HW_SECOND
    ((key, ticks),) = background_trains(wiring, duration_ticks=int(10.5 * isi), seed=0)
    origin = next(i for i, o in enumerate(wiring.origins) if o.channel == 4)
    assert key == origin * 64 + 0
    np.testing.assert_array_equal(ticks, np.rint(isi * np.arange(1, 11)).astype(np.int64))
    # in the netlist: the same train in every sample, not through a link
    net = build_netlist(wiring, HardwareEvents.empty(), n_samples=3, duration_ticks=int(10.5 * isi))
    assert net.n_sources == 1 and net.source_keys.tolist() == [key]
    assert np.bincount(net.in_sample).tolist() == [10, 10, 10]
    assert set(net.in_link.tolist()) == {-1 - hand_wired.hicann.enum}


def test_a_random_background_generator_depends_on_the_seed_and_stays_in_the_run(hand_wired):
    wiring = _with_background(hand_wired, period=400, random=True)
    ((_, first),) = background_trains(wiring, duration_ticks=100_000, seed=1)
    ((_, again),) = background_trains(wiring, duration_ticks=100_000, seed=1)
    ((_, other),) = background_trains(wiring, duration_ticks=100_000, seed=2)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert first.size > 0 and first.min() >= 0 and first.max() < 100_000 and np.all(np.diff(first) >= 0)


def test_a_disabled_or_periodless_generator_sends_nothing(hand_wired):
    wiring = _with_background(hand_wired, period=0, random=False)
    assert background_trains(wiring, duration_ticks=10_000, seed=0) == []


def test_trace_keeps_recorded_neurons_inside_the_run(hand_wired):
    wiring = extract_wiring(hand_wired.config)
    h = hand_wired.hicann.enum
    sample = np.array([0, 0, 1, 0, 0])
    ticks = np.array([40, 20, 5, 2000, -1])
    neuron = np.array([0, 1, 0, 0, 0])  # B (1) is not recorded; ticks 2000 and -1 are outside the run
    trace = trace_events(wiring, sample, ticks, neuron, hand_wired.config, duration_ticks=1000)
    assert list(zip(trace.sample.tolist(), trace.time.tolist(), trace.hicann.tolist(), trace.channel.tolist(), trace.address.tolist())) == [
        (0, 40, h, 0, 17),
        (1, 5, h, 0, 17),
    ]


def test_trace_drops_address_zero_only_where_the_fpga_filters_it(hand_wired_with):
    hw = hand_wired_with(a_address=0)
    wiring = extract_wiring(hw.config)
    spikes = (np.array([0]), np.array([40]), np.array([0]))
    assert len(trace_events(wiring, *spikes, hw.config, duration_ticks=1000)) == 0  # filtered by default
    control = hw.config.fpga(hw.hicann.to_fpga()).control
    control.value = attrs.evolve(control.value, drop_background_events=False)
    assert trace_events(wiring, *spikes, hw.config, duration_ticks=1000).address.tolist() == [0]
