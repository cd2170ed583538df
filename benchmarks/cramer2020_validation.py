"""Choosing the Cramer et al. trial's settings without the test set: the twin trained on the first
55,000 MNIST training images and measured on the last 5,000 after every epoch.

Maps the trial's 256-246-10 network onto ``noisy`` (wafer 100 + seed) for its twin, scales the
input weights as a trial does, then mock-trains with the Trainer's options (``--lr-schedule``,
``--augment-shift``, ``--weight-decay``, ...) and prints one JSON line per epoch: validation
accuracy, hidden spikes per image, minutes. The test set is not read.

Run: python benchmarks/cramer2020_validation.py [--epochs 3] [--lr-schedule cosine] [--augment-shift 0]
         [--weight-decay 0] [--sparsity 2e-3] [--target-rate 1] [--excitatory-divisor 1] [--seed 0] [--data-dir ../shared/data/mnist]
"""

from __future__ import annotations

import argparse
import json
import math
import time

import torch

import hal
from hal.logging import configure
from hal_trainers.cramer2020.trial import DEFAULTS, build_model, calibrate_input_weights
from hal_trainers.datasets import load_dataset
from hal_trainers.snn import MappedModel, SuperSpike, Trainer

#: Training images used for training; the rest of the 60,000 are the validation set.
TRAIN = 55_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=float, default=DEFAULTS["mock_epochs"])
    parser.add_argument("--lr", type=float, default=DEFAULTS["learning_rate"])
    parser.add_argument("--lr-schedule", default=DEFAULTS["lr_schedule"])
    parser.add_argument("--augment-shift", type=int, default=DEFAULTS["augment_shift"])
    parser.add_argument("--weight-decay", type=float, default=DEFAULTS["weight_decay"])
    parser.add_argument("--sparsity", type=float, default=DEFAULTS["sparsity"])
    parser.add_argument("--steepness", type=float, default=DEFAULTS["steepness"])
    parser.add_argument("--readout-scale", type=float, default=DEFAULTS["readout_scale_mv"])
    parser.add_argument("--target-rate", type=float, default=DEFAULTS["target_rate"])
    parser.add_argument("--excitatory-divisor", type=int, default=DEFAULTS["excitatory_divisor"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default="../shared/data/mnist")
    args = parser.parse_args()
    configure(level="warning")
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    data = load_dataset("mnist16", args.data_dir)
    x, y = data.x_train[:TRAIN], data.y_train[:TRAIN]
    x_val, y_val = data.x_train[TRAIN:], data.y_train[TRAIN:]
    model = build_model(x.shape[1], 10, seed=args.seed, excitatory_divisor=args.excitatory_divisor)
    mapped = MappedModel(model, hal.get_backend("noisy", wafer=100 + args.seed), wafer=100 + args.seed)
    trainer = Trainer(model, estimator=SuperSpike(args.steepness), learning_rate=args.lr, batch_size=DEFAULTS["batch_size"],
                      readout_scale_mv=args.readout_scale, sparsity=args.sparsity, seed=args.seed, lr_schedule=args.lr_schedule,
                      augment_shift=args.augment_shift, weight_decay=args.weight_decay)
    calibrate_input_weights(trainer, mapped.twin, x, target=args.target_rate)
    per_epoch = math.ceil(len(x) / trainer.batch_size)
    total = math.ceil(args.epochs * per_epoch)
    started = time.perf_counter()

    def progress(entry: dict) -> None:
        if entry["step"] % per_epoch == 0 or entry["step"] == total:
            val = trainer.evaluate(mapped.twin, x_val, y_val)
            print(json.dumps({"epoch": round(entry["step"] / per_epoch, 2), "validation": val.accuracy,
                              "hidden_spikes_per_image": round(val.hidden_spikes_per_sample, 1), "batch_loss": round(entry["loss"], 4),
                              "minutes": round((time.perf_counter() - started) / 60, 1), **{k: v for k, v in vars(args).items() if k != "data_dir"}}),
                  flush=True)

    trainer.fit(mapped.twin, x, y, epochs=args.epochs, progress=progress, label="validation")


if __name__ == "__main__":
    main()
