"""Register declarations and their exact word encoding."""

from __future__ import annotations

import attrs
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hal.errors import FieldOverflowError, UnknownNameError
from hal.hardware.fpga import FPGA_REGISTERS
from hal.hardware.hicann import (
    HICANN_REGISTERS,
    SYNAPSE_WEIGHTS,
    BackgroundGeneratorConfig,
    DenmemConfig,
    HRepeaterConfig,
    RepeaterMode,
)
from hal.registers import ArrayRegister, RegisterValue
from hal.testing.strategies import array_values, register_values

ALL_FILES = (HICANN_REGISTERS, FPGA_REGISTERS)
VALUE_CLASSES = [k for rf in ALL_FILES for k in rf.kinds.values() if not isinstance(k, ArrayRegister)]
ARRAY_SPECS = [k for rf in ALL_FILES for k in rf.kinds.values() if isinstance(k, ArrayRegister)]


@pytest.mark.parametrize("cls", VALUE_CLASSES, ids=lambda c: c.REGISTER.name)
@given(data=st.data())
def test_value_register_word_round_trip(cls: type[RegisterValue], data):
    value = data.draw(register_values(cls))
    word = value.to_word()
    assert 0 <= word < 1 << cls.REGISTER.width
    assert cls.from_word(word) == value
    # The vectorised codec agrees with the scalar one.
    columns = cls.REGISTER.unpack(np.array([word]))
    assert int(cls.REGISTER.pack(columns)[0]) == word


@pytest.mark.parametrize("spec", ARRAY_SPECS, ids=lambda s: s.name)
@given(data=st.data())
def test_array_register_round_trip(spec: ArrayRegister, data):
    array = data.draw(array_values(spec))
    words = spec.to_words(array)
    assert words.shape == (spec.word_count,)
    np.testing.assert_array_equal(spec.from_words(words), array)


@pytest.mark.parametrize("register_file", ALL_FILES, ids=lambda rf: rf.chip)
def test_register_map_has_no_overlaps_and_resets_decode_to_defaults(register_file):
    spans = sorted((r.address, r.end, r.name) for r in register_file)
    for (_, end, name), (start, _, other) in zip(spans, spans[1:]):
        assert end <= start, f"{name} overlaps {other}"
    for reg in register_file:
        kind = register_file.kinds[reg.name]
        if not isinstance(kind, ArrayRegister):
            assert kind.from_word(reg.reset_word) == kind(), reg.name
        assert register_file.locate(reg.address) == (reg, 0)
        assert register_file.locate(reg.end - 1) == (reg, reg.count - 1)


def test_denmem_layout_is_declared_once_from_the_class():
    reg = DenmemConfig.REGISTER
    assert [f.name for f in reg.fields] == [a.name for a in attrs.fields(DenmemConfig)]
    assert reg.field("l1_address").width == 6 and reg.field("l1_address").lsb == 0
    assert reg.field("activate_firing").lsb == 6
    assert DenmemConfig(l1_address=0x2A, activate_firing=True).to_word() == 0x2A | 1 << 6


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"l1_address": 64}, "neuron.l1_address: 64 does not fit; valid 0..63"),
        ({"l1_address": -1}, "neuron.l1_address: -1 does not fit; valid 0..63"),
        ({"l1_address": 3.0}, "neuron.l1_address: 3.0 does not fit; valid an integer 0..63"),
        ({"l1_address": True}, "neuron.l1_address: True does not fit; valid an integer 0..63"),
        ({"activate_firing": 2}, "neuron.activate_firing: 2 does not fit; valid True/False (or 0/1)"),
    ],
)
def test_value_out_of_field_raises_and_names_field_and_range(kwargs, fragment):
    with pytest.raises(FieldOverflowError) as info:
        DenmemConfig(**kwargs)
    assert str(info.value) == fragment
    assert info.value.register == "neuron"


def test_enum_field_rejects_non_members_and_accepts_names():
    assert HRepeaterConfig(mode="forwarding").mode is RepeaterMode.FORWARDING
    assert HRepeaterConfig(mode=2).mode is RepeaterMode.INPUT
    with pytest.raises(FieldOverflowError, match=r"h_repeater.mode: 7 does not fit; valid one of IDLE=0, FORWARDING=1"):
        HRepeaterConfig(mode=7)


def test_wide_register_uses_64_bit_words():
    value = BackgroundGeneratorConfig(enable=True, seed=0xFFFF, period=0xFFFF, address=63)
    assert value.to_word() >= 1 << 32
    assert BackgroundGeneratorConfig.from_word(value.to_word()) == value
    assert BackgroundGeneratorConfig.REGISTER.dtype == np.uint64


def test_vectorised_pack_reports_the_offending_instance():
    reg = DenmemConfig.REGISTER
    with pytest.raises(FieldOverflowError, match=r"neuron.l1_address at index 2: 70 does not fit; valid 0..63"):
        reg.pack({"l1_address": np.array([1, 2, 70])})
    with pytest.raises(UnknownNameError, match="did you mean 'l1_address'"):
        reg.pack({"l1_adress": [1]})


def test_raw_words_with_stray_bits_are_rejected():
    reg = DenmemConfig.REGISTER
    words = reg.reset_words()
    words[5] = 1 << 20
    with pytest.raises(FieldOverflowError, match=r"neuron.<word> at address 0x2005: '0x100000' does not fit"):
        reg.check_words(words)


def test_array_register_check_names_row_and_column():
    values = np.zeros(SYNAPSE_WEIGHTS.shape, dtype=np.int64)
    values[3, 200] = 16
    with pytest.raises(FieldOverflowError, match=r"synapse_weight.weight at row 3, column 200: 16 does not fit; valid 0..15"):
        SYNAPSE_WEIGHTS.check(values, SYNAPSE_WEIGHTS.describe_index)
    with pytest.raises(FieldOverflowError, match=r"integers 0..15"):
        SYNAPSE_WEIGHTS.check(np.full(SYNAPSE_WEIGHTS.shape, 1.5))


def test_instance_resets_override_the_field_reset_for_named_instances():
    import attrs as _attrs

    from hal.registers import RegisterValue, bits, register

    @register(name="demo_reset", count=4, instance_resets={2: {"value": 5}})
    @_attrs.frozen
    class Demo(RegisterValue):
        value: int = bits(3, reset=1)

    assert Demo.REGISTER.reset_words().tolist() == [1, 1, 5, 1]


def test_an_instance_reset_outside_the_register_is_refused():
    import attrs as _attrs
    import pytest as _pytest

    from hal.errors import ConfigError
    from hal.registers import RegisterValue, bits, register

    with _pytest.raises(ConfigError, match=r"register demo_bad: reset of instance 4 out of range; valid 0..3"):
        @register(name="demo_bad", count=4, instance_resets={4: {"value": 5}})
        @_attrs.frozen
        class Demo(RegisterValue):
            value: int = bits(3)

