"""Spike events as the FPGA sees them: hardware time and hardware addresses, for a batch of samples."""

from __future__ import annotations

import attrs
import numpy as np

from hal.errors import ConfigError

__all__ = ["HardwareEvents"]


def _array(dtype):
    return attrs.field(converter=lambda a: np.ascontiguousarray(a, dtype=dtype))


@attrs.frozen(eq=False)
class HardwareEvents:
    """Struct of arrays, one entry per event, sorted by (sample, time).

    ``time`` counts FPGA timestamp ticks (4 ns hardware time) from the start of
    the sample; ``hicann`` is the HICANN enum, ``channel`` the HICANN-FPGA
    channel (GbitLink / DNC merger 0..7) and ``address`` the 6-bit L1 address.
    """

    sample: np.ndarray = _array(np.int32)
    time: np.ndarray = _array(np.int64)
    hicann: np.ndarray = _array(np.int16)
    channel: np.ndarray = _array(np.int8)
    address: np.ndarray = _array(np.int8)

    def __attrs_post_init__(self):
        n = self.sample.size
        for name in ("time", "hicann", "channel", "address"):
            if getattr(self, name).shape != (n,):
                raise ConfigError(f"HardwareEvents.{name}: {getattr(self, name).shape[0] if getattr(self, name).ndim else 'scalar'} entries, expected {n} (one per event)")

    @classmethod
    def empty(cls) -> HardwareEvents:
        return cls(*(np.zeros(0) for _ in range(5)))

    @classmethod
    def concatenate(cls, parts: list[HardwareEvents]) -> HardwareEvents:
        if not parts:
            return cls.empty()
        merged = cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("sample", "time", "hicann", "channel", "address")))
        return merged.sorted()

    def sorted(self) -> HardwareEvents:
        order = np.lexsort((self.time, self.sample))
        return self.select(order)

    def select(self, index) -> HardwareEvents:
        return HardwareEvents(self.sample[index], self.time[index], self.hicann[index], self.channel[index], self.address[index])

    def __len__(self) -> int:
        return int(self.sample.size)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, HardwareEvents):
            return NotImplemented
        return all(np.array_equal(getattr(self, f), getattr(other, f)) for f in ("sample", "time", "hicann", "channel", "address"))

    __hash__ = None
