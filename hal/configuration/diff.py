"""Register-level differences between two wafer configurations (``hal config diff``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs
import numpy as np

from hal.hardware.fpga import FPGAConfig
from hal.hardware.hicann import HICANNConfig
from hal.hardware.wafer import WaferConfig
from hal.registers import ArrayRegister

__all__ = ["RegisterDiff", "diff_configs"]


@attrs.frozen
class RegisterDiff:
    """One register word that differs, with the fields that changed (old, new)."""

    chip: Any
    register: str
    index: int
    address: int
    old: int
    new: int
    fields: dict[str, tuple[int, int]]

    def describe(self) -> str:
        changes = ", ".join(f"{k} {a} -> {b}" for k, a, b in ((k, *v) for k, v in self.fields.items()))
        return f"{self.chip!r} {self.register}[{self.index}] @{hex(self.address)}: {hex(self.old)} -> {hex(self.new)} ({changes})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "chip": repr(self.chip),
            "register": self.register,
            "index": self.index,
            "address": hex(self.address),
            "old": hex(self.old),
            "new": hex(self.new),
            "fields": {k: [a, b] for k, (a, b) in self.fields.items()},
        }


def diff_configs(a: WaferConfig, b: WaferConfig) -> Iterator[RegisterDiff]:
    """Every differing register word between ``a`` and ``b``; an absent chip counts as reset."""
    pairs: list[tuple[Any, Any, Any]] = []
    for chip in sorted({c for c, _ in a.hicanns()} | {c for c, _ in b.hicanns()}):
        pairs.append((chip, a.hicann(chip) if a.has_hicann(chip) else HICANNConfig(), b.hicann(chip) if b.has_hicann(chip) else HICANNConfig()))
    for chip in sorted({c for c, _ in a.fpgas()} | {c for c, _ in b.fpgas()}):
        pairs.append((chip, a.fpga(chip) if a.has_fpga(chip) else FPGAConfig(), b.fpga(chip) if b.has_fpga(chip) else FPGAConfig()))
    for chip, old, new in pairs:
        rf = old.register_file
        for name in old.image:
            reg = rf[name]
            ow, nw = old.image[name], new.image[name]
            for i in np.flatnonzero(ow != nw).tolist():
                of, nf = reg.unpack(ow[i]), reg.unpack(nw[i])
                fields = {k: (int(of[k]), int(nf[k])) for k in of if of[k] != nf[k]}
                if isinstance(rf.kinds[name], ArrayRegister):
                    kind = rf.kinds[name]
                    first = i * kind.per_word
                    fields = {
                        f"{kind.element_name}[{kind.describe_index(first + int(k.rsplit('_', 1)[1]))}]": v for k, v in fields.items()
                    }
                yield RegisterDiff(chip, name, i, reg.address + i, int(ow[i]), int(nw[i]), fields)
