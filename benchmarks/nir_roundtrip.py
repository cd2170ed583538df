"""The NIR mapping's error, measured: NIR as it defines itself vs hal's backends after ``from_nir``.

Three measurements (JSON lines), the numbers in ``docs/nir.md``:

* ``membrane``: one LIF and one CubaLIF neuron (snnTorch's conventions: ``r = tau / dt``,
  threshold 1) driven by random sub-threshold excitatory and inhibitory spikes; the membrane of
  hal's ``reference`` backend, read back in NIR units, against :func:`hal.nir.simulate` at
  every step's end (RMS and largest difference, in units of the threshold);
* ``counts``: random 8-12-4 LIF networks with random input spikes; spike counts per neuron of
  ``reference`` against :func:`hal.nir.simulate` (mean absolute difference per neuron and
  relative difference of the totals);
* ``digits``: a 64-H-10 network of snnTorch ``Leaky`` neurons trained with surrogate gradients
  on scikit-learn's 8x8 digits (rate-coded: a pixel of grey value x spikes with probability
  ``rate * x`` per step), exported with snnTorch's own ``export_to_nir``, imported with
  :func:`hal.nir.from_nir`, mapped and run; test accuracy (class = most output spikes) of
  snnTorch, of the NIR graph as NIR defines it, of ``reference``, and of ``emulator`` with no
  mismatch, with the post-calibration mismatch of Schmitt et al.'s Table II (``table2``) on
  three wafers, and uncalibrated; with 4 and with 8 circuits per neuron;
* ``finetune``: the same snnTorch graph imported as a model of the trainer API
  (:func:`hal_trainers.snn.nir.model_from_nir`, through :func:`hal.nir.from_nir`'s operating
  point) and fine-tuned with the calibrated chip's mismatch in the loop (``emulator``,
  ``table2``), one wafer at a time from the imported weights: test accuracy right after the
  import and after ``--finetune-epochs`` epochs on the training images (settings fixed
  beforehand, nothing chosen on the test images), with the wall time.

Run: python benchmarks/nir_roundtrip.py [--hidden 32] [--steps 20] [--epochs 5] [--skip-digits]
     [--finetune-epochs 3] [--finetune-only]
The functions are also what ``tests/hal/nir/test_snntorch.py`` runs.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

import hal
import hal.nir

# -- membranes and spike counts against NIR's own definition -------------------------------------------


def lif_graph(kind: str, weights: np.ndarray, tau_s: float = 1e-3, dt_s: float = 1e-4):
    import nir

    n = weights.shape[0]
    if kind == "LIF":
        node = nir.LIF(tau=np.full(n, tau_s), r=np.full(n, tau_s / dt_s), v_leak=np.zeros(n), v_threshold=np.ones(n), v_reset=np.zeros(n))
    else:
        node = nir.CubaLIF(tau_syn=np.full(n, tau_s / 10), tau_mem=np.full(n, tau_s), r=np.full(n, tau_s / dt_s), v_leak=np.zeros(n),
                           v_threshold=np.ones(n), v_reset=np.zeros(n), w_in=np.full(n, tau_s / 10 / dt_s))
    return nir.NIRGraph.from_list(nir.Linear(weight=weights), node)


def membrane_error(kind: str, seed: int = 0, steps: int = 60) -> dict:
    """RMS and largest membrane difference (threshold units) of one neuron, sub-threshold, on ``reference``."""
    rng = np.random.default_rng(seed)
    graph = lif_graph(kind, np.array([[0.12, 0.1, -0.15]]))
    spikes = (rng.random((1, steps, 3)) < 0.15).astype(float)
    sim = hal.nir.simulate(graph, spikes)
    name = next(iter(sim.v))
    imported = hal.nir.from_nir(graph)
    pop = imported.names[name]
    result = hal.nir.MappedNIR.map(imported).run(spikes, "reference", tail_steps=0, record_membrane=(pop,))
    times, v = result.membranes[pop]
    at = np.clip(np.searchsorted(times, (np.arange(steps) + 1) * imported.step_ms - 1e-9), 0, len(times) - 1)
    diff = v[0, 0, at] - sim.v[name][0, :, 0]
    return {"kind": kind, "seed": seed, "rms": float(np.sqrt(np.mean(diff**2))), "max": float(np.abs(diff).max()),
            "nir_spikes": int(sim.counts[name].sum()), "hal_spikes": int(result.recording.spike_counts.sum())}


def count_error(seed: int, steps: int = 40, backend: str = "reference") -> dict:
    """Spike counts of a random 8-12-4 LIF network: ``backend`` after the mapping against NIR's definition."""
    import nir

    rng = np.random.default_rng(seed)
    w1, w2 = rng.normal(0.12, 0.12, (12, 8)), rng.normal(0.15, 0.15, (4, 12))
    lif = lambda n: nir.LIF(tau=np.full(n, 1e-3), r=np.full(n, 10.0), v_leak=np.zeros(n), v_threshold=np.ones(n), v_reset=np.zeros(n))
    graph = nir.NIRGraph.from_list(nir.Linear(weight=w1), lif(12), nir.Linear(weight=w2), lif(4))
    spikes = (rng.random((8, steps, 8)) < 0.3).astype(float)
    sim = hal.nir.simulate(graph, spikes, tail_steps=5)
    imported = hal.nir.from_nir(graph)
    mapped = hal.nir.MappedNIR.map(imported)
    result = mapped.run(spikes, backend, tail_steps=5)
    out = {"seed": seed, "backend": backend, "clipped": imported.clipped}
    for node in ("lif", "lif_1"):
        pop = imported.names[node]
        hal_counts = mapped.populations.spike_counts(result.recording, pop)
        nir_counts = sim.counts[node]
        out[node] = {"nir_total": int(nir_counts.sum()), "hal_total": int(hal_counts.sum()),
                     "mean_abs_per_neuron": float(np.abs(hal_counts - nir_counts).mean()),
                     "relative_total": float((hal_counts.sum() - nir_counts.sum()) / max(1, nir_counts.sum()))}
    return out


# -- snnTorch on the digits ----------------------------------------------------------------------------


def rate_code(x, steps: int, rate: float, seed: int):
    """(samples, steps, pixels) 0/1 spikes: pixel of grey value x spikes with probability rate * x per step."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    x = torch.as_tensor(np.array(x, dtype=np.float32))
    return (torch.rand((x.shape[0], steps, x.shape[1]), generator=generator) < x[:, None, :] * rate).float()


def snntorch_net(hidden: int, beta: float = 0.9):
    """Linear(64, hidden) -> Leaky -> Linear(hidden, 10) -> Leaky, as NIR describes them: reset to zero at once, no bias."""
    import snntorch as snn
    import torch
    from snntorch import surrogate

    def leaky(n):
        return snn.Leaky(beta=torch.full((n,), beta), threshold=torch.ones(n), init_hidden=True, reset_mechanism="zero",
                         reset_delay=False, spike_grad=surrogate.fast_sigmoid(25))

    return torch.nn.Sequential(torch.nn.Linear(64, hidden, bias=False), leaky(hidden), torch.nn.Linear(hidden, 10, bias=False), leaky(10))


def snntorch_counts(net, spikes):
    """Output spike counts (samples, 10) of ``net`` on ``spikes`` (samples, steps, 64)."""
    import snntorch.utils
    import torch

    snntorch.utils.reset(net)
    return torch.stack([net(spikes[:, t]) for t in range(spikes.shape[1])], 1).sum(1)


def train_snntorch(data, *, hidden: int, steps: int, epochs: int, n_train: int | None = None, rate: float = 0.6,
                   lr: float = 1e-2, seed: int = 0):
    """Train :func:`snntorch_net` on ``data`` (a digits10 Dataset): Adam, cross-entropy of the output spike counts."""
    import torch

    torch.manual_seed(seed)
    net = snntorch_net(hidden)
    optimiser = torch.optim.Adam(net.parameters(), lr=lr)
    x = np.asarray(data.x_train[:n_train])
    y = torch.as_tensor(np.array(data.y_train[:n_train])).long()
    for epoch in range(epochs):
        spikes, order = rate_code(x, steps, rate, seed=1000 + epoch), torch.randperm(len(x))
        for start in range(0, len(x), 50):
            batch = order[start:start + 50]
            loss = torch.nn.functional.cross_entropy(snntorch_counts(net, spikes[batch]), y[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    return net


def digits_accuracies(net, data, *, steps: int, rate: float = 0.6, n_test: int | None = None,
                      emulators: tuple = (("table2", 0),), reference: bool = True, operating_point=None, circuits_per_neuron: int = 4) -> dict:
    """Accuracy of ``net`` in snnTorch, as NIR defines it, on ``reference`` (unless not asked for) and on ``emulator``
    (mismatch, wafer) after the mapping."""
    import torch
    from snntorch.export_nir import export_to_nir

    x, y = np.asarray(data.x_test[:n_test]), np.asarray(data.y_test[:n_test])
    spikes = rate_code(x, steps, rate, seed=7)
    with torch.no_grad():
        snn_counts = snntorch_counts(net, spikes).numpy()
    graph = export_to_nir(net, torch.zeros(64))
    imported = hal.nir.from_nir(graph, operating_point=operating_point, circuits_per_neuron=circuits_per_neuron)
    mapped = hal.nir.MappedNIR.map(imported)
    out_pop = imported.outputs[0]
    sim = hal.nir.simulate(graph, spikes.numpy())
    acc = lambda counts: float((np.asarray(counts).argmax(1) == y).mean())
    out_node = next(node for node, pop in imported.names.items() if pop == out_pop)
    result = {"samples": len(y), "snntorch": acc(snn_counts), "nir": acc(sim.counts[out_node]), "clipped": imported.clipped,
              "step_ms": imported.step_ms}
    if reference:
        started = time.perf_counter()
        result["reference"] = acc(mapped.run(spikes.numpy(), "reference", tail_steps=2).counts[out_pop])
        result["reference_s"] = time.perf_counter() - started
    for mismatch, wafer in emulators:
        backend = hal.get_backend("emulator", wafer=wafer, mismatch=mismatch)
        run = mapped.run(spikes.numpy(), backend, tail_steps=2)
        result[f"emulator_{mismatch}_wafer{wafer}"] = acc(run.counts[out_pop])
        result[f"emulator_{mismatch}_wafer{wafer}_lost"] = run.recording.lost_events["total"]
    return result


#: In-the-loop fine-tuning settings, fixed before any test image was looked at: Adam at 0.3 weight
#: steps, 100 images a step, no sparsity term (snnTorch's loss has none), logits = output spike counts.
FINETUNE = {"learning_rate": 0.3, "batch_size": 100, "sparsity": 0.0, "readout": "spike_count"}


def import_model(net, *, steps: int, rate: float, circuits_per_neuron: int = 4):
    """``net`` exported with snnTorch's ``export_to_nir`` and imported as a trainer-API model: (model, imported)."""
    import torch
    from hal_trainers.snn import StepRateCoding
    from hal_trainers.snn.nir import model_from_nir
    from snntorch.export_nir import export_to_nir

    graph = export_to_nir(net, torch.zeros(64))
    imported = hal.nir.from_nir(graph, circuits_per_neuron=circuits_per_neuron)
    model = model_from_nir(graph, coding=StepRateCoding(64, steps, imported.step_ms, rate), circuits_per_neuron=circuits_per_neuron)
    return model, imported


def finetune_in_loop(net, x_train, y_train, x_eval, y_eval, *, steps: int, rate: float, wafer: int, epochs: float,
                     mismatch: str = "table2", circuits_per_neuron: int = 4, seed: int = 0) -> dict:
    """Import ``net`` (:func:`import_model`), map it on ``wafer`` of the emulator with ``mismatch``, and fine-tune it
    there in the loop for ``epochs`` on (``x_train``, ``y_train``); accuracy on (``x_eval``, ``y_eval``) before and after."""
    from hal_trainers.snn import MappedModel, Trainer

    model, imported = import_model(net, steps=steps, rate=rate, circuits_per_neuron=circuits_per_neuron)
    backend = hal.get_backend("emulator", wafer=wafer, mismatch=mismatch)
    mapped = MappedModel(model, backend, wafer=wafer, options=imported.mapping_options(allow_loss=True))
    trainer = Trainer(model, seed=seed, **FINETUNE)
    before = trainer.evaluate(mapped, x_eval, y_eval)
    started = time.perf_counter()
    curve = trainer.fit(mapped, x_train, y_train, epochs=epochs, label=f"wafer {wafer}")
    trained = time.perf_counter() - started
    after = trainer.evaluate(mapped, x_eval, y_eval)
    return {"wafer": wafer, "mismatch": mismatch, "circuits_per_neuron": circuits_per_neuron, "scheme": mapped.scheme,
            "synapses_lost": mapped.mapping.synapses_lost, "before": before.accuracy, "after": after.accuracy,
            "samples": after.samples, "finetune_epochs": epochs, "finetune_steps": len(curve), "finetune_s": round(trained, 1),
            "train_accuracy_last_epoch": float(np.mean([c["train_accuracy"] for c in curve[-int(np.ceil(len(x_train) / FINETUNE["batch_size"])):]]))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--rate", type=float, default=0.6)
    parser.add_argument("--skip-digits", action="store_true")
    parser.add_argument("--finetune-epochs", type=float, default=3.0, help="in-the-loop fine-tuning epochs per wafer (0: none)")
    parser.add_argument("--finetune-only", action="store_true", help="only the snnTorch training and the fine-tuning")
    args = parser.parse_args()
    if args.finetune_only:
        return finetune_main(args)
    for kind in ("LIF", "CubaLIF"):
        for seed in range(3):
            print(json.dumps({"measure": "membrane", **membrane_error(kind, seed)}), flush=True)
    for seed in range(5):
        print(json.dumps({"measure": "counts", **count_error(seed)}), flush=True)
    if args.skip_digits:
        return
    import torch
    from hal_trainers.datasets import load_dataset

    torch.set_num_threads(1)
    data = load_dataset("digits10")
    started = time.perf_counter()
    net = train_snntorch(data, hidden=args.hidden, steps=args.steps, epochs=args.epochs, rate=args.rate)
    trained = time.perf_counter() - started
    emulators = tuple((m, w) for m in ("none", "table2") for w in ((0, 1, 2) if m == "table2" else (0,))) + (("uncalibrated", 0),)
    for circuits in (4, 8):
        result = digits_accuracies(net, data, steps=args.steps, rate=args.rate, emulators=emulators, circuits_per_neuron=circuits,
                                   reference=circuits == 4)
        print(json.dumps({"measure": "digits", "hidden": args.hidden, "steps": args.steps, "epochs": args.epochs, "rate": args.rate,
                          "circuits_per_neuron": circuits, "train_s": round(trained, 1), **result}), flush=True)
    if args.finetune_epochs > 0:
        finetune_main(args, data, net, trained)


def finetune_main(args, data=None, net=None, trained: float | None = None) -> None:
    """The ``finetune`` records: the snnTorch network imported and fine-tuned on wafers 0, 1, 2 (see the module docstring)."""
    import torch
    from hal_trainers.datasets import load_dataset

    torch.set_num_threads(1)
    data = data or load_dataset("digits10")
    if net is None:
        started = time.perf_counter()
        net = train_snntorch(data, hidden=args.hidden, steps=args.steps, epochs=args.epochs, rate=args.rate)
        trained = time.perf_counter() - started
    reference = digits_accuracies(net, data, steps=args.steps, rate=args.rate, emulators=(), reference=False)
    for wafer in (0, 1, 2):
        started = time.perf_counter()
        result = finetune_in_loop(net, data.x_train, data.y_train, data.x_test, data.y_test, steps=args.steps, rate=args.rate,
                                  wafer=wafer, epochs=args.finetune_epochs)
        print(json.dumps({"measure": "finetune", "hidden": args.hidden, "steps": args.steps, "epochs": args.epochs, "rate": args.rate,
                          "train_s": round(trained, 1), "snntorch": reference["snntorch"], "nir": reference["nir"], **result,
                          "wall_s": round(time.perf_counter() - started, 1)}), flush=True)


if __name__ == "__main__":
    main()
