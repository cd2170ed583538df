"""Configuration files are read strictly and within bounds (issue 13's hostile first use).

Nothing is filled in (no wafer 0 for a missing wafer, no address 0 for a missing field), keys
are plain decimals, and what the zip or a ``.npy`` header declares is checked before anything
is decompressed or allocated.
"""

from __future__ import annotations

import io
import json
import struct
import time
import tracemalloc
import zipfile

import numpy as np
import pytest

from hal.configuration import archive
from hal.configuration.io import load_config, save_config
from hal.errors import FileFormatError


@pytest.fixture
def saved(small_wafer_config, tmp_path):
    path = tmp_path / "wafer.hal"
    save_config(small_wafer_config, path)
    with zipfile.ZipFile(path) as zf:
        entries = {n: zf.read(n) for n in zf.namelist()}
    return path, entries


def _write(path, entries: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)


def _refused(path) -> str:
    with pytest.raises(FileFormatError) as info:
        load_config(path)
    return str(info.value)


def _edit_manifest(saved, edit) -> str:
    path, entries = saved
    manifest = json.loads(entries["manifest.json"])
    edit(manifest)
    _write(path, {**entries, "manifest.json": json.dumps(manifest).encode()})
    return _refused(path)


def _neuron(m):
    return m["hicanns"]["100"]["registers"]["neuron"]["4"]


@pytest.mark.parametrize(("edit", "message"), [
    (lambda m: m.pop("wafer"), "missing key(s) wafer; required: wafer, hicanns, fpgas"),
    (lambda m: m.pop("fpgas"), "missing key(s) fpgas; required: wafer, hicanns, fpgas"),
    (lambda m: m.__setitem__("wafer", True), "wafer: True is not an integer"),
    (lambda m: m.__setitem__("wafer", 7.0), "wafer: 7.0 is not an integer"),
    (lambda m: _neuron(m).pop("l1_address"),
     "hicann/100.neuron[4]: missing key(s) l1_address; required: l1_address, activate_firing"),
    (lambda m: _neuron(m).__setitem__("l1_address", 5.0), "hicann/100.neuron[4].l1_address: 5.0 is not an integer"),
    (lambda m: _neuron(m).__setitem__("l1_address", True), "hicann/100.neuron[4].l1_address: True is not an integer"),
    (lambda m: _neuron(m).__setitem__("l1_address", 64), "hicann/100.neuron[4].l1_address: 64 does not fit; valid 0..63"),
    (lambda m: m["hicanns"]["100"].pop("registers"), "hicann/100: expected {'registers': {...}}"),
    (lambda m: m["hicanns"].__setitem__("0100", m["hicanns"].pop("100")), "hicanns: chip '0100' out of range; valid 0..383 (written as a decimal string)"),
    (lambda m: m["hicanns"].__setitem__("١٠٠", m["hicanns"].pop("100")), "hicanns: chip '١٠٠' out of range; valid 0..383"),
    (lambda m: m["hicanns"]["100"]["registers"]["neuron"].__setitem__("+4", {}), "hicann/100.neuron: instance '+4' out of range; valid 0..511"),
])
def test_nothing_is_filled_in_or_coerced(saved, edit, message):
    assert message in _edit_manifest(saved, edit)


def test_an_npy_header_declaring_a_huge_array_is_refused_before_allocation(saved):
    path, entries = saved
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6)})
    huge = io.BytesIO()
    np.lib.format.write_array_header_1_0(huge, {"descr": "|u1", "fortran_order": False, "shape": (448, 256)})
    cases = {
        header.getvalue() + b"\0" * 64: "refused before reading: dtype float64; expected shape (448, 256) unsigned or bool",
        huge.getvalue() + b"\0" * 64: "refused before reading: header declares shape (448, 256) of uint8 (114688 bytes) but 64 bytes follow",
    }
    for member, message in cases.items():
        _write(path, {**entries, "hicann/100/synapse_weight.npy": member})
        tracemalloc.start()
        try:
            error = _refused(path)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert f"array hicann/100/synapse_weight.npy {message}" in error
        assert peak < 20 * 2**20


@pytest.mark.parametrize(("offset", "flip"), [(10, 1), (10, 32), (21, 16)])
def test_a_damaged_npy_header_is_a_file_format_error(saved, offset, flip):
    # numpy parses the header as a Python literal; a damaged one fails in the tokenizer
    # (TokenError), the parser (SyntaxError) or numpy's own check (ValueError)
    path, entries = saved
    member = bytearray(entries["hicann/100/synapse_weight.npy"])
    member[offset] ^= flip
    _write(path, {**entries, "hicann/100/synapse_weight.npy": bytes(member)})
    assert "array hicann/100/synapse_weight.npy" in _refused(path)


def _declare_size(data: bytes, name: str, size: int) -> bytes:
    """The zip ``data`` with the central directory's uncompressed size of ``name`` set to ``size``."""
    raw = bytearray(data)
    at = raw.index(b"PK\x01\x02")  # the first central directory entry
    while True:
        length = struct.unpack_from("<H", raw, at + 28)[0]
        if raw[at + 46:at + 46 + length].decode() == name:
            struct.pack_into("<I", raw, at + 24, size)
            return bytes(raw)
        at = raw.index(b"PK\x01\x02", at + 46)


def test_a_zip_bomb_is_refused_from_the_directory_before_decompressing(saved, tmp_path, monkeypatch):
    path, entries = saved
    # Declared: 3 GiB behind a member of a few bytes.
    path.write_bytes(_declare_size(path.read_bytes(), "hicann/100/synapse_weight.npy", 3 * 2**30))
    start = time.perf_counter()
    error = _refused(path)
    assert time.perf_counter() - start < 1.0
    assert "member 'hicann/100/synapse_weight.npy' declares 3221225472 bytes uncompressed; at most 2147483648 are read" in error
    # Real: 40 MB of whitespace that deflates to about 40 kB, against smaller limits (to keep the test quick).
    monkeypatch.setattr(archive, "MAX_MANIFEST_BYTES", 2**20)
    _write(path, {**entries, "manifest.json": entries["manifest.json"] + b" " * (40 * 2**20)})
    assert path.stat().st_size < 200_000
    error = _refused(path)
    assert "member 'manifest.json' declares 4194" in error and "bytes uncompressed; at most 1048576 are read (checked before decompressing)" in error
    monkeypatch.setattr(archive, "MAX_ARCHIVE_BYTES", 200_000)
    _write(path, entries)
    assert "members declare more than 200000 bytes uncompressed" in _refused(path)


def test_the_member_list_is_checked(saved):
    path, entries = saved
    _write(path, {**entries, "evil.bin": b"x"})
    assert "unexpected member 'evil.bin': not part of a hal hal-wafer-config file" in _refused(path)
    _write(path, {**entries, "hicann/100/colour.npy": entries["hicann/100/synapse_weight.npy"]})
    assert "unexpected member 'hicann/100/colour.npy'" in _refused(path)
    _write(path, {**entries, "hicann/5/synapse_weight.npy": entries["hicann/100/synapse_weight.npy"]})
    assert "arrays that belong to no configured chip: ['hicann/5/synapse_weight.npy']" in _refused(path)
    with pytest.warns(UserWarning, match="Duplicate name"):
        with zipfile.ZipFile(path, "a") as zf:
            zf.writestr("hicann/100/synapse_weight.npy", entries["hicann/100/synapse_weight.npy"])
    assert "member 'hicann/100/synapse_weight.npy' appears twice" in _refused(path)


def test_save_checks_the_path_before_any_work(small_wafer_config, tmp_path):
    (tmp_path / "old.hal").write_bytes(b"keep")
    with pytest.raises(FileFormatError, match="is a directory; give a file name for the configuration"):
        save_config(small_wafer_config, tmp_path)
    with pytest.raises(FileFormatError, match="old.hal is not a directory"):
        save_config(small_wafer_config, tmp_path / "old.hal" / "wafer.hal")
    assert [p.name for p in tmp_path.iterdir()] == ["old.hal"] and (tmp_path / "old.hal").read_bytes() == b"keep"
