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
gets).

Graphs from other tools (snnTorch's ``export_to_nir``, ...) have no ``hal_model``: then
:func:`model_from_nir` goes through :func:`hal.nir.from_nir` (its operating point, ``dt_s``
and ``circuits_per_neuron``) and :func:`model_from_imported` makes the chain it imported
(one input, each neuron node fed by the one before, optionally by itself) a model, with the
imported 4-bit weights, each sign on its own scale, and the neuron parameters of the operating
point; ``coding`` says how the inputs spike (a network trained in a discrete-time simulator:
:class:`~hal_trainers.snn.coding.StepRateCoding` with ``step_ms = imported.step_ms``). The
model trains like any other (``docs/nir.md``: fine-tuned with the mismatched chip in the loop);
map it with ``MappedModel(model, backend, options=imported.mapping_options(allow_loss=True))``,
the circuits per neuron its weights were computed for.
"""

from __future__ import annotations

import json

import attrs
import numpy as np
from hal_trainers.snn.coding import LatencyCoding, PoissonCoding, StepRateCoding
from hal_trainers.snn.layers import LIF, LeakyIntegrator, Projection
from hal_trainers.snn.model import SpikingModel

import hal.nir
from hal.errors import ConfigError
from hal.nir.metadata import read_json, text

__all__ = ["model_to_nir", "model_from_nir", "model_from_imported", "MODEL_KEY"]

#: The graph metadata key of the model's own terms.
MODEL_KEY = "hal_model"

_CODINGS = {"LatencyCoding": LatencyCoding, "PoissonCoding": PoissonCoding, "StepRateCoding": StepRateCoding}


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
        # only with fine rows: graphs without them stay as before
        **({"fine": [None if pair is None else list(pair) for pair in index.fine]} if index.fine else {}),
    })
    return graph


def _check(meta: dict, names: tuple[str, ...]) -> None:
    keys = {"coding", "dt_ms", "duration_ms", "names", "layers", "feedforward", "recurrent"}
    if not isinstance(meta, dict) or not keys <= set(meta) <= keys | {"fine"}:
        found = sorted(meta) if isinstance(meta, dict) else type(meta).__name__
        raise ConfigError(f"NIR graph metadata {MODEL_KEY}: keys {found}; expected {', '.join(sorted(keys))} (and optionally fine)")
    n = len(meta["names"]) if isinstance(meta["names"], list) else -1
    lists = ("layers", "feedforward", "recurrent", "fine")
    if n < 1 or any(not isinstance(meta[k], list) or len(meta[k]) != n for k in lists if k in meta):
        raise ConfigError(f"NIR graph metadata {MODEL_KEY}: names, layers, feedforward, recurrent (and fine) must be lists of equal length >= 1")
    unknown = [name for name in meta["names"] if name not in names]
    if unknown:
        raise ConfigError(f"NIR graph metadata {MODEL_KEY}: layer(s) {unknown} are not populations of the graph; populations: {', '.join(names)}")
    kinds = [k for k in meta["layers"] if k not in ("LIF", "LeakyIntegrator")]
    if kinds:
        raise ConfigError(f"NIR graph metadata {MODEL_KEY}: layer kind(s) {kinds}; valid LIF, LeakyIntegrator")
    coding = meta["coding"]
    if not (isinstance(coding, dict) and coding.get("kind") in _CODINGS):
        raise ConfigError(f"NIR graph metadata {MODEL_KEY}.coding: {coding!r}; expected a dict with kind {' or '.join(_CODINGS)}")


def model_from_nir(graph, *, coding=None, dt_ms: float | None = None, duration_ms: float | None = None,
                   **from_nir_options) -> SpikingModel:
    """The :class:`SpikingModel` of ``graph`` (see the module docstring).

    A graph of :func:`model_to_nir` comes back as exported (``coding``, ``dt_ms`` and
    ``duration_ms`` must then be None). Any other graph is read by :func:`hal.nir.from_nir`
    with ``from_nir_options`` (``operating_point``, ``dt_s``, ``circuits_per_neuron``, ...) and
    made a model by :func:`model_from_imported`, which needs ``coding``.
    """
    try:
        import nir
    except ImportError:
        raise hal.nir.MissingExtraError("nir", "hal_trainers.snn.nir.model_from_nir") from None
    if not isinstance(graph, nir.NIRGraph):
        raise ConfigError(f"model_from_nir: expected a nir.NIRGraph, got {type(graph).__name__}")
    meta_value = graph.metadata.get(MODEL_KEY) if isinstance(graph.metadata, dict) else None
    if meta_value is None:
        if coding is None:
            raise ConfigError(f"model_from_nir: the graph has no {MODEL_KEY} metadata (not written by model_to_nir), so its "
                              "input coding is unknown; pass coding=..., e.g. StepRateCoding(size, steps, step_ms, rate) "
                              "with step_ms the imported step (hal.nir.from_nir(graph).step_ms)")
        return model_from_imported(hal.nir.from_nir(graph, **from_nir_options), coding, dt_ms=dt_ms, duration_ms=duration_ms)
    given = [name for name, value in (("coding", coding), ("dt_ms", dt_ms), ("duration_ms", duration_ms)) if value is not None]
    if given or from_nir_options:
        raise ConfigError(f"model_from_nir: the graph was written by model_to_nir and carries its own coding, timing and "
                          f"parameters; {', '.join(given + sorted(from_nir_options))} must not be given")
    imported = hal.nir.from_nir(graph)
    if not imported.exact:
        raise ConfigError(f"model_from_nir: the graph has {MODEL_KEY} metadata but not hal's network metadata "
                          "(hal_format); it was damaged or not written by model_to_nir")
    meta = read_json("graph", MODEL_KEY, text(meta_value))
    network = imported.network
    _check(meta, tuple(p.name for p in network.populations))
    coding_fields = {k: v for k, v in meta["coding"].items() if k != "kind"}
    try:
        coding = _CODINGS[meta["coding"]["kind"]](**coding_fields)
    except TypeError as exc:
        raise ConfigError(f"NIR graph metadata {MODEL_KEY}.coding: {exc}") from None
    params = {p.name: p for p in network.populations}

    def signed(pair, n_pre: int, n_post: int):
        try:
            e, i = (network.projections[int(k)] for k in pair)
        except (IndexError, TypeError, ValueError):
            raise ConfigError(f"NIR graph metadata {MODEL_KEY}: projection pair {pair!r} out of range; "
                              f"valid indices 0..{len(network.projections) - 1}") from None
        bits = []
        for proj in (e, i):
            pre, post = proj.edges(n_pre, n_post)
            bits.append(proj.bits(pre, post, network.ns_per_bit(proj)).reshape(n_post, n_pre))
        return e, i, bits[0] - bits[1]

    def projection(pair, n_pre: int, n_post: int, fine_pair=None) -> Projection:
        e, i, bits = signed(pair, n_pre, n_post)
        scale_i = None if i.ns_per_weight_bit == e.ns_per_weight_bit else i.ns_per_weight_bit
        fine_divisor = fine_bits = None
        if fine_pair is not None:
            fine_e, _, fine_bits = signed(fine_pair, n_pre, n_post)
            fine_divisor = int(round(network.ns_per_bit(e) / network.ns_per_bit(fine_e)))
        out = Projection(n_pre, n_post, ns_per_bit=e.ns_per_weight_bit, init_std=0.0, ns_per_bit_inhibitory=scale_i,
                         fine_divisor=fine_divisor)
        out.set_bits(bits, fine_bits)
        return out

    stages = []
    size = coding.size
    fine = meta.get("fine", [None] * len(meta["names"]))
    for name, kind, ff, rec, fine_pair in zip(meta["names"], meta["layers"], meta["feedforward"], meta["recurrent"], fine):
        population = params[name]
        stages.append(projection(ff, size, population.size, fine_pair))
        if kind == "LeakyIntegrator":
            stages.append(LeakyIntegrator(population.size, population.params))
        else:
            recurrent = None if rec is None else projection(rec, population.size, population.size)
            stages.append(LIF(population.size, population.params, recurrent=recurrent))
        size = population.size
    return SpikingModel(coding, *stages, dt_ms=float(meta["dt_ms"]), duration_ms=float(meta["duration_ms"]), names=tuple(meta["names"]))



def model_from_imported(imported, coding, *, dt_ms: float | None = None, duration_ms: float | None = None) -> SpikingModel:
    """A :class:`SpikingModel` of ``imported`` (a :class:`hal.nir.ImportedNetwork` of a chain; see the module docstring).

    ``dt_ms``: the twin's step (default a tenth of ``imported.step_ms``, at most 1 ms);
    ``duration_ms``: one sample (default ``coding.latest_ms`` plus two imported steps, the
    spikes still on their way through the layers).
    """
    if not isinstance(imported, hal.nir.ImportedNetwork):
        raise ConfigError(f"model_from_imported: expected a hal.nir.ImportedNetwork (from hal.nir.from_nir), got {type(imported).__name__}")
    if not isinstance(coding, tuple(_CODINGS.values())):
        raise ConfigError(f"model_from_imported: coding must be one of {', '.join(_CODINGS)}, got {type(coding).__name__}")
    network = imported.network
    if len(network.sources) != 1:
        raise ConfigError(f"model_from_imported: the graph has {len(network.sources)} Input nodes "
                          f"({', '.join(s.name for s in network.sources)}); a SpikingModel takes exactly 1")
    source = network.sources[0]
    if coding.size != source.size:
        raise ConfigError(f"model_from_imported: coding.size {coding.size} differs from the graph's input {source.name!r} "
                          f"of {source.size}; valid {source.size}")
    into: dict[str, dict[str, list]] = {p.name: {} for p in network.populations}
    for proj in network.projections:
        into[proj.post].setdefault(proj.pre, []).append(proj)
    order, pre, left = [], source.name, {p.name: p for p in network.populations}
    while left:
        # The next layer is the one population fed by ``pre`` (besides ``pre`` itself).
        following = [name for name in left if pre in into[name] and name != pre]
        if len(following) != 1:
            raise ConfigError(f"model_from_imported: after {pre!r} the graph continues to {following or 'nothing'} while "
                              f"{sorted(left)} are left; a SpikingModel is a chain (each neuron node fed by the one before, "
                              f"and by itself)")
        name = following[0]
        extra = sorted(set(into[name]) - {pre, name})
        if extra:
            raise ConfigError(f"model_from_imported: {name!r} is also fed by {extra}; a SpikingModel feeds each layer from "
                              f"the one before only (and from itself)")
        order.append(left.pop(name))
        pre = name
    stages, size = [], source.size
    for k, population in enumerate(order):
        before = source.name if k == 0 else order[k - 1].name
        stages.append(_signed(network, into[population.name][before], size, population.size))
        recurrent = into[population.name].get(population.name)
        spiking = population.params.v_th_mv < population.params.e_rev_e_mv
        if spiking:
            rec = None if recurrent is None else _signed(network, recurrent, population.size, population.size)
            stages.append(LIF(population.size, population.params, recurrent=rec))
        elif recurrent is not None or k + 1 < len(order):
            raise ConfigError(f"model_from_imported: {population.name!r} never spikes (threshold {population.params.v_th_mv} mV "
                              f"at or above E_e {population.params.e_rev_e_mv} mV); it can only be the last layer, without recurrence")
        else:
            stages.append(LeakyIntegrator(population.size, population.params))
        size = population.size
    dt_ms = dt_ms if dt_ms is not None else min(1.0, imported.step_ms / 10)
    if duration_ms is None:
        duration_ms = coding.latest_ms + 2 * imported.step_ms
    return SpikingModel(coding, *stages, dt_ms=dt_ms, duration_ms=duration_ms, names=tuple(p.name for p in order))


def _signed(network, projections: list, n_pre: int, n_post: int) -> Projection:
    """The imported excitatory and inhibitory projections of one (pre, post) pair as one signed :class:`Projection`."""
    bits, scales = np.zeros((n_post, n_pre), dtype=np.int64), {}
    for proj in projections:
        pre, post = proj.edges(n_pre, n_post)
        scale = network.ns_per_bit(proj)
        sign = 1 if proj.receptor == "excitatory" else -1
        if proj.receptor in scales:
            raise ConfigError(f"model_from_imported: two {proj.receptor} projections {proj.pre} -> {proj.post}; "
                              f"a signed Projection holds one per sign")
        scales[proj.receptor] = scale
        np.add.at(bits, (post, pre), sign * proj.bits(pre, post, scale))
    # A sign without weights gets the other's scale: training may still move weights there.
    e = scales.get("excitatory", scales.get("inhibitory"))
    i = scales.get("inhibitory", e)
    out = Projection(n_pre, n_post, ns_per_bit=e, init_std=0.0, ns_per_bit_inhibitory=None if i == e else i)
    out.set_bits(bits)
    return out
