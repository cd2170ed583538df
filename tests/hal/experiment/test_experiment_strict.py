"""Experiments: the file reader takes exactly what save_experiment writes, and runs are bounded before they allocate.

One test per finding of issue 13's hostile first use: unknown manifest keys, NaN start/stop, a
rate of 1e12 Hz, the empty configuration's run; plus the bounds that go with them.
"""

from __future__ import annotations

import io
import json
import math
import time
import zipfile

import numpy as np
import pytest

import hal
from hal import coordinates as C
from hal.errors import ConfigError, ConfigValueError, FileFormatError
from hal.experiment.io import load_experiment, save_experiment, save_recording
from hal.hardware.wafer import WaferConfig
from hal.logging import capture_events
from hal.testing.networks import layered_network, poisson_experiment


@pytest.fixture(scope="module")
def net():
    return layered_network((2, 1), [np.array([[4, -4]])])


@pytest.fixture
def saved(net, tmp_path):
    exp = poisson_experiment(net, np.full((3, 2), 20.0), seed=5, record_membrane=[net.neuron(0, 1)])
    spikes = hal.SpikeArrayInput([net.inputs[0]], [([1.0, 2.0], [0, 0])] * 3)
    exp = hal.Experiment(exp.config, exp.duration_ms, [*exp.inputs, spikes], record_membrane=exp.record_membrane, seed=5)
    path = tmp_path / "exp.hal"
    save_experiment(exp, path)
    with zipfile.ZipFile(path) as zf:
        entries = {n: zf.read(n) for n in zf.namelist()}
    return path, entries


def _write(path, entries):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)


def _refused(path) -> str:
    with pytest.raises(FileFormatError) as info:
        load_experiment(path)
    return str(info.value)


def _edit(saved, edit) -> str:
    path, entries = saved
    manifest = json.loads(entries["manifest.json"])
    edit(manifest)
    _write(path, {**entries, "manifest.json": json.dumps(manifest).encode()})
    return _refused(path)


_TOP = "config, duration_ms, n_samples, inputs, record_membrane, membrane_interval_ms, domains, seed, verify"


@pytest.mark.parametrize(("edit", "message"), [
    (lambda m: m.__setitem__("colour", 1), f"manifest: unknown key(s) colour; valid keys: {_TOP}"),
    (lambda m: m["inputs"][0].__setitem__("rate", 1), "inputs[0]: unknown key(s) rate; valid keys: kind, targets, start_ms, stop_ms, seed"),
    (lambda m: m["domains"].__setitem__("speed", 1), "domains: unknown key(s) speed; valid keys: speedup, alpha, shift_mv"),
    (lambda m: m.pop("verify"), f"manifest: missing key(s) verify; required: {_TOP}"),
    (lambda m: m["inputs"][0].pop("stop_ms"), "inputs[0]: missing key(s) stop_ms"),
    (lambda m: m["inputs"][0].__setitem__("start_ms", "NaN"), "inputs[0].start_ms: 'NaN' is not a finite number"),
    (lambda m: m["inputs"][0].__setitem__("kind", "gauss"), "inputs[0].kind: 'gauss' unknown; valid poisson, spike_array"),
    (lambda m: m["inputs"][0]["targets"][0].__setitem__(1, 1.0), "inputs[0].targets[0][1]: 1.0 is not an integer"),
    (lambda m: m.__setitem__("seed", 1.5), "seed: 1.5 is not an integer"),
    (lambda m: m.__setitem__("seed", -1), "seed: -1 out of range; valid an integer >= 0"),
    (lambda m: m.__setitem__("n_samples", 3.0), "n_samples: 3.0 is not an integer"),
    (lambda m: m.__setitem__("verify", "sometimes"), "verify: 'sometimes' unknown; valid verify, skip, warn"),
    (lambda m: m.__setitem__("duration_ms", 1e300), "Experiment.duration_ms: 1e+300 out of range; valid a time > 0 and <= 2.81475e+12 ms"),
    (lambda m: m["config"].pop("wafer"), "missing key(s) wafer; required: wafer, hicanns, fpgas"),
])
def test_the_manifest_holds_exactly_what_save_experiment_writes(saved, edit, message):
    assert message in _edit(saved, edit)


def test_nan_in_a_manifest_is_not_json(saved):
    path, entries = saved
    text = entries["manifest.json"].decode().replace('"start_ms": 0.0', '"start_ms": NaN')
    _write(path, {**entries, "manifest.json": text.encode()})
    assert "manifest.json is not valid JSON (NaN is not a JSON number)" in _refused(path)


def test_the_members_are_exactly_the_arrays_the_manifest_calls_for(saved):
    path, entries = saved
    _write(path, {k: v for k, v in entries.items() if k != "inputs/1/2/index.npy"})
    assert "missing member inputs/1/2/index.npy (the manifest calls for it)" in _refused(path)
    _write(path, {**entries, "inputs/7/rates_hz.npy": entries["inputs/0/rates_hz.npy"]})
    assert "members the manifest does not call for: inputs/7/rates_hz.npy" in _refused(path)
    _write(path, {**entries, "recording.npy": b""})
    assert "unexpected member 'recording.npy'" in _refused(path)
    buf = io.BytesIO()
    np.save(buf, np.array([0.5, 1.0]))
    _write(path, {**entries, "inputs/1/0/index.npy": buf.getvalue()})
    assert "array inputs/1/0/index.npy refused before reading: dtype float64; expected index: 1-d integers" in _refused(path)


def test_a_rate_of_1e12_hz_is_refused_in_files_and_in_python(saved, net):
    message = ("Experiment.inputs[0].rates_hz: 1000000000000.0 Hz out of range; valid 0..25000 Hz (one event per 4 ns FPGA timestamp "
               "tick at speed-up 10000; a HICANN link carries 1785.71 Hz without loss)")
    path, entries = saved
    buf = io.BytesIO()
    np.save(buf, np.full((3, 2), 1e12))
    _write(path, {**entries, "inputs/0/rates_hz.npy": buf.getvalue()})
    assert message in _refused(path)
    with pytest.raises(ConfigError) as info:
        hal.Experiment(net.config, 100.0, [hal.PoissonInput(net.inputs, [1e12, 1.0])])
    assert str(info.value) == message


def test_runs_are_bounded_before_anything_is_drawn_or_allocated(net):
    start = time.perf_counter()
    with pytest.raises(ConfigError, match=r"the Poisson inputs expect 4e\+08 playback events over 1 sample\(s\); at most 134217728 fit a run"):
        hal.Experiment(net.config, 1e7, [hal.PoissonInput(net.inputs, [2e4, 2e4])])
    with pytest.raises(ConfigError, match=r"gives 2500000100 values; at most 268435456 fit a run"):
        hal.Experiment(net.config, 1e6, record_membrane=[net.neuron(0, 1)], membrane_interval_ms=1e-5, n_samples=100)
    with pytest.raises(ConfigValueError, match=r"Experiment.n_samples: 2000000 out of range; valid 1..1048576"):
        hal.Experiment(net.config, 10.0, n_samples=2_000_000)
    with pytest.raises(ConfigError, match=r"PoissonInput: sample 0 expects 2e\+10 spikes in \[0.0, 1000000000.0\) ms; at most 134217728 playback events fit a run"):
        hal.PoissonInput(net.inputs, [1e4, 1e4]).spikes(0, 1e9)
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize(("make", "message"), [
    (lambda t: hal.PoissonInput(t, [1.0, 1.0], start_ms=math.nan), "PoissonInput.start_ms: nan out of range; valid a finite time in ms"),
    (lambda t: hal.PoissonInput(t, [1.0, 1.0], stop_ms=math.nan), "PoissonInput.stop_ms: nan out of range; valid a finite time in ms"),
    (lambda t: hal.PoissonInput(t, [1.0, 1.0], stop_ms=math.inf), "PoissonInput.stop_ms: inf out of range; valid a finite time in ms"),
    (lambda t: hal.PoissonInput(t, [1.0, 1.0], seed=-1), "PoissonInput.seed: -1 out of range; valid an integer >= 0"),
    (lambda t: hal.PoissonInput(t, ["1", "2"]), "PoissonInput.rates_hz: ['1', '2'] out of range; valid a finite rate >= 0 per target; not <U1"),
    (lambda t: hal.SpikeArrayInput(t, [([1.0], [1.5])]),
     "SpikeArrayInput.spikes[0].target_index: [1.5] out of range; valid integer target indices; not float64"),
])
def test_stimuli_refuse_nan_windows_and_coerced_values(net, make, message):
    with pytest.raises(ConfigValueError) as info:
        make(net.inputs)
    assert str(info.value) == message


@pytest.mark.parametrize("backend", ["reference", "emulator", "noisy"])
def test_an_empty_configuration_runs_to_an_empty_recording(backend):
    experiment = hal.Experiment(WaferConfig(C.Wafer(0)), 10.0, n_samples=2)
    with capture_events() as events:
        recording = hal.run(experiment, hal.get_backend(backend))
    assert recording.spike_counts.shape == (2, 0) and recording.n_samples == 2
    assert recording.lost_events["total"] == 0
    assert [e["event"] for e in events if e["log_level"] == "warning"] == ["nothing_to_record"]


def test_saves_check_the_path_before_any_work(saved, tmp_path, net):
    path, _ = saved
    before = path.read_bytes()
    with pytest.raises(FileFormatError, match="is a directory; give a file name for the experiment"):
        save_experiment(load_experiment(path), tmp_path)
    recording = hal.run(hal.Experiment(WaferConfig(C.Wafer(0)), 10.0), hal.get_backend("reference"))
    with pytest.raises(FileFormatError, match="is a directory; give a file name for the recording"):
        save_recording(recording, tmp_path)
    with pytest.raises(FileFormatError, match="exp.hal is not a directory"):
        save_recording(recording, path / "rec.hal")
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["exp.hal"]
