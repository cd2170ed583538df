"""The ceiling ladder of the Cramer et al. network on the validation split (issue #15): what each
step from an ordinary MLP to the trial's spiking twin costs.

Train on the first 55,000 mnist16 training images, validate on the last 5,000 (the test set is not
read). Subcommands, each printing JSON lines:

* ``inputs``: what the latency code passes on (pixels that spike, distinct spike steps, the
  intensities that do not spike);
* ``mlp``: a 256-246-10 ReLU MLP in plain torch (Adam 1e-3, batch 100; ``--cosine`` decays the rate to 0 over
  the epochs, ``--dropout p`` on the hidden layer, ``--binary-hidden`` makes the hidden units fire or not, like
  a hidden neuron's single spike; ``--test`` trains on all 60,000 and measures on the test set), on the intensities or on
  what the latency code leaves of them (``--input latency``: each spiking pixel's value
  ``1 - step / steps``, 0 where it does not spike; ``--input spiking``: the intensity of the pixels
  that spike, 0 for the rest), with float or 4-bit weights (``--bits 4``:
  straight-through rounding to -7..7 steps of a per-layer scale ``max|w| / 7``: 4 bits with the sign, coarser
  than the twin's sign and 4-bit magnitude); ``--hidden-counts K``: a hidden unit sends 0..K spikes (a staircase
  of binary units; K = 1 is ``--binary-hidden``);
* ``twin``: the trial's twin (``DEFAULTS``, wafer 100 + seed) mock-trained; ``--float-weights``
  keeps the weights unrounded in the forward pass (the 4-bit range stays), ``--inhibitory-scale k``
  makes the twin's inhibitory synapses k times stronger (a what-if on the twin), ``--current-based`` moves the
  twin's reversal potentials to +-1 V with the conductance per bit scaled so that a PSP at rest keeps its size
  (synapses that act like currents, as on BrainScaleS-2; a what-if); after each epoch:
  validation and training accuracy, hidden spikes per image, hidden neurons that never fire;
  ``--fine-divisor D`` rounds the weights to a 1/D grid instead (what coarse + fine rows give, a what-if on the
  twin's four-circuit mapping; ``--set fine_divisor=D`` maps real fine rows); ``--test`` trains on all 60,000
  images and measures on the test set (the key ``validation`` then holds the test accuracy).

``--crop N`` uses mnist16 with N pixels cut off each border before the reduction (0: the whole
28x28 image, the recipe before 2026-11-30's crop; default: the ``mnist16`` recipe as it is).

Run: python benchmarks/cramer2020_ladder.py inputs|mlp|twin [--epochs 3] [--bits 4] [--input latency]
         [--float-weights] [--set name=value ...] [--crop 2] [--seed 0] [--data-dir /work/shared/data/mnist]
"""

from __future__ import annotations

import argparse
import json
import math
import time

import attrs
import numpy as np
import torch

#: Training images used for training; the rest of the 60,000 are the validation set.
TRAIN = 55_000


def _data(data_dir: str, crop: int | None = None):
    from hal_trainers.datasets import ALL_CLASSES, load_dataset, load_mnist

    # crop None: the mnist16 recipe as it is; a number: mnist16 with that crop (0: the whole 28x28 reduced)
    data = (load_dataset("mnist16", data_dir) if crop is None else
            load_mnist(data_dir, side=16, classes=ALL_CLASSES, crop=crop, name=f"mnist16-crop{crop}"))
    return data.x_train[:TRAIN], data.y_train[:TRAIN], data.x_train[TRAIN:], data.y_train[TRAIN:]


def _split(args):
    """(training images, labels, measured images, labels): the validation split, or with ``--test`` all 60,000
    training images and the test set (where the trials measure)."""
    if args.test:
        from hal_trainers.datasets import load_dataset

        data = load_dataset("mnist16", args.data_dir)
        return data.x_train, data.y_train, data.x_test, data.y_test
    return _data(args.data_dir, args.crop)


def _latency_values(x: np.ndarray) -> np.ndarray:
    """What the trial's latency code keeps of each pixel: ``1 - step / steps`` where it spikes, else 0."""
    from hal_trainers.cramer2020.trial import build_model

    model = build_model(x.shape[1], 10)
    out = np.zeros_like(x)
    for start in range(0, len(x), 5000):
        _, grid = model.encode_grid(x[start:start + 5000])
        fired = grid.sum(1) > 0
        step = grid.argmax(1).float()
        out[start:start + 5000] = torch.where(fired, 1 - step / model.steps, torch.zeros(())).numpy()
    return out


def inputs(args) -> None:
    from hal_trainers.cramer2020.trial import build_model

    _, _, x, _ = _data(args.data_dir, args.crop)
    model = build_model(x.shape[1], 10)
    _, grid = model.encode_grid(x)
    fired = grid.sum(1) > 0
    steps = grid.argmax(1)[fired]
    print(json.dumps({"images": len(x), "steps": model.steps, "dt_ms": model.dt_ms,
                      "pixels_nonzero_per_image": round(float((x > 0).sum(1).mean()), 1),
                      "pixels_above_0.01_per_image": round(float((x > 0.01).sum(1).mean()), 1),
                      "pixels_spiking_per_image": round(float(fired.sum(1).float().mean()), 1),
                      "distinct_spike_steps": int(torch.unique(steps).numel()),
                      "spikes_per_step": torch.bincount(steps, minlength=model.steps).tolist(),
                      "intensity_of_dropped_pixels_mean": round(float(x[(x > 0) & ~fired.numpy()].mean()), 3),
                      "ink_dropped_fraction": round(float(x[~fired.numpy()].sum() / x.sum()), 3)}))


class _Step(torch.autograd.Function):
    """A binary hidden unit (fires or not, as a hidden neuron's single spike): Heaviside forward, SuperSpike-like backward."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return (a > 0).to(a.dtype)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad / (2 * a.abs() + 1) ** 2


class _MLP(torch.nn.Module):
    def __init__(self, bits: int | None, seed: int, *, dropout: float = 0.0, binary: bool = False, counts: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        self.l1, self.l2, self.bits = torch.nn.Linear(256, 246), torch.nn.Linear(246, 10), bits
        self.dropout, self.counts = dropout, 1 if binary else counts

    def _w(self, layer):
        if self.bits is None:
            return layer.weight
        top = 2 ** (self.bits - 1) - 1
        scale = layer.weight.detach().abs().max() / top
        q = torch.round(layer.weight / scale).clamp(-top, top) * scale
        return layer.weight + (q - layer.weight).detach()

    def forward(self, x):
        a = torch.nn.functional.linear(x, self._w(self.l1), self.l1.bias)
        # counts K: a hidden unit sends 0..K spikes (a staircase of K binary units at thresholds 0, 1, ..., K - 1)
        h = sum(_Step.apply(a - j) for j in range(self.counts)) if self.counts else torch.relu(a)
        h = torch.nn.functional.dropout(h, self.dropout, self.training)
        return torch.nn.functional.linear(h, self._w(self.l2), self.l2.bias)


def mlp(args) -> None:
    x, y, xv, yv = _split(args)
    if args.input == "latency":
        x, xv = _latency_values(x), _latency_values(xv)
    elif args.input == "spiking":  # the intensities of the pixels that spike, 0 for the rest
        x, xv = np.where(_latency_values(x) > 0, x, 0), np.where(_latency_values(xv) > 0, xv, 0)
    x, y, xv, yv = (torch.as_tensor(np.array(a)) for a in (x, y, xv, yv))
    net = _MLP(args.bits, args.seed, dropout=args.dropout, binary=args.binary_hidden, counts=args.hidden_counts)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    started = time.process_time()
    total, step = int(args.epochs) * math.ceil(len(x) / 100), 0
    for epoch in range(int(args.epochs)):
        net.train()
        order = torch.as_tensor(np.random.default_rng([args.seed, epoch]).permutation(len(x)))
        for k in range(0, len(x), 100):
            if args.cosine:
                for group in opt.param_groups:
                    group["lr"] = 1e-3 * 0.5 * (1 + math.cos(math.pi * step / total))
            idx = order[k:k + 100]
            loss = torch.nn.functional.cross_entropy(net(x[idx]), y[idx].long())
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
        net.eval()
        with torch.no_grad():
            val = float((net(xv).argmax(1) == yv).float().mean())
            train = float((net(x[:5000]).argmax(1) == y[:5000]).float().mean())
        print(json.dumps({"model": "mlp", "input": args.input, "bits": args.bits, "dropout": args.dropout, "cosine": args.cosine,
                          "binary_hidden": args.binary_hidden, "hidden_counts": args.hidden_counts, "epoch": epoch + 1, "test" if args.test else "validation": val,
                          "train_first_5000": train, "cpu_s": round(time.process_time() - started, 1)}), flush=True)


def parse_settings(items: list[str], defaults: dict) -> dict:
    """``--set name=value`` items as settings, each value of its default's type."""
    out = {}
    for item in items:
        key, _, value = item.partition("=")
        if key not in defaults:
            raise SystemExit(f"--set {item}: unknown setting {key!r}; valid {', '.join(sorted(defaults))}")
        default = defaults[key]
        if isinstance(default, bool):
            out[key] = {"true": True, "false": False}[value.lower()]
        elif isinstance(default, (int, float)):
            out[key] = type(default)(value)
        elif default is None or isinstance(default, dict):  # a structured setting (augment_distortion): JSON
            out[key] = json.loads(value)
        else:
            out[key] = value
    return out


def _twin_setup(args):
    import hal
    from hal.logging import configure
    from hal_trainers.cramer2020.trial import DEFAULTS, build_model, calibrate_input_weights, mapping_options, model_settings
    from hal_trainers.snn import MappedModel, SuperSpike, Trainer

    configure(level="warning")
    cfg = {**DEFAULTS, **parse_settings(args.set, DEFAULTS)}
    x, y, xv, yv = _split(args)
    model = build_model(x.shape[1], 10, seed=args.seed, **model_settings(cfg))
    if args.float_weights:
        for proj in model.projections:
            proj.quantized = lambda proj=proj: proj.weight.clamp(-15, 15)
    if args.fine_divisor:  # a weight on a 1/D grid: a coarse row plus a fine row of gmax divisor D (a what-if on the twin)
        for proj in model.projections:
            def fine(proj=proj, d=args.fine_divisor):
                w = proj.weight.clamp(-15, 15)
                return w + (torch.round(w * d) / d - w).detach()
            proj.quantized = fine
    mapped = MappedModel(model, hal.get_backend("noisy", wafer=100 + args.seed), wafer=100 + args.seed, options=mapping_options(cfg))
    if args.inhibitory_scale != 1.0:  # the twin's inhibitory synapses k times stronger (a what-if: the chip is not changed)
        mapped.twin = attrs.evolve(mapped.twin, unit_i=tuple(u * args.inhibitory_scale for u in mapped.twin.unit_i))
    if args.current_based:
        twin, far = mapped.twin, 1000.0
        neurons = [attrs.evolve(n, e_rev_e_mv=torch.full_like(n.e_rev_e_mv, far), e_rev_i_mv=torch.full_like(n.e_rev_i_mv, -far))
                   for n in twin.neurons]
        # projection l drives layer l: keep (E_rev - E_l) * g per bit at that layer's rest
        unit_e = tuple(u * ((n.e_rev_e_mv - n.e_l_mv) / (far - n.e_l_mv))[:, None] for u, n in zip(twin.unit_e, twin.neurons))
        unit_i = tuple(u * ((n.e_l_mv - n.e_rev_i_mv) / (n.e_l_mv + far))[:, None] for u, n in zip(twin.unit_i, twin.neurons))
        mapped.twin = attrs.evolve(twin, neurons=tuple(neurons), unit_e=unit_e, unit_i=unit_i)
    options = {k: cfg[k] for k in ("augment_shift", "lr_schedule", "weight_decay", "input_dropout", "hidden_dropout", "label_smoothing", "augment_distortion") if k in cfg}
    trainer = Trainer(model, estimator=SuperSpike(cfg["steepness"]), learning_rate=cfg["learning_rate"], batch_size=cfg["batch_size"],
                      readout_scale_mv=cfg["readout_scale_mv"], sparsity=cfg["sparsity"], seed=args.seed, **options)
    calibrate_input_weights(trainer, mapped.twin, x, target=cfg["target_rate"])
    return cfg, model, mapped, trainer, (x, y, xv, yv)


def _diagnose(trainer, twin, x, y) -> dict:
    """Accuracy, spikes per image, hidden neurons that never fire, readout margin on images ``x``."""
    fired, spikes, right, margins = None, 0.0, 0, []
    with torch.no_grad():
        for start in range(0, len(x), 500):
            out, _ = trainer.forward(twin, x[start:start + 500], train=False)
            count = out.spikes[0].sum(1)
            fired = count.sum(0) if fired is None else fired + count.sum(0)
            spikes += float(count.sum())
            right += int((out.logits.argmax(1).numpy() == y[start:start + 500]).sum())
            top2 = out.logits.topk(2, dim=1).values
            margins.append((top2[:, 0] - top2[:, 1]).numpy())
    return {"accuracy": right / len(x), "hidden_spikes_per_image": round(spikes / len(x), 1),
            "hidden_never_firing": int((fired == 0).sum()), "hidden_firing_under_1_percent": int((fired < 0.01 * len(x)).sum()),
            "logit_margin_median": round(float(np.median(np.concatenate(margins))), 2)}


def twin(args) -> None:
    cfg, model, mapped, trainer, (x, y, xv, yv) = _twin_setup(args)
    per_epoch = math.ceil(len(x) / trainer.batch_size)
    total = math.ceil(args.epochs * per_epoch)
    started = time.process_time()
    changed = {k: v for k, v in cfg.items() if _default(k) != v}
    clock = {"epoch_start": started}

    def progress(entry: dict) -> None:
        if entry["step"] % per_epoch == 0 or entry["step"] == total:
            train_cpu_s = time.process_time() - clock["epoch_start"]  # the epoch's training, without the diagnosis
            val = _diagnose(trainer, mapped.twin, xv, yv)
            train = _diagnose(trainer, mapped.twin, x[:5000], y[:5000])
            print(json.dumps({"model": "twin", "float_weights": args.float_weights, "fine_divisor": args.fine_divisor, "test": args.test, "inhibitory_scale": args.inhibitory_scale, "current_based": args.current_based, "settings": changed, "seed": args.seed,
                              "epoch": round(entry["step"] / per_epoch, 2), "validation": val["accuracy"], "train_first_5000": train["accuracy"],
                              **{k: v for k, v in val.items() if k != "accuracy"}, "batch_loss": round(entry["loss"], 4),
                              "crop": args.crop, "epoch_train_cpu_s": round(train_cpu_s, 1),
                              "cpu_min": round((time.process_time() - started) / 60, 1)}), flush=True)
            if args.save:  # after every epoch: a run stopped early still leaves its weights
                torch.save(model.state_dict(), args.save)
            clock["epoch_start"] = time.process_time()

    trainer.fit(mapped.twin, x, y, epochs=args.epochs, progress=progress, label="ladder")


def _default(key):
    from hal_trainers.cramer2020.trial import DEFAULTS

    return DEFAULTS.get(key)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("inputs", "mlp", "twin"))
    parser.add_argument("--epochs", type=float, default=3.0)
    parser.add_argument("--bits", type=int, default=None)
    parser.add_argument("--input", choices=("intensity", "spiking", "latency"), default="intensity")
    parser.add_argument("--float-weights", action="store_true")
    parser.add_argument("--dropout", type=float, default=0.0, help="mlp only: dropout on the hidden layer")
    parser.add_argument("--cosine", action="store_true", help="mlp only: cosine decay of the learning rate over the epochs")
    parser.add_argument("--binary-hidden", action="store_true", help="mlp only: hidden units fire (1) or not (0)")
    parser.add_argument("--hidden-counts", type=int, default=0,
                        help="mlp only: hidden units send 0..K spikes (a staircase; 1 = --binary-hidden); 0: ReLU")
    parser.add_argument("--test", action="store_true", help="train on all 60,000 images, measure on the test set (the key 'validation' then holds test accuracy)")
    parser.add_argument("--fine-divisor", type=int, default=0, help="twin only: weights on a 1/D grid (coarse + fine rows, a what-if)")
    parser.add_argument("--inhibitory-scale", type=float, default=1.0, help="twin only: inhibitory conductance per bit times this")
    parser.add_argument("--current-based", action="store_true", help="twin only: reversal potentials at +-1 V, same PSP at rest")
    parser.add_argument("--set", action="append", default=[], help="a DEFAULTS setting, name=value")
    parser.add_argument("--save", default=None)
    parser.add_argument("--crop", type=int, default=None,
                        help="pixels cut off each border of the 28x28 images before the reduction (default: the mnist16 recipe's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default="/work/shared/data/mnist")
    args = parser.parse_args()
    torch.set_num_threads(1)
    {"inputs": inputs, "mlp": mlp, "twin": twin}[args.what](args)


if __name__ == "__main__":
    main()
