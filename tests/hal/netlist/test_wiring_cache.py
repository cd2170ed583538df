"""hal.netlist.wiring.WiringCache: the last reading reused while only synapse weights change, and read
again whenever any other register changes (compared with extract_wiring, field for field)."""

from __future__ import annotations

import attrs
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import hal.netlist.wiring as wiring_module
from hal.errors import ConfigError
from hal import coordinates as C
from hal.hardware.hicann import GbitDirection, MergerMode, RepeaterMode
from hal.netlist.wiring import SynapseTable, Wiring, WiringCache, extract_wiring
from hal.testing.networks import paper_network



def assert_same_wiring(got: Wiring, want: Wiring) -> None:
    """Every field equal, arrays with their dtypes (the cache must be indistinguishable from a fresh reading)."""
    for field in attrs.fields(Wiring):
        a, b = getattr(got, field.name), getattr(want, field.name)
        if isinstance(b, np.ndarray):
            assert a.dtype == b.dtype and np.array_equal(a, b), field.name
        elif isinstance(b, SynapseTable):
            for column in attrs.fields(SynapseTable):
                x, y = getattr(a, column.name), getattr(b, column.name)
                assert x.dtype == y.dtype and np.array_equal(x, y), f"synapses.{column.name}"
        elif field.name == "parameters":
            assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in b), field.name
        else:
            assert a == b, field.name


def _images(config) -> dict:
    return {chip: {name: words.copy() for name, words in cfg.image.items()} for chip, cfg in config.chips()}


def _unchanged(config, before: dict) -> bool:
    now = _images(config)
    return now.keys() == before.keys() and all(np.array_equal(now[c][r], before[c][r]) for c in before for r in before[c])


def test_repeated_readings_equal_extract_wiring_and_read_once(hand_wired):
    cache = WiringCache()
    before = _images(hand_wired.config)
    for _ in range(3):
        assert_same_wiring(cache.read(hand_wired.config), extract_wiring(hand_wired.config))
    assert (cache.reads, cache.reuses) == (1, 2)
    assert _unchanged(hand_wired.config, before)  # reading through unit weights leaves the configuration alone


def test_weight_edits_reuse_the_reading_and_give_the_fresh_table(hand_wired):
    cache, chip = WiringCache(), hand_wired.chip
    edits = [
        lambda: chip.set_weights(3, rows=hand_wired.row_exc, columns=hand_wired.a.x),   # 9 -> 3
        lambda: chip.set_weights(0, rows=hand_wired.row_inh, columns=hand_wired.b.x),   # a synapse goes
        lambda: chip.set_weights(7, rows=hand_wired.row_exc, columns=hand_wired.b.x),   # one appears (same row, B's column)
        lambda: chip.set_weights(15, rows=hand_wired.row_inh, columns=100),             # under no neuron: still none
        lambda: chip.set_weights(0),                                                    # all gone
        lambda: chip.set_weights(5, rows=hand_wired.row_rec, columns=hand_wired.b.x),   # one back
    ]
    cache.read(hand_wired.config)
    sizes = []
    for edit in edits:
        edit()
        got = cache.read(hand_wired.config)
        assert_same_wiring(got, extract_wiring(hand_wired.config))
        sizes.append(len(got.synapses))
    assert sizes == [3, 2, 3, 3, 0, 1]
    assert (cache.reads, cache.reuses) == (1, len(edits))


def _fpga_link_off(h):
    h.config.fpga(h.hicann.to_fpga()).links.update(h.hicann.to_highspeed_link(), enable=False)


def _wafer(h):
    h.config.wafer = C.Wafer(1)


#: One edit of each kind of register other than the weights (and of the chips configured).
NON_WEIGHT_EDITS = {
    "fg_cell: a neuron's threshold": lambda h: h.chip.set_neuron_parameter("V_t", 650, [h.a]),
    "fg_cell: shared V_gmax": lambda h: h.chip.set_shared_parameter("V_gmax0", 500),
    "neuron: firing off": lambda h: h.chip.neurons.update(h.b, activate_firing=False),
    "neuron: L1 address": lambda h: h.chip.neurons.update(h.a, l1_address=18),
    "neuron_quad: merge opened": lambda h: h.chip.neuron_quads.update(1, vertical_right=False),
    "neuron_config: small capacitance": lambda h: h.chip.neuron_config.update(0, bigcap_top=False),
    "synapse_decoder": lambda h: h.chip.set_decoders(7, rows=h.row_exc, columns=h.a.x),
    "synapse_row: gmax divisor": lambda h: h.chip.synapse_rows.update(h.row_exc, gmax_div_excitatory=4),
    "synapse_row: input off": lambda h: h.chip.synapse_rows.update(h.row_rec, input_excitatory=False),
    "synapse_driver: disabled": lambda h: h.chip.synapse_drivers.update(h.row_exc // 2, enable=False),
    "synapse_switch: all open": lambda h: h.chip.set_synapse_switches(0),
    "crossbar_switch": lambda h: h.chip.set_crossbar_switches(1, index=(0, 0)),
    "h_repeater: sending repeater idle": lambda h: h.chip.h_repeaters.update(
        C.DNCMergerOnHICANN(2).to_sending_repeater().to_hrepeater(), mode=RepeaterMode.IDLE),
    "merger": lambda h: h.chip.mergers.update(0, mode=MergerMode.LEFT_ONLY),
    "dnc_merger": lambda h: h.chip.dnc_mergers.update(0, mode=MergerMode.RIGHT_ONLY),
    "gbit_link: off": lambda h: h.chip.gbit_links.update(2, direction=GbitDirection.OFF),
    "background_generator": lambda h: h.chip.background_generators.update(0, enable=True, period=200),
    "fpga: highspeed link off": _fpga_link_off,
    "a reset HICANN added": lambda h: h.config.hicann(C.HICANNOnWafer(101)),
    "another wafer": _wafer,
}


@pytest.mark.parametrize("edit", list(NON_WEIGHT_EDITS.values()), ids=list(NON_WEIGHT_EDITS))
def test_any_other_register_change_reads_everything_again(hand_wired, edit):
    cache = WiringCache()
    cache.read(hand_wired.config)
    cache.read(hand_wired.config)  # the second reading keeps the weight-free table
    edit(hand_wired)
    assert_same_wiring(cache.read(hand_wired.config), extract_wiring(hand_wired.config))
    assert cache.reads == 2
    assert_same_wiring(cache.read(hand_wired.config), extract_wiring(hand_wired.config))  # and is reused after
    assert cache.reads == 2


def test_other_arguments_read_again(hand_wired):
    def shift(hicann, per_denmem):
        return {**per_denmem, "v_th_mv": per_denmem["v_th_mv"] + 10.0}

    cache = WiringCache()
    cache.read(hand_wired.config)
    assert_same_wiring(cache.read(hand_wired.config, shift), extract_wiring(hand_wired.config, shift))
    assert_same_wiring(cache.read(hand_wired.config, shift, synapses=False), extract_wiring(hand_wired.config, shift, synapses=False))
    assert_same_wiring(cache.read(hand_wired.config, shift, synapses=False), extract_wiring(hand_wired.config, shift, synapses=False))
    assert (cache.reads, cache.reuses) == (3, 1)
    cache.clear()
    cache.read(hand_wired.config, shift, synapses=False)
    assert cache.reads == 4


def test_the_weight_free_table_is_read_at_the_second_run_and_then_kept(hand_wired, monkeypatch):
    # A configuration run once never holds a second table; a loop reads one table for all its steps.
    calls = []
    read = wiring_module.read_synapses
    monkeypatch.setattr(wiring_module, "read_synapses", lambda *a, **k: calls.append(1) or read(*a, **k))
    cache = WiringCache()
    counts = []
    for weight in (9, 8, 7, 6):
        hand_wired.chip.set_weights(weight, rows=hand_wired.row_exc, columns=hand_wired.a.x)
        cache.read(hand_wired.config)
        counts.append(len(calls))
    assert counts == [1, 2, 2, 2]
    assert_same_wiring(cache.read(hand_wired.config), extract_wiring(hand_wired.config))


def test_a_weight_free_table_above_the_limit_is_read_afresh_each_run(hand_wired, monkeypatch):
    calls = []
    read = wiring_module.read_synapses
    monkeypatch.setattr(wiring_module, "read_synapses", lambda *a, **k: calls.append(1) or read(*a, **k))
    cache = WiringCache(max_synapses=2)  # the hand-wired table has more weight-free entries than that
    per_read = []
    for weight in (9, 0, 4, 1):
        hand_wired.chip.set_weights(weight, rows=hand_wired.row_exc, columns=hand_wired.a.x)
        before = len(calls)
        got = cache.read(hand_wired.config)
        per_read.append(len(calls) - before)
        assert_same_wiring(got, extract_wiring(hand_wired.config))
    assert per_read == [1, 1, 1, 1] and cache.reads == 1  # the neurons, origins and drivers are still reused


@pytest.fixture(scope="module")
def paper():
    return paper_network(seed=2)


@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_random_weight_edits_give_the_fresh_reading(paper, data):
    # Half the edits on rows and columns that carry synapses (zeros remove them, new weights add them),
    # half anywhere on the chip.
    config = paper.config.copy()
    table = extract_wiring(config).synapses
    used = sorted({(int(h), int(r), int(c)) for h, r, c in zip(table.hicann, table.row, table.column)})
    anywhere = st.tuples(st.sampled_from(sorted({h for h, _, _ in used})), st.integers(0, 447), st.integers(0, 255))
    edit = st.tuples(st.one_of(st.sampled_from(used), anywhere), st.integers(0, 15))
    cache = WiringCache()
    cache.read(config)
    for _ in range(data.draw(st.integers(1, 3), label="runs")):
        for (h, row, column), weight in data.draw(st.lists(edit, min_size=1, max_size=40), label="edits"):
            config.hicann(C.HICANNOnWafer(h)).set_weights(weight, rows=row, columns=column)
        assert_same_wiring(cache.read(config), extract_wiring(config))
    assert cache.reads == 1


def test_derived_values_are_kept_per_key_until_the_next_full_reading(hand_wired):
    cache, calls = WiringCache(), []

    def count_neurons():
        calls.append(1)
        return len(wiring.neurons)

    wiring = cache.read(hand_wired.config)
    assert [cache.derived("n", "a", count_neurons) for _ in range(3)] == [2, 2, 2] and len(calls) == 1
    assert cache.derived("n", "b", count_neurons) == 2 and len(calls) == 2  # another key: derived again
    hand_wired.chip.set_weights(1, rows=hand_wired.row_exc, columns=hand_wired.a.x)
    wiring = cache.read(hand_wired.config)
    assert cache.derived("n", "b", count_neurons) == 2 and len(calls) == 2  # weights only: kept
    hand_wired.chip.neurons.update(hand_wired.b, activate_firing=False)
    wiring = cache.read(hand_wired.config)
    assert cache.derived("n", "b", count_neurons) == 1 and len(calls) == 3  # a full reading: derived again

    def fails():
        raise ValueError("no")

    with pytest.raises(ValueError):
        cache.derived("m", "a", fails)
    assert cache.derived("m", "a", count_neurons) == 1  # nothing was kept for the failed call


@pytest.mark.parametrize("bad", [-1, 2.5, "many", True, None])
def test_a_bad_table_limit_is_refused_naming_it(bad):
    with pytest.raises(ConfigError, match=r"WiringCache\.max_synapses.*an integer >= 0"):
        WiringCache(max_synapses=bad)
