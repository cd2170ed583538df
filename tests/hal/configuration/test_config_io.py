"""Wafer configurations to and from files: exact round trips, clear errors for bad files."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from hypothesis import given

from hal import coordinates as C
from hal.errors import ConfigError, FileFormatError
from hal.hardware.wafer import WaferConfig
from hal.configuration.io import load_config, save_config
from hal.testing.strategies import wafer_configs


@given(config=wafer_configs())
def test_round_trip_is_exact(config, tmp_path_factory):
    path = tmp_path_factory.mktemp("cfg") / "wafer.hal"
    save_config(config, path)
    loaded = load_config(path)
    assert loaded == config
    for chip, cfg in config.chips():
        assert loaded.has_hicann(chip) if isinstance(chip, C.HICANNOnWafer) else loaded.has_fpga(chip)


def test_manifest_is_readable_json_with_typed_records(small_wafer_config, tmp_path):
    path = tmp_path / "wafer.hal"
    save_config(small_wafer_config, path)
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        assert "hicann/100/synapse_weight.npy" in zf.namelist()
    assert manifest["format"] == "hal-wafer-config" and manifest["version"] == 1 and manifest["wafer"] == 7
    neuron = manifest["hicanns"]["100"]["registers"]["neuron"]["4"]
    assert neuron["l1_address"] == 17 and neuron["activate_firing"] is True
    # Untouched registers are not listed: a file shows what differs from reset.
    assert "pll" not in manifest["hicanns"]["100"]["registers"]


def rewrite(path, *, manifest=None, arrays=None, drop=()):
    """Rewrite a saved file with some entries replaced (to make bad files)."""
    with zipfile.ZipFile(path) as zf:
        entries = {n: zf.read(n) for n in zf.namelist() if n not in drop}
    if manifest is not None:
        entries["manifest.json"] = json.dumps(manifest).encode()
    for name, array in (arrays or {}).items():
        buf = io.BytesIO()
        np.save(buf, array)
        entries[name] = buf.getvalue()
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)


@pytest.fixture
def saved(small_wafer_config, tmp_path):
    path = tmp_path / "wafer.hal"
    save_config(small_wafer_config, path)
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    return path, manifest


def test_missing_file(tmp_path):
    with pytest.raises(FileFormatError, match="no such file"):
        load_config(tmp_path / "nope.hal")


def test_random_bytes(tmp_path):
    path = tmp_path / "x.hal"
    path.write_bytes(b"\x00garbage" * 50)
    with pytest.raises(FileFormatError, match="not a hal hal-wafer-config file, or truncated/corrupt"):
        load_config(path)


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.95])
def test_truncated_file(saved, keep):
    path, _ = saved
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(FileFormatError) as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_flipped_byte_is_caught_by_the_crc(saved):
    path, _ = saved
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("hicann/100/synapse_weight.npy")
    data[info.header_offset + 30 + len(info.filename) + 5] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(FileFormatError, match="corrupt|unreadable"):
        load_config(path)


def test_foreign_zip_and_foreign_format(saved, tmp_path):
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("hello.txt", "hi")
    with pytest.raises(FileFormatError, match="no manifest.json inside: not a hal hal-wafer-config file"):
        load_config(other)
    path, manifest = saved
    rewrite(path, manifest={**manifest, "format": "hal-write-stream"})
    with pytest.raises(FileFormatError, match="is a 'hal-write-stream' file, expected 'hal-wafer-config'"):
        load_config(path)


def test_newer_version(saved):
    path, manifest = saved
    rewrite(path, manifest={**manifest, "version": 9})
    with pytest.raises(FileFormatError, match="format version 9 not supported; this hal reads versions 1..1; upgrade hal"):
        load_config(path)


def test_bad_json(saved):
    path, _ = saved
    with zipfile.ZipFile(path) as zf:
        entries = {n: zf.read(n) for n in zf.namelist()}
    entries["manifest.json"] = b"{not json"
    with zipfile.ZipFile(path, "w") as zf:
        for n, d in entries.items():
            zf.writestr(n, d)
    with pytest.raises(FileFormatError, match="manifest.json is not valid JSON"):
        load_config(path)


def test_out_of_range_weight_in_array(saved):
    path, _ = saved
    weights = np.zeros((448, 256), dtype=np.uint8)
    weights[2, 9] = 16
    rewrite(path, arrays={"hicann/100/synapse_weight.npy": weights})
    with pytest.raises(FileFormatError) as info:
        load_config(path)
    message = str(info.value)
    assert "hicann/100/synapse_weight.npy" in message
    assert "synapse_weight.weight at row 2, column 9: 16 does not fit; valid 0..15" in message
    assert isinstance(info.value.__cause__, ConfigError)


def test_wrong_array_shape(saved):
    path, _ = saved
    rewrite(path, arrays={"hicann/100/synapse_weight.npy": np.zeros((3, 3), dtype=np.uint8)})
    with pytest.raises(FileFormatError, match=r"shape \(3, 3\).*expected shape \(448, 256\)"):
        load_config(path)


def test_pickled_array_is_refused(saved):
    path, _ = saved
    with zipfile.ZipFile(path) as zf:
        entries = {n: zf.read(n) for n in zf.namelist()}
    buf = io.BytesIO()
    np.save(buf, np.array([object()]), allow_pickle=True)
    entries["hicann/100/synapse_weight.npy"] = buf.getvalue()
    with zipfile.ZipFile(path, "w") as zf:
        for n, d in entries.items():
            zf.writestr(n, d)
    with pytest.raises(FileFormatError, match="array hicann/100/synapse_weight.npy refused before reading: dtype object"):
        load_config(path)


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (lambda m: m["hicanns"]["100"]["registers"]["neuron"]["4"].update(l1_address=64), "hicann/100.neuron[4].l1_address: 64 does not fit; valid 0..63"),
        (lambda m: m["hicanns"]["100"]["registers"]["neuron"]["4"].update(activate_firing="yes"), "hicann/100.neuron[4].activate_firing: 'yes' is not true/false"),
        (lambda m: m["hicanns"]["100"]["registers"]["neuron"]["4"].update(colour=1), "hicann/100.neuron[4]: unknown key(s) colour; valid keys: l1_address, activate_firing, "),
        (lambda m: m["hicanns"]["100"]["registers"].update(neurons={}), "unknown value register 'neurons'"),
        (lambda m: m["hicanns"]["100"]["registers"]["neuron"].update({"512": {}}), "instance '512' out of range; valid 0..511"),
        (lambda m: m["hicanns"].update({"384": {"registers": {}}}), "hicanns: chip '384' out of range; valid 0..383"),
        (lambda m: m.update(extra=1), "unknown top-level keys ['extra']; valid keys: wafer, hicanns, fpgas"),
    ],
)
def test_invalid_content_names_the_place(saved, edit, fragment):
    path, manifest = saved
    edit(manifest)
    rewrite(path, manifest=manifest)
    with pytest.raises(FileFormatError) as info:
        load_config(path)
    assert fragment in str(info.value)


def test_save_is_atomic_and_rejects_wrong_types(tmp_path, small_wafer_config):
    path = tmp_path / "wafer.hal"
    save_config(small_wafer_config, path)
    before = path.read_bytes()
    with pytest.raises(ConfigError):
        save_config({"not": "a config"}, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["wafer.hal"]  # no temporary files left behind
    assert load_config(path) == small_wafer_config
    assert WaferConfig() != small_wafer_config
