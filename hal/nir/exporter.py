"""hal :class:`~hal.network.Network` -> NIR graph: :func:`to_nir`.

Each source population becomes an ``Input``, each population a ``CubaLIF`` (a ``CubaLI`` when its
threshold is at or above the excitatory reversal potential: hal's leaky-integrator readout), each
(pre, post) pair of populations one ``Linear`` node holding the signed sum of its excitatory and
inhibitory projections, and each population that projects nowhere (or those named) an ``Output``.

The NIR numbers are the linearised neuron, the inverse of :func:`hal.nir.from_nir`'s arithmetic
with membranes in mV (``v_leak = E_L``, ``v_threshold = V_th``, ``r = w_in = 1``), time
constants in seconds of NIR time (biological time divided by ``time_scale``), synaptic time
constant ``tau_syn_e`` (the inhibitory one, when it differs, is only in the metadata), and a
conductance ``g`` into a population linearised at the middle of its sub-threshold range,
``V_op = (E_L + V_th) / 2`` (at ``E_L`` for a readout, whose threshold is out of reach): the
current it drives is ``g (E_rev - V_op)``; an inhibitory current keeps its charge when
``tau_syn_i`` differs. A weight of ``w``
NIR units starts a current ``w dt_s / tau_syn`` (a spike has the area ``dt_s``, as in
:func:`~hal.nir.from_nir`).

The exact hal terms -- parameters, 4-bit weights, connectors, scales -- go into metadata
(:mod:`hal.nir.metadata`), so ``from_nir(to_nir(network))`` rebuilds ``network`` exactly, also
through a NIR file (``nir.write`` / ``nir.read``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np

from hal.analog.domains import PAPER_DOMAINS, Domains
from hal.errors import ConfigError, UnknownNameError
from hal.mapping import CIRCUITS_PER_NEURON
from hal.network import LIFParameters, Network, Projection
from hal.nir import metadata as M
from hal.nir._extra import require
from hal.nir.circuit import step_rate_per_ms
from hal.nir.importer import DEFAULT_DT_S

__all__ = ["to_nir", "linearised_weights"]


def linearised_weights(network: Network, projection: Projection, circuits_per_neuron: int, dt_s: float, time_scale: float,
                       domains: Domains = PAPER_DOMAINS) -> np.ndarray:
    """The (post, pre) NIR weight matrix of one hal projection into a ``CubaLIF`` written by :func:`to_nir`.

    ``w = bits * (g / C per step) * tau_m * (E_rev - V_op) * tau_syn / dt_s``: the current at the
    operating point that the conductance drives, in mV per NIR membrane time constant.
    """
    post = next(p for p in network.populations if p.name == projection.post)
    p = post.params
    n_pre, n_post = network.size(projection.pre), post.size
    ns_per_bit = network.ns_per_bit(projection)
    pre_idx, post_idx = projection.edges(n_pre, n_post)
    bits = projection.bits(pre_idx, post_idx, ns_per_bit).astype(float)
    e_rev = p.e_rev_e_mv if projection.receptor == "excitatory" else p.e_rev_i_mv
    v_op = p.e_l_mv if p.v_th_mv >= p.e_rev_e_mv else (p.e_l_mv + p.v_th_mv) / 2
    tau_syn_s = (p.tau_syn_e_ms if projection.receptor == "excitatory" else p.tau_syn_i_ms) / time_scale * 1e-3
    per_step = step_rate_per_ms(ns_per_bit, circuits_per_neuron, domains) * p.tau_m_ms * (e_rev - v_op) * tau_syn_s / dt_s
    out = np.zeros((n_post, n_pre))
    np.add.at(out, (post_idx, pre_idx), bits * per_step)
    return out


def _neuron(nir, name: str, size: int, p: LIFParameters, time_scale: float):
    ones = np.ones(size)
    meta = {"hal_params": M.params_json(p)}
    tau_mem, tau_syn = ones * p.tau_m_ms / time_scale * 1e-3, ones * p.tau_syn_e_ms / time_scale * 1e-3
    if p.v_th_mv >= p.e_rev_e_mv:
        return nir.CubaLI(tau_syn=tau_syn, tau_mem=tau_mem, r=ones.copy(), v_leak=ones * p.e_l_mv, w_in=ones.copy(), metadata=meta)
    return nir.CubaLIF(tau_syn=tau_syn, tau_mem=tau_mem, r=ones.copy(), v_leak=ones * p.e_l_mv, v_threshold=ones * p.v_th_mv,
                       v_reset=ones * p.v_reset_mv, w_in=ones.copy(), metadata=meta)


def to_nir(network: Network, *, outputs: Sequence[str] | None = None, circuits_per_neuron: int = 4, dt_s: float = DEFAULT_DT_S,
           time_scale: float = 1.0, domains: Domains = PAPER_DOMAINS):
    """``network`` as a ``nir.NIRGraph`` (see the module docstring).

    ``outputs``: the populations that get an ``Output`` node (default: those that project
    nowhere); ``circuits_per_neuron``: the neurons' size on the chip (the weights' effect depends
    on it); ``dt_s``: the area of a NIR spike; ``time_scale``: biological ms per ms of NIR time.
    """
    nir = require("nir", "hal.nir.to_nir")
    if not isinstance(network, Network):
        raise ConfigError(f"to_nir: expected a hal.network.Network, got {type(network).__name__}")
    if circuits_per_neuron not in CIRCUITS_PER_NEURON:
        raise ConfigError(f"to_nir: circuits_per_neuron {circuits_per_neuron!r} not supported; valid {', '.join(map(str, CIRCUITS_PER_NEURON))}")
    for label, value in (("dt_s", dt_s), ("time_scale", time_scale)):
        if not (isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value) and value > 0):
            raise ConfigError(f"to_nir: {label} {value!r} out of range; valid a finite number > 0")
    names = [p.name for p in network.populations]
    if outputs is None:
        feeding = {proj.pre for proj in network.projections if proj.pre != proj.post}
        outputs = [n for n in names if n not in feeding]
    for name in outputs:
        if name not in names:
            raise UnknownNameError("population (to_nir outputs)", str(name), names)
    nodes: dict = {}
    edges: list[tuple[str, str]] = []
    for s in network.sources:
        nodes[s.name] = nir.Input(input_type={"input": np.array([s.size])})
    for p in network.populations:
        nodes[p.name] = _neuron(nir, p.name, p.size, p.params, time_scale)
    pairs: dict[tuple[str, str], list[int]] = {}
    for j, proj in enumerate(network.projections):
        pairs.setdefault((proj.pre, proj.post), []).append(j)
    taken = set(nodes)
    for (pre, post), indices in pairs.items():
        name = _free(f"{pre}->{post}", taken)
        weight = sum(linearised_weights(network, network.projections[j], circuits_per_neuron, dt_s, time_scale, domains) for j in indices)
        meta = {"hal_projections": M.projections_json([(j, network.projections[j]) for j in indices])}
        nodes[name] = nir.Linear(weight=weight, metadata=meta)
        edges += [(pre, name), (name, post)]
    for pop in outputs:
        name = _free(f"{pop}-output", taken)
        nodes[name] = nir.Output(output_type={"output": np.array([network.size(pop)])})
        edges.append((pop, name))
    metadata = {
        "hal_format": M.FORMAT, "hal_version": str(M.VERSION),
        "hal_network": json.dumps({"populations": names, "sources": [s.name for s in network.sources],
                                   "ns_per_weight_bit": network.ns_per_weight_bit}),
        "hal_mapping": json.dumps({"dt_s": dt_s, "time_scale": time_scale, "circuits_per_neuron": circuits_per_neuron}),
    }
    try:
        return nir.NIRGraph(nodes=dict(nodes), edges=list(edges), metadata=dict(metadata))
    except ValueError:
        # NIR's type inference starts from Input nodes and fails on a recurrent population that no
        # input reaches; every node here has its size already, so the graph stands without it
        # (read such a file with nir.read(path, type_check=False)).
        return nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata, type_check=False)


def _free(name: str, taken: set[str]) -> str:
    candidate, k = name, 1
    while candidate in taken:
        k += 1
        candidate = f"{name}-{k}"
    taken.add(candidate)
    return candidate
