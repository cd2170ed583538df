"""How far mock training alone takes the Cramer et al. network: the twin trained for many epochs.

Maps the trial's 256-246-10 network onto ``noisy`` (wafer 100 + seed), scales the input weights
as a trial does, then trains the software twin with Adam and a cosine learning-rate decay to zero
over ``--epochs``, and prints the twin's test accuracy and hidden spikes per image after every
epoch (JSON lines), then the accuracy of the final weights on the noisy chip.

Run: python benchmarks/cramer2020_mock_ceiling.py [--epochs 8] [--lr 0.2] [--sparsity 2e-3]
         [--seed 0] [--data-dir ../shared/data/mnist]
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np
import torch

import hal
from hal.logging import configure
from hal_trainers.cramer2020.trial import DEFAULTS, build_model, calibrate_input_weights
from hal_trainers.datasets import load_dataset
from hal_trainers.snn import MappedModel, SuperSpike, Trainer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=float, default=8.0)
    parser.add_argument("--lr", type=float, default=DEFAULTS["learning_rate"])
    parser.add_argument("--sparsity", type=float, default=DEFAULTS["sparsity"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default="../shared/data/mnist")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    configure(level="warning")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    data = load_dataset("mnist16", args.data_dir)
    model = build_model(data.x_train.shape[1], 10, seed=args.seed)
    mapped = MappedModel(model, hal.get_backend("noisy", wafer=100 + args.seed), wafer=100 + args.seed)
    trainer = Trainer(model, estimator=SuperSpike(DEFAULTS["steepness"]), learning_rate=args.lr, batch_size=DEFAULTS["batch_size"],
                      readout_scale_mv=DEFAULTS["readout_scale_mv"], sparsity=args.sparsity, seed=args.seed)
    calibrate_input_weights(trainer, mapped.twin, data.x_train, target=DEFAULTS["target_rate"])
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    n, batch = len(data.x_train), trainer.batch_size
    per_epoch = math.ceil(n / batch)
    total = int(args.epochs * per_epoch)
    started = time.perf_counter()
    for step in range(total):
        epoch, k = divmod(step, per_epoch)
        if k == 0:
            order = np.random.default_rng([args.seed, epoch]).permutation(n)
        for group in optimizer.param_groups:
            group["lr"] = args.lr * 0.5 * (1 + math.cos(math.pi * step / total))
        idx = order[k * batch:(k + 1) * batch]
        out, _ = trainer.forward(mapped.twin, data.x_train[idx], seed=step)
        loss = trainer.loss(out, data.y_train[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        model.clamp_()
        if (step + 1) % per_epoch == 0 or step + 1 == total:
            twin = trainer.evaluate(mapped.twin, data.x_test, data.y_test)
            print(json.dumps({"epoch": round((step + 1) / per_epoch, 2), "twin_test": twin.accuracy,
                              "hidden_spikes_per_image": round(twin.hidden_spikes_per_sample, 1), "batch_loss": round(float(loss), 4),
                              "minutes": round((time.perf_counter() - started) / 60, 1)}), flush=True)
    chip = trainer.evaluate(mapped, data.x_test, data.y_test)
    print(json.dumps({"noisy_test": chip.accuracy, "hidden_spikes_per_image": round(chip.hidden_spikes_per_sample, 1)}), flush=True)


if __name__ == "__main__":
    main()
