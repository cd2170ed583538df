"""From the software model to the spiking network on a backend (Schmitt et al. 2017, section III-B).

* Weights: ``W' = round(|W| * 15)`` on the excitatory synapse of each pair for W > 0, on the
  inhibitory one for W < 0 (the other synapse of the pair is kept at 0, so training can move
  the sign later).
* Inputs: pixel ``p`` fires as a Poisson source at ``c_p / sum(c) * 2500 Hz`` for 0.9 s, then
  0.1 s of silence; the input layer is a population of neurons driven one-to-one by them.
* Neurons: Table II parameters, 4 circuits per neuron, mapped through :mod:`hal.mapping`.
* Classification: the label neuron with the most spikes; a tie counts as wrong.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import numpy as np

import hal
from hal import coordinates as C
from hal.errors import ConfigError
from hal.logging import get_logger
from hal.mapping import MappingOptions, map_network
from hal.network import paper_network_description

__all__ = ["quantize", "pixel_rates", "SpikingNetwork", "TOTAL_RATE_HZ", "ON_MS", "OFF_MS"]

log = get_logger(__name__)

TOTAL_RATE_HZ = 2500.0
ON_MS = 900.0
OFF_MS = 100.0


def quantize(weights: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Signed 4-bit weights: round(|W| * 15) with W's sign (W clipped to [-1, 1])."""
    return [np.sign(w) * np.rint(np.abs(np.clip(w, -1, 1)) * 15) for w in weights]


def pixel_rates(x: np.ndarray, total_hz: float = TOTAL_RATE_HZ) -> np.ndarray:
    """Poisson rates per pixel: c_p / sum(c) * total (an all-dark image gets no input)."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 2:
        raise ConfigError(f"pixel_rates: images of shape {x.shape}; expected (n, pixels)")
    s = x.sum(axis=1, keepdims=True)
    return np.where(s > 0, x / np.where(s > 0, s, 1) * total_hz, 0.0)


@attrs.define(slots=False)
class SpikingNetwork:
    """The converted network, mapped onto a backend; runs batches and reports rates per layer."""

    backend: object
    weights_4bit: list
    wafer: int = 0
    seed: int = 0
    chunk: int = 1200
    options: MappingOptions = attrs.field(factory=MappingOptions)

    def __attrs_post_init__(self):
        net = paper_network_description([np.asarray(w, dtype=int) for w in self.weights_4bit])
        self.network = net
        self.config, self.mapping = map_network(net, C.Wafer(self.wafer), self.options)

    def set_weights(self, weights_4bit: Sequence[np.ndarray]) -> None:
        """New signed 4-bit weights; only the synapse weights of the mapped network change."""
        for k, w in enumerate(weights_4bit):
            w = np.asarray(w)
            exc_index, inh_index = 1 + 2 * k, 2 + 2 * k
            for j, values in ((exc_index, np.where(w > 0, w, 0)), (inh_index, np.where(w < 0, -w, 0))):
                proj = self.network.projections[j]
                pre, post = proj.edges(self.network.size(proj.pre), self.network.size(proj.post))
                self.mapping.set_weights(self.config, j, values[post, pre].astype(int))
        self.weights_4bit = [np.asarray(w) for w in weights_4bit]

    def run(self, x: np.ndarray) -> dict:
        """Rates (Hz, over the 0.9 s stimulus) of every layer for images ``x``, and lost events."""
        rates = pixel_rates(x)
        layers = ("input", "hidden1", "hidden2", "label")
        out = {name: [] for name in layers}
        lost = 0
        targets = self.mapping.source_address["pixels"]
        for chunk, start in enumerate(range(0, len(x), self.chunk)):
            batch = rates[start : start + self.chunk]
            # Seeded by (seed, chunk) only: a rerun with the same seed sees the same spikes.
            # Only the 0.9 s stimulus is run: the paper's 0.1 s of silence lets activity decay between
            # samples presented one after another, but every sample of a batch starts at rest here.
            exp = hal.Experiment(self.config, ON_MS, [hal.PoissonInput(targets, batch, stop_ms=ON_MS, seed=self.seed * 100_003 + chunk)],
                                 n_samples=len(batch))
            rec = hal.run(exp, self.backend)
            r = rec.rates_hz(0.0, ON_MS)
            columns = {(n.hicann, n.firing): i for i, n in enumerate(rec.neurons)}
            for name in layers:
                cols = [columns.get((h, den[0]), -1) for h, den in self.mapping.placement[name]]
                layer = np.zeros((len(batch), len(cols)))
                ok = np.array(cols) >= 0
                layer[:, ok] = r[:, np.array(cols)[ok]]
                out[name].append(layer)
            lost += rec.lost_events["total"]
        result = {name: np.concatenate(v) for name, v in out.items()}
        result["lost_events"] = lost
        return result

    def classify(self, x: np.ndarray) -> tuple[np.ndarray, dict]:
        """Predicted classes (the label neuron with most spikes; -1 for ties) and the rates."""
        rates = self.run(x)
        label = rates["label"]
        best = label.max(axis=1, keepdims=True)
        ties = ((label == best).sum(axis=1) > 1)
        return np.where(ties, -1, label.argmax(axis=1)), rates

    def accuracy(self, x: np.ndarray, y: np.ndarray) -> float:
        predicted, _ = self.classify(x)
        return float(np.mean(predicted == y))
