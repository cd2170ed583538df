"""Ready-made test networks, placed and routed on one HICANN with the nominal Table II parameters.

These let tests, benchmarks and users' own suites run realistic networks
(down to every register) without the full mapping pipeline.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import numpy as np

from hal import coordinates as C
from hal.experiment import Experiment, PoissonInput
from hal.hardware.wafer import WaferConfig
from hal.calibration import apply_nominal
from hal.network.parameters import SCHMITT2017, LIFParameters
from hal.mapping.local import LocalNetwork, LocalRouting, route_on_hicann

__all__ = ["LayeredNetwork", "layered_network", "paper_network", "poisson_experiment"]

PAPER_SIZES = (100, 15, 15, 5)


@attrs.frozen(eq=False)
class LayeredNetwork:
    """A feed-forward network on one HICANN: the configuration and where everything went."""

    config: WaferConfig
    routing: LocalRouting
    network: LocalNetwork
    sizes: tuple[int, ...]

    def layer(self, index: int) -> range:
        """Neuron indices of layer ``index``."""
        start = sum(self.sizes[:index])
        return range(start, start + self.sizes[index])


def layered_network(
    sizes: Sequence[int],
    weights: Sequence[np.ndarray],
    *,
    hicann: C.HICANNOnWafer = C.HICANNOnWafer(100),
    wafer: C.Wafer = C.Wafer(0),
    circuits_per_neuron: int = 2,
    params: LIFParameters = SCHMITT2017,
    input_weight: int = 15,
) -> LayeredNetwork:
    """Input layer driven one-to-one by sources, then every consecutive pair of layers joined
    by an excitatory and an inhibitory synapse per neuron pair (as in Schmitt et al. 2017).

    ``weights[l]`` is the signed 4-bit matrix (post, pre) from layer ``l`` to ``l+1``,
    values -15..15: positive on the excitatory synapse, negative on the inhibitory one.
    """
    sizes = tuple(int(s) for s in sizes)
    offsets = np.cumsum((0, *sizes))
    pre, is_source, post, weight, exc = [], [], [], [], []
    for i in range(sizes[0]):
        pre.append(i), is_source.append(True), post.append(i), weight.append(input_weight), exc.append(True)
    for layer, matrix in enumerate(weights):
        m = np.asarray(matrix)
        if m.shape != (sizes[layer + 1], sizes[layer]):
            from hal.errors import ConfigError

            raise ConfigError(f"weights[{layer}]: shape {m.shape}; expected {(sizes[layer + 1], sizes[layer])} (post, pre)")
        for b in range(sizes[layer + 1]):
            for a in range(sizes[layer]):
                w = int(m[b, a])
                for sign in (True, False):
                    pre.append(offsets[layer] + a), is_source.append(False), post.append(offsets[layer + 1] + b)
                    weight.append(abs(w) if (w > 0) == sign and w != 0 else 0), exc.append(sign)
    network = LocalNetwork(int(offsets[-1]), sizes[0], pre, is_source, post, weight, exc, circuits_per_neuron=circuits_per_neuron)
    config = WaferConfig(wafer)
    routing = route_on_hicann(config, hicann, network)
    apply_nominal(config.hicann(hicann), [d for n in routing.neurons for d in n], params)
    return LayeredNetwork(config, routing, network, sizes)


def paper_network(seed: int = 0, **kwargs) -> LayeredNetwork:
    """The 100-15-15-5 network of Schmitt et al. 2017 with random signed 4-bit weights."""
    rng = np.random.default_rng(seed)
    weights = [rng.integers(-15, 16, size=(b, a)) for a, b in zip(PAPER_SIZES[:-1], PAPER_SIZES[1:])]
    return layered_network(PAPER_SIZES, weights, **kwargs)


def poisson_experiment(net: LayeredNetwork, rates_hz: np.ndarray, *, duration_ms: float = 1000.0, stop_ms: float | None = 900.0, seed: int = 0, **kwargs) -> Experiment:
    """Drive the input layer with Poisson trains (rates per sample and input neuron)."""
    targets = [net.routing.source_address[i] for i in range(net.sizes[0])]
    return Experiment(net.config, duration_ms, [PoissonInput(targets, rates_hz, stop_ms=stop_ms, seed=seed)], **kwargs)
