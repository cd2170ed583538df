"""Calibration sets and set files to test with: a valid set, and a way to rewrite a file's parts."""

from __future__ import annotations

import io
import json
import types
import zipfile

import numpy as np
import pytest

from hal.calibration import Kind, fit_transform, nominal_transform, open_store


def _valid_entries() -> list:
    """Three entries of the three kinds: a linear fit, a lookup, and a shared (per FG block) parameter."""
    dac = np.array([200.0, 500.0, 800.0])
    linear = fit_transform("e_l_mv", Kind.POLYNOMIAL, dac, np.outer(np.linspace(0.9, 1.1, 512), [352.0, 880.0, 1408.0]), unit="mV")
    return [(12, linear), (12, nominal_transform("tau_syn_e_us", 512)), (13, nominal_transform("gmax", 4))]


def _read_parts(path) -> tuple[dict, dict[str, np.ndarray]]:
    """A set file's manifest and arrays, as they are in the zip."""
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        arrays = {n: np.load(io.BytesIO(zf.read(n)), allow_pickle=False) for n in zf.namelist() if n != "manifest.json"}
    return manifest, arrays


def _write_parts(path, manifest, arrays: dict[str, np.ndarray]) -> None:
    """A zip with exactly this manifest (any JSON value) and these arrays: no checks, no additions."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        for name, array in arrays.items():
            buf = io.BytesIO()
            np.save(buf, array, allow_pickle=False)
            zf.writestr(name, buf.getvalue())


@pytest.fixture(scope="module")
def set_file(tmp_path_factory):
    """A valid exported set file (wafer 3, three entries)."""
    folder = tmp_path_factory.mktemp("setfile")
    with open_store(folder / "source.db") as store:
        set_id = store.add_set(3, _valid_entries(), backend="emulator", routine="test", seed=11, note="for tests")
        store.export_set(set_id, folder / "good.hal")
    return folder / "good.hal"


@pytest.fixture(scope="session")
def setfiles():
    """``setfiles.entries()`` (three valid entries), ``setfiles.read(path)`` -> (manifest, arrays), ``setfiles.write(path, manifest, arrays)``."""
    return types.SimpleNamespace(entries=_valid_entries, read=_read_parts, write=_write_parts)
