"""Write-stream files are read strictly and within bounds, like configuration files (issue 13).

:meth:`WriteStream.load` takes exactly what :meth:`WriteStream.save` writes: members named
``N/indices.npy`` and ``N/words.npy`` only, none larger than the largest register's words
(checked from the zip's directory, before decompressing), a manifest with exactly ``writes``,
records of exactly stage, subsystem, chip and register that agree with each other, and arrays
that fit their register. Every refusal is a :class:`FileFormatError` naming the file and the
write, and leaves the file as it was.
"""

from __future__ import annotations

import io
import json
import struct
import time
import zipfile

import numpy as np
import pytest

from hal import coordinates as C
from hal.configuration import Configurator, RegisterImageSink, WriteStream
from hal.configuration.configurator import RegisterWrite
from hal.errors import FileFormatError
from hal.hardware.hicann import HICANN_REGISTERS


@pytest.fixture
def saved(small_wafer_config, tmp_path):
    """A saved stream of the shared small configuration: (path, the stream, its zip entries)."""
    stream = Configurator().plan(small_wafer_config)
    path = tmp_path / "stream.hal"
    stream.save(path)
    with zipfile.ZipFile(path) as zf:
        entries = {n: zf.read(n) for n in zf.namelist()}
    return path, stream, entries


def _write(path, entries: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def _refused(path) -> str:
    """Load ``path``: it must be refused with a FileFormatError naming it, and stay byte-identical."""
    before = path.read_bytes()
    with pytest.raises(FileFormatError) as info:
        WriteStream.load(path)
    assert info.value.path == str(path) and str(info.value).startswith(f"{path}: ")
    assert path.read_bytes() == before
    return str(info.value)


def _index_of(stream: WriteStream, register: str) -> int:
    return next(i for i, w in enumerate(stream.writes) if w.register == register)


def test_a_saved_stream_loads_equal_and_replays_to_the_configuration(saved, small_wafer_config):
    path, stream, _ = saved
    loaded = WriteStream.load(path)
    assert loaded == stream and loaded.stages() == stream.stages()
    sink = RegisterImageSink()
    loaded.replay(sink)
    for chip, config in small_wafer_config.hicanns():
        assert sink.chip_config(chip) == config


def test_an_empty_stream_and_a_weights_only_stream_round_trip(small_wafer_config, tmp_path):
    WriteStream(()).save(tmp_path / "empty.hal")
    assert WriteStream.load(tmp_path / "empty.hal") == WriteStream(())
    configurator = Configurator()
    configurator.apply(small_wafer_config, RegisterImageSink())
    small_wafer_config.hicann(C.HICANNOnWafer(100)).set_weights(15, rows=slice(0, 1))
    stream = configurator.plan(small_wafer_config)
    assert stream.registers() == {"synapse_weight"}
    stream.save(tmp_path / "weights.hal")
    assert WriteStream.load(tmp_path / "weights.hal") == stream


def _edit(saved, edit) -> str:
    path, stream, entries = saved
    manifest = json.loads(entries["manifest.json"])
    edit(manifest, stream)
    _write(path, {**entries, "manifest.json": json.dumps(manifest).encode()})
    return _refused(path)


def _record(m, stream, register="neuron"):
    return m["writes"][_index_of(stream, register)]


MANIFEST_CASES = [
    (lambda m, s: m.update(extra=1), "invalid write stream: unknown key(s) ['extra'] in the manifest; valid: format, version, writes"),
    (lambda m, s: m.pop("writes"), "writes: expected a list of write records, got NoneType"),
    (lambda m, s: m.update(writes={"0": {}}), "writes: expected a list of write records, got dict"),
    (lambda m, s: m["writes"].__setitem__(0, "fpga"), "writes[0]: expected an object with exactly the keys stage, subsystem, chip, register; got str"),
    (lambda m, s: m["writes"][0].pop("stage"), "writes[0]: expected an object with exactly the keys stage, subsystem, chip, register; got ['chip', 'register', 'subsystem']"),
    (lambda m, s: m["writes"][0].update(colour="red"), "writes[0]: expected an object with exactly the keys"),
    (lambda m, s: m["writes"][0].update(chip=5), "writes[0].chip: 5 is not a string"),
    (lambda m, s: _record(m, s).update(subsystem="neuronz"), "writes[{i}].subsystem: unknown subsystem 'neuronz'; did you mean 'neurons'?"),
    (lambda m, s: _record(m, s).update(stage="init"), "writes[{i}].stage: 'init'; subsystem neurons is written in stage 'neurons'"),
    (lambda m, s: _record(m, s).update(chip="hicann/0100"), "writes[{i}].chip: 'hicann/0100' is not a chip; valid hicann/N or fpga/N (N a decimal)"),
    (lambda m, s: _record(m, s).update(chip="hicann/+100"), "writes[{i}].chip: 'hicann/+100' is not a chip"),
    (lambda m, s: _record(m, s).update(chip="hicann/\u0661\u0660\u0660"), "is not a chip; valid hicann/N or fpga/N"),
    (lambda m, s: _record(m, s).update(chip="hicann/384"), "writes[{i}].chip: 'hicann/384' out of range; valid hicann/0..hicann/383"),
    (lambda m, s: _record(m, s).update(chip="fpga/12"), "writes[{i}].chip: 'fpga/12'; subsystem neurons is on hicann chips"),
    (lambda m, s: _record(m, s).update(register="synapse_weight"),
     "writes[{i}].register: unknown register of subsystem neurons 'synapse_weight'; known: neuron, neuron_config, neuron_quad"),
]


@pytest.mark.parametrize(("edit", "message"), MANIFEST_CASES, ids=[f"manifest-{i}" for i in range(len(MANIFEST_CASES))])
def test_every_manifest_field_is_checked(saved, edit, message):
    path, stream, _ = saved
    error = _edit(saved, edit)
    assert message.format(i=_index_of(stream, "neuron")) in error


def _replace_array(saved, register: str, part: str, array: np.ndarray) -> str:
    path, stream, entries = saved
    i = _index_of(stream, register)
    _write(path, {**entries, f"{i}/{part}.npy": _npy(array)})
    return _refused(path).replace(f"writes[{i}]", "writes[i]")


def test_every_array_is_checked_against_its_register(saved):
    weights = HICANN_REGISTERS["synapse_weight"]
    # synapse_weight: 14336 instances of 32 bits
    n = _words_of(saved, "neuron")
    assert f"writes[i]: {n + 1} indices but {n} words; expected one word per index" in _replace_array(
        saved, "neuron", "indices", np.arange(n + 1, dtype=np.uint32))
    assert "writes[i]: index 14336 out of range; valid synapse_weight 0..14335" in _replace_array(
        saved, "synapse_weight", "indices", np.full(_words_of(saved, "synapse_weight"), weights.count, np.uint32))
    assert "writes[i]: word 0x100000000 does not fit synapse_weight's 32 bits; valid 0x0..0xffffffff" in _replace_array(
        saved, "synapse_weight", "words", np.full(_words_of(saved, "synapse_weight"), 2**32, np.uint64))
    assert "writes[i]: 14337 words for synapse_weight, which has 14336 instances" in _two_arrays(
        saved, "synapse_weight", np.zeros(weights.count + 1, np.uint32), np.zeros(weights.count + 1, np.uint32))
    assert "array 0/indices.npy refused before reading: dtype int64; expected indices: 1-d unsigned" in _refused_member(
        saved, "0/indices.npy", np.array([0], np.int64))
    assert "array 0/words.npy refused before reading: dtype float64" in _refused_member(saved, "0/words.npy", np.array([1.0]))
    assert "array 0/words.npy refused before reading: shape (1, 1); expected words: 1-d" in _refused_member(
        saved, "0/words.npy", np.zeros((1, 1), np.uint32))


def _words_of(saved, register: str) -> int:
    _, stream, _ = saved
    return len(stream.writes[_index_of(stream, register)])


def _two_arrays(saved, register: str, indices: np.ndarray, words: np.ndarray) -> str:
    path, stream, entries = saved
    i = _index_of(stream, register)
    _write(path, {**entries, f"{i}/indices.npy": _npy(indices), f"{i}/words.npy": _npy(words)})
    return _refused(path).replace(f"writes[{i}]", "writes[i]")


def _refused_member(saved, name: str, array: np.ndarray) -> str:
    path, _, entries = saved
    _write(path, {**entries, name: _npy(array)})
    return _refused(path)


def test_the_member_list_is_checked(saved):
    path, stream, entries = saved
    last = len(stream.writes) - 1
    _write(path, {**entries, "evil.bin": b"x"})
    assert "unexpected member 'evil.bin': not part of a hal hal-write-stream file" in _refused(path)
    _write(path, {**entries, "01/words.npy": entries["0/words.npy"]})
    assert "unexpected member '01/words.npy'" in _refused(path)
    _write(path, {**entries, f"{last + 1}/words.npy": entries["0/words.npy"]})
    assert f"member '{last + 1}/words.npy' belongs to no write (the manifest lists {last + 1})" in _refused(path)
    _write(path, {n: data for n, data in entries.items() if n != f"{last}/words.npy"})
    assert f"writes[{last}]: member(s) {last}/words.npy missing" in _refused(path)


def _declare_size(data: bytes, name: str, size: int) -> bytes:
    """The zip ``data`` with the central directory's uncompressed size of ``name`` set to ``size``."""
    raw = bytearray(data)
    at = raw.index(b"PK\x01\x02")
    while True:
        length = struct.unpack_from("<H", raw, at + 28)[0]
        if raw[at + 46:at + 46 + length].decode() == name:
            struct.pack_into("<I", raw, at + 24, size)
            return bytes(raw)
        at = raw.index(b"PK\x01\x02", at + 46)


def test_an_oversized_member_is_refused_from_the_directory_before_decompressing(saved):
    path, stream, entries = saved
    bound = 12 + 10_000 + 14336 * 8
    path.write_bytes(_declare_size(path.read_bytes(), "0/words.npy", 10**9))  # under the archive limit, over the member bound
    start = time.perf_counter()
    assert (f"member '0/words.npy' declares 1000000000 bytes uncompressed; at most {bound} fit its shape "
            "(checked before decompressing)") in _refused(path)
    assert time.perf_counter() - start < 1.0
    # Real: a well-formed array of 20,000 words (more than any register has) that deflates to little.
    _write(path, {**entries, "0/words.npy": _npy(np.zeros(20_000, np.uint64))})
    assert f"member '0/words.npy' declares 160128 bytes uncompressed; at most {bound}" in _refused(path)


def test_a_foreign_or_damaged_file_is_refused(saved, tmp_path, small_wafer_config):
    from hal.configuration.io import save_config

    path, _, _ = saved
    save_config(small_wafer_config, tmp_path / "config.hal")
    assert "is a 'hal-wafer-config' file, expected 'hal-write-stream'" in _refused(tmp_path / "config.hal")
    path.write_bytes(path.read_bytes()[:200])
    assert "truncated" in _refused(path)
    with pytest.raises(FileFormatError, match="no such file"):
        WriteStream.load(tmp_path / "missing.hal")


def test_save_checks_the_path_before_writing(saved, tmp_path):
    _, stream, _ = saved
    (tmp_path / "old.hal").write_bytes(b"keep")
    with pytest.raises(FileFormatError, match="is a directory; give a file name for the write stream"):
        stream.save(tmp_path)
    with pytest.raises(FileFormatError, match="old.hal is not a directory"):
        stream.save(tmp_path / "old.hal" / "stream.hal")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.hal", "stream.hal"] and (tmp_path / "old.hal").read_bytes() == b"keep"


def test_a_write_built_by_hand_with_any_unsigned_words_round_trips(tmp_path):
    chip = C.HICANNOnWafer(5)
    writes = (RegisterWrite("neurons", "neurons", chip, "neuron", [3, 1], np.array([7, 2**32 - 1], np.uint64)),
              RegisterWrite("init", "fpga", C.FPGAOnWafer(47), "fpga_control", [0], np.array([1], np.uint8)))
    WriteStream(writes).save(tmp_path / "hand.hal")
    assert WriteStream.load(tmp_path / "hand.hal") == WriteStream(writes)
