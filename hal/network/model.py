"""Networks in biological terms: populations, sources, projections -- validated, saved, loaded.

Weights are either 4-bit hardware weights (``weight_bits``: 0..15) or
conductances in biological nS (``weight_ns``), converted with the declared
scale :attr:`Network.ns_per_weight_bit` (the conductance of weight 1 for the
mapping's synapse driver setting). A projection may declare its own scale
(:attr:`Projection.ns_per_weight_bit`); the mapping realises it through the gmax
divisor of the projection's synapse rows (:mod:`hal.mapping.scales`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import cattrs
import cattrs.v
import numpy as np

from hal.validators import at_least, positive
from hal.errors import ConfigError, FileFormatError, HalError, UnknownNameError
from hal.files import existing_file
from hal.network.parameters import SCHMITT2017, LIFParameters

__all__ = ["Population", "SourcePopulation", "Projection", "Network", "save_network", "load_network", "paper_network_description"]

FORMAT = "hal-network"
VERSION = 1


def _name(instance, attribute, value):
    if not isinstance(value, str) or not value or not value.replace("_", "").replace("-", "").isalnum():
        raise ConfigError(f"{type(instance).__name__}.{attribute.name}: {value!r} is not a valid name (letters, digits, '_', '-')")


_size = at_least(1)


@attrs.frozen
class Population:
    """``size`` neurons with the same biological parameters."""

    name: str = attrs.field(validator=_name)
    size: int = attrs.field(validator=_size)
    params: LIFParameters = SCHMITT2017


@attrs.frozen
class SourcePopulation:
    """``size`` input sources (spike trains given by the experiment: Poisson rates or spike arrays)."""

    name: str = attrs.field(validator=_name)
    size: int = attrs.field(validator=_size)


CONNECTORS = ("all_to_all", "one_to_one", "list", "matrix")


@attrs.frozen(eq=False)
class Projection:
    """Synapses from ``pre`` to ``post`` (population names) of one kind (``receptor``).

    ``connector``: ``all_to_all``, ``one_to_one``, ``list`` (``pairs``: (pre, post) index pairs)
    or ``matrix`` (a (post, pre) weight matrix; zero entries are still synapses, so weights
    can grow during training). Weights: ``weight_bits`` (0..15, scalar or per synapse) or
    ``weight_ns`` (biological nS).

    ``ns_per_weight_bit``: the conductance of weight 1 on this projection's synapses
    (biological nS); ``None`` takes the network's :attr:`Network.ns_per_weight_bit`. The
    mapping realises it as the network's value divided by a synapse row's gmax divisor
    (1..15), so it can be the network's value or a fraction of it, not more.
    """

    pre: str
    post: str
    receptor: str = attrs.field(default="excitatory")
    connector: str = attrs.field(default="all_to_all")
    pairs: tuple[tuple[int, int], ...] | None = None
    weight_bits: Any = None
    weight_ns: Any = None
    ns_per_weight_bit: float | None = attrs.field(
        default=None, validator=attrs.validators.optional(positive(what="conductance", unit="nS per weight bit")))

    def __attrs_post_init__(self):
        if self.receptor not in ("excitatory", "inhibitory"):
            raise ConfigError(f"Projection {self.pre}->{self.post}: receptor {self.receptor!r} not valid; valid excitatory, inhibitory")
        if self.connector not in CONNECTORS:
            raise UnknownNameError("connector", self.connector, CONNECTORS)
        if (self.weight_bits is None) == (self.weight_ns is None):
            raise ConfigError(f"Projection {self.pre}->{self.post}: give exactly one of weight_bits (0..15) or weight_ns (biological nS)")
        if self.connector == "list" and not self.pairs:
            raise ConfigError(f"Projection {self.pre}->{self.post}: connector 'list' needs pairs of (pre, post) indices")

    def edges(self, n_pre: int, n_post: int) -> tuple[np.ndarray, np.ndarray]:
        """(pre index, post index) of every synapse."""
        if self.connector == "all_to_all" or self.connector == "matrix":
            post, pre = np.meshgrid(np.arange(n_post), np.arange(n_pre), indexing="ij")
            return pre.ravel(), post.ravel()
        if self.connector == "one_to_one":
            if n_pre != n_post:
                raise ConfigError(f"Projection {self.pre}->{self.post}: one_to_one needs equal sizes, got {n_pre} and {n_post}")
            return np.arange(n_pre), np.arange(n_post)
        pairs = np.asarray(self.pairs, dtype=np.int64).reshape(-1, 2)
        bad = (pairs[:, 0] < 0) | (pairs[:, 0] >= n_pre) | (pairs[:, 1] < 0) | (pairs[:, 1] >= n_post)
        if np.any(bad):
            p = pairs[np.flatnonzero(bad)[0]]
            raise ConfigError(f"Projection {self.pre}->{self.post}: pair {tuple(int(x) for x in p)} out of range; valid pre 0..{n_pre - 1}, post 0..{n_post - 1}")
        return pairs[:, 0], pairs[:, 1]

    def bits(self, pre: np.ndarray, post: np.ndarray, ns_per_bit: float) -> np.ndarray:
        """4-bit weights of the synapses (pre, post); raises for values that do not fit."""
        if self.weight_bits is not None:
            w = np.asarray(self.weight_bits)
            label = "weight_bits"
        else:
            w = np.rint(np.asarray(self.weight_ns, dtype=float) / ns_per_bit)
            label = f"weight_ns / {ns_per_bit} nS per bit"
        if self.connector == "matrix":
            w = np.broadcast_to(w, (int(post.max()) + 1 if post.size else 0, int(pre.max()) + 1 if pre.size else 0))[post, pre] if w.ndim == 2 else np.broadcast_to(w, pre.shape)
        else:
            w = np.broadcast_to(w, pre.shape)
        if w.size and (np.min(w) < 0 or np.max(w) > 15 or not np.all(np.isfinite(w))):
            bad = w[(w < 0) | (w > 15) | ~np.isfinite(w)].ravel()[0]
            raise ConfigError(f"Projection {self.pre}->{self.post}: {label} gives {bad}; valid 0..15 (4-bit; the sign goes into the receptor)")
        return np.asarray(w, dtype=np.int64)


@attrs.frozen(eq=False)
class Network:
    """Populations, sources and projections; validated on construction."""

    populations: tuple[Population, ...] = attrs.field(converter=tuple)
    sources: tuple[SourcePopulation, ...] = attrs.field(converter=tuple, default=())
    projections: tuple[Projection, ...] = attrs.field(converter=tuple, default=())
    ns_per_weight_bit: float = 0.68  # nominal chip, V_gmax0 = 1000, divisor 1, two big-cap circuits: 0.06 nS/nA x 2444 nA / 1e4 x 200 pF / 4.33 pF

    def __attrs_post_init__(self):
        names = [p.name for p in self.populations] + [s.name for s in self.sources]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ConfigError(f"Network: name(s) used twice: {sorted(dupes)}")
        neurons = {p.name for p in self.populations}
        for k, proj in enumerate(self.projections):
            if proj.pre not in names:
                raise UnknownNameError(f"population (projections[{k}].pre)", proj.pre, names)
            if proj.post not in neurons:
                raise UnknownNameError(f"neuron population (projections[{k}].post)", proj.post, neurons)
            n_pre, n_post = self.size(proj.pre), self.size(proj.post)
            pre, post = proj.edges(n_pre, n_post)
            proj.bits(pre, post, self.ns_per_bit(proj))  # validates the weights now

    def ns_per_bit(self, projection: Projection) -> float:
        """The conductance of weight 1 that ``projection`` declares: its own, or the network's (biological nS)."""
        return self.ns_per_weight_bit if projection.ns_per_weight_bit is None else projection.ns_per_weight_bit

    def size(self, name: str) -> int:
        for p in (*self.populations, *self.sources):
            if p.name == name:
                return p.size
        raise UnknownNameError("population", name, [p.name for p in (*self.populations, *self.sources)])

    def is_source(self, name: str) -> bool:
        return any(s.name == name for s in self.sources)

    @property
    def n_neurons(self) -> int:
        return sum(p.size for p in self.populations)

    @property
    def n_sources(self) -> int:
        return sum(s.size for s in self.sources)


def _converter() -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=True)
    conv.register_unstructure_hook(np.ndarray, lambda a: a.tolist())
    conv.register_structure_hook(Any, lambda v, _: v)
    return conv


def _format_exception(exc: BaseException, type_: Any) -> str:
    # Our validators' errors already name the field, the value and what is valid.
    return str(exc) if isinstance(exc, HalError) else cattrs.v.format_exception(exc, type_)


def save_network(network: Network, path: str | Path) -> None:
    """Write ``network`` as JSON.

    A projection without its own scale is written without the key, so such files read as
    before (also in versions of hal that do not know per-projection scales).
    """
    conv = _converter()
    data = {"format": FORMAT, "version": VERSION, **conv.unstructure(network)}
    for proj in data["projections"]:
        if proj["ns_per_weight_bit"] is None:
            del proj["ns_per_weight_bit"]

    def plain(x):
        if isinstance(x, np.ndarray):
            return x.tolist()
        if isinstance(x, np.generic):
            return x.item()
        raise TypeError(f"cannot store {type(x).__name__}")

    Path(path).write_text(json.dumps(data, indent=1, default=plain))


def load_network(path: str | Path) -> Network:
    """Read a network written by :func:`save_network`; bad files raise :class:`FileFormatError`."""
    path = existing_file(path)
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FileFormatError(path, f"not JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise FileFormatError(path, f"not a {FORMAT} file (format {data.get('format') if isinstance(data, dict) else None!r})")
    if data.get("version") != VERSION:
        raise FileFormatError(path, f"format version {data.get('version')!r} not supported; this hal reads {VERSION}")
    body = {k: v for k, v in data.items() if k not in ("format", "version")}
    try:
        network = _converter().structure(body, Network)
    except (cattrs.errors.ClassValidationError, ValueError, TypeError, KeyError) as exc:
        detail = ("; ".join(cattrs.transform_error(exc, format_exception=_format_exception))
                  if isinstance(exc, cattrs.errors.ClassValidationError) else str(exc))
        raise FileFormatError(path, f"invalid network: {detail}") from None
    except ConfigError as exc:
        raise FileFormatError(path, f"invalid network: {exc}") from exc
    return network


def paper_network_description(weights: list[np.ndarray] | None = None, seed: int = 0) -> Network:
    """Schmitt et al. 2017: 100 sources one-to-one onto 100 input neurons, then 100-15-15-5, each pair
    of consecutive-layer neurons joined by an excitatory and an inhibitory synapse.

    ``weights[l]`` (post, pre), signed, -15..15; random if not given.
    """
    sizes = (100, 15, 15, 5)
    names = ("input", "hidden1", "hidden2", "label")
    if weights is None:
        rng = np.random.default_rng(seed)
        weights = [rng.integers(-15, 16, size=(b, a)) for a, b in zip(sizes[:-1], sizes[1:])]
    projections = [Projection("pixels", "input", "excitatory", "one_to_one", weight_bits=15)]
    for k, w in enumerate(weights):
        w = np.asarray(w)
        projections.append(Projection(names[k], names[k + 1], "excitatory", "matrix", weight_bits=np.where(w > 0, w, 0)))
        projections.append(Projection(names[k], names[k + 1], "inhibitory", "matrix", weight_bits=np.where(w < 0, -w, 0)))
    return Network([Population(n, s) for n, s in zip(names, sizes)], [SourcePopulation("pixels", 100)], projections)
