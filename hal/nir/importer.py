"""NIR graph -> hal :class:`~hal.network.Network`: :func:`from_nir` and what it returns, :class:`ImportedNetwork`.

Every NIR ``Input`` becomes a :class:`~hal.network.SourcePopulation`, every neuron node a
:class:`~hal.network.Population` of hal's conductance-based LIF circuit, every weight node (or
direct edge) an excitatory and an inhibitory projection of 4-bit weights. How the current-based
neuron is placed on the circuit is :class:`~hal.nir.OperatingPoint`'s docstring; this module does
the arithmetic:

* a NIR spike is an input of 1 held for one step ``dt_s`` of the framework that wrote the graph
  (what every discrete-time simulator integrates, so its area is ``dt_s``; snnTorch writes its
  graphs for ``dt_s = 1e-4``). One step of NIR time is :attr:`ImportedNetwork.step_ms` of hal's
  biological time;
* a weight ``w`` into a ``LIF``/``LI`` node moves its membrane by ``r w dt_s / tau`` NIR units
  (``r w dt_s`` for ``IF``); into a ``CubaLIF``/``CubaLI`` it starts a current ``w_in w dt_s / tau_syn``;
  the conductance that does the same at the operating point is ``g / C`` (1/ms), and
  ``g / C`` divided by what one weight step gives (:func:`hal.nir.circuit.step_rate_per_ms`)
  is the weight in steps;
* each projection gets the finest scale that holds its largest weight in 15 steps (its own
  ``ns_per_weight_bit``: the network's value divided by a gmax divisor 1..15). A population whose
  strongest synapse would need more than 15 steps at divisor 1 gets fewer mV per NIR unit (its
  threshold closer to rest, every weight into it smaller alike: exact in the linear model), down
  to :attr:`OperatingPoint.min_swing_mv`; beyond that weights are clipped, counted in
  :attr:`ImportedNetwork.clipped` and logged (the mapper allows one synapse per pre, post and
  sign, so a weight cannot be split);
* an ``Affine`` bias is a constant current: it shifts the leak potential (one value per
  population; per-neuron biases are refused).

A graph written by :func:`hal.nir.to_nir` carries hal's own terms in metadata
(:mod:`hal.nir.metadata`); then the network is rebuilt from them exactly.
"""

from __future__ import annotations

import attrs
import numpy as np

from hal.analog.domains import PAPER_DOMAINS, Domains
from hal.errors import ConfigError
from hal.logging import get_logger
from hal.mapping import CIRCUITS_PER_NEURON, MappingOptions
from hal.mapping.scales import GMAX_DIVISORS
from hal.network import LIFParameters, Network, Population, Projection, SourcePopulation
from hal.nir import metadata as M
from hal.nir._extra import require
from hal.nir.circuit import step_rate_per_ms
from hal.nir.graph import Connection, GraphParts, hal_name, kind, read_graph, size_of, uniform
from hal.nir.operating_point import AUTO_TAU_M_MS, OperatingPoint

__all__ = ["ImportedNetwork", "VoltageMap", "from_nir", "DEFAULT_DT_S"]

log = get_logger(__name__)

#: The step snnTorch's NIR export assumes (``snntorch.export_to_nir``: dt = 1e-4 s).
DEFAULT_DT_S = 1e-4


@attrs.frozen
class VoltageMap:
    """``V_mV = offset_mv + mv_per_unit * v`` between a node's NIR membrane ``v`` and hal's biological mV."""

    offset_mv: float
    mv_per_unit: float

    def to_nir(self, v_mv):
        return (np.asarray(v_mv, dtype=float) - self.offset_mv) / self.mv_per_unit


@attrs.frozen(eq=False)
class ImportedNetwork:
    """A NIR graph as a hal network, with what running it needs.

    ``inputs``: source population of each NIR ``Input`` node, ``outputs``: population of each neuron
    node that feeds an ``Output``, ``names``: NIR node -> hal population, ``voltage``: population
    -> :class:`VoltageMap`, ``step_ms``: one step ``dt_s`` of NIR time in biological ms,
    ``clipped``: weights that did not fit 15 steps, ``exact``: rebuilt from hal metadata.
    """

    network: Network
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    names: dict
    voltage: dict
    step_ms: float
    time_scale: float
    dt_s: float
    circuits_per_neuron: int
    operating_point: OperatingPoint
    clipped: int = 0
    exact: bool = False

    def mapping_options(self, **overrides) -> MappingOptions:
        """:class:`~hal.mapping.MappingOptions` with the circuits per neuron the weights were computed for.

        Lost synapses are allowed unless said otherwise (``allow_loss=False``), input sources
        spread over the HICANNs' links (NIR inputs tend to fire together, in the same step).
        """
        if overrides.get("circuits_per_neuron", self.circuits_per_neuron) != self.circuits_per_neuron:
            raise ConfigError(f"mapping_options: circuits_per_neuron {overrides['circuits_per_neuron']} differs from the "
                              f"{self.circuits_per_neuron} the weights were computed for; import again with from_nir(..., "
                              f"circuits_per_neuron={overrides['circuits_per_neuron']})")
        overrides.setdefault("allow_loss", False)
        overrides.setdefault("spread_sources", True)
        return MappingOptions(circuits_per_neuron=self.circuits_per_neuron, **overrides)


def from_nir(graph, *, operating_point: OperatingPoint | None = None, dt_s: float = DEFAULT_DT_S, circuits_per_neuron: int = 4,
             ns_per_weight_bit: float | None = None, domains: Domains = PAPER_DOMAINS) -> ImportedNetwork:
    """A hal network from the NIR graph ``graph`` (a ``nir.NIRGraph``, e.g. from ``nir.read(path)``); see the module docstring.

    ``circuits_per_neuron`` must be what the mapping will use (:meth:`ImportedNetwork.mapping_options`
    gives matching options); ``ns_per_weight_bit``: the network's weight scale (default hal's).
    """
    nir = require("nir", "hal.nir.from_nir")
    if not isinstance(graph, nir.NIRGraph):
        raise ConfigError(f"from_nir: expected a nir.NIRGraph, got {type(graph).__name__}")
    if not (isinstance(dt_s, (int, float)) and not isinstance(dt_s, bool) and np.isfinite(dt_s) and dt_s > 0):
        raise ConfigError(f"from_nir: dt_s {dt_s!r} out of range; valid a finite time > 0 s (the source framework's step)")
    if circuits_per_neuron not in CIRCUITS_PER_NEURON:
        raise ConfigError(f"from_nir: circuits_per_neuron {circuits_per_neuron!r} not supported; valid {', '.join(map(str, CIRCUITS_PER_NEURON))}")
    op = operating_point or OperatingPoint()
    if not isinstance(op, OperatingPoint):
        raise ConfigError(f"from_nir: operating_point must be a hal.nir.OperatingPoint, got {type(op).__name__}")
    parts = read_graph(graph)
    meta = graph.metadata if isinstance(graph.metadata, dict) else {}
    if M.text(meta.get("hal_format", "")) == M.FORMAT:
        return _exact(graph, parts, meta, op, dt_s, domains)
    return _mapped(graph, parts, op, dt_s, circuits_per_neuron, ns_per_weight_bit, domains)


# -- from hal's own metadata ------------------------------------------------------------------------


def _exact(graph, parts: GraphParts, meta: dict, op: OperatingPoint, dt_s: float, domains: Domains) -> ImportedNetwork:
    version = M.text(meta.get("hal_version", ""))
    if version != str(M.VERSION):
        raise ConfigError(f"NIR graph metadata hal_version: {version!r} not supported; this hal reads {M.VERSION}")
    net = M.read_json("graph", "hal_network", meta.get("hal_network", ""))
    mapping = M.read_json("graph", "hal_mapping", meta.get("hal_mapping", ""))
    if not (isinstance(net, dict) and set(net) == {"populations", "sources", "ns_per_weight_bit"}):
        raise ConfigError("NIR graph metadata hal_network: expected keys populations, sources, ns_per_weight_bit")
    if not (isinstance(mapping, dict) and set(mapping) == {"dt_s", "time_scale", "circuits_per_neuron"}):
        raise ConfigError("NIR graph metadata hal_mapping: expected keys dt_s, time_scale, circuits_per_neuron")
    nodes = graph.nodes
    populations = []
    for name in net["populations"]:
        if name not in nodes or "hal_params" not in nodes[name].metadata:
            raise ConfigError(f"NIR graph metadata names the population {name!r}, but the graph has no neuron node {name!r} with hal_params")
        populations.append(Population(name, len(np.atleast_1d(nodes[name].v_leak)), M.params_from(f"node {name!r}", nodes[name].metadata["hal_params"])))
    sources = [SourcePopulation(name, parts.inputs[name]) for name in net["sources"] if name in parts.inputs]
    if len(sources) != len(net["sources"]):
        missing = sorted(set(net["sources"]) - set(parts.inputs))
        raise ConfigError(f"NIR graph metadata names the source(s) {missing}, but the graph has no such Input node")
    indexed = []
    for name, node in nodes.items():
        if kind(node) == "Linear" and "hal_projections" in node.metadata:
            indexed += M.projections_from(f"node {name!r}", node.metadata["hal_projections"])
    order = sorted(k for k, _ in indexed)
    if order != list(range(len(indexed))):
        raise ConfigError(f"NIR graph metadata: projection indices {order}; expected 0..{len(indexed) - 1}, each once")
    projections = [p for _, p in sorted(indexed, key=lambda item: item[0])]
    network = Network(populations, sources, projections, ns_per_weight_bit=float(net["ns_per_weight_bit"]))
    time_scale, step_dt = float(mapping["time_scale"]), float(mapping["dt_s"])
    voltage = {p.name: VoltageMap(0.0, 1.0) for p in populations}  # hal's export writes membranes in mV
    return ImportedNetwork(network, tuple(s.name for s in sources), tuple(parts.outputs), {n: n for n in (*net["populations"], *net["sources"])},
                           voltage, time_scale * step_dt * 1e3, time_scale, step_dt, int(mapping["circuits_per_neuron"]), op, 0, True)


# -- from NIR's parameters, around the operating point ----------------------------------------------


@attrs.frozen
class _Node:
    """One neuron node's hal parameters and what a unit weight into it must do (1/ms per NIR weight unit)."""

    params: LIFParameters
    voltage: VoltageMap
    per_unit: float  # g / C per unit weight and mV of driving force (divide by the driving force)
    v_op_mv: float  # where the driving forces are linearised: the middle of this node's sub-threshold range


def _time_scale(graph, parts: GraphParts, op: OperatingPoint) -> float:
    if op.time_scale is not None:
        return op.time_scale
    taus = []
    for name in parts.neurons:
        node = graph.nodes[name]
        field = {"LIF": "tau", "LI": "tau", "CubaLIF": "tau_mem", "CubaLI": "tau_mem"}.get(kind(node))
        if field:
            taus.append(uniform(name, node, field))
    if not taus:
        return 1.0
    return AUTO_TAU_M_MS / (1e3 * min(taus))


def _bias(connections: list[Connection], name: str) -> float:
    total = 0.0
    for c in connections:
        if c.bias is None:
            continue
        if not np.allclose(c.bias, c.bias.ravel()[0], rtol=1e-6, atol=1e-12):
            raise ConfigError(f"NIR Affine {c.via!r}.bias: values {c.bias.min():.6g}..{c.bias.max():.6g} differ between the neurons "
                              f"of {name!r}; hal realises a bias as the population's leak potential (valid: equal biases, or Linear)")
        total += float(c.bias.ravel()[0])
    return total


def _node(graph, name: str, connections: list[Connection], op: OperatingPoint, scale: float, dt_s: float, shrink: float = 1.0) -> _Node:
    """``shrink``: the fraction of the operating point's mV per NIR unit this node gets (see :func:`_fitted`)."""
    node = graph.nodes[name]
    k = kind(node)
    value = lambda field: uniform(name, node, field)
    r = value("r")
    bias = _bias(connections, name)
    if k in ("LIF", "CubaLIF", "LI", "CubaLI"):
        tau_s_nir = value("tau" if k in ("LIF", "LI") else "tau_mem")
        tau_m = scale * tau_s_nir * 1e3
        v_leak = value("v_leak")
    else:  # IF: no leak; the circuit's is long, anchored at the reset potential
        tau_s_nir, tau_m, v_leak = None, op.if_tau_m_ms, value("v_reset")
    if k in ("LI", "CubaLI"):
        mv_per_unit, v_th, v_reset = op.readout_mv_per_unit * shrink, op.e_rev_e_mv, op.e_l_mv
    else:
        v_thr = value("v_threshold")
        if not v_thr > v_leak:
            anchor = "v_reset" if k == "IF" else "v_leak"
            raise ConfigError(f"NIR {k} {name!r}: v_threshold {v_thr:g} must lie above {anchor} {v_leak:g} (hal anchors the "
                              f"threshold {op.swing_mv:g} mV above the leak potential)")
        mv_per_unit = op.swing_mv * shrink / (v_thr - v_leak)
        v_th = op.e_l_mv + op.swing_mv * shrink
        v_reset = op.e_l_mv + mv_per_unit * (value("v_reset") - v_leak)
    w_in = value("w_in") if k in ("CubaLIF", "CubaLI") else 1.0
    # A constant current r * I shifts NIR's leak potential by r * I; IF integrates it, which a leak of tau_m turns into a shift.
    shift = mv_per_unit * r * w_in * bias * (tau_m / (scale * 1e3) if k == "IF" else 1.0)
    if k in ("CubaLIF", "CubaLI"):
        tau_syn_nir = value("tau_syn")
        tau_syn = scale * tau_syn_nir * 1e3
        per_unit = mv_per_unit * r * w_in * dt_s / tau_syn_nir / tau_m
    else:
        tau_syn = op.tau_syn_ms
        if not tau_syn < tau_m:
            raise ConfigError(f"NIR {k} {name!r}: membrane time constant {tau_m:g} ms (time_scale {scale:g}) not above the synaptic "
                              f"{tau_syn:g} ms of the operating point; valid: a larger time_scale or a shorter OperatingPoint.tau_syn_ms")
        jump = mv_per_unit * r * dt_s / (tau_s_nir if tau_s_nir is not None else 1.0)
        # the PSP tail of an exponential synapse is tau_m / (tau_m - tau_syn) times its charge's jump
        per_unit = jump * (tau_m - tau_syn) / (tau_m * tau_syn)
    try:
        params = LIFParameters(e_rev_i_mv=op.e_rev_i_mv, v_reset_mv=v_reset, e_l_mv=op.e_l_mv + shift, v_th_mv=v_th,
                               e_rev_e_mv=op.e_rev_e_mv, tau_syn_e_ms=tau_syn, tau_syn_i_ms=tau_syn, tau_m_ms=tau_m, t_ref_ms=op.t_ref_ms)
    except ConfigError as exc:
        raise ConfigError(f"NIR {k} {name!r} at the operating point: {exc}") from None
    return _Node(params, VoltageMap(op.e_l_mv - mv_per_unit * v_leak, mv_per_unit), per_unit, op.e_l_mv + op.swing_mv * shrink / 2)


def _driving_force(node: _Node, receptor: str) -> float:
    p = node.params
    return (p.e_rev_e_mv if receptor == "excitatory" else p.e_rev_i_mv) - node.v_op_mv


def _largest_steps(node: _Node, connections: list[Connection], rate_d1: float) -> float:
    """The most weight steps (at gmax divisor 1) any synapse into ``node`` needs."""
    largest = 0.0
    for c in connections:
        for receptor, sign in (("excitatory", 1.0), ("inhibitory", -1.0)):
            w = np.where(sign * c.weight > 0, np.abs(c.weight), 0.0)
            largest = max(largest, float(w.max(initial=0.0)) * node.per_unit / abs(_driving_force(node, receptor)) / rate_d1)
    return largest


def _fitted(graph, name: str, connections: list[Connection], op: OperatingPoint, scale: float, dt_s: float, rate_d1: float) -> _Node:
    """The node at the operating point, or -- when its strongest synapse would need more than 15 steps --
    with fewer mV per NIR unit (down to :attr:`OperatingPoint.min_swing_mv`), which is exact in the linear model:
    the threshold comes closer and every weight into the node shrinks alike."""
    shrink = 1.0
    node = _node(graph, name, connections, op, scale, dt_s)
    for _ in range(8):  # the driving forces move with the threshold: a few rounds settle it
        largest = _largest_steps(node, connections, rate_d1)
        floor = op.min_swing_mv / op.swing_mv
        if largest <= 15.0 or shrink <= floor:
            break
        shrink = max(floor, shrink * 15.0 / largest * 0.995)
        node = _node(graph, name, connections, op, scale, dt_s, shrink)
    if shrink < 1.0:
        log.info("nir_swing_reduced", node=name, mv_per_unit=round(node.voltage.mv_per_unit, 4), shrink=round(shrink, 4),
                 note="its strongest weight would not fit 15 weight steps at the operating point's swing")
    return node


def _projections(pre: str, post: str, weight: np.ndarray, target: _Node, op: OperatingPoint, rate_d1: float,
                 net_ns: float, one_to_one: bool) -> tuple[list[Projection], int]:
    """Excitatory and inhibitory 4-bit projections that realise the signed NIR ``weight`` (post, pre) into ``target``."""
    out, clipped = [], 0
    for receptor, sign in (("excitatory", 1.0), ("inhibitory", -1.0)):
        w = np.where(sign * weight > 0, np.abs(weight), 0.0)
        if one_to_one:
            w = np.diag(w)
        if not np.any(w > 0):
            continue
        steps_d1 = w * target.per_unit / abs(_driving_force(target, receptor)) / rate_d1  # in steps of divisor 1
        largest = float(steps_d1.max())
        divisor = max(d for d in GMAX_DIVISORS if d == 1 or largest * d <= 15.0)
        bits = np.rint(steps_d1 * divisor)
        clipped += int(np.count_nonzero(bits > 15))
        bits = np.minimum(bits, 15).astype(np.int64)
        out.append(Projection(pre, post, receptor, "one_to_one" if one_to_one else "matrix", weight_bits=bits,
                              ns_per_weight_bit=net_ns / divisor))
    return out, clipped


def _mapped(graph, parts: GraphParts, op: OperatingPoint, dt_s: float, circuits: int, ns_per_weight_bit: float | None,
            domains: Domains) -> ImportedNetwork:
    scale = _time_scale(graph, parts, op)
    taken: set[str] = set()
    names = {}
    for name in (*parts.inputs, *parts.neurons):
        names[name] = hal_name(name, taken)
        taken.add(names[name])
    net_ns = ns_per_weight_bit if ns_per_weight_bit is not None else attrs.fields(Network).ns_per_weight_bit.default
    rate_d1 = step_rate_per_ms(net_ns, circuits, domains)
    nodes = {name: _fitted(graph, name, parts.incoming[name], op, scale, dt_s, rate_d1) for name in parts.neurons}
    projections, clipped = [], 0
    for post in parts.neurons:
        for c in parts.incoming[post]:
            made, n = _projections(names[c.source], names[post], c.weight, nodes[post], op, rate_d1, net_ns, c.via is None)
            projections += made
            clipped += n
    populations = [Population(names[n], size_of(graph.nodes[n]), nodes[n].params) for n in parts.neurons]
    sources = [SourcePopulation(names[n], size) for n, size in parts.inputs.items()]
    network = Network(populations, sources, projections, ns_per_weight_bit=net_ns)
    if clipped:
        log.warning("nir_weights_clipped", count=clipped, note="weights beyond 15 steps at gmax divisor 1, even at OperatingPoint.min_swing_mv, were set to 15; "
                    "fewer circuits_per_neuron give a step more effect (2 is the fewest that reach both synapse halves)")
    log.info("nir_imported", populations=len(populations), sources=len(sources), projections=len(projections),
             time_scale=round(scale, 6), step_ms=round(scale * dt_s * 1e3, 6), clipped=clipped)
    return ImportedNetwork(network, tuple(names[n] for n in parts.inputs), tuple(names[n] for n in parts.outputs), names,
                           {names[n]: nodes[n].voltage for n in parts.neurons}, scale * dt_s * 1e3, scale, dt_s, circuits, op, clipped)
