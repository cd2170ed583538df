"""Ready-made test networks, built as :class:`hal.network.Network` and mapped by :func:`hal.mapping.map_network`.

The networks users build, mapped the way users map them: tests, benchmarks and users' own
suites run them down to every register. By default the mapping options are the users'
(:class:`~hal.mapping.MappingOptions`); ``hicann=`` and ``circuits_per_neuron=`` pick one
HICANN and a neuron size where a test needs that.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import numpy as np

from hal import coordinates as C
from hal.errors import ConfigError
from hal.experiment import Experiment, PoissonInput
from hal.hardware.wafer import WaferConfig
from hal.mapping import MappingOptions, MappingResult, map_network
from hal.network import Network, Population, Projection, SourcePopulation
from hal.network.parameters import SCHMITT2017, LIFParameters

__all__ = ["LayeredNetwork", "layered_network", "paper_network", "poisson_experiment", "PAPER_SIZES", "PAPER_NAMES"]

PAPER_SIZES = (100, 15, 15, 5)
#: Population names of the paper network (as :func:`hal.network.paper_network_description` names them) and its source.
PAPER_NAMES = ("input", "hidden1", "hidden2", "label")
PAPER_SOURCE = "pixels"


@attrs.frozen(eq=False)
class LayeredNetwork:
    """A mapped feed-forward network: the configuration, the mapping, the network and its layer sizes."""

    config: WaferConfig
    mapping: MappingResult
    network: Network
    sizes: tuple[int, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """Population name of each layer."""
        return tuple(p.name for p in self.network.populations)

    @property
    def inputs(self) -> list[C.InputAddress]:
        """Where the input layer's sources enter (one :class:`~hal.coordinates.InputAddress` per input neuron)."""
        return list(self.mapping.source_address[self.network.sources[0].name])

    def neuron(self, layer: int, index: int) -> tuple[C.HICANNOnWafer, C.NeuronOnHICANN]:
        """(HICANN, firing denmem) of neuron ``index`` of ``layer``: what recordings and membrane readout name."""
        if not 0 <= layer < len(self.sizes):
            raise ConfigError(f"LayeredNetwork.neuron: layer {layer} out of range; valid 0..{len(self.sizes) - 1}")
        if not 0 <= index < self.sizes[layer]:
            raise ConfigError(f"LayeredNetwork.neuron: index {index} out of range for layer {layer}; valid 0..{self.sizes[layer] - 1}")
        hicann, denmems = self.mapping.placement[self.names[layer]][index]
        return hicann, denmems[0]

    def circuits(self, layer: int, index: int) -> tuple[C.HICANNOnWafer, tuple[C.NeuronOnHICANN, ...]]:
        """(HICANN, denmems, firing denmem first) of neuron ``index`` of ``layer``."""
        self.neuron(layer, index)  # checks the indices
        hicann, denmems = self.mapping.placement[self.names[layer]][index]
        return hicann, tuple(denmems)

    def set_weights(self, layer: int, weights) -> None:
        """New signed 4-bit weights (post, pre) from ``layer`` to ``layer + 1``; only synapse weights change."""
        if not 0 <= layer < len(self.sizes) - 1:
            raise ConfigError(f"LayeredNetwork.set_weights: layer {layer} out of range; valid 0..{len(self.sizes) - 2}")
        m = _signed_matrix(weights, layer, self.sizes)
        self.mapping.set_weights(self.config, 1 + 2 * layer, np.where(m > 0, m, 0).ravel())
        self.mapping.set_weights(self.config, 2 + 2 * layer, np.where(m < 0, -m, 0).ravel())


def _signed_matrix(weights, layer: int, sizes: tuple[int, ...]) -> np.ndarray:
    m = np.asarray(weights)
    expected = (sizes[layer + 1], sizes[layer])
    if m.shape != expected:
        raise ConfigError(f"weights[{layer}]: shape {m.shape}; expected {expected} (post, pre)")
    if m.size and (m.min() < -15 or m.max() > 15):
        raise ConfigError(f"weights[{layer}]: values {int(m.min())}..{int(m.max())}; valid -15..15 (signed 4-bit)")
    return m.astype(np.int64)


def layered_description(sizes: Sequence[int], weights: Sequence[np.ndarray], *, params: LIFParameters = SCHMITT2017,
                        input_weight: int = 15, names: Sequence[str] | None = None, source: str = "sources") -> Network:
    """The :class:`~hal.network.Network` of :func:`layered_network`, unmapped."""
    sizes = tuple(int(s) for s in sizes)
    names = tuple(names) if names is not None else tuple(f"layer{i}" for i in range(len(sizes)))
    if len(names) != len(sizes) or len(weights) != len(sizes) - 1:
        raise ConfigError(f"layered network: {len(sizes)} sizes, {len(names)} names and {len(weights)} weight matrices; "
                          f"valid: one name per size and one matrix per pair of consecutive layers ({len(sizes) - 1})")
    projections = [Projection(source, names[0], "excitatory", "one_to_one", weight_bits=input_weight)]
    for layer, matrix in enumerate(weights):
        m = _signed_matrix(matrix, layer, sizes)
        projections.append(Projection(names[layer], names[layer + 1], "excitatory", "matrix", weight_bits=np.where(m > 0, m, 0)))
        projections.append(Projection(names[layer], names[layer + 1], "inhibitory", "matrix", weight_bits=np.where(m < 0, -m, 0)))
    return Network([Population(n, s, params) for n, s in zip(names, sizes)], [SourcePopulation(source, sizes[0])], projections)


def layered_network(
    sizes: Sequence[int],
    weights: Sequence[np.ndarray],
    *,
    options: MappingOptions | None = None,
    hicann: C.HICANNOnWafer | None = None,
    circuits_per_neuron: int | None = None,
    wafer: C.Wafer = C.Wafer(0),
    params: LIFParameters = SCHMITT2017,
    input_weight: int = 15,
    names: Sequence[str] | None = None,
    source: str = "sources",
) -> LayeredNetwork:
    """Input layer driven one-to-one by sources, then every consecutive pair of layers joined
    by an excitatory and an inhibitory synapse per neuron pair (as in Schmitt et al. 2017), mapped.

    ``weights[l]`` is the signed 4-bit matrix (post, pre) from layer ``l`` to ``l+1``,
    values -15..15: positive on the excitatory synapse, negative on the inhibitory one.
    ``options`` default to the users' :class:`~hal.mapping.MappingOptions`; ``hicann`` puts the
    whole network on that one HICANN (its link then carries all sources, beyond the placement's
    input budget), ``circuits_per_neuron`` sets the neuron size.
    """
    network = layered_description(sizes, weights, params=params, input_weight=input_weight, names=names, source=source)
    options = options if options is not None else MappingOptions()
    if hicann is not None:
        # Everything on one HICANN: all sources share its link, whatever the placement's link budget.
        options = attrs.evolve(options, hicanns=(hicann,), input_budget_hz=float("inf"))
    if circuits_per_neuron is not None:
        options = attrs.evolve(options, circuits_per_neuron=circuits_per_neuron)
    config, mapping = map_network(network, wafer, options)
    return LayeredNetwork(config, mapping, network, tuple(int(s) for s in sizes))


def paper_network(seed: int = 0, **kwargs) -> LayeredNetwork:
    """The 100-15-15-5 network of Schmitt et al. 2017 with random signed 4-bit weights (the network of
    :func:`hal.network.paper_network_description`), mapped (``kwargs`` as :func:`layered_network`)."""
    rng = np.random.default_rng(seed)
    weights = [rng.integers(-15, 16, size=(b, a)) for a, b in zip(PAPER_SIZES[:-1], PAPER_SIZES[1:])]
    kwargs.setdefault("names", PAPER_NAMES)
    kwargs.setdefault("source", PAPER_SOURCE)
    return layered_network(PAPER_SIZES, weights, **kwargs)


def poisson_experiment(net: LayeredNetwork, rates_hz: np.ndarray, *, duration_ms: float = 1000.0, stop_ms: float | None = 900.0,
                       seed: int = 0, **kwargs) -> Experiment:
    """Drive the input layer with Poisson trains (rates per sample and input neuron)."""
    return Experiment(net.config, duration_ms, [PoissonInput(net.inputs, rates_hz, stop_ms=stop_ms, seed=seed)], **kwargs)
