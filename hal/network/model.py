"""Networks in biological terms: populations, sources, projections -- validated, saved, loaded.

Weights are either 4-bit hardware weights (``weight_bits``: 0..15) or
conductances in biological nS (``weight_ns``), converted with the declared
scale :attr:`Network.ns_per_weight_bit` (the conductance of weight 1 for the
mapping's synapse driver setting). A projection may declare its own scale
(:attr:`Projection.ns_per_weight_bit`); the mapping realises it through the gmax
divisor of the projection's synapse rows (:mod:`hal.mapping.scales`).

Files and constructors are strict alike: sizes and ``weight_bits`` are integers (3.7 and
``true`` are refused, not rounded), ``pairs`` come only with connector ``list``, and a network
is bounded by one wafer (:data:`MAX_NEURONS`, :data:`MAX_SOURCES`, :data:`MAX_SYNAPSES`),
checked from the sizes before any synapse is built. :func:`load_network` reports the
validators' own messages at their place in the file (``populations[1].size: ...``).
"""

from __future__ import annotations

import json
import reprlib
from pathlib import Path
from typing import Any

import attrs
import cattrs
import numpy as np
from cattrs.errors import ClassValidationError, IterableValidationError

from hal import coordinates as C
from hal.errors import ConfigError, ConfigValueError, FileFormatError, HalError, ResourceError, UnknownNameError
from hal.files import atomic_write, existing_file, writable_output
from hal.network.parameters import SCHMITT2017, LIFParameters
from hal.validators import in_range, instance_of, is_finite_number, one_of, parse_json, positive, shown, strict_converter, structure_errors

__all__ = [
    "Population", "SourcePopulation", "Projection", "Network", "save_network", "load_network", "paper_network_description",
    "MAX_NEURONS", "MAX_SOURCES", "MAX_SYNAPSES", "MAX_FILE_BYTES",
]

FORMAT = "hal-network"
VERSION = 1

#: Neurons a network can have: every neuron needs at least one of a wafer's 384 x 512 circuits.
MAX_NEURONS = C.HICANNOnWafer.size * C.NeuronOnHICANN.size
#: Input sources a network can have: one per FPGA input address (384 HICANNs x 8 channels x 64).
MAX_SOURCES = C.HICANNOnWafer.size * C.DNCMergerOnHICANN.size * C.L1Address.size
#: Synapses a network can have: a wafer's 384 x 448 x 256 synapse circuits.
MAX_SYNAPSES = C.HICANNOnWafer.size * C.SynapseOnHICANN.size
#: The largest network file :func:`load_network` reads (networks beyond it are built in Python).
MAX_FILE_BYTES = 256 * 2**20


def _name(instance, attribute, value):
    if not isinstance(value, str) or not value or not value.replace("_", "").replace("-", "").isalnum():
        raise ConfigError(f"{type(instance).__name__}.{attribute.name}: {reprlib.repr(value)} is not a valid name (letters, digits, '_', '-')")


@attrs.frozen
class Population:
    """``size`` neurons with the same biological parameters."""

    name: str = attrs.field(validator=_name)
    size: int = attrs.field(validator=in_range(1, MAX_NEURONS, error=ConfigValueError))
    params: LIFParameters = attrs.field(default=SCHMITT2017, validator=instance_of(LIFParameters))


@attrs.frozen
class SourcePopulation:
    """``size`` input sources (spike trains given by the experiment: Poisson rates or spike arrays)."""

    name: str = attrs.field(validator=_name)
    size: int = attrs.field(validator=in_range(1, MAX_SOURCES, error=ConfigValueError))


CONNECTORS = ("all_to_all", "one_to_one", "list", "matrix")
RECEPTORS = ("excitatory", "inhibitory")

_BITS = "an integer 0..15 (4-bit; the sign goes into the receptor)"
_NS = "a finite conductance in nS"


def _pairs(value: Any) -> Any:
    """Normalise (pre, post) pairs losslessly to a tuple of int pairs; anything else is left for the validator."""
    if value is None or isinstance(value, (str, bytes, dict)):
        return value
    if isinstance(value, np.ndarray) and value.dtype.kind in "iu" and value.ndim == 2 and value.shape[1] == 2:
        return tuple(map(tuple, value.tolist()))
    try:
        return tuple(tuple(int(x) if isinstance(x, np.integer) else x for x in pair) for pair in value)
    except TypeError:
        return value


def _check_pairs(instance, attribute, value):
    if value is None:
        return
    if not isinstance(value, tuple):
        raise ConfigValueError("Projection", "pairs", shown(value), "a list of [pre, post] index pairs")
    for k, pair in enumerate(value):
        if not (len(pair) == 2 and all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in pair)):
            raise ConfigValueError("Projection", f"pairs[{k}]", pair, "a pair of integer indices [pre, post], each >= 0")


def _weights(value: Any) -> Any:
    """Normalise weights losslessly: numpy scalars to Python numbers, lists to arrays."""
    if isinstance(value, np.generic) and not isinstance(value, np.bool_):
        return value.item()
    if isinstance(value, (list, tuple)):
        try:
            return np.asarray(value)
        except ValueError:  # ragged
            return value
    return value


def _first(w: np.ndarray, bad: np.ndarray) -> tuple[str, Any]:
    """``"[i, j]"`` and the value of the first ``bad`` entry of ``w``."""
    index = np.unravel_index(int(np.flatnonzero(bad)[0]), w.shape)
    return "[" + ", ".join(map(str, index)) + "]", w[index].item()


def _check_weight_type(instance, attribute, value):
    """Integers for ``weight_bits``, finite numbers for ``weight_ns`` (scalars or arrays).

    The range (0..15 bits) is checked by the network, which knows the conductance scale.
    """
    if value is None:
        return
    integer = attribute.name == "weight_bits"
    valid = (_BITS if integer else _NS) + ", or an array of them"
    if isinstance(value, np.ndarray):
        kinds = "iu" if integer else "iuf"
        if value.dtype.kind not in kinds:
            if value.size:
                # Name a value that is no whole number if there is one: that is the likelier mistake.
                whole = np.equal(np.mod(value, 1), 0) if value.dtype.kind == "f" else np.zeros(value.shape, dtype=bool)
                at, item = _first(value, ~whole if not whole.all() else np.ones(value.shape, dtype=bool))
                raise ConfigValueError("Projection", f"{attribute.name}{at}", shown(item), f"{valid}; not an array of {value.dtype}")
            raise ConfigValueError("Projection", attribute.name, "[]", f"{valid}; not an array of {value.dtype}")
        if not integer and not np.all(np.isfinite(value)):
            at, item = _first(value, ~np.isfinite(value))
            raise ConfigValueError("Projection", f"{attribute.name}{at}", item, valid)
        return
    ok = isinstance(value, int) and not isinstance(value, bool) if integer else is_finite_number(value)
    if not ok:
        raise ConfigValueError("Projection", attribute.name, shown(value), valid)


@attrs.frozen(eq=False)
class Projection:
    """Synapses from ``pre`` to ``post`` (population names) of one kind (``receptor``).

    ``connector``: ``all_to_all``, ``one_to_one``, ``list`` (``pairs``: (pre, post) index pairs,
    given only with this connector) or ``matrix`` (a (post, pre) weight matrix; zero entries
    are still synapses, so weights can grow during training). Weights: ``weight_bits``
    (integers 0..15) or ``weight_ns`` (biological nS): a scalar for every synapse, one value per
    synapse in :meth:`edges` order, or for ``matrix`` a (post, pre) array.

    ``ns_per_weight_bit``: the conductance of weight 1 on this projection's synapses
    (biological nS); ``None`` takes the network's :attr:`Network.ns_per_weight_bit`. The
    mapping realises it as the network's value divided by a synapse row's gmax divisor
    (1..15), so it can be the network's value or a fraction of it, not more.
    """

    pre: str = attrs.field(validator=_name)
    post: str = attrs.field(validator=_name)
    receptor: str = attrs.field(default="excitatory", validator=one_of(RECEPTORS))
    connector: str = attrs.field(default="all_to_all")
    pairs: tuple[tuple[int, int], ...] | None = attrs.field(default=None, converter=_pairs, validator=_check_pairs)
    weight_bits: Any = attrs.field(default=None, converter=_weights, validator=_check_weight_type)
    weight_ns: Any = attrs.field(default=None, converter=_weights, validator=_check_weight_type)
    ns_per_weight_bit: float | None = attrs.field(
        default=None, validator=attrs.validators.optional(positive(what="conductance", unit="nS per weight bit")))

    def __attrs_post_init__(self):
        if not isinstance(self.connector, str) or self.connector not in CONNECTORS:
            raise UnknownNameError("connector", str(self.connector), CONNECTORS)
        if (self.weight_bits is None) == (self.weight_ns is None):
            raise ConfigError(f"Projection {self.pre}->{self.post}: give exactly one of weight_bits (0..15) or weight_ns (biological nS)")
        if self.connector == "list" and not self.pairs:
            raise ConfigError(f"Projection {self.pre}->{self.post}: connector 'list' needs pairs of (pre, post) indices")
        if self.connector != "list" and self.pairs is not None:
            raise ConfigError(f"Projection {self.pre}->{self.post}: pairs given with connector {self.connector!r}, which would ignore them; "
                              "use connector 'list' or leave pairs out")

    def n_synapses(self, n_pre: int, n_post: int) -> int:
        """How many synapses :meth:`edges` gives for these population sizes (without building them)."""
        if self.connector in ("all_to_all", "matrix"):
            return n_pre * n_post
        if self.connector == "one_to_one":
            return n_pre
        return len(self.pairs)

    def check(self, n_pre: int, n_post: int, ns_per_bit: float) -> None:
        """Check the projection against its populations' sizes without building its synapses.

        Raises :class:`ConfigError` for unequal ``one_to_one`` sizes, pairs out of range, weights
        of the wrong shape, and weights that are not 0..15 bits (``weight_ns`` at ``ns_per_bit``).
        """
        where = f"Projection {self.pre}->{self.post}"
        if self.connector == "one_to_one" and n_pre != n_post:
            raise ConfigError(f"{where}: one_to_one needs equal sizes, got {n_pre} and {n_post}")
        if self.connector == "list":
            pairs = np.asarray(self.pairs, dtype=np.int64).reshape(-1, 2)
            bad = (pairs[:, 0] >= n_pre) | (pairs[:, 1] >= n_post)
            if np.any(bad):
                p = pairs[np.flatnonzero(bad)[0]]
                raise ConfigError(f"{where}: pair {tuple(int(x) for x in p)} out of range; valid pre 0..{n_pre - 1}, post 0..{n_post - 1}")
        w = np.asarray(self.weight_bits if self.weight_bits is not None else self.weight_ns)
        label = "weight_bits" if self.weight_bits is not None else "weight_ns"
        n = self.n_synapses(n_pre, n_post)
        shapes = [(), (n,)] + ([(n_post, n_pre)] if self.connector == "matrix" else [])
        if w.shape not in shapes:
            valid = " or ".join("a scalar" if s == () else str(s) for s in shapes)
            raise ConfigError(f"{where}: {label} of shape {w.shape}; valid {valid} (one value per synapse"
                              + (", or (post, pre) for a matrix)" if self.connector == "matrix" else ")"))
        if self.weight_ns is not None:
            w = np.rint(w.astype(float) / ns_per_bit)
            label = f"weight_ns / {ns_per_bit} nS per bit"
        bad = (w < 0) | (w > 15)
        if np.any(bad):
            _, item = _first(w.reshape(-1) if w.ndim else w.reshape(1), bad.reshape(-1))
            raise ConfigError(f"{where}: {label} gives {item}; valid 0..15 (4-bit; the sign goes into the receptor)")

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


def _tuple(value: Any) -> Any:
    if isinstance(value, (str, bytes, dict)):
        return value
    try:
        return tuple(value)
    except TypeError:
        return value


def _items_of(cls: type):
    def validate(instance, attribute, value):
        if not isinstance(value, tuple):
            raise ConfigValueError("Network", attribute.name, shown(value), f"a list of {cls.__name__}")
        for k, item in enumerate(value):
            if not isinstance(item, cls):
                raise ConfigValueError("Network", f"{attribute.name}[{k}]", shown(item), f"a {cls.__name__}")

    return validate


@attrs.frozen(eq=False)
class Network:
    """Populations, sources and projections; validated on construction.

    Bounded by the wafer: at most :data:`MAX_NEURONS` neurons, :data:`MAX_SOURCES` sources and
    :data:`MAX_SYNAPSES` synapses (checked from the sizes, before any synapse is built).
    """

    populations: tuple[Population, ...] = attrs.field(converter=_tuple, validator=_items_of(Population))
    sources: tuple[SourcePopulation, ...] = attrs.field(converter=_tuple, default=(), validator=_items_of(SourcePopulation))
    projections: tuple[Projection, ...] = attrs.field(converter=_tuple, default=(), validator=_items_of(Projection))
    # nominal chip, V_gmax0 = 1000, divisor 1, two big-cap circuits: 0.06 nS/nA x 2444 nA / 1e4 x 200 pF / 4.33 pF
    ns_per_weight_bit: float = attrs.field(default=0.68, validator=positive(what="conductance", unit="nS per weight bit"))

    def __attrs_post_init__(self):
        names = [p.name for p in self.populations] + [s.name for s in self.sources]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ConfigError(f"Network: name(s) used twice: {sorted(dupes)}")
        for what, total, limit, unit in (("neurons", self.n_neurons, MAX_NEURONS, "neuron circuits"),
                                         ("sources", self.n_sources, MAX_SOURCES, "FPGA input addresses")):
            if total > limit:
                raise ResourceError(f"Network: {total} {what}; a wafer has {limit} {unit}, {total - limit} too many")
        neurons = {p.name for p in self.populations}
        synapses = 0
        for k, proj in enumerate(self.projections):
            if proj.pre not in names:
                raise UnknownNameError(f"population (projections[{k}].pre)", proj.pre, names)
            if proj.post not in neurons:
                raise UnknownNameError(f"neuron population (projections[{k}].post)", proj.post, neurons)
            n_pre, n_post = self.size(proj.pre), self.size(proj.post)
            synapses += proj.n_synapses(n_pre, n_post)
            if synapses > MAX_SYNAPSES:
                raise ResourceError(f"Network: projections[0..{k}] have {synapses} synapses; a wafer has {MAX_SYNAPSES} synapse circuits, "
                                    f"{synapses - MAX_SYNAPSES} too many")
            proj.check(n_pre, n_post, self.ns_per_bit(proj))

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
    conv = strict_converter()
    conv.register_unstructure_hook(np.ndarray, lambda a: a.tolist())
    conv.register_structure_hook(Any, lambda v, _: v)  # weights: the Projection's own checks read them
    return conv


_CONVERTER = _converter()


def save_network(network: Network, path: str | Path) -> None:
    """Write ``network`` as JSON (atomically; the path is checked before anything is written).

    A projection without its own scale is written without the key, so such files read as
    before (also in versions of hal that do not know per-projection scales).
    """
    path = writable_output(path, what="network")
    if not isinstance(network, Network):
        raise ConfigError(f"save_network: expected a Network, got {type(network).__name__}")
    data = {"format": FORMAT, "version": VERSION, **_CONVERTER.unstructure(network)}
    for proj in data["projections"]:
        if proj["ns_per_weight_bit"] is None:
            del proj["ns_per_weight_bit"]

    def plain(x):
        if isinstance(x, np.ndarray):
            return x.tolist()
        if isinstance(x, np.generic):
            return x.item()
        raise TypeError(f"cannot store {type(x).__name__}")

    text = json.dumps(data, indent=1, default=plain, allow_nan=False)
    atomic_write(path, lambda fh: fh.write(text), mode="w")


def load_network(path: str | Path) -> Network:
    """Read a network written by :func:`save_network`.

    Every problem is a :class:`FileFormatError` naming the file and, for invalid content, the
    place (``populations[1].size: 3.7 is not an integer``). Refused before parsing: files over
    :data:`MAX_FILE_BYTES` and JSON nested deeper than :data:`~hal.validators.MAX_JSON_DEPTH`.
    Every key of the format is required except ``ns_per_weight_bit`` of a projection, its
    ``pairs`` (for connector ``list``), one of ``weight_bits``/``weight_ns`` and ``t_ref_ms``
    (the keys whose absence means "none"); unknown keys are refused.
    """
    path = existing_file(path)
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise FileFormatError(path, f"{size} bytes; network files are read up to {MAX_FILE_BYTES} bytes (build larger networks in Python)")
    try:
        data = parse_json(path.read_bytes())
    except ValueError as exc:
        raise FileFormatError(path, f"not JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else None
        raise FileFormatError(path, f"not a {FORMAT} file (format {reprlib.repr(found)})")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version != VERSION:
        raise FileFormatError(path, f"format version {reprlib.repr(version)} not supported; this hal reads {VERSION}")
    body = {k: v for k, v in data.items() if k not in ("format", "version")}
    try:
        return _CONVERTER.structure(body, Network)
    except (ClassValidationError, IterableValidationError, HalError, ValueError, TypeError, KeyError) as exc:
        raise FileFormatError(path, "invalid network: " + "; ".join(structure_errors(exc))) from exc


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
