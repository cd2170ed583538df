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
    projection ``j`` / of layer ``l``'s recurrent projection (None when it has none); ``fine[j]``:
    the same for projection ``j``'s fine rows (None without; empty: no projection has them).
    """

    layers: tuple[str, ...]
    feedforward: tuple[tuple[int, int], ...]
    recurrent: tuple[tuple[int, int] | None, ...]
    fine: tuple[tuple[int, int] | None, ...] = ()

    def fine_pair(self, j: int) -> tuple[int, int] | None:
        """Projection ``j``'s fine-row pair, or None."""
        return self.fine[j] if j < len(self.fine) else None


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
            if layer.recurrent is not None and layer.recurrent.fine_divisor is not None:
                raise ConfigError(f"SpikingModel: layer {k + 1}'s recurrent projection has fine rows (fine_divisor "
                                  f"{layer.recurrent.fine_divisor}); valid only on feed-forward projections: give it fine_divisor=None")
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
        later weight changes only rewrite weights; a projection with fine rows gets a second such
        pair at ``1 / fine_divisor`` of the coarse rows' conductance per step.
        """
        projections: list[NetworkProjection] = []
        feedforward, recurrent = [], []
        network_ns = ns_per_weight_bit or attrs.fields(Network).ns_per_weight_bit.default

        def add(pre: str, post: str, bits: np.ndarray, ns_e: float | None, ns_i: float | None) -> tuple[int, int]:
            scale_e = {} if ns_e is None else {"ns_per_weight_bit": ns_e}
            scale_i = {} if ns_i is None else {"ns_per_weight_bit": ns_i}
            projections.append(NetworkProjection(pre, post, "excitatory", "matrix", weight_bits=np.where(bits > 0, bits, 0), **scale_e))
            projections.append(NetworkProjection(pre, post, "inhibitory", "matrix", weight_bits=np.where(bits < 0, -bits, 0), **scale_i))
            return len(projections) - 2, len(projections) - 1

        def add_fine(pre: str, post: str, proj: Projection) -> tuple[int, int] | None:
            if proj.fine_divisor is None:
                return None
            d = proj.fine_divisor
            return add(pre, post, proj.fine_bits(), (proj.ns_per_bit or network_ns) / d,
                       (proj.ns_per_bit_inhibitory or network_ns) / d)

        pres = (INPUT, *self.names[:-1])
        for pre, name, proj, layer in zip(pres, self.names, self.projections, self.layers):
            feedforward.append(add(pre, name, proj.bits(), proj.ns_per_bit, proj.ns_per_bit_inhibitory))
            r = layer.recurrent
            recurrent.append(add(name, name, r.bits(), r.ns_per_bit, r.ns_per_bit_inhibitory) if r is not None else None)
        # fine rows after all others: the coarse rows keep the indices they have without them
        fine = [add_fine(pre, name, proj) for pre, name, proj in zip(pres, self.names, self.projections)]
        populations = [Population(name, layer.size, layer.params) for name, layer in zip(self.names, self.layers)]
        extra = {} if ns_per_weight_bit is None else {"ns_per_weight_bit": ns_per_weight_bit}
        net = Network(populations, [SourcePopulation(INPUT, self.coding.size)], projections, **extra)
        has_fine = any(f is not None for f in fine)
        return net, NetworkIndex(self.names, tuple(feedforward), tuple(recurrent), tuple(fine) if has_fine else ())

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
