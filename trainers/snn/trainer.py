"""Training a :class:`~hal_trainers.snn.model.SpikingModel`: on its twin ("mock") or with a backend in the loop.

One loop for both. Each step takes a batch, gets the network's response -- from the twin, or
measured on the backend and put into the twin's graph (:mod:`hal_trainers.snn.hardware`
says how, per scheme) -- and minimises the cross-entropy of the readout's logits (maximum
membrane over the sample, above its start; with ``readout="spike_count"`` the last layer's
spike counts, for a spiking output layer such as snnTorch's, whose class is its most active
neuron) plus a sparsity term, ``sparsity`` times the mean
squared spike count per hidden neuron and sample, with Adam on the float weights, which are
kept in the 4-bit range and rounded on the way to the twin and the hardware.

Batches are drawn from ``numpy.random.default_rng([seed, epoch])`` and the backend's run
seed from the step, so a run resumed from its checkpoint (written atomically every
``checkpoint_every`` steps and at the end) continues exactly as an uninterrupted one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import attrs
import numpy as np
import torch

from hal.errors import ConfigError, FileFormatError
from hal.files import atomic_write
from hal.logging import get_logger
from hal.validators import at_least, positive
from hal.progress import ProgressBar
from hal_trainers.snn.estimators import SuperSpike
from hal_trainers.snn.hardware import MappedModel
from hal_trainers.snn.model import SpikingModel
from hal_trainers.snn.twin import Output, Twin, simulate

__all__ = ["Trainer", "Evaluation", "READOUTS"]

#: What the logits are: the readout's membrane (maximum above its start) or the last layer's spike counts.
READOUTS = ("membrane", "spike_count")

log = get_logger(__name__)


@attrs.frozen
class Evaluation:
    """Accuracy, confusion matrix (true, predicted), hidden spikes per sample and throughput."""

    accuracy: float
    confusion: np.ndarray
    hidden_spikes_per_sample: float
    samples: int
    samples_per_s: float
    on: str

    def as_dict(self) -> dict:
        return {"accuracy": self.accuracy, "confusion": self.confusion.tolist(), "hidden_spikes_per_sample": self.hidden_spikes_per_sample,
                "samples": self.samples, "samples_per_s": self.samples_per_s, "on": self.on}


def _target(target) -> tuple[str, MappedModel | None, Twin | None]:
    if isinstance(target, MappedModel):
        return f"backend {target.backend.name} ({target.scheme} scheme)", target, target.twin
    if isinstance(target, Twin):
        return f"twin ({target.source})", None, target
    raise ConfigError(f"Trainer: train/evaluate on a MappedModel (in the loop) or a Twin (mock), got {type(target).__name__}")


@attrs.define
class Trainer:
    """Trains ``model``; see the module docstring. ``learning_rate`` is in weight steps per Adam step."""

    model: SpikingModel
    estimator: object = attrs.field(factory=SuperSpike)
    learning_rate: float = attrs.field(default=0.1, validator=positive(what="learning rate"))
    batch_size: int = attrs.field(default=256, validator=at_least(1))
    readout_scale_mv: float = attrs.field(default=1.0, validator=positive(what="voltage", unit="mV"))
    sparsity: float = 1e-3
    seed: int = 0
    checkpoint_every: int = attrs.field(default=20, validator=at_least(1))
    readout: str = "membrane"

    def __attrs_post_init__(self):
        if self.readout not in READOUTS:
            raise ConfigError(f"Trainer.readout: {self.readout!r} not valid; valid {', '.join(READOUTS)}")
        if self.readout == "spike_count" and isinstance(self.model, SpikingModel) and not self.model.layers[-1].spiking:
            raise ConfigError(f"Trainer.readout: 'spike_count' needs a spiking last layer; {self.model.names[-1]!r} is a "
                              f"{type(self.model.layers[-1]).__name__}; use readout 'membrane'")
        if not isinstance(self.model, SpikingModel):
            raise ConfigError(f"Trainer.model: expected a SpikingModel, got {type(self.model).__name__}")
        if not (np.isfinite(self.sparsity) and self.sparsity >= 0):
            raise ConfigError(f"Trainer.sparsity: {self.sparsity!r} out of range; valid >= 0")

    # -- one batch ----------------------------------------------------------------------------------

    def forward(self, target, x, *, seed: int = 0, train: bool = True) -> tuple[Output, dict]:
        """The network's response to images ``x`` on ``target`` (a MappedModel or a Twin)."""
        _, mapped, twin = _target(target)
        spike_fn = self.estimator.spike_fn()
        if mapped is not None:
            measured, grid, info = mapped.run(x, seed=seed)
        else:
            _, grid = self.model.encode_grid(x, seed)
            measured, info = None, {}
        with torch.set_grad_enabled(train):
            out = simulate(self.model, twin, grid, spike_fn=spike_fn, measured=measured, readout_scale_mv=self.readout_scale_mv)
            if self.readout == "spike_count":
                out = attrs.evolve(out, logits=out.spikes[-1].sum(dim=1))
        return out, info

    def loss(self, out: Output, y: np.ndarray) -> torch.Tensor:
        ce = torch.nn.functional.cross_entropy(out.logits, torch.tensor(np.asarray(y), dtype=torch.int64))
        hidden = [s.sum(dim=1) for s, layer in zip(out.spikes, self.model.layers) if layer.spiking]
        reg = sum((c ** 2).mean() for c in hidden) if hidden else 0.0
        return ce + self.sparsity * reg

    # -- training -----------------------------------------------------------------------------------

    def fit(self, target, x_train, y_train, *, epochs: float = 1.0, checkpoint: str | Path | None = None,
            progress: Callable[[dict], None] | None = None, label: str = "train") -> list[dict]:
        """Train for ``epochs`` passes over the data (fractions allowed); returns the curve, one entry per step."""
        where, mapped, _ = _target(target)
        x_train, y_train = np.asarray(x_train), np.asarray(y_train)
        if len(x_train) == 0 or len(x_train) != len(y_train):
            raise ConfigError(f"Trainer.fit: {len(x_train)} images and {len(y_train)} labels; need the same number > 0")
        if not (np.isfinite(epochs) and epochs > 0):
            raise ConfigError(f"Trainer.fit: epochs {epochs!r} out of range; valid > 0")
        per_epoch = int(np.ceil(len(x_train) / self.batch_size))
        total = int(np.ceil(epochs * per_epoch))
        optimizer = torch.optim.Adam(self.model.parameters(), lr=self.learning_rate)
        step, curve = 0, []
        path = Path(checkpoint) if checkpoint else None
        if path is not None and path.exists():
            step, curve = self._load(path, optimizer)
            log.info("training_resumed", label=label, step=step, checkpoint=str(path))
        log.info("training_started", label=label, on=where, estimator=self.estimator.name, steps=total, batch=self.batch_size)
        bar = ProgressBar(total, label)
        order = None
        while step < total:
            epoch, k = divmod(step, per_epoch)
            if order is None or k == 0 or order[0] != epoch:
                order = (epoch, np.random.default_rng([self.seed, epoch]).permutation(len(x_train)))
            idx = order[1][k * self.batch_size:(k + 1) * self.batch_size]
            started = time.perf_counter()
            out, info = self.forward(target, x_train[idx], seed=self.seed * 1_000_003 + step)
            loss = self.loss(out, y_train[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            self.model.clamp_()
            step += 1
            entry = {"step": step, "epoch": step / per_epoch, "loss": float(loss.detach()),
                     "train_accuracy": float((out.logits.argmax(1).numpy() == y_train[idx]).mean()),
                     "hidden_spikes_per_sample": out.hidden_spikes_per_sample(), "wall_s": time.perf_counter() - started, **info}
            curve.append(entry)
            if progress:
                progress(entry)
            bar.update(step, f"loss {entry['loss']:.3f} acc {entry['train_accuracy']:.3f}")
            if path is not None and (step % self.checkpoint_every == 0 or step == total):
                self._save(path, step, curve, optimizer)
        bar.close()
        if mapped is not None:
            mapped.write_weights()
        return curve

    def evaluate(self, target, x, y, *, batch_size: int | None = None, seed: int = 12345) -> Evaluation:
        """Accuracy of the current weights on ``target``; the readout's largest logit is the class."""
        where, mapped, _ = _target(target)
        x, y = np.asarray(x), np.asarray(y)
        if len(x) == 0 or len(x) != len(y):
            raise ConfigError(f"Trainer.evaluate: {len(x)} images and {len(y)} labels; need the same number > 0")
        n_classes = self.model.sizes[-1]
        confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
        spikes, seconds = 0.0, 0.0
        size = batch_size or max(self.batch_size, 512)
        for b, start in enumerate(range(0, len(x), size)):
            started = time.perf_counter()
            out, info = self.forward(target, x[start:start + size], seed=seed + b, train=False)
            seconds += info.get("backend_s", time.perf_counter() - started)
            predicted = out.logits.argmax(1).numpy()
            np.add.at(confusion, (y[start:start + size], predicted), 1)
            spikes += out.hidden_spikes_per_sample() * len(predicted)
        return Evaluation(float(np.trace(confusion) / len(x)), confusion, spikes / len(x), len(x), len(x) / max(seconds, 1e-9), where)

    # -- checkpoints ---------------------------------------------------------------------------------

    def _save(self, path: Path, step: int, curve: list, optimizer) -> None:
        state = {"format": "hal-snn-checkpoint", "version": 1, "step": step, "curve": curve, "settings": self._settings(),
                 "model": self.model.state_dict(), "optimizer": optimizer.state_dict()}
        atomic_write(path, lambda fh: torch.save(state, fh))

    def _settings(self) -> dict:
        """What a checkpoint must have been trained with to be continued by this trainer."""
        settings = {"seed": self.seed, "batch_size": self.batch_size, "learning_rate": self.learning_rate,
                    "sparsity": self.sparsity, "readout_scale_mv": self.readout_scale_mv, "estimator": repr(self.estimator)}
        if self.readout != "membrane":  # checkpoints written before the option existed stay usable
            settings["readout"] = self.readout
        return settings

    def _load(self, path: Path, optimizer) -> tuple[int, list]:
        try:
            state = torch.load(path, weights_only=True)
            if not isinstance(state, dict) or state.get("format") != "hal-snn-checkpoint":
                raise ValueError("not a hal-snn-checkpoint")
            stored = state.get("settings")
            if stored is not None and stored != self._settings():
                differ = [f"{k} {stored.get(k)!r} there, {v!r} now" for k, v in self._settings().items() if stored.get(k) != v]
                raise ConfigError(f"{path}: checkpoint trained with other settings ({'; '.join(differ)}); "
                                  f"use the same settings, or another checkpoint path")
            self.model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            return int(state["step"]), list(state["curve"])
        except ConfigError:
            raise
        except Exception as exc:  # a damaged file can fail in the unpickler in many ways; each is the same error to the user
            raise FileFormatError(path, f"not a usable training checkpoint ({exc}); delete it to start over") from None
