"""A small hand-configured HICANN for the netlist tests: FPGA input, two neurons, one recurrent connection.

* FPGA playback on DNC merger 2 -> its sending repeater's line -> driver ``d_in``:
  its first row (excitatory, address 5) has weight 9 onto denmem (3, 0), its second row
  (inhibitory, address 5) weight 4 onto denmem (40, 0); row 1 also has weight 2 at column 100,
  under a denmem that belongs to no neuron.
* Neuron A: denmems (3, 0) and (3, 1) merged (quad 1, vertical_right), (3, 0) fires and sends
  L1 address ``a_address``; neuron block 0 -> DNC merger 0 (recorded) -> driver ``d_rec``,
  whose first row (excitatory, address ``a_address``) has weight 6 onto denmem (40, 0).
* Neuron B: denmem (40, 0) alone, fires, sends nothing.
* V_gmax0 = 600 everywhere, excitatory divisor 3, inhibitory divisor 5.
"""

from __future__ import annotations

import types

import pytest

from hal import coordinates as C
from hal.hardware.recipes import ChannelSource, configure_channel, enable_highspeed_link, feed_driver
from hal.hardware.wafer import WaferConfig
from hal.mapping.drivers import drivers_reachable_from_line

HICANN = C.HICANNOnWafer(100)
A = C.NeuronOnHICANN(x=3, y=0)
A_BOTTOM = C.NeuronOnHICANN(x=3, y=1)
B = C.NeuronOnHICANN(x=40, y=0)
INPUT_ADDRESS = 5
V_GMAX = 600
DIV_EXC, DIV_INH = 3, 5


def _address_row(chip, row: int, column: int, address: int, **row_fields) -> None:
    chip.synapse_rows.update(C.SynapseRowOnHICANN(row), decoder_even=address >> 4, decoder_odd=address >> 4,
                             sel_gmax=0, gmax_div_excitatory=DIV_EXC, gmax_div_inhibitory=DIV_INH, **row_fields)
    chip.set_decoders(address & 15, rows=row, columns=column)


def build(a_address: int = 17) -> types.SimpleNamespace:
    config = WaferConfig(C.Wafer(0))
    enable_highspeed_link(config, HICANN)
    chip = config.hicann(HICANN)
    chip.set_shared_parameter("V_gmax0", V_GMAX)

    # neurons
    chip.neuron_quads.update(1, vertical_right=True)
    chip.neurons.update(A, activate_firing=True, enable_spl1_output=True, l1_address=a_address)
    chip.neurons.update(B, activate_firing=True)
    chip.set_neuron_parameter("E_l", 400, [A])
    chip.set_neuron_parameter("E_l", 500, [A_BOTTOM])
    chip.set_neuron_parameter("V_t", 600, [A])
    chip.set_neuron_parameter("V_t", 700, [A_BOTTOM])

    # FPGA input onto A (excitatory) and B (inhibitory)
    line_in = configure_channel(chip, C.DNCMergerOnHICANN(2), ChannelSource.FPGA, record=False)
    d_in, v_in = next((d, v) for d, v in drivers_reachable_from_line(line_in.value) if d < 112)
    feed_driver(chip, C.SynapseDriverOnHICANN(d_in), C.VLineOnHICANN(v_in), hline=line_in)
    row_exc, row_inh = (r.value for r in C.SynapseDriverOnHICANN(d_in).rows())
    _address_row(chip, row_exc, A.x, INPUT_ADDRESS, input_excitatory=True)
    chip.set_weights(9, rows=row_exc, columns=A.x)
    _address_row(chip, row_inh, B.x, INPUT_ADDRESS, input_inhibitory=True)
    chip.set_decoders(INPUT_ADDRESS & 15, rows=row_inh, columns=100)
    chip.set_weights(4, rows=row_inh, columns=B.x)
    chip.set_weights(2, rows=row_inh, columns=100)  # denmem (100, 0) belongs to no neuron

    # A's spikes: neuron block 0 -> DNC merger 0 -> L1 (and the FPGA) -> a synapse onto B
    line_rec = configure_channel(chip, C.DNCMergerOnHICANN(0), ChannelSource.NEURON_BLOCK, record=True)
    d_rec, v_rec = next((d, v) for d, v in drivers_reachable_from_line(line_rec.value) if d < 112 and d != d_in)
    feed_driver(chip, C.SynapseDriverOnHICANN(d_rec), C.VLineOnHICANN(v_rec), hline=line_rec)
    row_rec = C.SynapseDriverOnHICANN(d_rec).rows()[0].value
    _address_row(chip, row_rec, B.x, a_address, input_excitatory=True)
    chip.set_weights(6, rows=row_rec, columns=B.x)

    return types.SimpleNamespace(config=config, chip=chip, row_exc=row_exc, row_inh=row_inh, row_rec=row_rec,
                                 a_address=a_address, hicann=HICANN, a=A, a_bottom=A_BOTTOM, b=B,
                                 input_address=INPUT_ADDRESS, v_gmax=V_GMAX, div_exc=DIV_EXC, div_inh=DIV_INH)


@pytest.fixture
def hand_wired():
    """The configuration above, with neuron A sending L1 address 17."""
    return build()


@pytest.fixture
def hand_wired_with():
    """The builder, for tests that choose neuron A's address."""
    return build
