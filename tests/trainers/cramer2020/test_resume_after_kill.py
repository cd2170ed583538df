"""A trial killed mid-way (kill -9 of its process) resumes from its checkpoints to the numbers of an uninterrupted run.

Each run is a subprocess calling ``run_trial`` as a Dask worker would (one torch thread, one
emulator thread). The killed one is stopped as soon as its first checkpoint appears: with a
batch of 64 the 1438 digits make 23 steps per epoch, and the trainer writes its checkpoint
every 20 steps, so the kill falls inside mock training (step 20 of 23) or, on a slow machine,
right after it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

pytest.importorskip("torch", reason="trainers need torch (pip install torch==2.13.0)")
pytest.importorskip("sklearn", reason="the digits dataset needs scikit-learn")

pytestmark = [pytest.mark.needs_torch, pytest.mark.needs_extension, pytest.mark.slow]  # ~40 s on 2 cores

SETTINGS = {"hidden": 16, "mock_epochs": 1.0, "itl_epochs": 0.1, "batch_size": 64}

TRIAL = """
import json, sys
import torch
torch.set_num_threads(1)
from hal.logging import configure
configure(level="warning")
from hal_trainers.datasets import load_dataset
from hal_trainers.cramer2020.trial import run_trial
checkpoint_dir, settings, result = sys.argv[1] or None, json.loads(sys.argv[2]), sys.argv[3]
out = run_trial(load_dataset("digits10"), backend="noisy", seed=3, test_subset=50, checkpoint_dir=checkpoint_dir,
                backend_options={"threads": 1}, **settings)
with open(result, "w") as fh:
    json.dump(out, fh)
"""

#: What must not change when a trial resumes (times do).
NUMBERS = ("software", "mock_on_backend", "in_the_loop", "hidden_spikes_per_image", "hidden_spikes_per_image_mock", "confusion",
           "mock_curve", "itl_curve", "init_factor", "example", "mapping_synapses")


def _trial(checkpoint_dir, result) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", TRIAL, str(checkpoint_dir or ""), json.dumps(SETTINGS), str(result)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _numbers(path) -> dict:
    result = json.loads(path.read_text())
    result["mapping_synapses"] = (result["mapping"]["synapses"], result["mapping"]["synapses_lost"])
    return {key: result[key] for key in NUMBERS}


def test_a_trial_killed_during_training_resumes_to_the_uninterrupted_result(tmp_path):
    import torch

    checkpoints = tmp_path / "checkpoints"
    uninterrupted = _trial(None, tmp_path / "uninterrupted.json")
    killed = _trial(checkpoints, tmp_path / "killed.json")
    deadline = time.monotonic() + 600
    while not (checkpoints / "mock.pt").exists():
        assert killed.poll() is None, f"the trial ended before its first checkpoint: {killed.stderr.read()}"
        assert time.monotonic() < deadline, "no checkpoint after 600 s"
        time.sleep(0.01)
    os.kill(killed.pid, signal.SIGKILL)
    assert killed.wait() == -signal.SIGKILL
    assert not (tmp_path / "killed.json").exists()
    step = torch.load(checkpoints / "mock.pt", weights_only=True)["step"]
    print(f"killed with the mock checkpoint at step {step}")
    assert step in (20, 23)  # mid-way through mock training, or at its end
    assert not (checkpoints / "in_the_loop.pt").exists()

    resumed = _trial(checkpoints, tmp_path / "resumed.json")
    for run in (uninterrupted, resumed):
        assert run.wait(timeout=600) == 0, run.stderr.read()
    assert _numbers(tmp_path / "resumed.json") == _numbers(tmp_path / "uninterrupted.json")
