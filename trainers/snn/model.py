"""A spiking network composed like ``torch.nn.Sequential``, and its hal :class:`~hal.network.Network`.

::

    model = SpikingModel(LatencyCoding(256),
                         Projection(256, 246), LIF(246),
                         Projection(246, 10), LeakyIntegrator(10), dt_ms=0.2)

Stages alternate a :class:`Projection` and a neuron layer; any depth and width. The model
itself holds only what training changes (the weights); how a network behaves comes from a
:class:`~hal_trainers.snn.twin.Twin` (its neurons and synapses as the mapping realised them)
and, in the loop, from a backend.
"""

from __future__ import annotations

import attrs
import numpy as np
import torch
from torch import nn

from hal.errors import ConfigError
from hal.netlist.bio import L1_DELAY_HW_S
from hal.analog.domains import PAPER_DOMAINS
from hal.network import Network, Population, Projection as NetworkProjection, SourcePopulation
from hal_trainers.snn.coding import LatencyCoding, PoissonCoding, StepRateCoding
from hal_trainers.snn.layers import LIF, Projection

__all__ = ["SpikingModel", "NetworkIndex", "INPUT", "DEFAULT_DELAY_MS"]

#: Name of the input (source) population in the model's network.
INPUT = "input"

#: The delay of every connection in the twin: the on-wafer (L1) delay the simulating backends use.
DEFAULT_DELAY_MS = float(PAPER_DOMAINS.hw_s_to_ms(L1_DELAY_HW_S))


@attrs.frozen
class NetworkIndex:
    """Where the model's parts went in its :class:`~hal.network.Network`.

    ``feedforward[j]`` / ``recurrent[l]``: (excitatory, inhibitory) projection index of the model's
    projection ``j`` / of layer ``l``'s recurrent projection (None when it has none).
    """

    layers: tuple[str, ...]
    feedforward: tuple[tuple[int, int], ...]
    recurrent: tuple[tuple[int, int] | None, ...]


class SpikingModel(nn.Module):
    """Input coding, then (projection, neuron layer) stages; see the module docstring.

    ``dt_ms``: the twin's time step; ``duration_ms``: how long one sample runs (default: the
    coding's latest spike plus two membrane and two synaptic time constants of the last layer, rounded up to a step).
    """

    def __init__(self, coding: LatencyCoding | PoissonCoding | StepRateCoding, *stages: nn.Module, dt_ms: float = 0.2,
                 duration_ms: float | None = None, names: tuple[str, ...] | None = None):
        super().__init__()
        if not isinstance(coding, (LatencyCoding, PoissonCoding, StepRateCoding)):
            raise ConfigError(f"SpikingModel: first argument must be an input coding (LatencyCoding, PoissonCoding, StepRateCoding), got {type(coding).__name__}")
        if not stages or len(stages) % 2:
            raise ConfigError(f"SpikingModel: stages must alternate Projection and neuron layer (LIF, LeakyIntegrator); got {len(stages)} stage(s)")
        size = coding.size
        for k in range(0, len(stages), 2):
            proj, layer = stages[k], stages[k + 1]
            if not isinstance(proj, Projection):
                raise ConfigError(f"SpikingModel: stage {k} is a {type(proj).__name__}; expected a Projection")
            if not isinstance(layer, LIF):
                raise ConfigError(f"SpikingModel: stage {k + 1} is a {type(layer).__name__}; expected LIF or LeakyIntegrator")
            if not layer.spiking and k + 2 < len(stages):
                raise ConfigError(f"SpikingModel: stage {k + 1} is a {type(layer).__name__}, which never spikes; "
                                  f"it can only be the last stage (the readout), not feed stage {k + 2}")
            if proj.in_features != size:
                raise ConfigError(f"SpikingModel: stage {k} takes {proj.in_features} inputs, but the stage before gives {size}")
            if proj.out_features != layer.size:
                raise ConfigError(f"SpikingModel: stage {k} projects onto {proj.out_features} neurons, but layer {k + 1} has {layer.size}")
            size = layer.size
        if not (isinstance(dt_ms, (int, float)) and 0 < dt_ms <= 1.0):
            raise ConfigError(f"SpikingModel.dt_ms: {dt_ms!r} out of range; valid 0 < dt_ms <= 1 ms")
        self.coding = coding
        self.projections = nn.ModuleList(stages[0::2])
        self.layers = nn.ModuleList(stages[1::2])
        self.dt_ms = float(dt_ms)
        if duration_ms is None:
            last = self.layers[-1].params
            duration_ms = coding.latest_ms + 2 * last.tau_m_ms + 2 * max(last.tau_syn_e_ms, last.tau_syn_i_ms)
        if not (np.isfinite(duration_ms) and duration_ms > dt_ms):
            raise ConfigError(f"SpikingModel.duration_ms: {duration_ms!r} out of range; valid > dt_ms ({dt_ms})")
        self.steps = int(np.ceil(duration_ms / self.dt_ms - 1e-9))
        self.duration_ms = self.steps * self.dt_ms
        names = names or tuple(f"layer{k + 1}" for k in range(len(self.layers)))
        if len(names) != len(self.layers) or len(set(names)) != len(names) or INPUT in names:
            raise ConfigError(f"SpikingModel.names: {names!r}; expected {len(self.layers)} distinct names, not {INPUT!r}")
        self.names = tuple(names)

    @property
    def sizes(self) -> tuple[int, ...]:
        """Inputs, then every layer's size."""
        return (self.coding.size, *(layer.size for layer in self.layers))

    def network(self, ns_per_weight_bit: float | None = None) -> tuple[Network, NetworkIndex]:
        """The hal network with the model's current integer weights, and where each part went.

        Every (pre, post) pair gets an excitatory and an inhibitory synapse (zero weights too), so
        later weight changes only rewrite weights.
        """
        projections: list[NetworkProjection] = []
        feedforward, recurrent = [], []

        def add(pre: str, post: str, proj: Projection) -> tuple[int, int]:
            bits = proj.bits()
            scale_e = {} if proj.ns_per_bit is None else {"ns_per_weight_bit": proj.ns_per_bit}
            scale_i = {} if proj.ns_per_bit_inhibitory is None else {"ns_per_weight_bit": proj.ns_per_bit_inhibitory}
            projections.append(NetworkProjection(pre, post, "excitatory", "matrix", weight_bits=np.where(bits > 0, bits, 0), **scale_e))
            projections.append(NetworkProjection(pre, post, "inhibitory", "matrix", weight_bits=np.where(bits < 0, -bits, 0), **scale_i))
            return len(projections) - 2, len(projections) - 1

        pre = INPUT
        for name, proj, layer in zip(self.names, self.projections, self.layers):
            feedforward.append(add(pre, name, proj))
            recurrent.append(add(name, name, layer.recurrent) if layer.recurrent is not None else None)
            pre = name
        populations = [Population(name, layer.size, layer.params) for name, layer in zip(self.names, self.layers)]
        extra = {} if ns_per_weight_bit is None else {"ns_per_weight_bit": ns_per_weight_bit}
        net = Network(populations, [SourcePopulation(INPUT, self.coding.size)], projections, **extra)
        return net, NetworkIndex(self.names, tuple(feedforward), tuple(recurrent))

    def all_projections(self) -> list[Projection]:
        """Feed-forward projections, then the recurrent ones (the order of the optimiser's groups)."""
        return [*self.projections, *(layer.recurrent for layer in self.layers if layer.recurrent is not None)]

    def clamp_(self) -> None:
        for proj in self.all_projections():
            proj.clamp_()

    def encode_grid(self, x, seed: int = 0, delay_ms: float = DEFAULT_DELAY_MS) -> tuple[list, torch.Tensor]:
        """Input spikes of images ``x``: per sample (times_ms, index), and on the twin's grid (samples, steps, inputs)."""
        from hal_trainers.snn.coding import spike_grid

        spikes = self.coding.encode(x, seed)
        return spikes, spike_grid(spikes, self.coding.size, self.steps, self.dt_ms, delay_ms)
