"""The strict reader of calibration-set files: every bad file is refused by name before anything is written."""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from hal.calibration import open_store
from hal.calibration.setfile import read_set_file
from hal.cli import main
from hal.errors import FileFormatError, HalError


def _nan_coefficient(m, a):
    a["0/coefficients.npy"][3, 0] = np.nan


def _inf_domain(m, a):
    a["1/domain_hi.npy"][7] = np.inf


def _float_success(m, a):
    a["0/success.npy"] = a["0/success.npy"].astype(float)


def _string_array(m, a):
    a["2/rms_dac.npy"] = np.array(["x"] * 4)


def _extra_array(m, a):
    a["0/gain.npy"] = np.zeros(512)


def _points_missing(m, a):
    del a["1/points.npy"]


def _wrong_circuits(m, a):
    for name in ("coefficients", "domain_lo", "domain_hi", "rms_dac", "success"):
        a[f"0/{name}.npy"] = a[f"0/{name}.npy"][:100]


def _set(path, value):
    def mutate(m, a):
        *parents, last = path
        node = m
        for p in parents:
            node = node[p]
        node[last] = value

    return mutate


def _drop(path):
    def mutate(m, a):
        *parents, last = path
        node = m
        for p in parents:
            node = node[p]
        del node[last]

    return mutate


def _duplicate(m, a):
    m["entries"][1] = dict(m["entries"][0])
    for name in ("coefficients", "domain_lo", "domain_hi", "rms_dac", "success"):
        a[f"1/{name}.npy"] = a[f"0/{name}.npy"]
    del a["1/points.npy"]


#: (what, mutation of (manifest, arrays), words the message must hold)
BAD = [
    ("NaN coefficient", _nan_coefficient, "entries[0] (HICANN 12 e_l_mv): Transform[HICANN 12 e_l_mv].coefficients[3, 0]: nan out of range; valid a finite number"),
    ("infinite domain", _inf_domain, "domain_hi[7]: inf out of range; valid a finite number"),
    ("altered hash", _set(["content_hash"], "0" * 64), "differs from the manifest's 000000000000...: the file was altered"),
    ("hash not a digest", _set(["content_hash"], "abc"), "content_hash: 'abc' out of range; valid a sha256 digest"),
    ("unknown parameter", _set(["entries", 0, "parameter"], "e_leak"), "entries[0].parameter: 'e_leak' out of range; valid one of e_l_mv,"),
    ("HICANN 999", _set(["entries", 0, "hicann"], 999), "entries[0].hicann: 999 out of range; valid 0..383"),
    ("HICANN as text", _set(["entries", 2, "hicann"], "13"), "entries[2].hicann: '13' is not an integer"),
    ("wafer -7", _set(["set", "wafer"], -7), "set.wafer: -7 out of range; valid 0..65535"),
    ("wafer 3.0", _set(["set", "wafer"], 3.0), "set.wafer: 3.0 is not an integer"),
    ("wafer true", _set(["set", "wafer"], True), "set.wafer: True is not an integer"),
    ("negative seed", _set(["set", "seed"], -1), "set.seed: -1 out of range; valid 0..9223372036854775807"),
    ("unknown key", _set(["set", "owner"], "me"), "set: unknown key(s) owner; valid keys: id, wafer,"),
    ("missing key", _drop(["set", "backend"]), "set: missing key(s) backend"),
    ("missing entries", _drop(["entries"]), "missing key(s) entries"),
    ("wrong unit", _set(["entries", 0, "unit"], "V"), "Transform[HICANN 12 e_l_mv].unit: 'V' out of range; valid 'mV'"),
    ("unknown kind", _set(["entries", 0, "kind"], "spline"), "entries[0].kind: 'spline' out of range; valid one of polynomial"),
    ("success as floats", _float_success, "entries[0] (HICANN 12 e_l_mv).success: dtype float64 not valid; valid bool"),
    ("text array", _string_array, "dtype <U1"),  # refused by the archive reader or by the set reader
    ("unknown array", _extra_array, "entries[0] (HICANN 12 e_l_mv): unknown array(s) gain"),
    ("lookup without points", _points_missing, "missing array(s) points"),
    ("100 circuits", _wrong_circuits, "Transform[HICANN 12 e_l_mv].circuits: 100 out of range; valid 512 (one per denmem)"),
    ("entry twice", _duplicate, "HICANN 12 'e_l_mv' given twice"),
    ("no entries", lambda m, a: (m.update(entries=[]), a.clear()), "holds no transforms"),
]


@pytest.fixture
def database(tmp_path, set_file):
    """A database holding one imported set; returns (path, its bytes, its set list)."""
    path = tmp_path / "cal.db"
    with open_store(path) as store:
        store.import_set(set_file)
        sets = store.sets(include_incomplete=True)
    return path, path.read_bytes(), sets


@pytest.mark.parametrize("what, mutate, message", BAD, ids=[b[0] for b in BAD])
def test_a_bad_file_is_refused_by_name_and_the_database_is_unchanged(tmp_path, set_file, setfiles, database, capsys, what, mutate, message):
    manifest, arrays = setfiles.read(set_file)
    mutate(manifest, arrays)
    bad = tmp_path / "bad.hal"
    setfiles.write(bad, manifest, arrays)
    with pytest.raises(FileFormatError) as info:
        read_set_file(bad)
    assert message in str(info.value) and str(bad) in str(info.value)
    path, before, sets = database
    with open_store(path) as store, pytest.raises(FileFormatError):
        store.import_set(bad)
    assert main(["calib", "import", "--db", str(path), str(bad)]) == 2
    assert message in capsys.readouterr().err
    assert path.read_bytes() == before
    with open_store(path, read_only=True) as store:
        assert store.sets(include_incomplete=True) == sets


def test_a_refused_import_does_not_create_the_database(tmp_path, set_file, setfiles):
    manifest, arrays = setfiles.read(set_file)
    manifest["set"]["wafer"] = -7
    setfiles.write(tmp_path / "bad.hal", manifest, arrays)
    assert main(["calib", "import", "--db", str(tmp_path / "new.db"), str(tmp_path / "bad.hal")]) == 2
    assert not (tmp_path / "new.db").exists()


def test_a_good_file_round_trips(tmp_path, set_file, setfiles):
    found = read_set_file(set_file)
    assert [(h, t.parameter) for h, t in found.entries] == [(h, t.parameter) for h, t in setfiles.entries()]
    assert all(t == u for (_, t), (_, u) in zip(found.entries, setfiles.entries()))
    with open_store(tmp_path / "cal.db") as store:
        set_id = store.import_set(set_file)
        info = store.set_info(set_id)
        assert info.complete and info.content_hash == found.content_hash == store.content_hash(set_id)
        assert (info.wafer, info.seed, info.backend) == (3, 11, "emulator") and "imported from good.hal (set 1" in info.note


# -- fuzzing: whatever the file holds, the reader answers with a value or a HalError -----------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=8,
)
_paths = st.sampled_from([
    ["format"], ["version"], ["content_hash"], ["set"], ["entries"], ["set", "id"], ["set", "wafer"], ["set", "seed"],
    ["set", "created"], ["set", "note"], ["entries", 0], ["entries", 0, "hicann"], ["entries", 1, "parameter"],
    ["entries", 1, "kind"], ["entries", 2, "unit"], ["entries", 2], ["new"], ["set", "new"], ["entries", 0, "new"],
])
_array_names = st.sampled_from(["0/coefficients.npy", "0/success.npy", "1/points.npy", "1/domain_lo.npy", "2/rms_dac.npy",
                                "2/coefficients.npy", "3/coefficients.npy", "stray.npy"])
_arrays = hnp.arrays(
    dtype=st.sampled_from([np.float64, np.float32, np.int64, np.uint8, np.bool_, np.complex128, np.dtype("<U3"), np.dtype("S2")]),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=6),
)


def _apply(manifest, path, value):
    node = manifest
    for p in path[:-1]:
        node = node[p] if isinstance(node, (dict, list)) and (p in node if isinstance(node, dict) else p < len(node)) else None
        if node is None:
            return
    if isinstance(node, dict):
        if value is _DELETE:
            node.pop(path[-1], None)
        else:
            node[path[-1]] = value
    elif isinstance(node, list) and path[-1] < len(node):
        if value is _DELETE:
            del node[path[-1]]
        else:
            node[path[-1]] = value


_DELETE = object()


def _read_or_typed_error(path: Path) -> None:
    try:
        found = read_set_file(path)
    except HalError:
        return
    # accepted: then it imports, complete, with the hash it declares
    with tempfile.TemporaryDirectory() as folder, open_store(Path(folder) / "cal.db") as store:
        assert store.set_info(store.add_imported(found, path.name)).content_hash == found.content_hash


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(edits=st.lists(st.tuples(_paths, st.just(_DELETE) | _json), max_size=3),
       array_edits=st.lists(st.tuples(_array_names, st.none() | _arrays), max_size=2))
def test_fuzz_mutated_files_give_a_value_or_a_typed_error(set_file, setfiles, fuzz_dir, edits, array_edits):
    manifest, arrays = setfiles.read(set_file)
    manifest = copy.deepcopy(manifest)
    for path, value in edits:
        _apply(manifest, path, value)
    for name, array in array_edits:
        if array is None:
            arrays.pop(name, None)
        else:
            arrays[name] = array
    path = fuzz_dir / "mutated.hal"
    setfiles.write(path, manifest, arrays)
    _read_or_typed_error(path)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(manifest=_json)
def test_fuzz_random_json_manifests_give_a_typed_error(setfiles, fuzz_dir, manifest):
    path = fuzz_dir / "random.hal"
    setfiles.write(path, manifest, {})
    with pytest.raises(HalError):
        read_set_file(path)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 255)), min_size=1, max_size=4), cut=st.none() | st.integers(0, 10**6))
def test_fuzz_damaged_bytes_give_a_value_or_a_typed_error(set_file, fuzz_dir, flips, cut):
    data = bytearray(set_file.read_bytes())
    for where, xor in flips:
        data[where % len(data)] ^= xor
    if cut is not None:
        data = data[: cut % len(data)]
    path = fuzz_dir / "damaged.hal"
    path.write_bytes(bytes(data))
    _read_or_typed_error(path)
