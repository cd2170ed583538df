"""allocate_rows' batched synapse-row writes leave the registers one ``synapse_rows.update`` per row leaves."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from hal.hardware.hicann import HICANNConfig
from hal.mapping.rows import PlannedRow, _write_row_configs

planned = st.builds(lambda exc, div, msbs: PlannedRow(exc, div, (msbs * 16,)),
                    st.booleans(), st.integers(0, 15), st.integers(0, 3))


@given(st.lists(st.tuples(st.integers(0, 447), planned), max_size=40, unique_by=lambda p: p[0]))
def test_batched_row_writes_equal_one_update_per_row(placed):
    one_by_one, batched = HICANNConfig(), HICANNConfig()
    for row, need in placed:
        divisor = {"gmax_div_excitatory" if need.excitatory else "gmax_div_inhibitory": need.divisor}
        one_by_one.synapse_rows.update(row, input_excitatory=need.excitatory, input_inhibitory=not need.excitatory,
                                       decoder_even=need.msbs, decoder_odd=need.msbs, sel_gmax=0, **divisor)
    _write_row_configs(batched, placed)
    assert all(np.array_equal(batched.image[k], one_by_one.image[k]) for k in one_by_one.image)
