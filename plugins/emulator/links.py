"""The FPGA <-> wafer link model: bandwidth, queueing, loss -- counted, never silent.

Each HICANN's highspeed link carries at most one event per 56 ns (14 ticks;
marocco's per-link spacing, about 17.8 MHz) and each FPGA at most 125 MHz in
total (HARDWARE_FACTS.md section 7). Events wait in a queue of ``depth``
events (model: no public number); an event that finds the queue full is
dropped and counted for its link. Waiting delays an event: it reaches the chip
(or the trace) later than its timestamp. The same model serves the trace
(wafer -> FPGA) direction.
"""

from __future__ import annotations

import attrs
import numpy as np

from hal import coordinates as C
from hal.backend.events import sort_order

__all__ = ["LinkModel", "LOSSLESS", "pass_events"]


@attrs.frozen
class LinkModel:
    link_spacing_ticks: int = 14
    fpga_spacing_ticks: int = 2
    depth: int = 32
    enabled: bool = True


LOSSLESS = LinkModel(enabled=False)

_FPGA_OF_HICANN = np.array([h.to_fpga().value for h in C.HICANNOnWafer.all()])


def pass_events(model: LinkModel, sample: np.ndarray, time: np.ndarray, hicann: np.ndarray, direction: str):
    """Filter events through the links; returns (accepted mask, delivered ticks, lost per link name)."""
    from hal_plugins.emulator.kernel import _require_kernel

    n = time.size
    if not model.enabled or n == 0:
        return np.ones(n, dtype=bool), time.astype(np.int64), {}
    kernel = _require_kernel()
    sample = sample.astype(np.int64, copy=False)
    hicann = hicann.astype(np.int64, copy=False)
    accepted = np.ones(n, dtype=bool)
    delivered = time.astype(np.int64)  # a copy: filled in stage by stage
    lost: dict[str, int] = {}
    # Stage 1: per HICANN link; stage 2: per FPGA (the aggregate of its 8 links). Each stage sees
    # events in (sample, arrival) order; stage 1's queues delay events, so stage 2 may need a re-sort.
    for stage, key, spacing in (("link", hicann, model.link_spacing_ticks), ("fpga", _FPGA_OF_HICANN[hicann], model.fpga_spacing_ticks)):
        position = np.flatnonzero(accepted)
        if position.size == n:  # nothing dropped yet: no gathering
            position = np.arange(n)
        order = sort_order(sample[position], delivered[position])
        if order is not None:
            position = position[order]
        acc = np.zeros(position.size, dtype=np.int8)
        out = np.zeros(position.size, dtype=np.int64)
        n_keys = int(key.max()) + 1
        kernel.fifo_filter_keyed(sample[position], delivered[position], np.ascontiguousarray(key[position], dtype=np.int64),
                                 spacing, model.depth, acc, out, np.zeros(n_keys, np.int64), np.full(n_keys, -1, np.int64))
        ok = acc.view(bool)
        dropped = position[~ok]
        accepted[dropped] = False
        delivered[position[ok]] = out[ok]
        if dropped.size:
            for k, count in zip(*np.unique(key[dropped], return_counts=True)):
                name = f"{direction}/hicann/{k}/link" if stage == "link" else f"{direction}/fpga/{k}"
                lost[name] = lost.get(name, 0) + int(count)
    return accepted, delivered, lost
