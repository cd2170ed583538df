"""The FPGA link model against a plain-Python statement of it: one queue per (sample, link), then per FPGA."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hal_plugins.emulator.kernel import kernel_available
from hal_plugins.emulator.links import _FPGA_OF_HICANN, LinkModel, pass_events

pytestmark = pytest.mark.skipif(not kernel_available(), reason="emulator kernel not built (pip install -e .)")


def queue(times, spacing, depth):
    """One FIFO server: an event waits for the previous one; it is dropped if ``depth`` events are ahead."""
    accepted, delivered, free_at = [], [], None
    for t in times:
        start = t if free_at is None else max(free_at, t)
        if start - t > depth * spacing:
            accepted.append(False)
            delivered.append(-1)
            continue
        accepted.append(True)
        delivered.append(start)
        free_at = start + spacing
    return accepted, delivered


def plain_model(model, sample, time, hicann):
    accepted = np.ones(time.size, dtype=bool)
    delivered = time.astype(np.int64).copy()
    for key, spacing in ((hicann, model.link_spacing_ticks), (_FPGA_OF_HICANN[hicann], model.fpga_spacing_ticks)):
        for group in {(s, k) for s, k in zip(sample, key)}:
            idx = [i for i in np.flatnonzero((sample == group[0]) & (key == group[1]) & accepted)]
            idx.sort(key=lambda i: (delivered[i], i))
            acc, out = queue([delivered[i] for i in idx], spacing, model.depth)
            for i, a, d in zip(idx, acc, out):
                accepted[i] = a
                if a:
                    delivered[i] = d
    return accepted, delivered


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_link_model_matches_its_plain_statement(data):
    n = data.draw(st.integers(0, 120))
    sample = np.sort(np.array(data.draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)), dtype=np.int64))
    time = np.array(data.draw(st.lists(st.integers(0, 400), min_size=n, max_size=n)), dtype=np.int64)
    order = np.lexsort((time, sample))
    sample, time = sample[order], time[order]
    # HICANNs 0 and 1 share FPGA 0; 100 sits on another FPGA.
    hicann = np.array(data.draw(st.lists(st.sampled_from([0, 1, 100]), min_size=n, max_size=n)), dtype=np.int64)
    model = LinkModel(depth=data.draw(st.integers(0, 4)))
    accepted, delivered, lost = pass_events(model, sample, time, hicann, "input")
    want_accepted, want_delivered = plain_model(model, sample, time, hicann)
    assert np.array_equal(accepted, want_accepted)
    assert np.array_equal(delivered[accepted], want_delivered[want_accepted])
    assert sum(lost.values()) == int(np.count_nonzero(~accepted))
