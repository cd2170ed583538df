"""HICANNConfig's array writes touch only the words of the selected elements, with the result of a whole-array write.

The mapper writes switches, weights and FG cells a few at a time; the words-only path must
leave exactly the registers the whole-array round trip (unpack, assign, repack) leaves, and
refuse bad input with the same typed errors, changing nothing.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hal import coordinates as C
from hal.errors import ConfigError, CoordinateError, FieldOverflowError
from hal.hardware.hicann import CROSSBAR_SWITCHES, FG_CELLS, SYNAPSE_SWITCHES, SYNAPSE_WEIGHTS, HICANNConfig
from hal.hardware.recipes import feed_driver, feed_drivers

SPECS = (SYNAPSE_WEIGHTS, FG_CELLS, CROSSBAR_SWITCHES, SYNAPSE_SWITCHES)


def whole_array_write(chip: HICANNConfig, spec, values, index) -> None:
    """The reference: unpack the whole register, assign with numpy, repack."""
    current = spec.from_words(chip.image[spec.name])
    current[index] = np.broadcast_to(values, current[index].shape)
    chip.image[spec.name][:] = spec.to_words(current)


def image_copy(chip: HICANNConfig) -> dict[str, np.ndarray]:
    return {k: v.copy() for k, v in chip.image.items()}


def same_image(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


@st.composite
def writes(draw):
    """A register, a random starting array, and an index (integer arrays with repeats, a slice, or a scalar) with values."""
    spec = draw(st.sampled_from(SPECS))
    hi = (1 << spec.element_width) - 1
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    start = rng.integers(0, hi + 1, size=spec.shape)
    kind = draw(st.sampled_from(["fancy", "slice", "scalar", "mixed"]))
    if kind == "fancy":
        n = draw(st.integers(0, 40))
        index = tuple(rng.integers(0, s, size=n) for s in spec.shape)  # repeats happen: the last value must win
    elif kind == "slice":
        index = tuple(slice(int(rng.integers(0, s)), int(rng.integers(0, s + 1))) for s in spec.shape)
    elif kind == "scalar":
        index = tuple(int(rng.integers(0, s)) for s in spec.shape)
    else:
        index = (rng.integers(0, spec.shape[0], size=5),) + (slice(None),) * (len(spec.shape) - 1)
    shape = np.zeros(spec.shape)[index].shape
    values = rng.integers(0, hi + 1, size=shape) if draw(st.booleans()) else int(rng.integers(0, hi + 1))
    return spec, start, index, values


def _setter(chip: HICANNConfig, spec):
    return {SYNAPSE_WEIGHTS.name: lambda v, i: chip.set_weights(v, *i),
            FG_CELLS.name: chip.set_fg_cells, CROSSBAR_SWITCHES.name: chip.set_crossbar_switches,
            SYNAPSE_SWITCHES.name: chip.set_synapse_switches}[spec.name]


@given(writes())
def test_words_only_write_equals_whole_array_write(case):
    spec, start, index, values = case
    chip, reference = HICANNConfig(), HICANNConfig()
    chip.image[spec.name][:] = spec.to_words(start)
    reference.image[spec.name][:] = spec.to_words(start)
    _setter(chip, spec)(values, index)
    whole_array_write(reference, spec, values, index)
    assert same_image(chip.image, reference.image)


def test_repeated_element_keeps_the_last_value():
    chip = HICANNConfig()
    chip.set_weights([3, 9, 5], rows=np.array([7, 7, 7]), columns=np.array([100, 100, 100]))
    assert chip.weights[7, 100] == 5
    assert np.count_nonzero(chip.weights) == 1


def test_out_of_range_value_names_the_element_and_changes_nothing():
    chip = HICANNConfig()
    chip.set_weights(4, rows=np.array([1]), columns=np.array([2]))
    before = image_copy(chip)
    with pytest.raises(FieldOverflowError) as info:
        chip.set_weights(np.array([1, 16]), rows=np.array([5, 6]), columns=np.array([10, 11]))
    message = str(info.value)
    assert "16" in message and "0..15" in message and "row 6" in message and "column 11" in message
    assert same_image(chip.image, before)


def test_index_outside_the_array_is_a_config_error_and_changes_nothing():
    chip = HICANNConfig()
    before = image_copy(chip)
    with pytest.raises(ConfigError, match=r"SynapseSwitches|synapse|outside the array of shape \(224, 32\)") as info:
        chip.set_synapse_switches(1, index=(np.array([224]), np.array([0])))
    assert "(224, 32)" in str(info.value)
    assert same_image(chip.image, before)


def test_values_that_do_not_fit_the_selection_are_a_config_error():
    chip = HICANNConfig()
    before = image_copy(chip)
    with pytest.raises(ConfigError, match=r"values of shape \(3,\) do not fit the selection of shape \(2,\)"):
        chip.set_crossbar_switches([1, 1, 1], index=(np.array([0, 1]), np.array([0, 0])))
    assert same_image(chip.image, before)


def test_feed_driver_closes_exactly_its_switches():
    chip = HICANNConfig()
    hline = C.HLineOnHICANN(8)
    driver, vline = next((d, v) for d, v in
                         ((r, v) for v in hline.crossbar_vlines() for r in v.synapse_switch_rows())
                         if C.SynapseSwitchOnHICANN(switch_row=d, vline=v.value).driver_location == "local")
    feed_driver(chip, C.SynapseDriverOnHICANN(driver), vline, hline=hline)
    assert np.argwhere(chip.crossbar_switches).tolist() == [[8, vline.value // 32]]
    assert chip.synapse_switch(C.SynapseSwitchOnHICANN(switch_row=driver, vline=vline.value))
    assert chip.synapse_switches.sum() == 1
    assert chip.synapse_drivers[driver].enable and chip.synapse_drivers[driver].locin


@st.composite
def feeds(draw):
    """Distinct drivers of one chip, each fed from a vertical line it reaches, some through a horizontal line."""
    pairs = sorted({(r, v.value, h.value) for h in (C.HLineOnHICANN(x) for x in range(0, 64, 3))
                    for v in h.crossbar_vlines() for r in v.synapse_switch_rows()
                    if C.SynapseSwitchOnHICANN(switch_row=r, vline=v.value).driver_location == "local"})
    chosen = draw(st.lists(st.sampled_from(pairs), max_size=30, unique_by=lambda p: p[0]))
    return [(C.SynapseDriverOnHICANN(d), C.VLineOnHICANN(v), C.HLineOnHICANN(h) if draw(st.booleans()) else None)
            for d, v, h in chosen]


@given(feeds())
def test_feed_drivers_equals_feed_driver_in_turn(batch):
    one_by_one, batched = HICANNConfig(), HICANNConfig()
    for driver, vline, hline in batch:
        feed_driver(one_by_one, driver, vline, hline=hline)
    feed_drivers(batched, batch)
    assert same_image(batched.image, one_by_one.image)


def test_feed_drivers_refuses_a_switch_that_does_not_exist_and_changes_nothing():
    chip = HICANNConfig()
    before = image_copy(chip)
    vline = C.VLineOnHICANN(0)
    row = next(r for r in range(224) if r not in vline.synapse_switch_rows())
    with pytest.raises(CoordinateError, match=str(row)):
        feed_drivers(chip, [(C.SynapseDriverOnHICANN(row), vline, None)])
    assert same_image(chip.image, before)
