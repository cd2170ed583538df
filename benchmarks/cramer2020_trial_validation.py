"""A whole Cramer et al. trial on the validation split: mock training, transfer and in-the-loop training, measured
on the last 5,000 MNIST training images instead of the test set (issue #15).

``run_trial`` gets mnist16 with its training images split: the first 55,000 to train (mock and in the loop), the
last 5,000 as its "test" set, so every phase's setting -- the in-the-loop ones too, which
``cramer2020_ladder.py`` cannot reach -- can be chosen without reading the test set. ``--mock-from DIR`` copies
``DIR/mock.pt`` into the run's checkpoint folder first: the run resumes the finished mock phase (its settings must
be the same) and only the loop runs again, so in-the-loop variants share one mock-trained network.

Prints one JSON line: the settings that differ from ``DEFAULTS`` and the trial's accuracies on the validation
images (twin after mock, noisy without the loop, noisy after it), hidden spikes per image and times.

Run: python benchmarks/cramer2020_trial_validation.py --checkpoint-dir DIR [--mock-from DIR0] [--set name=value ...]
         [--seed 0] [--data-dir /work/shared/data/mnist]
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from cramer2020_ladder import parse_settings  # the ladder's --set parser (a script's folder is on sys.path)

#: Training images used for training; the rest of the 60,000 are the validation set.
TRAIN = 55_000


def main() -> None:
    from hal_trainers.cramer2020.trial import DEFAULTS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint-dir", required=True, help="the run's checkpoints (resumed when present)")
    parser.add_argument("--mock-from", default=None, help="a checkpoint folder whose mock.pt this run starts from")
    parser.add_argument("--set", action="append", default=[], help="a DEFAULTS setting, name=value")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default="/work/shared/data/mnist")
    args = parser.parse_args()
    settings = parse_settings(args.set, DEFAULTS)

    import attrs
    import torch

    from hal.logging import configure
    from hal_trainers.cramer2020.trial import run_trial
    from hal_trainers.datasets import load_dataset

    configure(level="warning")
    torch.set_num_threads(1)
    data = load_dataset("mnist16", args.data_dir)
    split = attrs.evolve(data, x_train=data.x_train[:TRAIN], y_train=data.y_train[:TRAIN], x_test=data.x_train[TRAIN:],
                         y_test=data.y_train[TRAIN:], name="mnist16-validation")
    ckpt = Path(args.checkpoint_dir)
    ckpt.mkdir(parents=True, exist_ok=True)
    if args.mock_from and not (ckpt / "mock.pt").exists():
        shutil.copyfile(Path(args.mock_from) / "mock.pt", ckpt / "mock.pt")
    out = run_trial(split, seed=args.seed, checkpoint_dir=ckpt, backend_options={"threads": 1}, **settings)
    print(json.dumps({"settings": settings, "seed": args.seed, "mock_from": args.mock_from, "validation_twin": out["software"],
                      "validation_noisy_mock": out["mock_on_backend"], "validation_noisy_in_the_loop": out["in_the_loop"],
                      "hidden_spikes_per_image": round(out["hidden_spikes_per_image"], 1), "mock_s": round(out["mock_s"]),
                      "itl_s": round(out["itl_s"]), "wall_s": round(out["wall_s"])}), flush=True)


if __name__ == "__main__":
    main()
