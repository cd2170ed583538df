"""Shared pieces of the hal_trainers.snn tests: the digits10 data, the 64-32-10 network, training settings.

The network is the one the trainer API's documentation uses: 64 latency-coded pixels, 32 LIF
neurons, 10 leaky-integrator readouts, dt 0.5 ms. Its first projection starts with weights
mean 2.25, std 9 weight steps: what ``hal_trainers.cramer2020.trial.calibrate_input_weights``
finds for this network and data (factor 4.5 on mean 0.5, std 2), about one spike per hidden
neuron per image; a silent hidden layer gets almost no surrogate gradient.

torch runs single-threaded in these tests: on a machine shared with other work, torch's
intra-op threads made a training step ten times slower (measured 1.9 s vs 0.3 s per 100-image
step on two busy cores).
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

#: Trainer settings that learn within a few steps on 150 training images (lr in weight steps).
FAST = {"learning_rate": 1.0, "batch_size": 50, "readout_scale_mv": 2.0, "sparsity": 2e-3}

#: Initial weights of the input projection (see the module docstring).
INPUT_INIT = {"init_mean": 2.25, "init_std": 9.0}


@contextlib.contextmanager
def one_torch_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """One intra-op thread for this directory's modules, restored after each (other tests keep torch's default)."""
    pytest.importorskip("torch", reason="the trainer API needs torch (pip install -e '.[train]')")
    with one_torch_thread():
        yield


@pytest.fixture(scope="session")
def fast() -> dict:
    """Trainer settings that learn within a few steps (:data:`FAST`)."""
    return dict(FAST)


@pytest.fixture(scope="session")
def digits():
    """The 8x8 digits, ten classes, embedded in scikit-learn (no files needed)."""
    pytest.importorskip("sklearn", reason="the digits10 data set needs scikit-learn")
    from hal_trainers.datasets import load_dataset

    return load_dataset("digits10")


@pytest.fixture(scope="session")
def build_model():
    """``build_model(seed=0, **stage_options)``: a fresh 64-32-10 SpikingModel (same seed, same weights)."""
    from hal_trainers.snn import LIF, LatencyCoding, LeakyIntegrator, Projection, SpikingModel

    def build(seed: int = 0, dt_ms: float = 0.5, hidden: int = 32):
        return SpikingModel(LatencyCoding(64),
                            Projection(64, hidden, seed=seed, **INPUT_INIT), LIF(hidden),
                            Projection(hidden, 10, init_std=2.0, seed=seed + 1), LeakyIntegrator(10), dt_ms=dt_ms)

    return build


@pytest.fixture(scope="session")
def small(digits):
    """150 training images: the training set of the fast learning tests."""
    return np.asarray(digits.x_train[:150]), np.asarray(digits.y_train[:150])


@pytest.fixture(scope="session")
def pretrained(build_model, digits):
    """State of the 64-32-10 network after 12 steps on the twin (300 images, 2 epochs)."""
    from hal.testing.fakes import RecordingBackend
    from hal_trainers.snn import MappedModel, Trainer

    model = build_model()
    twin = MappedModel(model, RecordingBackend()).twin
    with one_torch_thread():  # session fixtures are set up before the module's autouse fixture
        Trainer(model, **FAST).fit(twin, digits.x_train[:300], digits.y_train[:300], epochs=2)
    return {k: v.detach().clone() for k, v in model.state_dict().items()}
