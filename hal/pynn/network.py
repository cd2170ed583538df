"""PyNN's populations and projections -> a :class:`hal.network.Network` in hal's units, with its limits checked.

Translation (PyNN -> hal):

* ``IF_cond_exp``: ``v_rest`` -> ``e_l_mv``, ``v_thresh`` -> ``v_th_mv``, ``v_reset``,
  ``e_rev_E``/``e_rev_I``, ``tau_m``, ``tau_syn_E``/``tau_syn_I``, ``tau_refrac`` -> ``t_ref_ms``.
  hal maps one parameter set per population, so a PyNN population with several becomes one hal
  population per distinct set (``NAME-0``, ``NAME-1``, ...); ``i_offset`` must be 0.
* ``cm``: what matters for the dynamics is g/C. A hal weight of ``x`` nS acts on a neuron of
  ``k`` circuits as ``x`` nS on a membrane of ``k x`` :data:`NF_PER_CIRCUIT` (measured: the
  PSP of a fixed weight halves from 2 to 4 circuits per neuron, and 2 circuits agree with
  NEST's ``iaf_cond_exp`` at C_m = 0.2 nF; ``benchmarks/pynn_vs_nest.py``). So a weight of
  ``w`` uS onto a cell of ``cm`` nF becomes ``w * 1000 * k * NF_PER_CIRCUIT / cm`` nS: any ``cm``
  is realised through the weights.
* ``StaticSynapse`` weights (uS, >= 0; inhibition through ``receptor_type="inhibitory"``) become
  4-bit weights: each hal projection takes the finest weight scale (the network's nS per bit
  divided by a gmax divisor 1..15) that holds its largest weight; the rest is rounded. Delays
  must equal the wafer's one connection delay (:data:`hal.netlist.bio.L1_DELAY_HW_S`, 0.1 ms at
  speed-up 10^4).
* Projections onto the same (pre, post, receptor) are merged (their weights add, as two
  static synapses would); zero weights are left out.

What does not fit is a :class:`~hal.errors.CapabilityError` naming the projection or
population, the value and what would be valid.
"""

from __future__ import annotations

import re
from collections import defaultdict

import attrs
import numpy as np

from hal.analog.domains import PAPER_DOMAINS
from hal.analog.transfer import nominal
from hal.errors import CapabilityError, ConfigError, HalError
from hal.logging import get_logger
from hal.network import LIFParameters, Network, Population, Projection, SourcePopulation

__all__ = ["NF_PER_CIRCUIT", "Built", "build_network", "nominal_ranges", "roots"]

log = get_logger(__name__)

#: The biological membrane capacitance (nF) per circuit of a logical neuron that hal's weights
#: in nS act on (hal.network.Network's 0.68 nS per bit is declared for two circuits, 0.2 nF).
NF_PER_CIRCUIT = 0.1

#: PyNN parameter -> hal LIFParameters field
_LIF_NAMES = {"v_rest": "e_l_mv", "v_thresh": "v_th_mv", "v_reset": "v_reset_mv", "e_rev_E": "e_rev_e_mv",
              "e_rev_I": "e_rev_i_mv", "tau_m": "tau_m_ms", "tau_syn_E": "tau_syn_e_ms", "tau_syn_I": "tau_syn_i_ms",
              "tau_refrac": "t_ref_ms"}


@attrs.frozen(eq=False)
class Built:
    """The hal network of a PyNN model, and how its names relate to PyNN's objects.

    A PyNN population whose cells differ in their parameters becomes one hal population per
    distinct parameter set (``NAME-0``, ``NAME-1``, ...; hal maps one set per population):
    :meth:`place` says where a PyNN cell went, :meth:`cell` the way back.
    """

    network: Network
    name_of: dict  # PyNN Population -> hal population name (sources) or base name (neurons)
    #: PyNN neuron Population -> (hal population name per cell, index in it per cell)
    cells: dict
    #: per hal projection: the PyNN projections it realises
    projection_sources: tuple
    #: PyNN projection -> (hal projection, synapse in its edge order) per connection; -1: a zero weight, not realised
    synapse_of: dict
    cm_of: dict  # PyNN neuron Population -> cm (nF) per cell
    hal_cm_nf: float  # the membrane hal's nS act on (NF_PER_CIRCUIT x circuits per neuron)
    #: synapses whose weight is below half a bit of their projection's scale (realised as 0)
    weights_rounded_to_zero: int
    _back: dict = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self):
        back = {(name, int(local)): (pop, i) for pop, (names, locals_) in self.cells.items()
                for i, (name, local) in enumerate(zip(names, locals_))}
        object.__setattr__(self, "_back", back)

    def place(self, population, index: int) -> tuple[str, int]:
        """(hal population, index in it) of cell ``index`` of a PyNN neuron population."""
        names, local = self.cells[population]
        return names[index], int(local[index])

    def cell(self, name: str, index: int):
        """(PyNN population, cell index) of neuron ``index`` of hal population ``name``; None if it is none."""
        return self._back.get((name, int(index)))

    def neurons(self, where, population, indices) -> list:
        """(HICANN, firing denmem) of the cells ``indices`` of a PyNN neuron population (``where``: a PopulationMap)."""
        return [where.neurons(name)[local] for name, local in (self.place(population, int(i)) for i in indices)]


def _hal_name(label: str, taken: set) -> str:
    base = re.sub(r"[^A-Za-z0-9_-]", "_", label or "population") or "population"
    name, k = base, 1
    while name in taken:
        name, k = f"{base}_{k}", k + 1
    taken.add(name)
    return name


def nominal_ranges(domains=PAPER_DOMAINS) -> dict[str, tuple[float, float]]:
    """What the nominal chip realises of each PyNN parameter (biological units): voltages through
    ``V_hw = alpha V + shift`` within the floating gates' 0..1800 mV, times through the speed-up."""
    out = {}
    for name, field in _LIF_NAMES.items():
        hw = field.replace("_ms", "_us")
        if hw == "tau_m_us":
            continue  # set through g_l, which depends on the circuits merged: the mapper checks it
        t = nominal(hw)
        reach = sorted(float(t.forward(d)) for d in t.domain)
        if field.endswith("_mv"):
            out[name] = tuple(float(domains.hw_mv_to_mv(v)) for v in reach)
        elif hw in ("tau_syn_e_us", "tau_syn_i_us", "t_ref_us"):
            out[name] = tuple(v * 1e-3 * domains.speedup for v in reach)
    return out


def _check_ranges(population, values: dict, ranges: dict) -> None:
    for name, field in _LIF_NAMES.items():
        if name in ranges:
            lo, hi = ranges[name]
            v = values[field]
            if not lo - 1e-9 <= v <= hi + 1e-9:
                raise CapabilityError(f"hal.pynn: population {population.label!r}: {name} {v:g} out of range; the chip realises "
                                      f"{lo:.4g}..{hi:.4g} {'mV' if field.endswith('_mv') else 'ms'} (nominal, speed-up "
                                      f"{PAPER_DOMAINS.speedup:g})")


def _values(population, name: str) -> np.ndarray:
    return np.broadcast_to(np.asarray(population._parameters[name], dtype=float), (population.size,))


def lif_groups(population, ranges: dict | None = None) -> tuple[list[LIFParameters], np.ndarray, np.ndarray]:
    """(hal parameters per distinct set, set of each cell, cm in nF of each cell) of an ``IF_cond_exp`` population."""
    offset = _values(population, "i_offset")
    if (offset != 0).any():
        k = int(np.flatnonzero(offset != 0)[0])
        raise CapabilityError(f"hal.pynn: population {population.label!r}: i_offset {offset[k]:g} nA; the neuron circuit has no "
                              "constant current input: valid 0")
    cm = _values(population, "cm")
    if not (cm > 0).all():
        raise ConfigError(f"hal.pynn: population {population.label!r}: cm {cm[~(cm > 0)][0]:g} nF out of range; valid > 0")
    table = np.stack([_values(population, name) for name in _LIF_NAMES], axis=1)
    unique, group = np.unique(table, axis=0, return_inverse=True)
    parameters = []
    for row in unique:
        values = dict(zip(_LIF_NAMES.values(), (float(v) for v in row)))
        if ranges:
            _check_ranges(population, values, ranges)
        try:
            parameters.append(LIFParameters(**values))
        except HalError as exc:
            raise ConfigError(f"hal.pynn: population {population.label!r}: {exc}") from exc
    return parameters, np.asarray(group, dtype=np.int64).ravel(), np.array(cm, dtype=float)


def roots(cells) -> tuple[list, np.ndarray, np.ndarray]:
    """(root populations, root population number, index in it) of each cell of a Population, view or Assembly."""
    from pyNN.common import Assembly, PopulationView

    if isinstance(cells, Assembly):
        pops, which, index = [], [], []
        for part in cells.populations:
            p, w, i = roots(part)
            for q in p:
                if q not in pops:
                    pops.append(q)
            remap = np.array([pops.index(q) for q in p], dtype=np.int64)
            which.append(remap[w])
            index.append(i)
        return pops, np.concatenate(which), np.concatenate(index)
    if isinstance(cells, PopulationView):
        return [cells.grandparent], np.zeros(cells.size, dtype=np.int64), np.asarray(cells.index_in_grandparent(np.arange(cells.size)), dtype=np.int64)
    return [cells], np.zeros(cells.size, dtype=np.int64), np.arange(cells.size)


def build_network(populations, projections, *, delay_ms: float, circuits_per_neuron: int, ns_per_weight_bit: float = 0.68,
                  ranges: dict | None = None) -> Built:
    """The hal :class:`Network` of PyNN ``populations`` (in creation order) and ``projections``.

    ``ranges`` (PyNN name -> (low, high), e.g. :func:`nominal_ranges`) refuses parameters outside them.
    """
    hal_cm_nf = NF_PER_CIRCUIT * circuits_per_neuron
    name_of, neurons, sources, cm_of, cells, size_of = _populations(populations, ranges)
    groups = _connection_groups(projections, cells, cm_of, delay_ms, hal_cm_nf)
    hal_projections, sources_of, zeros = [], [], 0
    synapse_of = {prj: (np.full(len(prj), -1, np.int64), np.full(len(prj), -1, np.int64)) for prj in projections}
    for (pre, post, receptor), (pi, qi, w, pieces) in groups.items():
        made = _hal_projection(pre, post, receptor, pi, qi, w, pieces, size_of[post], len(hal_projections), synapse_of,
                               cells, cm_of, hal_cm_nf, ns_per_weight_bit, circuits_per_neuron)
        if made is None:
            continue
        projection, rounded = made
        hal_projections.append(projection)
        sources_of.append(tuple(dict.fromkeys(prj for prj, _ in pieces)))
        zeros += rounded
    if zeros:
        log.warning("weights_rounded_to_zero", synapses=zeros,
                    note="their conductance is below half a weight bit of their projection's scale; they have no effect")
    network = Network(neurons, sources, hal_projections, ns_per_weight_bit=ns_per_weight_bit)
    return Built(network, name_of, {p: c for p, c in cells.items() if p in cm_of}, tuple(sources_of), synapse_of, cm_of,
                 hal_cm_nf, zeros)


def _populations(populations, ranges: dict | None) -> tuple:
    """hal populations and sources of PyNN ``populations``: cells of one population with other parameters
    become hal populations of their own; ``cells`` maps each PyNN population to (hal name, local index) per cell."""
    taken: set = set()
    name_of, neurons, sources, cm_of, cells, size_of = {}, [], [], {}, {}, {}
    for pop in populations:
        name = name_of[pop] = _hal_name(pop.label, taken)
        kind = type(pop.celltype).__name__
        if kind == "IF_cond_exp":
            parameters, group, cm_of[pop] = lif_groups(pop, ranges)
            names = [name] if len(parameters) == 1 else [_hal_name(f"{name}-{k}", taken) for k in range(len(parameters))]
            local = np.zeros(pop.size, dtype=np.int64)
            for k, params in enumerate(parameters):
                members = np.flatnonzero(group == k)
                local[members] = np.arange(members.size)
                neurons.append(Population(names[k], int(members.size), params))
                size_of[names[k]] = int(members.size)
            cells[pop] = (tuple(names[k] for k in group), local)
        elif kind in ("SpikeSourceArray", "SpikeSourcePoisson"):
            sources.append(SourcePopulation(name, pop.size))
            cells[pop] = ((name,) * pop.size, np.arange(pop.size))
        else:
            raise CapabilityError(f"hal.pynn: population {pop.label!r}: cell type {kind} not available; "
                                  "valid IF_cond_exp, SpikeSourceArray, SpikeSourcePoisson")
    return name_of, neurons, sources, cm_of, cells, size_of


def _connection_groups(projections, cells: dict, cm_of: dict, delay_ms: float, hal_cm_nf: float) -> dict:
    """(pre, post, receptor) of hal populations -> pre indices, post indices, weights in hal nS and
    (PyNN projection, its connection numbers); delays, weights and receptors checked on the way."""
    groups: dict = defaultdict(lambda: ([], [], [], []))
    for prj in projections:
        label = prj.label or f"{prj.pre.label}->{prj.post.label}"
        if len(prj) == 0:
            continue
        delays = prj._delay
        bad = ~np.isclose(delays, delay_ms, rtol=0, atol=1e-9)
        if bad.any():
            raise CapabilityError(f"hal.pynn: projection {label!r}: delay {float(delays[bad][0]):g} ms not available; every "
                                  f"connection on the wafer has the delay {delay_ms:g} ms (use delay={delay_ms:g} or leave it out)")
        weights = prj._weight
        if not np.all(np.isfinite(weights)) or (weights < 0).any():
            w = float(weights[~np.isfinite(weights) | (weights < 0)][0])
            raise ConfigError(f"hal.pynn: projection {label!r}: weight {w:g} uS out of range; valid a conductance >= 0 "
                              "(inhibition through receptor_type='inhibitory')")
        receptor = prj.receptor_type
        if receptor not in ("excitatory", "inhibitory"):
            raise CapabilityError(f"hal.pynn: projection {label!r}: receptor_type {receptor!r}; valid excitatory, inhibitory")
        pre_name, pre_local = _hal_cells(prj.pre, cells, prj._pre)
        post_name, post_local = _hal_cells(prj.post, cells, prj._post)
        post_cm = _post_cm(prj.post, cm_of, prj._post)
        code = {name: k for k, name in enumerate(dict.fromkeys((*pre_name, *post_name)))}
        names = list(code)
        key = np.array([code[n] for n in pre_name], dtype=np.int64) * len(code) + np.array([code[n] for n in post_name], dtype=np.int64)
        for pair in np.unique(key):
            sel = key == pair
            pre, post = names[int(pair) // len(code)], names[int(pair) % len(code)]
            group = groups[(pre, post, receptor)]
            group[0].append(pre_local[sel])
            group[1].append(post_local[sel])
            group[2].append(weights[sel] * 1000.0 * hal_cm_nf / post_cm[sel])
            group[3].append((prj, np.flatnonzero(sel)))
    return groups


def _hal_projection(pre, post, receptor, pi, qi, w, pieces, n_post: int, index: int, synapse_of: dict, cells: dict,
                    cm_of: dict, hal_cm_nf: float, ns_per_weight_bit: float, circuits_per_neuron: int):
    """One hal projection (``index``) of a connection group, and how many of its weights round to zero;
    None when every weight is zero. Records each PyNN connection's synapse in ``synapse_of``."""
    prjs = [prj for prj, _ in pieces]
    pi, qi, w = np.concatenate(pi), np.concatenate(qi), np.concatenate(w)
    key = pi * n_post + qi
    unique, inverse = np.unique(key, return_inverse=True)
    total = np.bincount(inverse, weights=w, minlength=unique.size)  # duplicates add, as two static synapses would
    keep = total > 0
    if not keep.any():
        return None
    position = np.where(keep, np.cumsum(keep) - 1, -1)[inverse]  # each connection's synapse in the hal projection
    start = 0
    for prj, connections in pieces:
        synapse_of[prj][0][connections] = index
        synapse_of[prj][1][connections] = position[start:start + connections.size]
        start += connections.size
    unique, total = unique[keep], total[keep]
    largest = float(total.max())
    if largest > 15.5 * ns_per_weight_bit:
        labels = ", ".join(sorted({repr(p.label or f"{p.pre.label}->{p.post.label}") for p in prjs}))
        target = unique[int(np.argmax(total))] % n_post
        pop, cell = next((p, i) for p, (names, local) in cells.items() for i, (n, j) in enumerate(zip(names, local))
                         if n == post and j == target)
        cm = float(cm_of[pop][cell])
        top_us = 15 * ns_per_weight_bit / 1000.0 * cm / hal_cm_nf
        raise CapabilityError(f"hal.pynn: projection {labels}: weight {largest / 1000.0 * cm / hal_cm_nf:.6g} uS onto "
                              f"{pop.label!r}[{cell}] (cm {cm:g} nF) out of range; valid 0..{top_us:.6g} uS (4-bit weights: "
                              f"15 x {ns_per_weight_bit:g} nS per bit on {circuits_per_neuron} circuits = {hal_cm_nf:g} nF)")
    divisor = int(min(15, max(1, np.floor(15.49 * ns_per_weight_bit / largest))))
    scale = ns_per_weight_bit / divisor
    zeros = int(np.count_nonzero(np.rint(total / scale) == 0))
    pairs = np.stack([unique // n_post, unique % n_post], axis=1)
    return Projection(pre, post, receptor, "list", pairs=pairs, weight_ns=total,
                      ns_per_weight_bit=None if divisor == 1 else scale), zeros


def _hal_cells(cells_of_projection, cells: dict, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(hal population name, index in it) of the cells at ``positions`` of a projection's pre or post."""
    pops, which, index = roots(cells_of_projection)
    names = np.empty(len(which), dtype=object)
    local = np.empty(len(which), dtype=np.int64)
    for a, pop in enumerate(pops):
        sel = which == a
        pop_names, pop_local = cells[pop]
        names[sel] = np.asarray(pop_names, dtype=object)[index[sel]]
        local[sel] = pop_local[index[sel]]
    return names[positions], local[positions]


def _post_cm(cells_of_projection, cm_of: dict, positions: np.ndarray) -> np.ndarray:
    pops, which, index = roots(cells_of_projection)
    cm = np.empty(len(which))
    for a, pop in enumerate(pops):
        sel = which == a
        cm[sel] = cm_of[pop][index[sel]]
    return cm[positions]
