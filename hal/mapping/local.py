"""Placing and routing a small network on one HICANN, down to every register.

This is the local core of mapping: logical neurons of ``k`` merged circuits on
consecutive columns; inputs through FPGA channels that neuron blocks do not
use; every pre-synaptic neuron or source on its own synapse rows (one driver =
an excitatory and an inhibitory row, or two rows of the same kind), drivers fed
from the origin's L1 line through crossbar and synapse switches, extended by
driver chaining (``connect_neighbor``) where an origin's 28 directly reachable
drivers are not enough. What does not fit raises :class:`ResourceError`
saying what and by how much.

The result remembers where each edge's synapse sits, so that training can
rewrite weights -- and nothing else -- later (:meth:`LocalRouting.set_weights`).
"""

from __future__ import annotations

from collections import defaultdict

import attrs
import numpy as np

from hal import coordinates as C
from hal.errors import ConfigError, ResourceError
from hal.hardware.hicann import GbitDirection, MergerMode, RepeaterMode
from hal.mapping.drivers import allocate_drivers, merge_circuits
from hal.hardware.wafer import WaferConfig

__all__ = ["LocalNetwork", "LocalRouting", "route_on_hicann", "CIRCUITS_PER_NEURON"]

CIRCUITS_PER_NEURON = (1, 2, 4)
_ADDRESSES = tuple(range(1, 64))  # address 0 is left to the background (locking) events


def _ints(a):
    return np.asarray(a, dtype=np.int64)


@attrs.frozen(eq=False)
class LocalNetwork:
    """Neurons and sources joined by edges with 4-bit weights.

    ``pre`` indexes sources where ``pre_is_source`` is set, otherwise neurons;
    ``post`` indexes neurons. ``record`` lists the neurons whose spikes go to the
    FPGA (default: all).
    """

    n_neurons: int
    n_sources: int
    pre: np.ndarray = attrs.field(converter=_ints)
    pre_is_source: np.ndarray = attrs.field(converter=lambda a: np.asarray(a, dtype=bool))
    post: np.ndarray = attrs.field(converter=_ints)
    weight: np.ndarray = attrs.field(converter=_ints)
    excitatory: np.ndarray = attrs.field(converter=lambda a: np.asarray(a, dtype=bool))
    circuits_per_neuron: int = 2
    record: tuple[int, ...] | None = None

    def __attrs_post_init__(self):
        n = self.pre.size
        for name in ("pre_is_source", "post", "weight", "excitatory"):
            if getattr(self, name).shape != (n,):
                raise ConfigError(f"LocalNetwork.{name}: {getattr(self, name).shape}; expected ({n},), one entry per edge")
        if self.n_neurons < 1:
            raise ConfigError(f"LocalNetwork.n_neurons: {self.n_neurons} out of range; valid >= 1")
        if self.circuits_per_neuron not in CIRCUITS_PER_NEURON:
            raise ConfigError(f"LocalNetwork.circuits_per_neuron: {self.circuits_per_neuron} not supported on one HICANN; valid {CIRCUITS_PER_NEURON}")
        if n:
            if self.post.min() < 0 or self.post.max() >= self.n_neurons:
                raise ConfigError(f"LocalNetwork.post: neuron {int(self.post.max())} out of range; valid 0..{self.n_neurons - 1}")
            limit = np.where(self.pre_is_source, self.n_sources, self.n_neurons)
            bad = (self.pre < 0) | (self.pre >= limit)
            if np.any(bad):
                i = int(np.flatnonzero(bad)[0])
                kind = "source" if self.pre_is_source[i] else "neuron"
                raise ConfigError(f"LocalNetwork.pre[{i}]: {kind} {int(self.pre[i])} out of range; valid 0..{int(limit[i]) - 1}")
            if self.weight.min() < 0 or self.weight.max() > 15:
                bad_w = int(self.weight.min()) if self.weight.min() < 0 else int(self.weight.max())
                raise ConfigError(f"LocalNetwork.weight: {bad_w} out of range; valid 0..15 (4-bit)")


@attrs.frozen(eq=False)
class LocalRouting:
    """Where everything went."""

    hicann: C.HICANNOnWafer
    neurons: tuple[tuple[C.NeuronOnHICANN, ...], ...]  # denmems per neuron, firing denmem first
    neuron_channel: np.ndarray  # per neuron: its neuron block = DNC merger = recording channel
    neuron_address: np.ndarray  # per neuron: 6-bit L1 address
    source_address: tuple  # per source: hal.experiment.InputAddress (or None if the source has no edges)
    edge_row: np.ndarray  # per edge: synapse row
    edge_column: np.ndarray  # per edge: synapse column
    drivers: dict  # origin (channel) -> list of drivers used
    chained_drivers: int

    def firing(self, neuron: int) -> C.NeuronOnHICANN:
        return self.neurons[neuron][0]

    def set_weights(self, config: WaferConfig, weights) -> None:
        """Write new 4-bit weights of all edges (only the synapse weights change)."""
        w = np.asarray(weights)
        if w.shape != self.edge_row.shape:
            raise ConfigError(f"set_weights: {w.shape} weights for {self.edge_row.size} edges")
        config.hicann(self.hicann).set_weights(w, rows=self.edge_row, columns=self.edge_column)


def _place(n: int, k: int) -> list[tuple[C.NeuronOnHICANN, ...]]:
    width = 2 if k == 4 else 1
    if n * width > 256:
        raise ResourceError(
            f"{n} neurons of {k} circuits need {n * width} denmem columns; a HICANN has 256 "
            f"({256 // width} neurons of this size): {n - 256 // width} too many"
        )
    placed = []
    for i in range(n):
        x = i * width
        if k == 1:
            placed.append((C.NeuronOnHICANN(x=x, y=0),))
        elif k == 2:
            placed.append((C.NeuronOnHICANN(x=x, y=0), C.NeuronOnHICANN(x=x, y=1)))
        else:
            placed.append(tuple(C.NeuronOnHICANN(x=x + dx, y=y) for y in (0, 1) for dx in (0, 1)))
    return placed


def route_on_hicann(config: WaferConfig, hicann: C.HICANNOnWafer, network: LocalNetwork) -> LocalRouting:
    """Place ``network`` on ``hicann`` and write every register it needs into ``config``."""
    from hal.coordinates import InputAddress

    chip = config.hicann(hicann)
    k = network.circuits_per_neuron
    placed = _place(network.n_neurons, k)
    record = set(range(network.n_neurons)) if network.record is None else set(network.record)

    # Neurons: merge, fire, address per block.
    neuron_channel = np.zeros(network.n_neurons, dtype=np.int64)
    neuron_address = np.zeros(network.n_neurons, dtype=np.int64)
    used_in_block: dict[int, int] = defaultdict(int)
    for i, denmems in enumerate(placed):
        merge_circuits(chip, denmems)
        block = denmems[0].to_neuron_block().value
        address = _ADDRESSES[used_in_block[block]]
        used_in_block[block] += 1
        neuron_channel[i], neuron_address[i] = block, address
        chip.neurons.update(denmems[0], activate_firing=True, enable_spl1_output=True, l1_address=address)
    pre_neurons = set(network.pre[~network.pre_is_source].tolist())
    neuron_blocks = sorted(used_in_block)
    for block in neuron_blocks:
        members = np.flatnonzero(neuron_channel == block)
        chip.mergers.update(block, mode=MergerMode.RIGHT_ONLY)
        chip.dnc_mergers.update(block, mode=MergerMode.LEFT_ONLY)
        if record & set(members.tolist()):
            chip.gbit_links.update(block, direction=GbitDirection.TO_DNC)
        if pre_neurons & set(members.tolist()):
            sending = C.DNCMergerOnHICANN(block).to_sending_repeater().to_hrepeater()
            chip.h_repeaters.update(sending, mode=RepeaterMode.OUTPUT)

    # Inputs: FPGA channels that no neuron block uses.
    used_sources = sorted(set(network.pre[network.pre_is_source].tolist()))
    free_channels = [c for c in range(8) if c not in neuron_blocks]
    per_channel = len(_ADDRESSES)
    needed = -(-len(used_sources) // per_channel) if used_sources else 0
    if needed > len(free_channels):
        raise ResourceError(
            f"{len(used_sources)} input sources need {needed} FPGA channels of {per_channel} addresses; "
            f"{len(free_channels)} free on {hicann!r} (channels {neuron_blocks} carry neuron blocks): "
            f"{len(used_sources) - len(free_channels) * per_channel} sources too many"
        )
    source_address: list = [None] * network.n_sources
    source_channel = {}
    if needed:
        # Spread sources evenly over the free channels: each reaches only 28 drivers directly.
        channels = free_channels[: max(needed, min(len(free_channels), -(-len(used_sources) // 34)))]
        for j, s in enumerate(used_sources):
            channel = channels[j % len(channels)]
            address = _ADDRESSES[j // len(channels)]
            source_address[s] = InputAddress(hicann, channel, address)
            source_channel[s] = channel
        for channel in sorted(set(source_channel.values())):
            chip.gbit_links.update(channel, direction=GbitDirection.TO_HICANN)
            chip.dnc_mergers.update(channel, mode=MergerMode.RIGHT_ONLY)
            sending = C.DNCMergerOnHICANN(channel).to_sending_repeater().to_hrepeater()
            chip.h_repeaters.update(sending, mode=RepeaterMode.OUTPUT)
    fpga = config.fpga(hicann.to_fpga())
    fpga.links.update(hicann.to_highspeed_link(), enable=True)

    # Row demand: (origin channel, pre key, excitatory) for each pre that has edges of that sign.
    def origin_of(pre: int, is_source: bool) -> tuple[int, int]:
        return (source_channel[pre], source_address[pre].address) if is_source else (int(neuron_channel[pre]), int(neuron_address[pre]))

    rows_needed: dict[int, list[tuple[tuple[int, int], bool]]] = defaultdict(list)
    seen = set()
    for pre, is_source, exc in zip(network.pre.tolist(), network.pre_is_source.tolist(), network.excitatory.tolist()):
        key = (origin_of(pre, is_source), exc)
        if key not in seen:
            seen.add(key)
            rows_needed[key[0][0]].append(key)
    # Pair rows onto drivers: an excitatory and an inhibitory row of one pre if both exist.
    driver_needs: dict[int, list[tuple]] = {}
    for channel, keys in rows_needed.items():
        by_pre = defaultdict(list)
        for (origin, exc) in keys:
            by_pre[origin].append(exc)
        singles, pairs = [], []
        for origin, signs in by_pre.items():
            (pairs if len(signs) == 2 else singles).append((origin, signs[0]))
        drivers = [((o, True), (o, False)) for o, _ in pairs]
        for a, b in zip(singles[0::2], singles[1::2]):
            drivers.append((a, b))
        if len(singles) % 2:
            drivers.append((singles[-1], None))
        driver_needs[channel] = drivers

    top_only = k == 1
    free = set(range(112) if top_only else range(224))
    lines = {c: C.DNCMergerOnHICANN(c).to_sending_repeater().to_hline().value for c in driver_needs}
    assigned, chained = allocate_drivers(chip, free, {c: (lines[c], 2 * len(driver_needs[c])) for c in driver_needs})
    missing = {c: len(driver_needs[c]) - len(assigned[c]) for c in driver_needs if len(assigned[c]) < len(driver_needs[c])}
    if missing:
        total = sum(len(v) for v in driver_needs.values())
        raise ResourceError(
            f"{hicann!r}: the network needs {total} synapse drivers (one per pre-synaptic neuron or source and sign pair); "
            f"{sum(missing.values())} could not be reached from their L1 line (short per channel: {missing}); "
            f"use fewer circuits per neuron or split the network over more HICANNs"
        )

    # Rows: which pre, which sign; then each edge's synapse.
    row_of: dict[tuple[tuple[int, int], bool], int] = {}
    for channel, needs in driver_needs.items():
        for driver, (first, second) in zip(assigned[channel], needs):
            rows = C.SynapseDriverOnHICANN(driver).rows()
            for row, key in zip(rows, (first, second)):
                if key is None:
                    continue
                (origin_channel, address), exc = key
                chip.synapse_rows.update(
                    row, input_excitatory=exc, input_inhibitory=not exc,
                    decoder_even=address >> 4, decoder_odd=address >> 4, sel_gmax=0,
                )
                row_of[key] = row.value
    edge_row = np.empty(network.pre.size, dtype=np.int64)
    edge_col = np.empty(network.pre.size, dtype=np.int64)
    weights = chip.weights
    decoders = chip.decoders
    taken = set()
    for e, (pre, is_source, post, w, exc) in enumerate(zip(network.pre.tolist(), network.pre_is_source.tolist(), network.post.tolist(), network.weight.tolist(), network.excitatory.tolist())):
        origin = origin_of(pre, is_source)
        row = row_of[(origin, exc)]
        y = 0 if row < 224 else 1
        column = next(d.x for d in placed[post] if d.y == y)
        if (row, column) in taken:
            raise ConfigError(f"LocalNetwork: edge {e} duplicates another edge (same pre, post and sign); merge their weights")
        taken.add((row, column))
        edge_row[e], edge_col[e] = row, column
        weights[row, column] = w
        decoders[row, column] = origin[1] & 15
    chip.set_weights(weights)
    chip.set_decoders(decoders)
    return LocalRouting(
        hicann, tuple(placed), neuron_channel, neuron_address, tuple(source_address), edge_row, edge_col,
        {c: list(v) for c, v in assigned.items()}, chained,
    )

