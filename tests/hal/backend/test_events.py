"""hal.backend.events.sort_order: the same permutation as a stable lexsort, or None when nothing is to do."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from hal.backend.events import HardwareEvents, sort_order

ints = hnp.arrays(np.int64, st.integers(0, 60), elements=st.integers(-5, 5))


@given(st.data())
def test_sort_order_equals_a_stable_lexsort(data):
    primary = data.draw(ints)
    kind = data.draw(st.sampled_from(["int", "float", "big"]))
    if kind == "int":
        secondary = data.draw(hnp.arrays(np.int64, primary.size, elements=st.integers(-3, 3)))
    elif kind == "float":  # float keys must not be truncated to integers
        secondary = data.draw(hnp.arrays(np.float64, primary.size, elements=st.floats(-2, 2)))
    else:  # a combined key would overflow int64: falls back to lexsort
        secondary = data.draw(hnp.arrays(np.int64, primary.size, elements=st.sampled_from([-(2**62), 0, 2**62])))
    order = sort_order(primary, secondary)
    expected = np.lexsort((secondary, primary))
    if order is None:
        assert np.array_equal(expected, np.arange(primary.size))
    else:
        assert np.array_equal(order, expected)


def test_sorted_events_are_returned_as_they_are():
    ev = HardwareEvents([0, 0, 1], [5, 9, 1], [3, 3, 3], [0, 0, 0], [1, 2, 3])
    assert ev.sorted() is ev
    shuffled = ev.select([2, 0, 1])
    assert shuffled.sorted() == ev
