"""The network reader and constructors refuse instead of coercing, and bound what a file can ask for.

Each test is one finding of the hostile first use (issue 13): the error's type, and a message
that names the place, the value and what is valid.
"""

from __future__ import annotations

import json
import time
import tracemalloc

import numpy as np
import pytest

from hal.errors import ConfigError, ConfigValueError, FileFormatError, ResourceError
from hal.network import Network, Population, Projection, SourcePopulation, load_network, save_network
from hal.network import model as network_model


def _network() -> Network:
    return Network([Population("a", 3), Population("b", 2)], [SourcePopulation("s", 2)],
                   [Projection("s", "a", weight_bits=3), Projection("a", "b", "inhibitory", "list", pairs=((0, 1),), weight_bits=2)])


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "net.json"
    save_network(_network(), path)
    return path, json.loads(path.read_text())


def _load_edited(saved, edit) -> FileFormatError:
    path, data = saved
    edit(data)
    path.write_text(json.dumps(data))
    with pytest.raises(FileFormatError) as info:
        load_network(path)
    return info.value


@pytest.mark.parametrize(("value", "message"), [
    (3.7, "populations[1].size: 3.7 is not an integer"),
    (3.0, "populations[1].size: 3.0 is not an integer"),
    (True, "populations[1].size: True is not an integer"),
    ("3", "populations[1].size: '3' is not an integer"),
    (0, "populations[1].size: 0 out of range; valid 1..196608"),
    (10**9, "populations[1].size: 1000000000 out of range; valid 1..196608"),
])
def test_a_population_size_in_a_file_must_be_an_integer_in_range(saved, value, message):
    error = _load_edited(saved, lambda d: d["populations"][1].__setitem__("size", value))
    assert str(error) == f"{saved[0]}: invalid network: {message}"


@pytest.mark.parametrize(("make", "message"), [
    (lambda: Population("b", 3.7), "Population.size: 3.7 out of range; valid an integer 1..196608"),
    (lambda: Population("b", True), "Population.size: True out of range; valid an integer 1..196608"),
    (lambda: SourcePopulation("s", 196609), "SourcePopulation.size: 196609 out of range; valid 1..196608"),
])
def test_population_sizes_in_python_are_checked_alike(make, message):
    with pytest.raises(ConfigValueError) as info:
        make()
    assert str(info.value) == message


def test_weight_bits_of_7_5_are_refused_in_files_and_in_python(saved):
    error = _load_edited(saved, lambda d: d["projections"][0].__setitem__("weight_bits", 7.5))
    assert "projections[0].weight_bits: 7.5 out of range; valid an integer 0..15" in str(error)
    with pytest.raises(ConfigValueError, match=r"^Projection.weight_bits: 7.5 out of range; valid an integer 0..15"):
        Projection("s", "a", weight_bits=7.5)
    with pytest.raises(ConfigValueError, match=r"^Projection.weight_bits\[0, 1\]: 2.5 out of range; valid an integer 0..15.*not an array of float64"):
        Projection("a", "b", connector="matrix", weight_bits=np.array([[1, 2.5, 3], [0, 0, 0]]))
    with pytest.raises(ConfigValueError, match=r"^Projection.weight_bits: True out of range"):
        Projection("s", "a", weight_bits=True)
    # Whole numbers in an integer array are what the trainers pass: accepted.
    assert Projection("a", "b", connector="matrix", weight_bits=np.array([[1, 2, 3], [0, 0, 15]], dtype=np.int64)).weight_bits.sum() == 21


def test_out_of_range_weights_name_the_value_and_the_4_bit_range(saved):
    error = _load_edited(saved, lambda d: d["projections"][0].__setitem__("weight_bits", 16))
    assert "Projection s->a: weight_bits gives 16; valid 0..15 (4-bit; the sign goes into the receptor)" in str(error)
    with pytest.raises(ConfigError, match=r"weight_ns / 0.68 nS per bit gives 22.0; valid 0..15"):
        Network([Population("a", 2)], [SourcePopulation("s", 2)], [Projection("s", "a", weight_ns=15.0)])


def test_pairs_are_refused_with_any_connector_but_list(saved):
    message = "Projection s->a: pairs given with connector 'all_to_all', which would ignore them; use connector 'list' or leave pairs out"
    with pytest.raises(ConfigError) as info:
        Projection("s", "a", weight_bits=1, pairs=((0, 0),))
    assert str(info.value) == message
    error = _load_edited(saved, lambda d: d["projections"][0].__setitem__("pairs", [[0, 0]]))
    assert f"projections[0]: {message}" in str(error)
    error = _load_edited(saved, lambda d: d["projections"][1].__setitem__("pairs", [[0, 1.5]]))
    assert "projections[1].pairs[0][1]: 1.5 is not an integer" in str(error)


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d["projections"][0].__setitem__("receptor", "exc"),
     "projections[0].receptor: 'exc' out of range; valid one of excitatory, inhibitory"),
    (lambda d: d.__setitem__("ns_per_weight_bit", -1),
     "ns_per_weight_bit: -1 out of range; valid a finite conductance > 0 nS per weight bit"),
    (lambda d: d["populations"][0]["params"].__setitem__("tau_m_ms", 0),
     "populations[0].params.tau_m_ms: 0 out of range; valid a finite time > 0 ms"),
    (lambda d: d["populations"][0]["params"].__setitem__("t_ref_ms", -2.0),
     "populations[0].params.t_ref_ms: -2.0 out of range; valid a finite time > 0 ms"),
    (lambda d: d["populations"][0].__setitem__("name", 5), "populations[0].name: 5 is not a string"),
    (lambda d: d["populations"][0].__setitem__("colour", 1),
     "populations[0]: unknown key(s) colour; valid keys: name, size, params"),
    (lambda d: d["populations"][0].pop("size"), "populations[0]: missing key(s) size; required: name, size, params"),
    (lambda d: d["populations"][0].pop("params"), "populations[0]: missing key(s) params; required: name, size, params"),
    (lambda d: d["populations"][0]["params"].pop("v_th_mv"), "populations[0].params: missing key(s) v_th_mv"),
    (lambda d: d.__setitem__("populations", {"a": 3}), "populations: expected a list, got dict"),
])
def test_the_validators_own_messages_reach_the_user_with_the_path(saved, edit, message):
    error = str(_load_edited(saved, edit))
    assert message in error
    assert "invalid value" not in error and "@ $" not in error


@pytest.mark.parametrize(("text", "fragment"), [
    ("[" * 100_000 + "]" * 100_000, "not JSON (nested 100000 levels deep; hal reads JSON nested at most 32 levels)"),
    ('{"format": "hal-network", "version": 1, "ns_per_weight_bit": NaN}', "not JSON (NaN is not a JSON number)"),
    ('{"format": "hal-network", "version": 1, "ns_per_weight_bit": 1e999}', "not JSON (1e999 is too large for a float)"),
    ('{"format": "hal-network", "version": true}', "format version True not supported; this hal reads 1"),
])
def test_files_are_refused_before_or_while_parsing(tmp_path, text, fragment):
    path = tmp_path / "bad.json"
    path.write_text(text)
    start = time.perf_counter()
    with pytest.raises(FileFormatError) as info:
        load_network(path)
    assert fragment in str(info.value)
    assert time.perf_counter() - start < 2.0


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(saved, monkeypatch):
    path, _ = saved
    monkeypatch.setattr(network_model, "MAX_FILE_BYTES", 100)
    with pytest.raises(FileFormatError, match=r"bytes; network files are read up to 100 bytes"):
        load_network(path)


def test_a_network_larger_than_a_wafer_is_refused_from_its_sizes(tmp_path):
    tracemalloc.start()
    try:
        with pytest.raises(ResourceError) as info:
            Network([Population("a", 10_000)], [SourcePopulation("s", 10_000)], [Projection("s", "a", weight_bits=1)])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(info.value) == ("Network: projections[0..0] have 100000000 synapses; a wafer has 44040192 synapse circuits, "
                               "55959808 too many")
    assert peak < 50 * 2**20  # no synapse was built to find this out
    with pytest.raises(ResourceError, match="Network: 200000 neurons; a wafer has 196608 neuron circuits, 3392 too many"):
        Network([Population("a", 100_000), Population("b", 100_000)])


def test_weights_of_the_wrong_shape_name_the_valid_shapes():
    with pytest.raises(ConfigError, match=r"weight_bits of shape \(3, 2\); valid a scalar or \(6,\) or \(2, 3\)"):
        Network([Population("a", 3), Population("b", 2)], [], [Projection("a", "b", connector="matrix", weight_bits=np.ones((3, 2), int))])


def test_save_refuses_a_directory_before_writing(tmp_path):
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(FileFormatError, match="is a directory; give a file name for the network"):
        save_network(_network(), tmp_path)
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileFormatError, match="is not a directory"):
        save_network(_network(), tmp_path / "file" / "net.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*before, "file"])
    assert (tmp_path / "file").read_text() == "x"
