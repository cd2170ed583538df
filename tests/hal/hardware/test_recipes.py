"""hal.hardware.recipes, read back through the registers by the wiring model (hal.netlist.wiring)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hal import coordinates as C
from hal.errors import ConfigError
from hal.hardware.hicann import GbitDirection, HICANNConfig, MergerMode, RepeaterMode
from hal.hardware.recipes import ChannelSource, configure_channel, enable_highspeed_link, feed_driver
from hal.hardware.wafer import WaferConfig
from hal.mapping.drivers import drivers_reachable_from_line
from hal.netlist.wiring import Origin, extract_wiring, l1_lines

HICANN = C.HICANNOnWafer(100)
channels = st.integers(0, 7).map(C.DNCMergerOnHICANN)


def _config() -> tuple[WaferConfig, HICANNConfig]:
    config = WaferConfig(C.Wafer(0))
    enable_highspeed_link(config, HICANN)
    return config, config.hicann(HICANN)


def _fire_one_neuron_of(chip: HICANNConfig, channel: C.DNCMergerOnHICANN, address: int) -> C.NeuronOnHICANN:
    neuron = C.NeuronOnHICANN(x=32 * channel.value + 3, y=0)
    chip.neurons.update(neuron, activate_firing=True, enable_spl1_output=True, l1_address=address)
    return neuron


@settings(max_examples=16, deadline=None)
@given(channel=channels, record=st.booleans())
def test_neuron_block_channel_reads_back_as_the_neurons_origin(channel, record):
    config, chip = _config()
    neuron = _fire_one_neuron_of(chip, channel, address=5)
    line = configure_channel(chip, channel, ChannelSource.NEURON_BLOCK, record=record)
    assert line == channel.to_sending_repeater().to_hline()
    wiring = extract_wiring(config)
    i = wiring.neuron_index()[(HICANN, neuron)]
    assert wiring.origins[wiring.neuron_origin[i]] == Origin(HICANN, channel.value)
    assert bool(wiring.recorded[i]) is record
    # The sending repeater drives the line: the L1 read-back starts there.
    assert (HICANN.enum, "H", line.value) in l1_lines(config)[(HICANN.enum, channel.value)]


@settings(max_examples=8, deadline=None)
@given(channel=channels)
def test_fpga_channel_reads_back_as_an_input_origin(channel):
    config, chip = _config()
    configure_channel(chip, channel, ChannelSource.FPGA, record=False)
    wiring = extract_wiring(config)
    assert Origin(HICANN, channel.value) in {wiring.origins[o] for o in wiring.input_origins}
    assert chip.gbit_links[channel.value].direction == GbitDirection.TO_HICANN
    assert chip.dnc_mergers[channel.value].mode == MergerMode.RIGHT_ONLY
    assert chip.mergers[channel.value] == HICANNConfig().mergers[channel.value], "the level-0 merger is not the FPGA's"


@pytest.mark.parametrize("source, mode", [(ChannelSource.NEURON_BLOCK, MergerMode.RIGHT_ONLY),
                                          (ChannelSource.BACKGROUND, MergerMode.LEFT_ONLY),
                                          (ChannelSource.NEURON_BLOCK_AND_BACKGROUND, MergerMode.MERGE)])
def test_level0_merger_takes_the_named_input(source, mode):
    chip = HICANNConfig()
    configure_channel(chip, C.DNCMergerOnHICANN(2), source, record=False)
    assert chip.mergers[2].mode == mode
    assert chip.dnc_mergers[2].mode == MergerMode.LEFT_ONLY
    assert chip.gbit_links[2].direction == GbitDirection.OFF
    assert chip.h_repeaters[C.DNCMergerOnHICANN(2).to_sending_repeater().to_hrepeater()].mode == RepeaterMode.OUTPUT


def test_background_channel_reaches_l1_and_records_nothing():
    config, chip = _config()
    chip.background_generators.update(4, enable=True, random=False, address=0, period=400)
    configure_channel(chip, C.DNCMergerOnHICANN(4), ChannelSource.BACKGROUND, record=False)
    wiring = extract_wiring(config)
    assert [wiring.origins[b[0]] for b in wiring.background] == [Origin(HICANN, 4)]


def test_fpga_channel_cannot_record():
    with pytest.raises(ConfigError, match=r"DNCMergerOnHICANN.*record=False"):
        configure_channel(HICANNConfig(), C.DNCMergerOnHICANN(1), ChannelSource.FPGA, record=True)


def test_unknown_source_names_the_known_ones():
    with pytest.raises(ConfigError, match="known: NEURON_BLOCK, BACKGROUND"):
        configure_channel(HICANNConfig(), C.DNCMergerOnHICANN(1), "neurons", record=False)


def test_channel_must_be_a_dnc_merger_coordinate():
    with pytest.raises(ConfigError, match="not a DNCMergerOnHICANN"):
        configure_channel(HICANNConfig(), 1, ChannelSource.FPGA, record=False)


@settings(max_examples=12, deadline=None)
@given(channel=channels, pick=st.integers(0, 27), address=st.integers(1, 63))
def test_fed_driver_carries_the_channels_events_to_a_synapse(channel, pick, address):
    """FPGA input on ``channel`` -> its line -> feed_driver -> a row decoding ``address`` -> one synapse."""
    config, chip = _config()
    line = configure_channel(chip, channel, ChannelSource.FPGA, record=False)
    driver, vline = drivers_reachable_from_line(line.value)[pick]
    feed_driver(chip, C.SynapseDriverOnHICANN(driver), C.VLineOnHICANN(vline), hline=line)
    row = C.SynapseDriverOnHICANN(driver).rows()[0]
    half = 0 if row.value < 224 else 1
    neuron = C.NeuronOnHICANN(x=7, y=half)
    chip.neurons.update(neuron, activate_firing=True)
    chip.synapse_rows.update(row, input_excitatory=True, decoder_even=address >> 4, decoder_odd=address >> 4)
    chip.set_weights(9, rows=row.value, columns=7)
    chip.set_decoders(address & 15, rows=row.value, columns=7)
    synapses = extract_wiring(config).synapses
    hit = (synapses.row == row.value) & (synapses.column == 7)
    assert hit.sum() == 1
    assert int(synapses.address[hit][0]) == address and bool(synapses.excitatory[hit][0])
    assert chip.synapse_drivers[driver].enable and chip.synapse_drivers[driver].locin


def test_feed_driver_from_a_vertical_line_closes_no_crossbar_switch():
    chip = HICANNConfig()
    driver, vline = drivers_reachable_from_line(0)[0]
    feed_driver(chip, C.SynapseDriverOnHICANN(driver), C.VLineOnHICANN(vline))
    assert not chip.crossbar_switches.any()
    assert chip.synapse_switch(C.SynapseSwitchOnHICANN(switch_row=driver, vline=vline))
