"""Schmitt 2017 on digits, judged on a validation split instead of the test set (issue 13, item 7).

One quarter of the 721 training images is held out (``--fold K``: the K-th of four contiguous
quarters; 3, the last, by default, the split of the earlier measurements); the software model
and the in-the-loop training see only the other three, and every number printed is on the
held-out images. The test images are not touched, so settings can be compared here without
tuning on them. One held-out quarter is 180 images (0.56 points per image) and shares its luck
across trials: compare settings over several folds (``--folds 0,1,2,3``; trial ``k`` of the list
runs on the k-th fold with ``--paired``).

    python benchmarks/schmitt2017_digits_validation.py --variant default --seeds 0,1,2,3
    python benchmarks/schmitt2017_digits_validation.py --variant default --seeds 0,1,2,3 --folds 0,1,2,3 --paired
    python benchmarks/schmitt2017_digits_validation.py --variant steps40 --seeds 0,1 --diagnose

One JSON line per trial: software, converted and in-the-loop accuracy on the held-out images,
ties, the last training-batch accuracy; with --diagnose also the final network's accuracy on
all training images, three evaluations of the held-out images with other noise seeds, how often
two of them disagree, and the label layer's winning and second rates.
"""

from __future__ import annotations

import argparse
import json
import time

import attrs
import numpy as np

#: In-the-loop settings compared (all else as `hal reproduce schmitt2017`'s digits defaults);
#: "full10": 10 steps on the whole training set (the cost of the defaults' 20 steps of 360 images);
#: "shifted": the in-the-loop batches drawn from the training images and their four one-pixel shifts;
#: "lr025": the loop's learning rate halved; "leak03": the ReLU derivative's leak 0.3 instead of 0.1;
#: "noise15" / "noise05": the software model trained with 15 / 5 % relative weight noise (ANNTrainer.weight_noise);
#: "select": early stopping -- a quarter of the training images held out again (software model and loop train on
#: the rest), the network measured on them after every step, and the step where they do best kept;
#: "single": one software model per trial (the digits default before conversion_candidates 3).
VARIANTS = {
    "default": {},
    "single": {"candidates": 1},
    "steps40": {"steps": 40, "batch_size": 180},
    "steps10": {"steps": 10},
    "full10": {"steps": 10, "batch_size": 721},
    "shifted": {"shifted": True},
    "noise15": {"ann": {"weight_noise": 0.15}},
    "noise05": {"ann": {"weight_noise": 0.05}},
    "lr025": {"learning_rate": 0.025},
    "leak03": {"leak": 0.3},
    "select": {"select": True},
}


#: The training images fall into this many contiguous quarters; one of them is held out.
FOLDS = 4


def validation_split(dataset, fold: int = FOLDS - 1):
    """``dataset`` with its ``fold``-th quarter of training images as the test set (of 721 images: 0-180,
    181-360, 361-540, 541-720; fold 3 is the split of the measurements before folds existed)."""
    held = np.arange(len(dataset.x_train)) * FOLDS // len(dataset.x_train) == fold
    return attrs.evolve(dataset, x_train=dataset.x_train[~held], y_train=dataset.y_train[~held],
                        x_test=dataset.x_train[held], y_test=dataset.y_train[held])


def shifted_copies(dataset, side: int = 10):
    images = dataset.x_train.reshape(-1, side, side)
    copies = [images]
    for axis in (1, 2):
        for shift in (1, -1):
            moved = np.roll(images, shift, axis=axis)
            edge = [slice(None)] * 3
            edge[axis] = 0 if shift == 1 else -1
            moved[tuple(edge)] = 0.0
            copies.append(moved)
    x = np.concatenate(copies).reshape(-1, side * side).astype(np.float32)
    return attrs.evolve(dataset, x_train=x, y_train=np.concatenate([dataset.y_train] * len(copies)))


def predictions(label_rates: np.ndarray) -> np.ndarray:
    best = label_rates.max(axis=1, keepdims=True)
    return np.where((label_rates == best).sum(axis=1) > 1, -1, label_rates.argmax(axis=1))


def trial(seed: int, variant: str, diagnose: bool, fold: int = FOLDS - 1) -> dict:
    import hal
    from hal_trainers.conversion import SpikingNetwork, quantize
    from hal_trainers.datasets import load_dataset
    from hal_trainers.in_the_loop import InTheLoopTrainer
    from hal_trainers.schmitt2017.reproduce import DATASET_DEFAULTS
    from hal_trainers.schmitt2017.trial import _best_converted, _software_model, trial_backend_options

    data = validation_split(load_dataset("digits"), fold)
    settings = dict(VARIANTS[variant])
    candidates = settings.pop("candidates", DATASET_DEFAULTS["digits"]["conversion_candidates"])
    shifted = settings.pop("shifted", False)
    ann_options = settings.pop("ann", None)
    select = settings.pop("select", False)
    if select:  # the selection images: the training images' last quarter, unseen by both trainings
        k = len(data.x_train) - len(data.x_train) // 4
        held = attrs.evolve(data, x_train=data.x_train[:k], y_train=data.y_train[:k], x_test=data.x_train[k:], y_test=data.y_train[k:])
        return _selected_trial(seed, data, held, ann_options)
    chip = hal.get_backend("noisy", wafer=100 + seed, **trial_backend_options("noisy", None))
    if ann_options:  # the weight-noise variants: one software model, as they were measured
        ann, _ = _software_model(data, seed, DATASET_DEFAULTS["digits"]["ann_steps"], lambda message: None, ann_options)
        net, scores = SpikingNetwork(chip, quantize(ann.weights), wafer=100 + seed, seed=seed), []
    else:
        ann, net, _, scores = _best_converted(data, seed, DATASET_DEFAULTS["digits"]["ann_steps"], candidates, chip, lambda message: None)
    converted = net.accuracy(data.x_test, data.y_test)
    options = {"batch_size": DATASET_DEFAULTS["digits"]["itl_batch"], "steps": 20, "seed": seed, **settings}
    started = time.perf_counter()
    result = InTheLoopTrainer(chip, **options).fit(shifted_copies(data) if shifted else data, ann.weights, network=net)
    out = {"seed": seed, "fold": fold, "variant": variant, "ann_seed": ann.seed, "candidates_converted_train": scores,
           "software": ann.test_accuracy, "converted": converted,
           "in_the_loop": result.test_accuracy, "last_batch_accuracy": result.curve[-1]["train_accuracy"],
           "in_the_loop_s": round(time.perf_counter() - started, 1)}
    if diagnose:
        runs = []
        for repeat in range(3):
            net.seed = 5000 + repeat
            runs.append(net.run(data.x_test)["label"])
        predicted = [predictions(r) for r in runs]
        ranked = np.sort(runs[0], axis=1)
        out.update(train_accuracy=net.accuracy(data.x_train, data.y_train),
                   repeated=[float(np.mean(p == data.y_test)) for p in predicted],
                   disagree=float(np.mean(predicted[0] != predicted[1])),
                   mean_of_three=float(np.mean(predictions(sum(runs)) == data.y_test)),
                   winner_hz=float(ranked[:, -1].mean()), second_hz=float(ranked[:, -2].mean()))
    return out


def _selected_trial(seed: int, data, held, ann_options) -> dict:
    """Early stopping: train on ``held``'s training images, keep the step best on its test images (the
    selection split), report that network on ``data``'s test images (the validation split)."""
    import tempfile
    from pathlib import Path

    import hal
    from hal_trainers.ann import accuracy
    from hal_trainers.conversion import SpikingNetwork, quantize
    from hal_trainers.in_the_loop import InTheLoopTrainer
    from hal_trainers.schmitt2017.reproduce import DATASET_DEFAULTS
    from hal_trainers.schmitt2017.trial import _software_model, trial_backend_options

    ann, _ = _software_model(held, seed, DATASET_DEFAULTS["digits"]["ann_steps"], lambda message: None, ann_options)
    chip = hal.get_backend("noisy", wafer=100 + seed, **trial_backend_options("noisy", None))
    net = SpikingNetwork(chip, quantize(ann.weights), wafer=100 + seed, seed=seed)
    converted = net.accuracy(data.x_test, data.y_test)
    snapshots = {0: [w.copy() for w in ann.weights]}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "state.npz"

        def keep(entry):  # the checkpoint holds the weights after the step before this one
            if path.exists():
                with np.load(path) as z:
                    snapshots[int(z["step"])] = [z[f"w{k}"].copy() for k in range(3)]

        trainer = InTheLoopTrainer(chip, batch_size=DATASET_DEFAULTS["digits"]["itl_batch"], steps=20, seed=seed,
                                   checkpoint=str(path), eval_test_every=1)
        result = trainer.fit(held, ann.weights, network=net, progress=keep, curve_subset=None)
    snapshots[len(result.curve)] = result.weights
    scores = {c["step"]: c["test_accuracy"] for c in result.curve}
    best = max(sorted(scores), key=lambda k: (scores[k], k))  # ties: the later step
    final = net.accuracy(data.x_test, data.y_test)
    net.set_weights(quantize(snapshots[best]))
    chosen = net.accuracy(data.x_test, data.y_test)
    return {"seed": seed, "fold": None, "variant": "select", "software": accuracy(ann.weights, data.x_test, data.y_test), "converted": converted,
            "in_the_loop_last": final, "in_the_loop": chosen, "chosen_step": best, "selection_accuracy": scores}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variant", choices=sorted(VARIANTS), default="default")
    parser.add_argument("--seeds", default="0,1,2,3", help="comma-separated trial seeds")
    parser.add_argument("--folds", default=str(FOLDS - 1), help=f"comma-separated held-out quarters 0..{FOLDS - 1} (default {FOLDS - 1})")
    parser.add_argument("--paired", action="store_true", help="the k-th seed on the k-th fold only (instead of every seed on every fold)")
    parser.add_argument("--diagnose", action="store_true")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    folds = [int(f) for f in args.folds.split(",")]
    if any(not 0 <= f < FOLDS for f in folds):
        parser.error(f"--folds {args.folds}: valid 0..{FOLDS - 1}")
    if args.paired and len(folds) != len(seeds):
        parser.error(f"--paired: {len(seeds)} seeds but {len(folds)} folds; give as many of each")
    runs = list(zip(seeds, folds)) if args.paired else [(s, f) for f in folds for s in seeds]
    import torch

    torch.set_num_threads(1)
    for seed, fold in runs:
        print(json.dumps(trial(seed, args.variant, args.diagnose, fold)), flush=True)


if __name__ == "__main__":
    main()
