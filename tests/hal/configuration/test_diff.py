"""hal.configuration.diff: exactly the register words that differ, with their fields."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hal import coordinates as C
from hal.configuration.diff import RegisterDiff, diff_configs
from hal.hardware.hicann import HICANNConfig
from hal.hardware.wafer import WaferConfig
from hal.testing.strategies import wafer_configs

HICANN = C.HICANNOnWafer(100)


def _apply(config: WaferConfig, diffs: list[RegisterDiff]) -> WaferConfig:
    """Write every diff's new word into a copy of ``config``."""
    out = config.copy()
    for d in diffs:
        chip = out.hicann(d.chip) if isinstance(d.chip, C.HICANNOnWafer) else out.fpga(d.chip)
        assert int(chip.image[d.register][d.index]) == d.old
        chip.image[d.register][d.index] = d.new
    return out


def test_equal_configurations_have_no_differences(small_wafer_config):
    assert list(diff_configs(small_wafer_config, small_wafer_config.copy())) == []


def test_one_changed_field_is_one_word_naming_the_field():
    a = WaferConfig(C.Wafer(3))
    a.hicann(HICANN).neurons.update(C.NeuronOnHICANN(x=5, y=1), l1_address=9)
    b = a.copy()
    b.hicann(HICANN).neurons.update(C.NeuronOnHICANN(x=5, y=1), l1_address=12, activate_firing=True)
    (d,) = diff_configs(a, b)
    index = C.NeuronOnHICANN(x=5, y=1).enum
    assert (d.chip, d.register, d.index) == (HICANN, "neuron", index)
    assert d.fields == {"l1_address": (9, 12), "activate_firing": (0, 1)}
    assert d.address == HICANNConfig.register_file["neuron"].address + index
    assert d.old == int(a.hicann(HICANN).image["neuron"][index]) and d.new == int(b.hicann(HICANN).image["neuron"][index])
    assert d.describe().startswith(f"{HICANN!r} neuron[{index}] @{hex(d.address)}: {hex(d.old)} -> {hex(d.new)} (")
    assert "l1_address 9 -> 12" in d.describe()
    assert d.to_dict()["fields"] == {"l1_address": [9, 12], "activate_firing": [0, 1]}
    assert d.to_dict()["address"] == hex(d.address)


def test_a_changed_synapse_weight_names_its_row_and_column():
    a = WaferConfig(C.Wafer(3))
    b = a.copy()
    b.hicann(HICANN).set_weights(7, rows=20, columns=13)
    (d,) = diff_configs(a, b)
    assert d.register == "synapse_weight"
    assert d.fields == {"weight[row 20, column 13]": (0, 7)}


def test_an_absent_chip_counts_as_reset():
    a = WaferConfig(C.Wafer(3))
    b = WaferConfig(C.Wafer(3))
    b.hicann(HICANN)  # created in reset state
    b.fpga(HICANN.to_fpga())
    assert list(diff_configs(a, b)) == []
    b.fpga(HICANN.to_fpga()).links.update(HICANN.to_highspeed_link(), enable=True)
    (d,) = diff_configs(a, b)
    assert (d.chip, d.register, d.fields) == (HICANN.to_fpga(), "highspeed_link", {"enable": (0, 1)})
    # and the other way round: the removed chip goes back to reset
    (back,) = diff_configs(b, a)
    assert (back.old, back.new) == (d.new, d.old)


@st.composite
def _edits(draw):
    neurons = draw(st.lists(st.tuples(st.integers(0, 511), st.integers(0, 63)), max_size=5))
    weights = draw(st.lists(st.tuples(st.integers(0, 447), st.integers(0, 255), st.integers(0, 15)), max_size=5))
    return neurons, weights


@settings(max_examples=15)
@given(config=wafer_configs(max_chips=2), edits=_edits())
def test_diff_finds_exactly_the_edited_words(config, edits):
    neurons, weights = edits
    edited = config.copy()
    chip = edited.hicann(HICANN)
    before = config.hicann(HICANN).copy() if config.has_hicann(HICANN) else HICANNConfig()
    for enum, address in neurons:
        chip.neurons.update(C.NeuronOnHICANN(x=enum % 256, y=enum // 256), l1_address=address)
    for row, column, weight in weights:
        chip.set_weights(weight, rows=row, columns=column)
    expected = {("neuron", enum) for enum in range(512) if chip.image["neuron"][enum] != before.image["neuron"][enum]}
    expected |= {("synapse_weight", row * 32 + column // 8) for row, column, _ in weights
                 if chip.weights[row, column] != before.weights[row, column]}
    diffs = list(diff_configs(config, edited))
    assert {(d.register, d.index) for d in diffs} == expected
    assert all(d.chip == HICANN for d in diffs)
    assert _apply(config, diffs) == edited
    # every reported field really changed, and a word is reported once
    assert all(d.fields and all(old != new for old, new in d.fields.values()) for d in diffs)
    assert len({(d.chip, d.register, d.index) for d in diffs}) == len(diffs)


@settings(max_examples=15)
@given(a=wafer_configs(max_chips=2), b=wafer_configs(max_chips=2))
def test_diff_of_any_two_configurations_rebuilds_the_second_and_is_symmetric(a, b):
    b = WaferConfig(a.wafer, hicanns=dict(b.hicanns()), fpgas=dict(b.fpgas()))
    forward = list(diff_configs(a, b))
    assert (forward == []) == (a == b)
    assert _apply(a, forward) == b
    backward = {(d.chip, d.register, d.index): (d.new, d.old) for d in diff_configs(b, a)}
    assert backward == {(d.chip, d.register, d.index): (d.old, d.new) for d in forward}
