"""One trial of Schmitt et al. 2017 on the real MNIST (noisy backend); the numbers of docs/results.md.

Run: python benchmarks/mnist_trial.py SEED ITL_STEPS   (MNIST IDX files in ../shared/data/mnist)
"""
import json, sys, time
from hal.logging import configure
configure(level="warning")
from hal_trainers.datasets import load_mnist
from hal_trainers.schmitt2017 import run_trial
ds = load_mnist(sys.argv[3] if len(sys.argv) > 3 else "../shared/data/mnist")
seed = int(sys.argv[1])
t = time.time()
r = run_trial(ds, backend="noisy", seed=seed, itl_steps=int(sys.argv[2]), progress=lambda m: print(m, flush=True))
r.pop("weights_before"); r.pop("weights_after")
print(json.dumps(r))
json.dump(r, open(f"/tmp/trial{seed}.json", "w"))
print("wall", time.time() - t)
