"""Fuzzing the readers of networks, configurations and experiments: any input ends in a value or a hal error.

Every reader is fed valid files mutated at random (a JSON value replaced, a key dropped or
added, an array member swapped for another dtype or shape, bytes flipped, the file cut short)
and plain random JSON and bytes. The property: the reader returns, or raises a subclass of
:class:`hal.errors.HalError` -- never a bare ``KeyError``, ``TypeError``, ``RecursionError`` or
``MemoryError``. The default run is small; ``-m slow`` runs the same properties with more examples.
"""

from __future__ import annotations

import functools
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hal
from hal import coordinates as C
from hal.configuration.io import load_config, save_config
from hal.errors import HalError
from hal.experiment.io import load_experiment, load_recording_summary, save_experiment
from hal.hardware.wafer import WaferConfig
from hal.network import Network, Population, Projection, SourcePopulation, load_network, save_network
from hal.testing.networks import layered_network, poisson_experiment

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
SLOW = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


# -- valid files to start from -----------------------------------------------------------------


def _network() -> Network:
    return Network([Population("a", 3), Population("b", 2)], [SourcePopulation("s", 2)],
                   [Projection("s", "a", weight_bits=3),
                    Projection("a", "b", "inhibitory", "list", pairs=((0, 1), (2, 0)), weight_bits=[2, 5]),
                    Projection("a", "b", connector="matrix", weight_ns=np.full((2, 3), 0.68), ns_per_weight_bit=0.34)])


def _config() -> WaferConfig:
    config = WaferConfig(C.Wafer(7))
    hicann = config.hicann(C.HICANNOnWafer(100))
    hicann.set_weights(3, rows=slice(0, 4))
    hicann.neurons.update(C.NeuronOnHICANN(x=4, y=0), l1_address=17, activate_firing=True)
    hicann.synapse_drivers.update(C.SynapseDriverOnHICANN(0), enable=True, locin=True)
    config.fpga(C.HICANNOnWafer(100).to_fpga()).links.update(C.HICANNOnWafer(100).to_highspeed_link(), enable=True)
    return config


def _experiment():
    net = layered_network((2, 1), [np.array([[4, -4]])])
    exp = poisson_experiment(net, np.full((2, 2), 20.0), seed=5, record_membrane=[net.neuron(0, 1)])
    spikes = hal.SpikeArrayInput([net.inputs[0]], [([1.0, 2.0], [0, 0])] * 2)
    return hal.Experiment(exp.config, exp.duration_ms, [*exp.inputs, spikes], record_membrane=exp.record_membrane, seed=5)


@functools.cache
def _valid(kind: str, directory: str) -> bytes:
    path = Path(directory) / f"valid.{kind}"
    {"network": lambda: save_network(_network(), path), "config": lambda: save_config(_config(), path),
     "experiment": lambda: save_experiment(_experiment(), path)}[kind]()
    return path.read_bytes()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _read(reader, path: Path) -> None:
    """The property: ``reader`` returns, or raises a HalError (anything else fails the test)."""
    try:
        reader(path)
    except HalError:
        pass


# -- mutations -----------------------------------------------------------------------------------

_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False, allow_infinity=False),
                     st.sampled_from([0, 1, -1, 15, 16, 3.7, 7.5, 1e308, 2**63, "", "0", "05", "٥", "excitatory", "list", "poisson"]),
                     st.text(max_size=6))
_JSON = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
                     max_leaves=12)


def _places(tree, path=()):
    """Every (path to a container, key in it) of a JSON tree."""
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield path, k
            yield from _places(v, (*path, k))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            yield path, i
            yield from _places(v, (*path, i))


def _at(tree, path):
    for k in path:
        tree = tree[k]
    return tree


@st.composite
def mutated_json(draw, tree):
    """``tree`` with a few random edits: replace a value, drop a key or item, add a key or item."""
    tree = json.loads(json.dumps(tree))
    for _ in range(draw(st.integers(1, 3))):
        places = list(_places(tree))
        if not places:
            return draw(_JSON)
        path, key = draw(st.sampled_from(places))
        container = _at(tree, path)
        op = draw(st.sampled_from(["replace", "replace", "drop", "add", "nest"]))
        if op == "replace":
            container[key] = draw(_JSON)
        elif op == "drop":
            del container[key]
        elif op == "add" and isinstance(container, dict):
            container[draw(st.text(min_size=1, max_size=6))] = draw(_JSON)
        elif op == "add":
            container.append(draw(_JSON))
        else:
            container[key] = [container[key]] if draw(st.booleans()) else {"x": container[key]}
    return tree


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


_ARRAYS = st.one_of(
    st.builds(lambda dtype, shape, fill: np.full(shape, fill).astype(dtype),
              st.sampled_from(["u1", "u2", "i8", "f8", "?", "<U2", ">u2"]),
              st.lists(st.integers(0, 5), max_size=3).map(tuple), st.sampled_from([0, 1, 15, 16, -1, 1e12, np.nan])),
    st.sampled_from([np.zeros((448, 256), np.uint8), np.full((448, 256), 16, np.uint8), np.zeros((4, 24, 129), np.uint16)]),
)
_RAW_MEMBER = st.one_of(
    _ARRAYS.map(_npy),
    st.binary(max_size=64),
    # A header that declares far more than follows (to allocate before reading would be the bug).
    st.sampled_from([b"\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000), }" + b" " * 44 + b"\n",
                     b"\x93NUMPY\x03\x00\x10\x00\x00\x00{'descr': '<f8'}"]),
)


def _entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


@st.composite
def mutated_archive(draw, data: bytes):
    """A valid archive with its manifest edited, members swapped, added or removed, or its bytes damaged."""
    entries = _entries(data)
    op = draw(st.sampled_from(["manifest", "manifest", "member", "add", "remove", "bytes", "cut"]))
    if op == "manifest":
        entries["manifest.json"] = json.dumps(draw(mutated_json(json.loads(entries["manifest.json"])))).encode()
    elif op == "member":
        entries[draw(st.sampled_from(sorted(entries)))] = draw(_RAW_MEMBER)
    elif op == "add":
        entries[draw(st.sampled_from(["x.npy", "hicann/5/synapse_weight.npy", "config/hicann/101/fg_cell.npy",
                                      "inputs/9/rates_hz.npy", "inputs/0/7/index.npy", "../evil"]))] = draw(_RAW_MEMBER)
    elif op == "remove":
        del entries[draw(st.sampled_from(sorted(entries)))]
    if op == "bytes":
        raw = bytearray(data)
        for _ in range(draw(st.integers(1, 8))):
            raw[draw(st.integers(0, len(raw) - 1))] = draw(st.integers(0, 255))
        return bytes(raw)
    if op == "cut":
        return data[: draw(st.integers(0, len(data) - 1))]
    return _zip(entries)


_ANY_BYTES = st.one_of(st.binary(max_size=200), _JSON.map(lambda v: json.dumps(v).encode()),
                       st.builds(lambda v: _zip({"manifest.json": json.dumps(v).encode()}), _JSON))


# -- the properties ------------------------------------------------------------------------------

_NETWORK_EDITS = st.data()


def _network_case(workdir, data, base: bytes) -> Path:
    path = workdir / "case.json"
    tree = json.loads(base)
    path.write_bytes(json.dumps(data.draw(mutated_json(tree))).encode())
    return path


def _archive_case(workdir, data, base: bytes, name: str) -> Path:
    path = workdir / name
    path.write_bytes(data.draw(mutated_archive(base)))
    return path


def _bytes_case(workdir, data, name: str) -> Path:
    path = workdir / name
    path.write_bytes(data.draw(_ANY_BYTES))
    return path


READERS = {"network": load_network, "config": load_config, "experiment": load_experiment}


def _fuzz_network(workdir, data):
    _read(load_network, _network_case(workdir, data, _valid("network", str(workdir))))


def _fuzz_archive(workdir, data, kind):
    _read(READERS[kind], _archive_case(workdir, data, _valid(kind, str(workdir)), f"case.{kind}"))


def _fuzz_bytes(workdir, data):
    path = _bytes_case(workdir, data, "case.bin")
    for reader in (load_network, load_config, load_experiment, load_recording_summary):
        _read(reader, path)


@FAST
@given(data=st.data())
def test_network_reader_on_mutated_files(workdir, data):
    _fuzz_network(workdir, data)


@FAST
@given(data=st.data())
def test_config_reader_on_mutated_files(workdir, data):
    _fuzz_archive(workdir, data, "config")


@FAST
@given(data=st.data())
def test_experiment_reader_on_mutated_files(workdir, data):
    _fuzz_archive(workdir, data, "experiment")


@FAST
@given(data=st.data())
def test_every_reader_on_random_bytes_and_json(workdir, data):
    _fuzz_bytes(workdir, data)


@pytest.mark.slow
@SLOW
@given(data=st.data())
def test_network_reader_on_mutated_files_long(workdir, data):
    _fuzz_network(workdir, data)


@pytest.mark.slow
@SLOW
@given(data=st.data())
def test_config_reader_on_mutated_files_long(workdir, data):
    _fuzz_archive(workdir, data, "config")


@pytest.mark.slow
@SLOW
@given(data=st.data())
def test_experiment_reader_on_mutated_files_long(workdir, data):
    _fuzz_archive(workdir, data, "experiment")


@pytest.mark.slow
@SLOW
@given(data=st.data())
def test_every_reader_on_random_bytes_and_json_long(workdir, data):
    _fuzz_bytes(workdir, data)


def test_the_unmutated_files_load(workdir):
    """The fuzzing starts from files that are valid (else it would only test the first check)."""
    for kind, reader in READERS.items():
        path = workdir / f"ok.{kind}"
        path.write_bytes(_valid(kind, str(workdir)))
        assert reader(path) is not None
