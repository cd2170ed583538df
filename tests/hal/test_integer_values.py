"""One reading of integer values for registers and typed arrays (hal.registers), and hal.files.existing_file."""

from __future__ import annotations

import numpy as np
import pytest

from hal.errors import FieldOverflowError, FileFormatError
from hal.files import existing_file
from hal.hardware.hicann import SYNAPSE_WEIGHTS, DenmemConfig

REG = DenmemConfig.REGISTER


def _check_register(values):
    return REG.check_field("l1_address", values)


def _check_array(values):
    return SYNAPSE_WEIGHTS.check(values)


@pytest.mark.parametrize("check", [_check_register, _check_array], ids=["register field", "typed array"])
def test_integral_floats_and_bools_are_accepted_as_integers(check):
    assert check(np.array([3.0, 0.0, 15.0])).tolist() == [3, 0, 15]
    assert check(np.array([True, False])).tolist() == [1, 0]
    assert check([7, 2]).tolist() == [7, 2]


@pytest.mark.parametrize(
    "check, valid",
    [(_check_register, "integers 0..63"), (_check_array, "integers 0..15")],
    ids=["register field", "typed array"],
)
@pytest.mark.parametrize("values, shown", [([1.5, 2.0], "1.5"), ([np.nan], "nan"), (["a"], "'a'")])
def test_other_values_name_the_first_element_and_what_is_valid(check, valid, values, shown):
    with pytest.raises(FieldOverflowError, match=rf": {shown} does not fit; valid {valid}$") as info:
        check(np.array(values))
    assert not isinstance(info.value.value, np.generic)  # printed as a plain Python value


def test_existing_file_returns_a_path_or_names_the_missing_file(tmp_path):
    f = tmp_path / "x.json"
    f.write_text("{}")
    assert existing_file(str(f)) == f
    for missing in (tmp_path / "nope.json", tmp_path):
        with pytest.raises(FileFormatError, match=r"no such file$") as info:
            existing_file(missing)
        assert info.value.path == str(missing)
