"""The synapse table's memory: narrow columns that still hold every coordinate, a reading without
synapses for callers that do not need them, and a netlist that shares the table's columns
instead of copying them (issue 16: the full wafer's 44 M synapses in < 4 GB)."""

from __future__ import annotations

import attrs
import numpy as np

from hal import coordinates as C
from hal.backend.events import HardwareEvents
from hal.netlist import build_netlist
from hal.netlist.synapses import SYNAPSE_DTYPES, SynapseTable
from hal.netlist.wiring import extract_wiring

#: Largest value of each column on a wafer, in field order (conductance and sign have no range).
_LARGEST = {
    "origin": C.HICANNOnWafer.size * C.DNCMergerOnHICANN.size - 1,
    "address": C.L1Address.size - 1,
    "post": C.HICANNOnWafer.size * C.NeuronOnHICANN.size - 1,
    "row": C.SynapseRowOnHICANN.size - 1,
    "column": C.SynapseColumnOnHICANN.size - 1,
    "hicann": C.HICANNOnWafer.size - 1,
}


def test_the_wiring_table_has_the_narrow_dtypes(hand_wired):
    table = extract_wiring(hand_wired.config).synapses
    assert tuple(getattr(table, f.name).dtype for f in attrs.fields(SynapseTable)) == SYNAPSE_DTYPES
    # 25 bytes a synapse (was 57): 1.1 GB for the full wafer's 44 M synapses
    assert sum(np.dtype(d).itemsize for d in SYNAPSE_DTYPES) == 25


def test_each_narrow_column_holds_every_value_its_coordinate_takes_on_a_wafer():
    dtypes = {f.name: np.dtype(d) for f, d in zip(attrs.fields(SynapseTable), SYNAPSE_DTYPES)}
    for name, largest in _LARGEST.items():
        assert np.iinfo(dtypes[name]).max >= largest, name
    # the netlist's lookup key origin * 64 + address is computed in the wider of the two columns
    key = np.array([_LARGEST["origin"]], dtypes["origin"]) * C.L1Address.size + np.array([_LARGEST["address"]], dtypes["address"])
    assert key.dtype == np.int32 and int(key[0]) == _LARGEST["origin"] * 64 + 63


def test_reading_without_synapses_gives_everything_else_unchanged(hand_wired):
    full = extract_wiring(hand_wired.config)
    light = extract_wiring(hand_wired.config, synapses=False)
    assert len(full.synapses) == 3 and len(light.synapses) == 0
    assert tuple(getattr(light.synapses, f.name).dtype for f in attrs.fields(SynapseTable)) == SYNAPSE_DTYPES
    assert light.neurons == full.neurons and light.origins == full.origins and light.input_origins == full.input_origins
    assert light.recorded.tolist() == full.recorded.tolist() and light.neuron_origin.tolist() == full.neuron_origin.tolist()
    assert light.background == full.background and light.pll_mhz == full.pll_mhz and light.adex_in_use == full.adex_in_use
    assert sorted(light.parameters) == sorted(full.parameters)
    assert all(np.array_equal(light.parameters[k], full.parameters[k]) for k in full.parameters)


def test_a_netlist_of_source_synapses_only_shares_the_tables_columns(hand_wired):
    # Without the synapse that neuron A's spikes reach, every synapse is fed by the FPGA input alone.
    hand_wired.chip.set_weights(0, rows=hand_wired.row_rec, columns=hand_wired.b.x)
    wiring = extract_wiring(hand_wired.config)
    h = hand_wired.hicann.enum
    playback = HardwareEvents(*(np.array([v]) for v in (0, 100, h, 2, hand_wired.input_address)))
    net = build_netlist(wiring, playback, n_samples=1, duration_ticks=1000)
    syn = wiring.synapses
    assert net.n_connections == len(syn) == 2
    for column, shared in ((net.post, syn.post), (net.conductance_ns, syn.conductance_ns), (net.excitatory, syn.excitatory),
                           (net.synapse_hicann, syn.hicann), (net.synapse_row, syn.row), (net.synapse_column, syn.column)):
        assert column is shared
