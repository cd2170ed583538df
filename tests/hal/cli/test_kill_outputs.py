"""kill -9 in the middle of writing an output: ``hal map --out``, ``hal run`` and ``hal reproduce`` leave the old
output or the new complete one, never a partial file.

The commands run in a fresh interpreter whose zip writer pauses before each archive member, so that the
kill falls inside the write of the output (once its temporary file exists), not before or after it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from hal.cli import main

OLD = b"the previous output, complete"

#: ``hal ARGV`` with every zip member's write delayed by 0.2 s.
SLOW_WRITER = """
import sys, time, zipfile
write = zipfile.ZipFile.writestr
def slow(self, *args, **kwargs):
    time.sleep(0.2)
    return write(self, *args, **kwargs)
zipfile.ZipFile.writestr = slow
from hal.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _kill_while_writing(argv: list[str], output: Path) -> None:
    """Start ``hal argv``, kill -9 it once the temporary file of ``output`` exists; the process must not have ended first."""
    proc = subprocess.Popen([sys.executable, "-c", SLOW_WRITER, "--log-level", "warning", *argv],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list(output.parent.glob(f".{output.name}.*.tmp")):
        assert proc.poll() is None, f"hal ended before it wrote: {proc.stderr.read()}"
        assert time.monotonic() < deadline, "no output written within 120 s"
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    proc.stderr.close()


@pytest.fixture
def network_file(tmp_path):
    from hal.network import save_network
    from hal.testing.networks import layered_description

    path = tmp_path / "net.json"
    save_network(layered_description((2, 1), [np.array([[15, 15]])]), path)
    return path


def test_hal_map_killed_while_writing_keeps_the_old_configuration(tmp_path, network_file, capsys):
    from hal.configuration.io import load_config

    cfg = tmp_path / "cfg.hal"
    cfg.write_bytes(OLD)
    _kill_while_writing(["map", str(network_file), "--out", str(cfg), "--overwrite"], cfg)
    assert cfg.read_bytes() == OLD
    # uninterrupted, the new file is complete
    assert main(["--log-level", "warning", "map", str(network_file), "--out", str(cfg), "--overwrite"]) == 0
    assert load_config(cfg).wafer is not None


def test_hal_run_killed_while_writing_keeps_the_old_recording(tmp_path, network_file, capsys):
    from hal.experiment.io import load_recording_summary

    exp, recording = tmp_path / "exp.hal", tmp_path / "exp.recording.hal"
    assert main(["--log-level", "warning", "map", str(network_file), "--experiment-out", str(exp), "--duration-ms", "100"]) == 0
    recording.write_bytes(OLD)
    _kill_while_writing(["run", str(exp), "--backend", "reference", "--overwrite"], recording)
    assert recording.read_bytes() == OLD
    assert main(["--log-level", "warning", "run", str(exp), "--backend", "reference", "--overwrite"]) == 0
    assert load_recording_summary(recording)[0]["samples"] == 1


@pytest.mark.slow  # a Dask cluster and two tiny trials, twice: ~1 min on 2 cores
@pytest.mark.needs_torch
@pytest.mark.needs_extension
def test_hal_reproduce_killed_keeps_complete_trials_and_resumes(tmp_path):
    pytest.importorskip("torch", reason="trainers need torch")
    pytest.importorskip("distributed", reason="trials run on Dask distributed")
    pytest.importorskip("matplotlib", reason="figures need matplotlib")
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "hal.cli", "--log-level", "warning", "reproduce", "schmitt2017", "--trials", "2", "--itl-steps", "2",
            "--ann-steps", "300", "--itl-batch", "100", "--test-subset", "60", "--workers", "1", "--out", str(out)]
    # its own session: the kill takes the command and the Dask processes it started
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 600
    while not list((out / "trials").glob("*.json")) if (out / "trials").is_dir() else True:
        assert proc.poll() is None, f"the reproduction ended before its first trial: {proc.stderr.read()}"
        assert time.monotonic() < deadline, "no trial finished within 600 s"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    finished = {p.name: p.stat().st_mtime_ns for p in (out / "trials").glob("*.json")}
    assert len(finished) == 1 and not (out / "report.json").exists()
    for path in (out / "trials").glob("*.json"):
        assert json.loads(path.read_text())["seed"] in (0, 1)  # complete, not a partial file
    done = subprocess.run(argv, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["trials"] == 2 and report["seeds"] == [0, 1]
    assert {name: (out / "trials" / name).stat().st_mtime_ns for name in finished} == finished  # the finished trial was reused
