"""Spike events as the FPGA sees them: hardware time and hardware addresses, for a batch of samples."""

from __future__ import annotations

import attrs
import numpy as np

from hal.errors import ConfigError

__all__ = ["HardwareEvents", "sort_order"]


def sort_order(primary: np.ndarray, secondary: np.ndarray) -> np.ndarray | None:
    """The permutation sorting by (primary, secondary), stable; None when already sorted.

    Event streams are nearly always sorted already (or a merge of a few sorted runs), and a
    batch holds millions of events: a linear check, and a stable sort of one combined key
    (timsort: linear on sorted runs) cost a fraction of ``np.lexsort``'s two full passes.
    """
    n = primary.size
    if n < 2:
        return None
    if not (np.issubdtype(primary.dtype, np.integer) and np.issubdtype(secondary.dtype, np.integer)):
        dp = np.diff(primary)
        if not np.any(dp < 0) and not np.any((dp == 0) & (np.diff(secondary) < 0)):
            return None
        return np.lexsort((secondary, primary))
    p_min, p_span = int(primary.min()), int(primary.max()) - int(primary.min()) + 1
    q_min, q_span = int(secondary.min()), int(secondary.max()) - int(secondary.min()) + 1
    if p_span * q_span >= 2**62:  # the combined key would overflow
        return np.lexsort((secondary, primary))
    key = primary.astype(np.int64) - p_min
    key *= q_span
    key += secondary
    key -= q_min
    if np.all(key[1:] >= key[:-1]):
        return None
    return np.argsort(key, kind="stable")


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
        order = sort_order(self.sample, self.time)
        return self if order is None else self.select(order)

    def select(self, index) -> HardwareEvents:
        return HardwareEvents(self.sample[index], self.time[index], self.hicann[index], self.channel[index], self.address[index])

    def __len__(self) -> int:
        return int(self.sample.size)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, HardwareEvents):
            return NotImplemented
        return all(np.array_equal(getattr(self, f), getattr(other, f)) for f in ("sample", "time", "hicann", "channel", "address"))

    __hash__ = None
