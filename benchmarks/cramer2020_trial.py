"""One trial of Cramer et al. 2020 on 16x16 MNIST (256-246-10, noisy backend): wall time and numbers.

The done-when of the trainer-API issue asks for one trial under 30 minutes on 2 cores; this
prints the trial's accuracies (twin, transfer, in-the-loop), hidden spikes per image, the
backend's images per second and the wall time of each phase, and writes them as JSON.

Run: python benchmarks/cramer2020_trial.py [--seed 0] [--data-dir ../shared/data/mnist]
         [--mock-epochs 3] [--itl-epochs 1] [--test-subset N] [--threads 2] [--out cramer2020_trial.json]
         [--set name=value ...] [--checkpoint-dir DIR]

``--set`` overrides a trial setting (``trial.DEFAULTS``; the value as JSON, e.g. ``fine_divisor=15``);
``--checkpoint-dir`` keeps the trial's checkpoints there (``hal reproduce cramer2020``'s
``OUT/checkpoints/SEED`` lets that run resume the benchmarked trial instead of repeating it).
     python benchmarks/cramer2020_trial.py --step-timing 20 --threads 1

``--step-timing N`` only maps the model and times N in-the-loop steps (forward on the backend,
loss, backward through the twin, weight update) after one warm-up step, in CPU time, and prints the
mean per step with the losses (docs/benchmarks.md, "In-the-loop step").

``--test-subset N`` evaluates on the first N test images only (a quick timing run; the accuracies
are then not the trial's). The summary adds the process's CPU time and the machine's load average
at the start and the end, since wall times on a shared machine mean little without them.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import torch

from hal.cli._common import parse_option
from hal.logging import configure
from hal_trainers.cramer2020.trial import DEFAULTS, build_model, mapping_options, model_settings, run_trial
from hal_trainers.datasets import load_dataset
from hal_trainers.snn import MappedModel, SuperSpike, Trainer


def step_timing(dataset, steps: int, threads: int, seed: int) -> dict:
    """CPU seconds per in-the-loop step of the trial's network on the noisy backend (after one warm-up step)."""
    import hal

    cfg = DEFAULTS
    torch.manual_seed(seed)
    model = build_model(dataset.x_train.shape[1], int(dataset.y_train.max()) + 1, seed=seed, **model_settings(cfg))
    mapped = MappedModel(model, hal.get_backend("noisy", wafer=100 + seed, threads=threads), wafer=100 + seed, options=mapping_options(cfg))
    trainer = Trainer(model, estimator=SuperSpike(cfg["steepness"]), learning_rate=cfg["itl_learning_rate"], batch_size=cfg["batch_size"],
                      readout_scale_mv=cfg["readout_scale_mv"], sparsity=cfg["sparsity"], seed=seed + 1)
    optimizer = trainer._optimizer()
    batch = cfg["batch_size"]

    def step(k: int) -> float:
        x, y = dataset.x_train[k * batch:(k + 1) * batch], dataset.y_train[k * batch:(k + 1) * batch]
        out, _ = trainer.forward(mapped, x, seed=k)
        loss = trainer.loss(out, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        model.clamp_()
        return float(loss.detach())

    step(0)  # the first configuration writes everything
    load_start = os.getloadavg()
    cpu, wall = time.process_time(), time.perf_counter()
    losses = [round(step(k), 6) for k in range(1, steps + 1)]
    return {"steps": steps, "threads": threads, "cpu_s_per_step": (time.process_time() - cpu) / steps,
            "wall_s_per_step": (time.perf_counter() - wall) / steps, "losses": losses,
            "load_average_1_5_15": {"start": list(load_start), "end": list(os.getloadavg())}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default="../shared/data/mnist")
    parser.add_argument("--mock-epochs", type=float, default=DEFAULTS["mock_epochs"])
    parser.add_argument("--itl-epochs", type=float, default=DEFAULTS["itl_epochs"])
    parser.add_argument("--step-timing", type=int, default=None, metavar="N", help="only time N in-the-loop steps (CPU per step)")
    parser.add_argument("--test-subset", type=int, default=None, help="evaluate on the first N test images only (timing runs)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (the backend gets the same)")
    parser.add_argument("--out", default="cramer2020_trial.json")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a trial setting (JSON value)")
    parser.add_argument("--checkpoint-dir", default=None)
    args = parser.parse_args()
    overrides = dict(parse_option(item, "--set", "fine_divisor=15") for item in args.set)  # run_trial names unknown ones
    configure(level="warning")
    torch.set_num_threads(args.threads)
    dataset = load_dataset("mnist16", args.data_dir)
    if args.step_timing is not None:
        print(json.dumps(step_timing(dataset, args.step_timing, args.threads, args.seed), indent=1))
        return
    load_start = os.getloadavg()
    started, cpu_started = time.perf_counter(), time.process_time()
    result = run_trial(dataset, backend="noisy", seed=args.seed, backend_options={"threads": args.threads},
                       mock_epochs=args.mock_epochs, itl_epochs=args.itl_epochs, test_subset=args.test_subset,
                       checkpoint_dir=args.checkpoint_dir, **overrides,
                       progress=lambda message: print(f"{time.perf_counter() - started:7.0f} s  {message}", flush=True))
    keep = ("software", "mock_on_backend", "in_the_loop", "hidden_spikes_per_image", "hidden_spikes_per_neuron",
            "images_per_second", "mock_s", "itl_s", "wall_s", "mapping", "scheme", "settings")
    result["cpu_s"] = time.process_time() - cpu_started
    result["load_average_1_5_15"] = {"start": list(load_start), "end": list(os.getloadavg())}
    result["test_subset"] = args.test_subset
    summary = {k: result[k] for k in (*keep, "cpu_s", "load_average_1_5_15", "test_subset")}
    print(json.dumps(summary, indent=1))
    with open(args.out, "w") as fh:
        json.dump(result, fh)


if __name__ == "__main__":
    main()
