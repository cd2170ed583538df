"""A trial keeps the best converted of several software models (``conversion_candidates``), judged on training images only.

The software training and the chip are replaced by stand-ins that tell the candidates apart
(every weight of candidate k is 0.2 k), so the choice itself is what is tested, in milliseconds.
"""

from __future__ import annotations

import attrs
import numpy as np
import pytest

pytest.importorskip("torch", reason="trainers need torch (pip install torch==2.13.0)")
pytest.importorskip("sklearn", reason="the digits dataset needs scikit-learn")

from hal.errors import ConfigError  # noqa: E402
from hal_trainers.ann import ANNResult  # noqa: E402
from hal_trainers.datasets import load_digits  # noqa: E402
from hal_trainers.schmitt2017 import trial as T  # noqa: E402

SEED = 4


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def _candidate(seed: int) -> int:
    return 0 if seed == SEED else (seed - SEED) // T.CANDIDATE_SEED_STRIDE


@pytest.fixture
def stand_ins(monkeypatch):
    """Fake training (weights 0.2 k for candidate k) and a fake chip network scoring candidate k with ``scores[k]``."""
    state = {"scores": {}, "silent": set(), "measured": []}

    def fit(self, dataset):
        k = _candidate(self.seed)
        return ANNResult([np.full((15, 100), 0.2 * k), np.full((15, 15), 0.2 * k), np.full((5, 15), 0.2 * k)], 1.0, 0.9, np.zeros((0, 3)), self.seed)

    @attrs.define
    class Net:
        backend: object
        weights_4bit: list
        wafer: int = 0
        seed: int = 0

        def accuracy(self, x, y):
            k = int(round(self.weights_4bit[0][0, 0] / 3))  # round(0.2 k * 15) = 3 k
            state["measured"].append((k, len(x)))
            return state["scores"][k]

    monkeypatch.setattr(T.ANNTrainer, "fit", fit)
    monkeypatch.setattr(T, "SpikingNetwork", Net)
    monkeypatch.setattr(T, "silent_label_units", lambda weights, x: [0] if int(round(weights[0][0, 0] / 0.2)) in state["silent"] else [])
    return state


def test_the_candidate_that_converts_best_on_the_training_images_is_kept(digits, stand_ins):
    stand_ins["scores"] = {0: 0.5, 1: 0.8, 2: 0.7}
    ann, net, redraws, scores = T._best_converted(digits, SEED, 10, 3, "chip", lambda message: None)
    assert scores == [0.5, 0.8, 0.7] and redraws == 0
    assert ann.seed == SEED + T.CANDIDATE_SEED_STRIDE
    assert np.array_equal(net.weights_4bit[0], np.full((15, 100), 3.0)) and net.seed == SEED
    # Judged on the training images, never the test images.
    assert stand_ins["measured"] == [(0, len(digits.x_train)), (1, len(digits.x_train)), (2, len(digits.x_train))]


def test_ties_keep_the_trial_s_own_model_and_silent_candidates_are_left_out(digits, stand_ins):
    stand_ins["scores"] = {0: 0.6, 1: 0.9, 2: 0.6}
    stand_ins["silent"] = {1}
    ann, net, redraws, scores = T._best_converted(digits, SEED, 10, 3, "chip", lambda message: None)
    assert scores == [0.6, None, 0.6]
    assert ann.seed == SEED and net.seed == SEED
    assert [k for k, _ in stand_ins["measured"]] == [0, 2]


def test_one_candidate_is_the_trial_s_own_model_without_a_chip_run(digits, stand_ins):
    ann, net, redraws, scores = T._best_converted(digits, SEED, 10, 1, "chip", lambda message: None)
    assert (ann.seed, redraws, scores, stand_ins["measured"]) == (SEED, 0, [], [])


@pytest.mark.parametrize("value", [0, -1, 2.0, True, "3"])
def test_run_trial_refuses_a_bad_candidate_count_before_any_work(digits, value, monkeypatch):
    monkeypatch.setattr(T, "_software_model", lambda *a, **k: pytest.fail("trained before the check"))
    with pytest.raises(ConfigError) as refused:
        T.run_trial(digits, conversion_candidates=value)
    assert str(refused.value) == f"run_trial: conversion_candidates {value!r} out of range; valid integers >= 1"
