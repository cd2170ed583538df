"""Training a :class:`~hal_trainers.snn.model.SpikingModel`: on its twin ("mock") or with a backend in the loop.

One loop for both. Each step takes a batch, gets the network's response -- from the twin, or
measured on the backend and put into the twin's graph (:mod:`hal_trainers.snn.hardware`
says how, per scheme) -- and minimises the cross-entropy of the readout's logits (maximum
membrane over the sample, above its start; with ``readout="spike_count"`` the last layer's
spike counts, for a spiking output layer such as snnTorch's, whose class is its most active
neuron) plus a sparsity term, ``sparsity`` times the mean
squared spike count per hidden neuron and sample, with Adam on the float weights, which are
kept in the 4-bit range and rounded on the way to the twin and the hardware.

Options against overfitting (all off by default): ``augment_shift`` moves each training image
by up to that many pixels (:func:`~hal_trainers.snn.augment.shift_images`; evaluation sees the
images as they are), ``input_dropout`` blanks each pixel of a training image with that probability (the
pixel does not spike; the same images go to the twin and to the backend), ``hidden_dropout`` silences each
hidden neuron's output towards the next layer for a sample with that probability (the kept ones count
``1 / (1 - p)``; mock training on the twin only, and only with a surrogate estimator: a backend runs the whole
network), ``weight_decay`` pulls the float weights towards zero (AdamW's decoupled
decay, per unit learning rate), ``label_smoothing`` aims the cross-entropy at that much probability spread
evenly over the classes instead of all on the label (torch's ``label_smoothing``), ``lr_schedule="cosine"`` lowers the learning rate from
``learning_rate`` to zero over the steps of each :meth:`Trainer.fit`, ``augment_distortion`` rotates, scales and
shifts each training image by a random sub-pixel affine transform (:class:`~hal_trainers.snn.augment.Distortion`).

Batches are drawn from ``numpy.random.default_rng([seed, epoch])``, the shifts of a batch
from ``default_rng([seed, step, 1])``, its blanked pixels from ``default_rng([seed, step, 2])``, its dropped hidden neurons from
``default_rng([seed, step, 3])``, its distortions from ``default_rng([seed, step, 4])`` and the backend's run seed from the step, so a run resumed from its checkpoint (written atomically every
``checkpoint_every`` steps and at the end) continues exactly as an uninterrupted one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import attrs
import numpy as np
import torch

from hal.errors import ConfigError, ConfigValueError, FileFormatError
from hal.files import atomic_write
from hal.logging import get_logger
from hal.validators import at_least, is_finite_number, one_of, positive
from hal.progress import ProgressBar
from hal_trainers.snn.augment import Distortion, as_distortion, distort_images, shift_images, square_side
from hal_trainers.snn.estimators import SuperSpike
from hal_trainers.snn.hardware import MappedModel
from hal_trainers.snn.model import SpikingModel
from hal_trainers.snn.twin import Output, Twin

__all__ = ["Trainer", "Evaluation", "READOUTS", "SCHEDULES"]

#: What the logits are: the readout's membrane (maximum above its start) or the last layer's spike counts.
READOUTS = ("membrane", "spike_count")

#: Learning rate over a fit's steps: constant, or a cosine decay from ``learning_rate`` to zero.
SCHEDULES = ("constant", "cosine")

log = get_logger(__name__)


def _shown(settings: dict, key: str) -> str:
    """A checkpoint setting as a message shows it; an option left at its default is not stored."""
    return repr(settings[key]) if key in settings else "default"


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
    augment_shift: int = attrs.field(default=0, validator=at_least(0))
    weight_decay: float = 0.0
    lr_schedule: str = attrs.field(default="constant", validator=one_of(SCHEDULES))
    input_dropout: float = 0.0
    hidden_dropout: float = 0.0
    label_smoothing: float = 0.0
    augment_distortion: Distortion | None = attrs.field(default=None, converter=as_distortion)

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
        if not (is_finite_number(self.weight_decay) and self.weight_decay >= 0):
            raise ConfigValueError("Trainer", "weight_decay", self.weight_decay, "a finite number >= 0 (per unit learning rate)")
        if not (is_finite_number(self.input_dropout) and 0 <= self.input_dropout < 1):
            raise ConfigValueError("Trainer", "input_dropout", self.input_dropout, "a probability 0 <= p < 1 (0: off)")
        if not (is_finite_number(self.hidden_dropout) and 0 <= self.hidden_dropout < 1):
            raise ConfigValueError("Trainer", "hidden_dropout", self.hidden_dropout, "a probability 0 <= p < 1 (0: off)")
        if not (is_finite_number(self.label_smoothing) and 0 <= self.label_smoothing < 1):
            raise ConfigValueError("Trainer", "label_smoothing", self.label_smoothing, "a probability 0 <= p < 1 (0: off)")
        if self.hidden_dropout and not hasattr(self.estimator, "spike_fn"):
            raise ConfigError(f"Trainer.hidden_dropout: {self.hidden_dropout} needs a surrogate-gradient estimator (superspike, "
                              f"straight_through); {getattr(self.estimator, 'name', type(self.estimator).__name__)} builds its own "
                              f"network; use hidden_dropout 0")
        side = square_side(self.model.coding.size)
        if self.augment_shift and side is None:
            raise ConfigError(f"Trainer.augment_shift: {self.augment_shift} needs square images; the model has "
                              f"{self.model.coding.size} inputs, not a square number; use augment_shift 0")
        if self.augment_distortion is not None and side is None:
            raise ConfigError(f"Trainer.augment_distortion: {self.augment_distortion} needs square images; the model has "
                              f"{self.model.coding.size} inputs, not a square number; use augment_distortion None")
        if self.augment_shift and self.augment_shift >= side:
            raise ConfigValueError("Trainer", "augment_shift", self.augment_shift, f"0..{side - 1} pixels for {side}x{side} images")

    # -- one batch ----------------------------------------------------------------------------------

    def forward(self, target, x, *, seed: int = 0, train: bool = True, dropout: tuple = ()) -> tuple[Output, dict]:
        """The network's response to images ``x`` on ``target`` (a MappedModel or a Twin).

        The backend measures (nothing is measured on a Twin); the estimator turns that into the
        differentiable response (:mod:`hal_trainers.snn.estimators`).
        """
        _, mapped, twin = _target(target)
        check = getattr(self.estimator, "check_model", None)
        if check is not None:  # before the backend runs
            check(self.model)
        if mapped is not None:
            measured, grid, info = mapped.run(x, seed=seed)
        else:
            _, grid = self.model.encode_grid(x, seed)
            measured, info = None, {}
        with torch.set_grad_enabled(train):
            out = self.estimator.response(self.model, twin, grid, measured, x=x, readout=self.readout,
                                          readout_scale_mv=self.readout_scale_mv, **({"dropout": dropout} if dropout else {}))
        return out, info

    def loss(self, out: Output, y: np.ndarray) -> torch.Tensor:
        """Cross-entropy of the logits plus the sparsity term; an estimator with its own cost (the rate-based one) supplies it instead."""
        own = getattr(self.estimator, "loss", None)
        if own is not None:
            return own(out, y)
        ce = torch.nn.functional.cross_entropy(out.logits, torch.tensor(np.asarray(y), dtype=torch.int64),
                                               label_smoothing=self.label_smoothing)
        hidden = [s.sum(dim=1) for s, layer in zip(out.spikes, self.model.layers) if layer.spiking]
        reg = sum((c ** 2).mean() for c in hidden) if hidden else 0.0
        return ce + self.sparsity * reg

    # -- training -----------------------------------------------------------------------------------

    def fit(self, target, x_train, y_train, *, epochs: float = 1.0, checkpoint: str | Path | None = None,
            progress: Callable[[dict], None] | None = None, label: str = "train") -> list[dict]:
        """Train for ``epochs`` passes over the data (fractions allowed); returns the curve, one entry per step."""
        where, mapped, _ = _target(target)
        if mapped is not None and self.hidden_dropout:
            raise ConfigError(f"Trainer.fit: hidden_dropout {self.hidden_dropout} in the loop; the backend runs the whole network, "
                              f"so dropout applies to mock training on the twin only; use a trainer with hidden_dropout 0")
        x_train, y_train = np.asarray(x_train), np.asarray(y_train)
        if len(x_train) == 0 or len(x_train) != len(y_train):
            raise ConfigError(f"Trainer.fit: {len(x_train)} images and {len(y_train)} labels; need the same number > 0")
        if not (np.isfinite(epochs) and epochs > 0):
            raise ConfigError(f"Trainer.fit: epochs {epochs!r} out of range; valid > 0")
        per_epoch = int(np.ceil(len(x_train) / self.batch_size))
        total = self.steps(len(x_train), epochs)
        optimizer = self._optimizer()
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
            for group in optimizer.param_groups:
                group["lr"] = self._learning_rate(step, total)
            out, info = self.forward(target, self._augment(x_train[idx], step), seed=self.seed * 1_000_003 + step,
                                     dropout=self._dropout(len(idx), step))
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

    def steps(self, images: int, epochs: float) -> int:
        """Training steps :meth:`fit` takes for ``epochs`` passes over ``images`` images."""
        return int(np.ceil(epochs * np.ceil(images / self.batch_size)))

    def _optimizer(self) -> torch.optim.Optimizer:
        if self.weight_decay:
            return torch.optim.AdamW(self.model.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay)
        return torch.optim.Adam(self.model.parameters(), lr=self.learning_rate)

    def _learning_rate(self, step: int, total: int) -> float:
        if self.lr_schedule == "cosine":
            return float(self.learning_rate * 0.5 * (1 + np.cos(np.pi * step / total)))
        return self.learning_rate

    def _augment(self, x: np.ndarray, step: int) -> np.ndarray:
        if self.augment_shift:
            x = shift_images(x, square_side(self.model.coding.size), self.augment_shift, np.random.default_rng([self.seed, step, 1]))
        if self.augment_distortion is not None:
            x = distort_images(x, square_side(self.model.coding.size), self.augment_distortion, np.random.default_rng([self.seed, step, 4]))
        if self.input_dropout:
            kept = np.random.default_rng([self.seed, step, 2]).random(x.shape) >= self.input_dropout
            x = np.where(kept, x, 0).astype(x.dtype, copy=False)
        return x

    def _dropout(self, batch: int, step: int) -> tuple[torch.Tensor, ...]:
        """Inverted-dropout factors (batch, neurons) for each spiking layer that passes spikes on."""
        if not self.hidden_dropout:
            return ()
        rng = np.random.default_rng([self.seed, step, 3])
        keep = 1.0 - self.hidden_dropout
        return tuple(torch.as_tensor((rng.random((batch, layer.size)) < keep) / keep, dtype=torch.float32)
                     for layer in self.model.layers[:-1])

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
        # Options at their defaults are left out: checkpoints written before they existed stay usable.
        if self.readout != "membrane":
            settings["readout"] = self.readout
        for name, default in (("augment_shift", 0), ("weight_decay", 0.0), ("lr_schedule", "constant"), ("input_dropout", 0.0),
                              ("hidden_dropout", 0.0), ("label_smoothing", 0.0)):
            if getattr(self, name) != default:
                settings[name] = getattr(self, name)
        if self.augment_distortion is not None:
            settings["augment_distortion"] = self.augment_distortion.settings()
        return settings

    def _load(self, path: Path, optimizer) -> tuple[int, list]:
        try:
            state = torch.load(path, weights_only=True)
            if not isinstance(state, dict) or state.get("format") != "hal-snn-checkpoint":
                raise ValueError("not a hal-snn-checkpoint")
            stored = state.get("settings")
            if stored is not None and stored != self._settings():
                now = self._settings()
                differ = [f"{k} {_shown(stored, k)} there, {_shown(now, k)} now" for k in sorted({*stored, *now}) if stored.get(k) != now.get(k)]
                raise ConfigError(f"{path}: checkpoint trained with other settings ({'; '.join(differ)}); "
                                  f"use the same settings, or another checkpoint path")
            self.model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            return int(state["step"]), list(state["curve"])
        except ConfigError:
            raise
        except Exception as exc:  # a damaged file can fail in the unpickler in many ways; each is the same error to the user
            raise FileFormatError(path, f"not a usable training checkpoint ({exc}); delete it to start over") from None
