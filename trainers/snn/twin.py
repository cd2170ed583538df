"""The software twin: the model's network as a differentiable simulation, as the mapping realised it.

A :class:`Twin` holds what the weights do not: every layer's neuron parameters and, per
projection, the conductance of one weight step at every synapse (0 where the mapping lost the
synapse, so the gradient knows it is not there). :meth:`Twin.from_mapping` reads them from the
mapped configuration exactly as the ideal chip (the ``reference`` and ``torch`` backends)
interprets it: nominal transfer functions, hardware capacitance and conductances scaled to
biological time. :meth:`Twin.nominal` derives them from the biological description alone
(C = 200 pF), for software-only use.

:func:`simulate` runs the twin on a batch (the dynamics are
:func:`hal_plugins.torch.dynamics.integrate`); with :class:`Measured` values it is the backward
pass of in-the-loop training: the forward values are what the backend measured.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs
import numpy as np
import torch

from hal import coordinates as C
from hal.errors import ConfigError
from hal.hardware.wafer import WaferConfig
from hal.netlist.bio import bio_parameters
from hal.netlist.synapses import row_unit_conductances
from hal.netlist.wiring import extract_wiring
from hal.analog.domains import PAPER_DOMAINS, Domains
from hal.network import Network
from hal_plugins.torch.dynamics import NeuronTensors, integrate
from hal_trainers.snn.model import DEFAULT_DELAY_MS, NetworkIndex, SpikingModel

__all__ = ["Twin", "Measured", "Output", "simulate", "NOMINAL_C_PF"]

#: Membrane capacitance of :meth:`Twin.nominal` (the biological value hal's weight scale refers to).
NOMINAL_C_PF = 200.0


@attrs.frozen(eq=False)
class Twin:
    """Neurons per layer and the unit conductance (nS per weight step, (post, pre)) per projection and sign.

    ``fine_e`` / ``fine_i``: per feed-forward projection, its fine rows' unit conductances (None
    for a projection without fine rows; empty when none has them).
    """

    neurons: tuple[NeuronTensors, ...]
    unit_e: tuple[torch.Tensor, ...]
    unit_i: tuple[torch.Tensor, ...]
    recurrent_e: tuple[torch.Tensor | None, ...]
    recurrent_i: tuple[torch.Tensor | None, ...]
    delay_ms: float = DEFAULT_DELAY_MS
    source: str = "nominal"
    fine_e: tuple[torch.Tensor | None, ...] = ()
    fine_i: tuple[torch.Tensor | None, ...] = ()

    @property
    def lost(self) -> int:
        """Synapses the mapping could not realise (masked here)."""
        fine = [u for u in (*self.fine_e, *self.fine_i) if u is not None]
        return int(sum((u == 0).sum() for u in (*self.unit_e, *self.unit_i, *fine)))

    def fine(self, j: int) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """Feed-forward projection ``j``'s fine-row unit conductances (excitatory, inhibitory), or (None, None)."""
        if j >= len(self.fine_e):
            return None, None
        return self.fine_e[j], self.fine_i[j]

    @classmethod
    def nominal(cls, model: SpikingModel, ns_per_weight_bit: float | None = None) -> Twin:
        """From the biological parameters: C = 200 pF, g_L = C / tau_m, one weight step = ``ns_per_bit``."""
        default = ns_per_weight_bit or attrs.fields(Network).ns_per_weight_bit.default
        neurons = []
        for layer in model.layers:
            p = layer.params
            neurons.append(NeuronTensors.from_mapping({
                "c_m_pf": np.full(layer.size, NOMINAL_C_PF), "g_l_ns": NOMINAL_C_PF / p.tau_m_ms, "e_l_mv": p.e_l_mv,
                "v_th_mv": p.v_th_mv, "v_reset_mv": p.v_reset_mv, "e_rev_e_mv": p.e_rev_e_mv, "e_rev_i_mv": p.e_rev_i_mv,
                "tau_syn_e_ms": p.tau_syn_e_ms, "tau_syn_i_ms": p.tau_syn_i_ms, "t_ref_ms": p.t_ref_ms or 0.0}))

        def unit(proj, scale: str):
            if proj is None:
                return None
            return torch.full((proj.out_features, proj.in_features), float(getattr(proj, scale) or default))

        def fine(proj, scale: str):
            return None if proj.fine_divisor is None else unit(proj, scale) / proj.fine_divisor

        recurrent = [layer.recurrent for layer in model.layers]
        has_fine = any(p.fine_divisor is not None for p in model.projections)
        return cls(tuple(neurons), tuple(unit(p, "ns_per_bit") for p in model.projections),
                   tuple(unit(p, "ns_per_bit_inhibitory") for p in model.projections), tuple(unit(p, "ns_per_bit") for p in recurrent),
                   tuple(unit(p, "ns_per_bit_inhibitory") for p in recurrent), source="nominal",
                   fine_e=tuple(fine(p, "ns_per_bit") for p in model.projections) if has_fine else (),
                   fine_i=tuple(fine(p, "ns_per_bit_inhibitory") for p in model.projections) if has_fine else ())

    @classmethod
    def from_mapping(cls, model: SpikingModel, config: WaferConfig, mapping, index: NetworkIndex,
                     domains: Domains = PAPER_DOMAINS, wiring=None) -> Twin:
        """What the mapped configuration realises (see the module docstring); ``wiring``: the
        configuration's :func:`~hal.netlist.wiring.extract_wiring`, if already read."""
        wiring = wiring if wiring is not None else extract_wiring(config)
        params = bio_parameters(wiring.parameters, domains)
        position = {(n.hicann, n.firing): i for i, n in enumerate(wiring.neurons)}
        neurons = []
        for name, layer in zip(index.layers, model.layers):
            rows = [position.get((h, denmems[0])) for h, denmems in mapping.placement[name]]
            if any(r is None for r in rows):
                raise ConfigError(f"Twin.from_mapping: a neuron of layer {name!r} is not in the configuration's wiring")
            neurons.append(NeuronTensors.from_mapping({k: v[np.array(rows)] for k, v in params.items()}))
        used = {int(h) for hic, _, _ in mapping.synapse_location for h in np.unique(hic[hic >= 0])}
        units = {h: row_unit_conductances(config.hicann(C.HICANNOnWafer(h))) for h in used}

        def unit(pair, n_post, n_pre) -> tuple[torch.Tensor, torch.Tensor]:
            out = []
            for j, which in zip(pair, (0, 1)):
                hic, row, _ = mapping.synapse_location[j]
                u = np.zeros(hic.shape)
                ok = hic >= 0
                for h in np.unique(hic[ok]):
                    sel = hic == h
                    u[sel] = units[int(h)][which][row[sel]]
                # Edges of a "matrix" projection run post-major: (post, pre).
                out.append(torch.as_tensor(u.reshape(n_post, n_pre) / domains.speedup, dtype=torch.float32))
            return out[0], out[1]

        ue, ui, re, ri, fe, fi = [], [], [], [], [], []
        for j, proj in enumerate(model.projections):
            e, i = unit(index.feedforward[j], proj.out_features, proj.in_features)
            ue.append(e)
            ui.append(i)
            pair = index.fine_pair(j)
            if (pair is None) != (proj.fine_divisor is None):
                raise ConfigError(f"Twin.from_mapping: projection {j} has fine_divisor {proj.fine_divisor}, but the mapping "
                                  f"{'has no' if pair is None else 'has'} fine rows for it; map the model as it is now")
            e, i = unit(pair, proj.out_features, proj.in_features) if pair is not None else (None, None)
            fe.append(e)
            fi.append(i)
        for l, layer in enumerate(model.layers):
            if index.recurrent[l] is None:
                re.append(None)
                ri.append(None)
            else:
                e, i = unit(index.recurrent[l], layer.size, layer.size)
                re.append(e)
                ri.append(i)
        has_fine = any(e is not None for e in fe)
        return cls(tuple(neurons), tuple(ue), tuple(ui), tuple(re), tuple(ri), source="mapping",
                   fine_e=tuple(fe) if has_fine else (), fine_i=tuple(fi) if has_fine else ())


@attrs.frozen(eq=False)
class Measured:
    """What a backend measured for a batch, on the twin's grid (batch, steps, neurons) per layer.

    ``v[l]`` is None for a layer whose membranes were not recorded; ``spikes[l]`` is None for a
    non-spiking layer.
    """

    spikes: tuple[torch.Tensor | None, ...]
    v: tuple[torch.Tensor | None, ...]


@attrs.frozen(eq=False)
class Output:
    """Spikes and membranes of every layer (batch, steps, neurons) and the readout's logits (batch, classes)."""

    spikes: tuple[torch.Tensor, ...]
    v: tuple[torch.Tensor, ...]
    logits: torch.Tensor

    def hidden_spikes_per_sample(self) -> float:
        """Mean spikes of all spiking layers' neurons per sample, summed over neurons."""
        hidden = [s for s in self.spikes[:-1]]
        if not hidden:
            return 0.0
        return float(sum(s.detach().sum() for s in hidden) / self.logits.shape[0])


def readout_logits(v: torch.Tensor, scale_mv: float) -> torch.Tensor:
    """Max over time of the readout membrane above its first sample (its rest), per ``scale_mv``.

    Subtracting each trace's own start removes a circuit's offset from its nominal rest.
    """
    return (v.max(dim=1).values - v[:, 0]) / scale_mv


#: Inputs at most this dense (fraction of nonzero entries) go through a sparse product.
SPARSE_BELOW = 0.1


def _conductances(pre: torch.Tensor, w_e: torch.Tensor, w_i: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The conductance each step's spikes ``pre`` (batch, steps, n_pre) send through ``w_e`` / ``w_i`` (post, pre).

    Spike trains are mostly zeros (a latency code: one spike per pixel at most, in about 1 % of the
    entries): where they need no gradient themselves, a sparse product does a fraction of the dense
    one's work, forward and for the weights' gradient (a third of a mock training step's time, dense).
    """
    sparse = (not pre.requires_grad and pre.layout == torch.strided and pre.numel() > 0
              and int(torch.count_nonzero(pre)) <= SPARSE_BELOW * pre.numel())
    if not sparse:
        return pre @ w_e.T, pre @ w_i.T
    flat = pre.reshape(-1, pre.shape[2]).to_sparse()
    both = torch.sparse.mm(flat, torch.cat([w_e, w_i]).T).reshape(*pre.shape[:2], 2 * w_e.shape[0])
    return both[..., : w_e.shape[0]], both[..., w_e.shape[0]:]


def simulate(model: SpikingModel, twin: Twin, inputs: torch.Tensor, *, spike_fn: Callable | None,
             measured: Measured | None = None, readout_scale_mv: float = 1.0, dropout: tuple[torch.Tensor, ...] = ()) -> Output:
    """Run the twin on input spikes ``inputs`` (batch, steps, inputs); see the module docstring.

    ``dropout``: per spiking layer before the last, a (batch, neurons) factor on the spikes it passes
    on (0 for a dropped neuron, ``1 / (1 - p)`` for a kept one: inverted dropout; the returned spikes
    are the layer's own). Only without ``measured``: what a backend measured is the whole network.
    """
    if dropout and measured is not None:
        raise ConfigError("simulate: dropout masks with measured values; the backend ran the whole network")
    if len(dropout) > len(model.layers) - 1:
        raise ConfigError(f"simulate: {len(dropout)} dropout masks for {len(model.layers) - 1} layers that pass spikes on")
    if inputs.ndim != 3 or inputs.shape[1] != model.steps or inputs.shape[2] != model.coding.size:
        raise ConfigError(f"simulate: inputs of shape {tuple(inputs.shape)}; expected (batch, {model.steps}, {model.coding.size})")
    # A spike marked at the end of step k is at time (k + 1) dt; with the delay it arrives at the
    # start of step k + 1 + round(delay / dt).
    shift = 1 + int(round(twin.delay_ms / model.dt_ms))
    pre = inputs
    spikes, vs = [], []
    for l, (proj, layer) in enumerate(zip(model.projections, model.layers)):
        w_e, w_i = proj.conductances(twin.unit_e[l], twin.unit_i[l], *twin.fine(l))
        if l > 0:  # neuron -> neuron
            pre = torch.nn.functional.pad(pre, (0, 0, shift, 0))[:, : model.steps]
        g_e, g_i = _conductances(pre, w_e, w_i)
        rec_e = rec_i = None
        if layer.recurrent is not None:
            wr = layer.recurrent.quantized()
            rec_e, rec_i = torch.relu(wr) * twin.recurrent_e[l], torch.relu(-wr) * twin.recurrent_i[l]
        m_v = measured.v[l] if measured is not None else None
        m_s = measured.spikes[l] if measured is not None and layer.spiking else None
        trace = integrate(twin.neurons[l], g_e, g_i, model.dt_ms, spike_fn=spike_fn if layer.spiking else None,
                          recurrent_e=rec_e, recurrent_i=rec_i, recurrent_delay=shift, measured_v=m_v, measured_spikes=m_s)
        spikes.append(trace.spikes)
        vs.append(trace.v)
        pre = trace.spikes if l >= len(dropout) else trace.spikes * dropout[l][:, None, :]
    return Output(tuple(spikes), tuple(vs), readout_logits(vs[-1], readout_scale_mv))
