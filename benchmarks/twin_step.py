"""One mock-training step of the Cramer et al. twin, with the input projection as a dense or a sparse product (issue #15).

The trial's network (``hal_trainers.cramer2020.trial.build_model`` at ``DEFAULTS``, mapped on wafer 100 of the
``noisy`` backend) takes a batch of mnist16 training images (or random latency-coded images without
``--data-dir``) through the twin: forward, cross-entropy plus the sparsity term, backward -- what
``Trainer.fit`` does per step, without the optimiser. The two products alternate in rounds in one process,
so both see the same load; the line per round gives the median seconds per step of each, and the last line
the largest difference between them in the logits and in the input weights' gradient.

Run: python benchmarks/twin_step.py [--data-dir /work/shared/data/mnist] [--batch 100] [--rounds 4] [--steps 8] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="MNIST IDX files; without it, random images")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--steps", type=int, default=8, help="timed steps per product and round")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import torch

    import hal
    from hal.logging import configure
    from hal_trainers.cramer2020.trial import DEFAULTS, build_model
    from hal_trainers.snn import MappedModel, SuperSpike, Trainer
    from hal_trainers.snn import twin as twin_module

    configure(level="warning")
    torch.set_num_threads(args.threads)
    if args.data_dir:
        from hal_trainers.datasets import load_dataset

        data = load_dataset("mnist16", args.data_dir)
        x, y = np.array(data.x_train[: args.batch]), np.array(data.y_train[: args.batch])
    else:
        rng = np.random.default_rng(0)
        x = (rng.random((args.batch, 256)) * (rng.random((args.batch, 256)) < 0.3)).astype(np.float32)
        y = rng.integers(0, 10, args.batch)
    voltages = {k: DEFAULTS[k] for k in ("e_l_mv", "v_th_mv", "e_rev_i_mv")}
    model = build_model(256, 10, **voltages)
    mapped = MappedModel(model, hal.get_backend("noisy", wafer=100), wafer=100)
    trainer = Trainer(model, estimator=SuperSpike(DEFAULTS["steepness"]), batch_size=args.batch,
                      readout_scale_mv=DEFAULTS["readout_scale_mv"], sparsity=DEFAULTS["sparsity"])

    def step(seed: int):
        model.zero_grad()
        out, _ = trainer.forward(mapped.twin, x, seed=seed)
        trainer.loss(out, y).backward()
        return out.logits.detach(), model.projections[0].weight.grad.clone()

    products = {"dense": 0.0, "sparse": twin_module.SPARSE_BELOW}
    last = {}
    try:
        for round_ in range(args.rounds):
            line = {"round": round_ + 1}
            for name, threshold in products.items():
                twin_module.SPARSE_BELOW = threshold
                step(0)  # warm-up
                times = []
                for k in range(args.steps):
                    started = time.perf_counter()
                    last[name] = step(k)
                    times.append(time.perf_counter() - started)
                line[f"{name}_s_per_step"] = round(float(np.median(times)), 4)
            print(json.dumps(line), flush=True)
    finally:
        twin_module.SPARSE_BELOW = products["sparse"]
    print(json.dumps({"batch": args.batch, "threads": args.threads, "data": "mnist16" if args.data_dir else "random",
                      "logits_max_difference": float((last["dense"][0] - last["sparse"][0]).abs().max()),
                      "input_gradient_max_difference": float((last["dense"][1] - last["sparse"][1]).abs().max()),
                      "input_gradient_max": float(last["dense"][1].abs().max())}))


if __name__ == "__main__":
    main()
