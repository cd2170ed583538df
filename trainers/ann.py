"""The software model of Schmitt et al. 2017 (section III-A): a ReLU network trained by backpropagation.

100-15-15-5 ReLU units without biases. Initial weights of layer n are drawn from
N(0, 1/sqrt(N_{n-1})) with values beyond 2 sigma re-drawn. Cost per batch:
``(1/5) sum_s (y~_s - y^_s)^2 + (lambda/2) sum W^2`` with ``y~ = y / N_hidden2`` (the label
layer's activity scaled by the size of the second hidden layer), lambda = 0.001. Momentum SGD
(eta = 0.05, gamma = 0.9, batch 100), weights clipped to [-1, 1], 15,000 steps. Deterministic
for a seed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs
import numpy as np

from hal.logging import get_logger
from hal.validators import at_least, positive
from hal.errors import ConfigError, ConfigValueError

__all__ = ["PAPER_SIZES", "ANNTrainer", "ANNResult", "initial_weights", "forward", "accuracy", "predict", "silent_label_units"]

log = get_logger(__name__)

PAPER_SIZES = (100, 15, 15, 5)


def initial_weights(sizes: Sequence[int], rng: np.random.Generator) -> list[np.ndarray]:
    """Truncated normal N(0, 1/sqrt(N_prev)), values beyond 2 sigma re-drawn; matrices are (post, pre)."""
    out = []
    for n_pre, n_post in zip(sizes[:-1], sizes[1:]):
        sigma = 1.0 / np.sqrt(n_pre)
        w = rng.normal(0.0, sigma, size=(n_post, n_pre))
        bad = np.abs(w) > 2 * sigma
        while np.any(bad):
            w[bad] = rng.normal(0.0, sigma, size=int(bad.sum()))
            bad = np.abs(w) > 2 * sigma
        out.append(w)
    return out


def forward(weights: Sequence[np.ndarray], x: np.ndarray) -> list[np.ndarray]:
    """Activations of every layer (input included) for inputs ``x`` (n, 100)."""
    acts = [np.asarray(x, dtype=float)]
    for w in weights:
        acts.append(np.maximum(acts[-1] @ w.T, 0.0))
    return acts


def predict(weights: Sequence[np.ndarray], x: np.ndarray) -> np.ndarray:
    """The label unit with the highest activity; -1 where the maximum is shared (a tie counts as wrong)."""
    y = forward(weights, x)[-1]
    best = y.max(axis=1, keepdims=True)
    ties = (y == best).sum(axis=1) > 1
    return np.where(ties, -1, y.argmax(axis=1))


def accuracy(weights: Sequence[np.ndarray], x: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(predict(weights, x) == labels))


def silent_label_units(weights: Sequence[np.ndarray], x: np.ndarray) -> list[int]:
    """Label units that never win on ``x``: their class is never predicted.

    A bias-free ReLU label unit can go silent during training (output 0, or above 0 for a
    handful of images: MNIST seed 3 has unit 0 active on 3 of 30,690 training images) and then
    gets no gradient and never recovers; the model never predicts its class.
    """
    predicted = predict(weights, x)
    n_classes = np.asarray(weights[-1]).shape[0]
    wins = np.bincount(predicted[predicted >= 0], minlength=n_classes)
    return [int(k) for k in np.flatnonzero(wins == 0)]


def _non_negative(instance, attribute, value) -> None:
    if not (isinstance(value, (int, float)) and np.isfinite(value) and value >= 0):
        raise ConfigValueError(type(instance).__name__, attribute.name, value, "a finite number >= 0")


@attrs.frozen(eq=False)
class ANNResult:
    weights: list  # (post, pre) float matrices
    train_accuracy: float
    test_accuracy: float
    curve: np.ndarray  # (evaluation points, 3): step, train accuracy (batch), test accuracy
    seed: int


@attrs.define
class ANNTrainer:
    """Trains the software model (see the module docstring). Uses torch."""

    sizes: tuple = PAPER_SIZES
    learning_rate: float = attrs.field(default=0.05, validator=positive(what="learning rate"))
    momentum: float = 0.9
    batch_size: int = attrs.field(default=100, validator=at_least(1))
    steps: int = attrs.field(default=15_000, validator=at_least(1))
    l2: float = 0.001
    seed: int = 0
    eval_every: int = 500
    # Relative weight noise in training (0: the paper's): every step sees W * (1 + weight_noise * N(0, 1)),
    # drawn anew per weight, as the chip's synapses deviate from their nominal strength; a model
    # trained to tolerate it may convert better. Issue 13 measures it on a validation split.
    weight_noise: float = attrs.field(default=0.0, validator=_non_negative)

    def fit(self, dataset, progress: Callable[[int, float], None] | None = None) -> ANNResult:
        import torch

        if dataset.x_train.shape[1] != self.sizes[0] or int(dataset.y_train.max()) >= self.sizes[-1]:
            raise ConfigError(f"ANNTrainer: data of shape {dataset.x_train.shape} with {int(dataset.y_train.max()) + 1} classes "
                              f"does not fit a {'-'.join(map(str, self.sizes))} network")
        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        weights = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in initial_weights(self.sizes, rng)]
        velocity = [torch.zeros_like(w) for w in weights]
        x_all = torch.tensor(dataset.x_train, dtype=torch.float64)
        y_all = torch.tensor(dataset.y_train, dtype=torch.int64)
        n = x_all.shape[0]
        n_hidden2 = self.sizes[-2]
        curve = []
        noise_rng = torch.Generator().manual_seed(self.seed + 7)
        from hal.progress import ProgressBar

        bar = ProgressBar(self.steps, "software model")
        for step in range(1, self.steps + 1):
            idx = torch.as_tensor(rng.integers(0, n, size=self.batch_size))
            if self.weight_noise:
                noisy = [w * (1 + self.weight_noise * torch.randn(w.shape, dtype=w.dtype, generator=noise_rng)) for w in weights]
                cost = self.cost(noisy, x_all[idx], y_all[idx], n_hidden2)
            else:
                cost = self.cost(weights, x_all[idx], y_all[idx], n_hidden2)
            grads = torch.autograd.grad(cost, weights)
            with torch.no_grad():
                for w, v, g in zip(weights, velocity, grads):
                    v.mul_(self.momentum).add_(self.learning_rate * g)  # dW <- eta grad + gamma dW
                    w.sub_(v).clamp_(-1.0, 1.0)  # W <- W - dW, clipped for the hardware
            if step % self.eval_every == 0 or step == self.steps:
                current = [w.detach().numpy().copy() for w in weights]
                test = accuracy(current, dataset.x_test, dataset.y_test)
                train = accuracy(current, dataset.x_train[: 5000], dataset.y_train[: 5000])
                curve.append((step, train, test))
                log.info("ann_step", step=step, cost=round(float(cost.detach()), 4), train_accuracy=round(train, 4), test_accuracy=round(test, 4))
                if progress:
                    progress(step, test)
                bar.update(step, f"test {test:.3f}")
        bar.close()
        final = [w.detach().numpy().copy() for w in weights]
        return ANNResult(final, accuracy(final, dataset.x_train, dataset.y_train), accuracy(final, dataset.x_test, dataset.y_test),
                         np.array(curve), self.seed)

    def cost(self, weights, x, labels, n_hidden2: int):
        """The paper's cost (4) for a batch, as a torch scalar."""
        import torch

        a = x
        for w in weights:
            a = torch.relu(a @ w.T)
        target = torch.nn.functional.one_hot(labels, num_classes=self.sizes[-1]).to(a.dtype)
        return cost_from_labels(a, target, weights, n_hidden2, self.l2)


def cost_from_labels(label_activity, target, weights, n_hidden2: int, l2: float):
    """(1/5) sum (y/N_hidden2 - y^)^2 + (lambda/2) sum W^2."""
    n_classes = target.shape[1]
    scaled = label_activity / n_hidden2
    return ((scaled - target) ** 2).sum() / n_classes + 0.5 * l2 * sum((w**2).sum() for w in weights)
