"""PyNN's populations and projections -> a :class:`hal.network.Network` in hal's units, with its limits checked.

Translation (PyNN -> hal):

* ``IF_cond_exp``: ``v_rest`` -> ``e_l_mv``, ``v_thresh`` -> ``v_th_mv``, ``v_reset``,
  ``e_rev_E``/``e_rev_I``, ``tau_m``, ``tau_syn_E``/``tau_syn_I``, ``tau_refrac`` -> ``t_ref_ms``.
  One parameter set per population (the mapping translates it per circuit); ``i_offset`` must be 0.
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
    """The hal network of a PyNN model, and how its names relate to PyNN's objects."""

    network: Network
    name_of: dict  # PyNN Population -> hal population name
    #: per hal projection: the PyNN projections it realises
    projection_sources: tuple
    #: PyNN projection -> (hal projection, synapse in its edge order) per connection; -1: a zero weight, not realised
    synapse_of: dict
    cm_of: dict  # PyNN neuron Population -> cm (nF)
    hal_cm_nf: float  # the membrane hal's nS act on (NF_PER_CIRCUIT x circuits per neuron)
    #: synapses whose weight is below half a bit of their projection's scale (realised as 0)
    weights_rounded_to_zero: int


def _hal_name(label: str, taken: set) -> str:
    base = re.sub(r"[^A-Za-z0-9_-]", "_", label or "population") or "population"
    name, k = base, 1
    while name in taken:
        name, k = f"{base}_{k}", k + 1
    taken.add(name)
    return name


def _one_value(population, name: str):
    values = np.asarray(population._parameters[name], dtype=float).ravel()
    if values.size and not np.all(values == values[0]):
        distinct = np.unique(values)
        raise CapabilityError(f"hal.pynn: population {population.label!r}: {name} differs between neurons ({distinct.size} values, "
                              f"{distinct[0]:g}..{distinct[-1]:g}); hal maps one parameter set per population: split it into "
                              "populations of equal parameters")
    return float(values[0])


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


def lif_parameters(population, ranges: dict | None = None) -> tuple[LIFParameters, float]:
    """(hal parameters, cm in nF) of an ``IF_cond_exp`` population."""
    offset = _one_value(population, "i_offset")
    if offset != 0:
        raise CapabilityError(f"hal.pynn: population {population.label!r}: i_offset {offset:g} nA; the neuron circuit has no "
                              "constant current input: valid 0")
    cm = _one_value(population, "cm")
    if not cm > 0:
        raise ConfigError(f"hal.pynn: population {population.label!r}: cm {cm:g} nF out of range; valid > 0")
    values = {field: _one_value(population, name) for name, field in _LIF_NAMES.items()}
    if ranges:
        _check_ranges(population, values, ranges)
    try:
        return LIFParameters(**values), cm
    except HalError as exc:
        raise ConfigError(f"hal.pynn: population {population.label!r}: {exc}") from exc


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
    taken: set = set()
    name_of, neurons, sources, cm_of = {}, [], [], {}
    for pop in populations:
        name = name_of[pop] = _hal_name(pop.label, taken)
        kind = type(pop.celltype).__name__
        if kind == "IF_cond_exp":
            params, cm_of[pop] = lif_parameters(pop, ranges)
            neurons.append(Population(name, pop.size, params))
        elif kind in ("SpikeSourceArray", "SpikeSourcePoisson"):
            sources.append(SourcePopulation(name, pop.size))
        else:
            raise CapabilityError(f"hal.pynn: population {pop.label!r}: cell type {kind} not available; "
                                  "valid IF_cond_exp, SpikeSourceArray, SpikeSourcePoisson")
    # (pre, post, receptor) -> pre idx, post idx, weight nS, (PyNN projection, its connection numbers)
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
        pre_pops, pre_which, pre_index = roots(prj.pre)
        post_pops, post_which, post_index = roots(prj.post)
        pw, pi = pre_which[prj._pre], pre_index[prj._pre]
        qw, qi = post_which[prj._post], post_index[prj._post]
        for a, pre_pop in enumerate(pre_pops):
            for b, post_pop in enumerate(post_pops):
                sel = (pw == a) & (qw == b)
                if not sel.any():
                    continue
                group = groups[(name_of[pre_pop], name_of[post_pop], receptor)]
                group[0].append(pi[sel])
                group[1].append(qi[sel])
                group[2].append(weights[sel] * 1000.0 * hal_cm_nf / cm_of[post_pop])
                group[3].append((prj, np.flatnonzero(sel)))
    hal_projections, sources_of, zeros = [], [], 0
    synapse_of = {prj: (np.full(len(prj), -1, np.int64), np.full(len(prj), -1, np.int64)) for prj in projections}
    for (pre, post, receptor), (pi, qi, w, pieces) in groups.items():
        prjs = [prj for prj, _ in pieces]
        pi, qi, w = np.concatenate(pi), np.concatenate(qi), np.concatenate(w)
        n_post = next(p.size for p in neurons if p.name == post)
        key = pi * n_post + qi
        unique, inverse = np.unique(key, return_inverse=True)
        total = np.bincount(inverse, weights=w, minlength=unique.size)  # duplicates add, as two static synapses would
        keep = total > 0
        if not keep.any():
            continue
        position = np.where(keep, np.cumsum(keep) - 1, -1)[inverse]  # each connection's synapse in the hal projection
        start = 0
        for prj, connections in pieces:
            synapse_of[prj][0][connections] = len(hal_projections)
            synapse_of[prj][1][connections] = position[start:start + connections.size]
            start += connections.size
        unique, total = unique[keep], total[keep]
        largest = float(total.max())
        if largest > 15.5 * ns_per_weight_bit:
            labels = ", ".join(sorted({repr(p.label or f"{p.pre.label}->{p.post.label}") for p in prjs}))
            cm = next(cm_of[p] for p in cm_of if name_of[p] == post)
            top_us = 15 * ns_per_weight_bit / 1000.0 * cm / hal_cm_nf
            raise CapabilityError(f"hal.pynn: projection {labels}: weight {largest / 1000.0 * cm / hal_cm_nf:.6g} uS onto "
                                  f"{post!r} (cm {cm:g} nF) out of range; valid 0..{top_us:.6g} uS (4-bit weights: 15 x "
                                  f"{ns_per_weight_bit:g} nS per bit on {circuits_per_neuron} circuits = {hal_cm_nf:g} nF)")
        divisor = int(min(15, max(1, np.floor(15.49 * ns_per_weight_bit / largest))))
        scale = ns_per_weight_bit / divisor
        zeros += int(np.count_nonzero(np.rint(total / scale) == 0))
        pairs = np.stack([unique // n_post, unique % n_post], axis=1)
        hal_projections.append(Projection(pre, post, receptor, "list", pairs=pairs, weight_ns=total,
                                          ns_per_weight_bit=None if divisor == 1 else scale))
        sources_of.append(tuple(dict.fromkeys(prjs)))
    if zeros:
        log.warning("weights_rounded_to_zero", synapses=zeros,
                    note="their conductance is below half a weight bit of their projection's scale; they have no effect")
    network = Network(neurons, sources, hal_projections, ns_per_weight_bit=ns_per_weight_bit)
    return Built(network, name_of, tuple(sources_of), synapse_of, cm_of, hal_cm_nf, zeros)
