"""load_recording_summary checks the manifest's fields, not only the archive's members."""

import numpy as np
import pytest

import hal
from hal.configuration.archive import read_archive, write_archive
from hal.errors import FileFormatError
from hal.experiment.io import RECORDING_FORMAT, _recording_array_spec, load_recording_summary, save_recording
from hal.testing.networks import layered_network, poisson_experiment


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    net = layered_network((2, 1), [np.array([[9, 9]])])
    exp = poisson_experiment(net, np.full((2, 2), 40.0), record_membrane=[net.neuron(1, 0)])
    path = tmp_path_factory.mktemp("rec") / "run.recording.hal"
    save_recording(hal.run(exp, hal.get_backend("reference")), path)
    return path


def _rewritten(saved, tmp_path, change):
    manifest, arrays = read_archive(saved, RECORDING_FORMAT, range(1, 2), arrays=_recording_array_spec)
    body = {k: v for k, v in manifest.items() if k not in ("format", "version")}
    change(body, arrays)
    path = tmp_path / "changed.hal"
    write_archive(path, RECORDING_FORMAT, 1, body, arrays)
    return path


def test_a_saved_recording_reads_back(saved):
    manifest, arrays = load_recording_summary(saved)
    assert manifest["samples"] == 2 and len(manifest["neurons"]) == 3
    assert arrays["spike_counts.npy"].shape == (2, 3)


@pytest.mark.parametrize("change, message", [
    (lambda m, a: m.update(samples=-1), "samples: -1 out of range"),
    (lambda m, a: m.update(samples=2.5), "samples: 2.5 is not an integer"),
    (lambda m, a: m.update(duration_ms="1 s"), "duration_ms: '1 s' is not a finite number"),
    (lambda m, a: m.update(duration_ms=0), "duration_ms: 0 out of range; valid > 0"),
    (lambda m, a: m.update(extra=1), "manifest: unknown key(s) extra"),
    (lambda m, a: m.pop("info"), "manifest: missing key(s) info"),
    (lambda m, a: m["neurons"][0].update(hicann=999), "neurons[0].hicann: 999 out of range; valid 0..383"),
    (lambda m, a: m["neurons"][1].update(address=64), "neurons[1].address: 64 out of range; valid 0..63"),
    (lambda m, a: m.update(membrane=[[0, 512]]), "membrane[0][1]: 512 out of range; valid 0..511"),
    (lambda m, a: m["lost_events"].update(total=-3), "lost_events.total: -3 out of range"),
    (lambda m, a: m.update(samples=3), "spike_counts.npy: shape (2, 3); expected (3, 3)"),
])
def test_a_bad_manifest_is_a_file_format_error_naming_the_field(saved, tmp_path, change, message):
    path = _rewritten(saved, tmp_path, change)
    with pytest.raises(FileFormatError, match="invalid content: ") as error:
        load_recording_summary(path)
    assert message in str(error.value)
    assert str(path) in str(error.value)
