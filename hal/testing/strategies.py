"""Hypothesis strategies for hal's value types, for property tests (ours and users').

Needs the ``hypothesis`` package (the ``test`` extra); hal itself never imports this module.
"""

from __future__ import annotations


import attrs
import numpy as np
from hypothesis import strategies as st

from hal import coordinates as C
from hal.hardware.hicann import HICANN_REGISTERS, HICANNConfig
from hal.hardware.fpga import FPGA_REGISTERS, FPGAConfig
from hal.hardware.wafer import WaferConfig
from hal.registers import ArrayRegister, RegisterValue

__all__ = ["register_values", "array_values", "chip_configs", "wafer_configs"]

_META = "hal_register_field"


def register_values(cls: type[RegisterValue]) -> st.SearchStrategy[RegisterValue]:
    """Any valid instance of a register value class."""
    kwargs = {}
    for a in attrs.fields(cls):
        kind, width, _access, _doc, enum_type = a.metadata[_META]
        if kind == "bool":
            kwargs[a.name] = st.booleans()
        elif kind == "enum":
            kwargs[a.name] = st.sampled_from(list(enum_type))
        else:
            kwargs[a.name] = st.integers(0, (1 << width) - 1)
    return st.builds(cls, **kwargs)


def array_values(spec: ArrayRegister, max_changes: int = 20) -> st.SearchStrategy[np.ndarray]:
    """A typed array for an array register: reset values with a few random elements changed."""
    hi = (1 << spec.element_width) - 1
    size = int(np.prod(spec.shape))

    def build(changes):
        arr = spec.reset_array().ravel()
        for pos, value in changes:
            arr[pos] = value
        return arr.reshape(spec.shape)

    return st.lists(st.tuples(st.integers(0, size - 1), st.integers(0, hi)), max_size=max_changes).map(build)


def _chip(cls, register_file, max_registers: int):
    value_regs = [n for n, k in register_file.kinds.items() if not isinstance(k, ArrayRegister) and n in cls.reset_image()]
    array_regs = [n for n, k in register_file.kinds.items() if isinstance(k, ArrayRegister)]

    @st.composite
    def build(draw):
        chip = cls()
        for name in draw(st.lists(st.sampled_from(value_regs), max_size=max_registers, unique=True)):
            kind = register_file.kinds[name]
            count = register_file[name].count
            for index in draw(st.lists(st.integers(0, count - 1), min_size=1, max_size=4, unique=True)):
                chip.image[name][index] = draw(register_values(kind)).to_word()
        for name in draw(st.lists(st.sampled_from(array_regs), max_size=2, unique=True)) if array_regs else []:
            spec = register_file.kinds[name]
            chip.image[name][:] = spec.to_words(draw(array_values(spec)))
        return chip

    return build()


def chip_configs(kind: str = "hicann", max_registers: int = 4) -> st.SearchStrategy:
    """A HICANN or FPGA configuration with a few random registers changed from reset."""
    if kind == "hicann":
        return _chip(HICANNConfig, HICANN_REGISTERS, max_registers)
    return _chip(FPGAConfig, FPGA_REGISTERS, max_registers)


@st.composite
def wafer_configs(draw, max_chips: int = 3) -> WaferConfig:
    """A wafer configuration with a few HICANNs and FPGAs configured."""
    wafer = WaferConfig(C.Wafer(draw(st.integers(0, 65535))))
    for h in draw(st.lists(st.integers(0, C.HICANNOnWafer.size - 1), max_size=max_chips, unique=True)):
        wafer.hicann(C.HICANNOnWafer(h)).image.update(draw(chip_configs("hicann")).image)
    for f in draw(st.lists(st.integers(0, C.FPGAOnWafer.size - 1), max_size=max_chips, unique=True)):
        wafer.fpga(C.FPGAOnWafer(f)).image.update(draw(chip_configs("fpga")).image)
    return wafer
