"""Reading a NIR graph's structure: which nodes are neurons, sources and weights, and how they connect.

:func:`read_graph` checks the node types hal imports (``Input``, ``Output``, ``Affine``,
``Linear``, ``LIF``, ``CubaLIF``, ``IF``, ``LI``, ``CubaLI``) and the edges between them, and
returns every neuron node's incoming connections as (source node, weight matrix (post, pre),
bias). Anything else -- another node type, a nested graph, two weight nodes in a row, a weight
node feeding an ``Output`` -- is a :class:`~hal.errors.ConfigError` naming the node.
"""

from __future__ import annotations

import re

import attrs
import numpy as np

from hal.errors import ConfigError

__all__ = ["NEURON_TYPES", "WEIGHT_TYPES", "Connection", "GraphParts", "read_graph", "hal_name", "uniform"]

#: NIR neuron node types hal maps onto its circuit.
NEURON_TYPES = ("LIF", "CubaLIF", "IF", "LI", "CubaLI")
#: NIR weight node types.
WEIGHT_TYPES = ("Affine", "Linear")
_KNOWN = ("Input", "Output", *WEIGHT_TYPES, *NEURON_TYPES)


@attrs.frozen(eq=False)
class Connection:
    """Spikes of ``source`` (an ``Input`` or neuron node) into a neuron node through ``weight`` (post, pre) plus ``bias``.

    ``via`` names the weight node (None: a direct edge, identity weights).
    """

    source: str
    weight: np.ndarray
    bias: np.ndarray | None
    via: str | None


@attrs.frozen(eq=False)
class GraphParts:
    """The neuron nodes (in the graph's order), input nodes with their sizes, output neuron nodes, and connections."""

    neurons: tuple[str, ...]
    inputs: dict
    outputs: tuple[str, ...]
    incoming: dict  # neuron node -> list of Connection


def kind(node) -> str:
    return type(node).__name__


def size_of(node) -> int:
    """Number of neurons of a neuron node."""
    for field in ("v_threshold", "r", "tau", "tau_mem"):
        value = getattr(node, field, None)
        if value is not None:
            return int(np.asarray(value).size)
    raise ConfigError(f"NIR node of type {kind(node)} has no size")


def _input_size(name: str, node) -> int:
    shape = np.asarray(node.input_type.get("input", node.output_type.get("output")) if hasattr(node, "input_type") else [])
    if shape.size == 0 or np.any(shape <= 0):
        raise ConfigError(f"NIR Input {name!r}: shape {shape.tolist()} is not a size; valid one or more positive dimensions")
    return int(np.prod(shape))


def uniform(name: str, node, field: str) -> float:
    """The one value of ``node.field`` (a hal population shares its parameters); an error names the spread."""
    values = np.asarray(getattr(node, field), dtype=float).ravel()
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise ConfigError(f"NIR {kind(node)} {name!r}.{field}: {values.tolist()[:5]} is not a finite number")
    if not np.allclose(values, values[0], rtol=1e-6, atol=0):
        raise ConfigError(f"NIR {kind(node)} {name!r}.{field}: values {values.min():.6g}..{values.max():.6g} differ between neurons; "
                          "a hal population shares one value (valid: equal values; split the layer into one node per value)")
    return float(values[0])


def read_graph(graph) -> GraphParts:
    """The parts of ``graph`` hal imports; see the module docstring."""
    nodes = graph.nodes
    for name, node in nodes.items():
        if kind(node) == "NIRGraph":
            raise ConfigError(f"NIR node {name!r} is a nested NIRGraph (a recurrent layer?); hal imports flat graphs of "
                              f"{', '.join(_KNOWN)} (flatten the subgraph, recurrence as an edge back to the neuron node)")
        if kind(node) not in _KNOWN:
            raise ConfigError(f"NIR node {name!r} is a {kind(node)}; hal imports {', '.join(_KNOWN)}")
    inputs = {name: _input_size(name, n) for name, n in nodes.items() if kind(n) == "Input"}
    neurons = tuple(name for name, n in nodes.items() if kind(n) in NEURON_TYPES)
    if not neurons:
        raise ConfigError(f"NIR graph has no neuron node; hal imports {', '.join(NEURON_TYPES)}")
    into: dict[str, list[str]] = {name: [] for name in nodes}
    for edge in graph.edges:
        if len(edge) != 2 or any(e not in nodes for e in edge):
            raise ConfigError(f"NIR edge {tuple(edge)!r} names a node the graph does not have; nodes: {', '.join(nodes)}")
        into[edge[1]].append(edge[0])
    incoming: dict[str, list[Connection]] = {name: [] for name in neurons}
    for target in neurons:
        for source in into[target]:
            incoming[target].append(_connection(nodes, into, source, target))
    outputs = []
    for name, node in nodes.items():
        if kind(node) != "Output":
            continue
        for source in into[name]:
            if kind(nodes[source]) == "Input":
                continue  # an input nothing reads (NIR's type inference gives every leaf an Output)
            if kind(nodes[source]) not in NEURON_TYPES:
                raise ConfigError(f"NIR Output {name!r} is fed by {kind(nodes[source])} {source!r}; hal records neurons, "
                                  f"so an Output must follow a neuron node ({', '.join(NEURON_TYPES)})")
            outputs.append(source)
    return GraphParts(neurons, inputs, tuple(dict.fromkeys(outputs)), incoming)


def _connection(nodes, into, source: str, target: str) -> Connection:
    """One edge into neuron node ``target``: directly from a neuron or input, or through one weight node."""
    n_post = size_of(nodes[target])
    node = nodes[source]
    if kind(node) in WEIGHT_TYPES:
        feeding = into[source]
        if len(feeding) != 1:
            raise ConfigError(f"NIR {kind(node)} {source!r} has {len(feeding)} inputs ({', '.join(feeding) or 'none'}); "
                              "hal imports weight nodes fed by exactly one Input or neuron node")
        pre = feeding[0]
        if kind(nodes[pre]) in WEIGHT_TYPES:
            raise ConfigError(f"NIR {kind(node)} {source!r} is fed by another weight node {pre!r}; hal imports one weight "
                              "node between two neuron layers (multiply the matrices into one)")
        if kind(nodes[pre]) == "Output":
            raise ConfigError(f"NIR {kind(node)} {source!r} is fed by the Output {pre!r}")
        weight = np.asarray(node.weight, dtype=float)
        n_pre = _size(nodes, pre)
        if weight.shape != (n_post, n_pre):
            raise ConfigError(f"NIR {kind(node)} {source!r}.weight: shape {weight.shape}; expected ({n_post}, {n_pre}) "
                              f"(post {target!r}, pre {pre!r})")
        if not np.all(np.isfinite(weight)):
            raise ConfigError(f"NIR {kind(node)} {source!r}.weight: holds values that are not finite")
        bias = np.asarray(node.bias, dtype=float).ravel() if kind(node) == "Affine" else None
        if bias is not None and (bias.size not in (1, n_post) or not np.all(np.isfinite(bias))):
            raise ConfigError(f"NIR Affine {source!r}.bias: {bias.size} values; expected {n_post} finite values")
        return Connection(pre, weight, bias, source)
    if kind(node) == "Output":
        raise ConfigError(f"NIR Output {source!r} feeds the node {target!r}; an Output ends the graph")
    n_pre = _size(nodes, source)
    if n_pre != n_post:
        raise ConfigError(f"NIR edge {source!r} -> {target!r} without a weight node joins {n_pre} to {n_post} neurons; "
                          "valid: equal sizes (one to one), or put a Linear node between them")
    return Connection(source, np.eye(n_post), None, None)


def _size(nodes, name: str) -> int:
    node = nodes[name]
    if kind(node) == "Input":
        return _input_size(name, node)
    return size_of(node)


_INVALID = re.compile(r"[^A-Za-z0-9_-]")


def hal_name(name: str, taken: set[str]) -> str:
    """A hal population name for NIR node ``name`` (letters, digits, '_', '-'), not in ``taken``."""
    base = _INVALID.sub("_", str(name)) or "node"
    candidate, k = base, 1
    while candidate in taken:
        k += 1
        candidate = f"{base}_{k}"
    return candidate
