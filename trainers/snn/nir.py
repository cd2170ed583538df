"""Trained models of the trainer API to NIR and back: :func:`model_to_nir`, :func:`model_from_nir`.

A :class:`~hal_trainers.snn.SpikingModel` is exported as its hal network
(:meth:`SpikingModel.network`: every (pre, post) pair an excitatory and an inhibitory 4-bit
projection) through :func:`hal.nir.to_nir` -- current-based NIR nodes for other tools, the exact
conductance terms in metadata -- plus what only the model knows, in the graph's metadata key
``hal_model`` (JSON): the input coding, ``dt_ms``, ``duration_ms``, the layer names and kinds,
and where each of the model's projections went in the network (its
:class:`~hal_trainers.snn.model.NetworkIndex`).

:func:`model_from_nir` rebuilds the model from such a graph: the same coding, layers, parameters
and integer weights (``model_from_nir(model_to_nir(m))`` has ``bits()`` equal to ``m``'s for
every projection; the float weights the optimiser held are not exported, only what the chip
gets). Graphs from other tools have no ``hal_model``; import them with :func:`hal.nir.from_nir`.
"""

from __future__ import annotations

import json

import attrs
from hal_trainers.snn.coding import LatencyCoding, PoissonCoding
from hal_trainers.snn.layers import LIF, LeakyIntegrator, Projection
from hal_trainers.snn.model import SpikingModel

import hal.nir
from hal.errors import ConfigError
from hal.nir.metadata import read_json, text

__all__ = ["model_to_nir", "model_from_nir", "MODEL_KEY"]

#: The graph metadata key of the model's own terms.
MODEL_KEY = "hal_model"

_CODINGS = {"LatencyCoding": LatencyCoding, "PoissonCoding": PoissonCoding}


def model_to_nir(model: SpikingModel, *, ns_per_weight_bit: float | None = None, circuits_per_neuron: int = 4):
    """``model`` as a ``nir.NIRGraph`` (see the module docstring); ``circuits_per_neuron``: as the mapping places it (MappingOptions' default 4)."""
    if not isinstance(model, SpikingModel):
        raise ConfigError(f"model_to_nir: expected a hal_trainers.snn.SpikingModel, got {type(model).__name__}")
    network, index = model.network(ns_per_weight_bit)
    graph = hal.nir.to_nir(network, outputs=[model.names[-1]], circuits_per_neuron=circuits_per_neuron)
    graph.metadata[MODEL_KEY] = json.dumps({
        "coding": {"kind": type(model.coding).__name__, **attrs.asdict(model.coding)},
        "dt_ms": model.dt_ms, "duration_ms": model.duration_ms, "names": list(model.names),
        "layers": [type(layer).__name__ for layer in model.layers],
        "feedforward": [list(pair) for pair in index.feedforward],
        "recurrent": [None if pair is None else list(pair) for pair in index.recurrent],
    })
    return graph


def _check(meta: dict, names: tuple[str, ...]) -> None:
    keys = {"coding", "dt_ms", "duration_ms", "names", "layers", "feedforward", "recurrent"}
    if not isinstance(meta, dict) or set(meta) != keys:
        found = sorted(meta) if isinstance(meta, dict) else type(meta).__name__
        raise ConfigError(f"NIR graph metadata {MODEL_KEY}: keys {found}; expected {', '.join(sorted(keys))}")
    n = len(meta["names"]) if isinstance(meta["names"], list) else -1
    if n < 1 or any(len(meta[k]) != n for k in ("layers", "feedforward", "recurrent") if isinstance(meta[k], list)):
        raise ConfigError(f"NIR graph metadata {MODEL_KEY}: names, layers, feedforward and recurrent must be lists of equal length >= 1")
    unknown = [name for name in meta["names"] if name not in names]
    if unknown:
        raise ConfigError(f"NIR graph metadata {MODEL_KEY}: layer(s) {unknown} are not populations of the graph; populations: {', '.join(names)}")
    kinds = [k for k in meta["layers"] if k not in ("LIF", "LeakyIntegrator")]
    if kinds:
        raise ConfigError(f"NIR graph metadata {MODEL_KEY}: layer kind(s) {kinds}; valid LIF, LeakyIntegrator")
    coding = meta["coding"]
    if not (isinstance(coding, dict) and coding.get("kind") in _CODINGS):
        raise ConfigError(f"NIR graph metadata {MODEL_KEY}.coding: {coding!r}; expected a dict with kind {' or '.join(_CODINGS)}")


def model_from_nir(graph) -> SpikingModel:
    """The :class:`SpikingModel` that :func:`model_to_nir` exported as ``graph`` (see the module docstring)."""
    imported = hal.nir.from_nir(graph)
    meta_value = graph.metadata.get(MODEL_KEY) if isinstance(graph.metadata, dict) else None
    if meta_value is None or not imported.exact:
        raise ConfigError(f"model_from_nir: the graph has no {MODEL_KEY} metadata (not written by model_to_nir); "
                          "import other graphs with hal.nir.from_nir")
    meta = read_json("graph", MODEL_KEY, text(meta_value))
    network = imported.network
    _check(meta, tuple(p.name for p in network.populations))
    coding_fields = {k: v for k, v in meta["coding"].items() if k != "kind"}
    try:
        coding = _CODINGS[meta["coding"]["kind"]](**coding_fields)
    except TypeError as exc:
        raise ConfigError(f"NIR graph metadata {MODEL_KEY}.coding: {exc}") from None
    params = {p.name: p for p in network.populations}

    def projection(pair, n_pre: int, n_post: int) -> Projection:
        try:
            e, i = (network.projections[int(k)] for k in pair)
        except (IndexError, TypeError, ValueError):
            raise ConfigError(f"NIR graph metadata {MODEL_KEY}: projection pair {pair!r} out of range; "
                              f"valid indices 0..{len(network.projections) - 1}") from None
        bits = []
        for proj in (e, i):
            pre, post = proj.edges(n_pre, n_post)
            bits.append(proj.bits(pre, post, network.ns_per_bit(proj)).reshape(n_post, n_pre))
        out = Projection(n_pre, n_post, ns_per_bit=e.ns_per_weight_bit, init_std=0.0)
        out.set_bits(bits[0] - bits[1])
        return out

    stages = []
    size = coding.size
    for name, kind, ff, rec in zip(meta["names"], meta["layers"], meta["feedforward"], meta["recurrent"]):
        population = params[name]
        stages.append(projection(ff, size, population.size))
        if kind == "LeakyIntegrator":
            stages.append(LeakyIntegrator(population.size, population.params))
        else:
            recurrent = None if rec is None else projection(rec, population.size, population.size)
            stages.append(LIF(population.size, population.params, recurrent=recurrent))
        size = population.size
    return SpikingModel(coding, *stages, dt_ms=float(meta["dt_ms"]), duration_ms=float(meta["duration_ms"]), names=tuple(meta["names"]))

