"""Synapses: which rows each target HICANN needs, the synaptic strength per quadrant, and the weights.

Row decoders take the pre's L1 address MSBs (:mod:`hal.mapping.rows`), synapse decoders its
LSBs; the weight sits at the post neuron's column of the edge's slot in the row's half (the
first column unless the rows are packed). Two edges on one synapse (same pre, post and sign)
are an error: one weight would silently win.
"""

from __future__ import annotations

from collections import Counter

import attrs
import numpy as np

from hal.calibration import apply_gmax, gmax_target
from hal.errors import ConfigError, ResourceError
from hal.hardware.floating_gates import SYNAPSE_ROW_FG_BLOCK
from hal.mapping.scales import projection_divisors
from hal.mapping.state import MappingState
from hal.network import Network

__all__ = ["collect_row_needs", "set_gmax", "write_synapses", "check_no_shared_synapse"]

_NO_HALF = "no circuit of the neuron in that synapse half (use 2 or 4 circuits per neuron)"
_NO_SLOT = "packed row slot beyond the neuron's columns in that synapse half"


def collect_row_needs(state: MappingState) -> None:
    """Phase: each edge's (origin, address, sign, target HICANN, gmax divisor); fills ``state.divisors``,
    ``state.edges`` and ``state.row_needs``.

    Raises :class:`~hal.errors.ConfigValueError` for a projection scale no divisor realises.
    """
    network = state.network
    state.divisors = projection_divisors(network)
    senders: dict[str, dict] = {}  # per pre population: index -> (origin, address), looked up once (a wafer has ~10^6 edges)
    row_needs = state.row_needs
    for proj, divisor in zip(network.projections, state.divisors):
        pre, post = proj.edges(network.size(proj.pre), network.size(proj.post))
        bits = proj.bits(pre, post, network.ns_per_bit(proj))
        exc = proj.receptor == "excitatory"
        sender = senders.setdefault(proj.pre, {})
        placed = state.placement[proj.post]
        keys = []
        for a, b in zip(pre.tolist(), post.tolist()):
            found = sender.get(a)
            if found is None:
                found = sender[a] = state.origin_of(proj.pre, a)
            origin, address = found
            target = placed[b][0]
            keys.append((origin, address, exc, target, divisor))
            row_needs[target][origin].append((address, exc, divisor))
        state.edges.append((keys, post, bits))


def set_gmax(state: MappingState) -> None:
    """Phase: V_gmax0 of the FG blocks whose drivers hold rows, through the gmax calibration.

    So that the declared conversion (nS per weight bit) holds on every quadrant; fills ``state.gmax``.
    """
    target_gmax = gmax_target(state.network.ns_per_weight_bit, attrs.fields(Network).ns_per_weight_bit.default)
    for target in state.row_needs:
        chip = state.config.hicann(target)
        rows = chip.synapse_rows
        used = np.flatnonzero(rows.column("input_excitatory").astype(bool) | rows.column("input_inhibitory").astype(bool))
        blocks = sorted(set(SYNAPSE_ROW_FG_BLOCK[used].tolist()))
        if blocks:
            dac, source = apply_gmax(chip, target, blocks, target_gmax, state.calibration, clip=state.options.calibration_clip)
            state.gmax[target.enum] = {"dac": dict(zip(blocks, dac.tolist())), "source": source, "target": round(target_gmax, 3)}


def write_synapses(state: MappingState) -> None:
    """Phase: weight and decoder of every edge whose row exists; counts what is lost and why.

    Raises :class:`~hal.errors.ResourceError` if synapses are lost and ``allow_loss`` is not set.
    """
    weights = {h: state.config.hicann(h).weights for h in state.row_needs}
    decoders = {h: state.config.hicann(h).decoders for h in state.row_needs}
    halves_of: dict[str, list] = {}  # per post population: projections share them
    row_of, unreachable = state.row_of, state.unreachable
    lost: Counter = Counter()  # reason -> synapses (a wafer loses up to ~10^6: counted here, added once)
    for j, (keys, post, bits) in enumerate(state.edges):
        name = state.network.projections[j].post
        if name not in halves_of:
            halves_of[name] = _columns_per_half(state.placement[name])
        halves = halves_of[name]
        hic, rows, cols = (np.full(len(keys), -1, dtype=np.int64) for _ in range(3))
        for e, (key, b, w) in enumerate(zip(keys, post.tolist(), bits.tolist())):
            place = row_of.get(key)
            if place is None:
                lost["unreachable bus" if (key[0], key[3]) in unreachable else "no synapse driver"] += 1
                continue
            target = key[3]
            row, slot = place
            columns = halves[b][0 if row < 224 else 1]
            if slot >= len(columns):
                lost[_NO_SLOT if columns else _NO_HALF] += 1
                continue
            column = columns[slot]
            weights[target][row, column] = w
            decoders[target][row, column] = key[1] & 15
            hic[e], rows[e], cols[e] = target.enum, row, column
            state.realised += 1
        state.locations.append((hic, rows, cols))
    for reason, count in lost.items():
        state.lost += count
        state.lost_reasons[reason] += count
    check_no_shared_synapse(state.network, state.locations)
    for h in weights:
        state.config.hicann(h).set_weights(weights[h])
        state.config.hicann(h).set_decoders(decoders[h])
    if state.lost and not state.options.allow_loss:
        raise ResourceError(f"{state.lost} of {state.realised + state.lost} synapses could not be realised ({dict(state.lost_reasons)}); "
                            f"pass allow_loss=True to accept, or allow more HICANNs, or more circuits per neuron "
                            f"(a packed synapse row serves one address per column of a neuron)")


def _columns_per_half(placed: list) -> list[tuple[list[int], list[int]]]:
    """Per placed neuron: its columns in the top and in the bottom synapse half, ascending (slot order)."""
    return [tuple(sorted(d.x for d in denmems if d.y == y) for y in (0, 1)) for _, denmems in placed]


def check_no_shared_synapse(network: Network, locations: list) -> None:
    """Two edges (same pre, post and sign, e.g. from two projections) on one synapse would silently keep one weight."""
    keys = np.concatenate([(h * 448 + r) * 256 + c for h, r, c in locations] or [np.zeros(0, dtype=np.int64)])
    where = np.concatenate([np.full(h.size, j) for j, (h, _, _) in enumerate(locations)] or [np.zeros(0, dtype=np.int64)])
    realised = keys >= 0
    keys, where = keys[realised], where[realised]
    unique, counts = np.unique(keys, return_counts=True)
    if unique.size == keys.size:
        return
    key = unique[np.flatnonzero(counts > 1)[0]]
    projections = sorted({int(j) for j in where[keys == key]})
    names = ", ".join(f"projections[{j}] {network.projections[j].pre}->{network.projections[j].post} ({network.projections[j].receptor})"
                      for j in projections)
    raise ConfigError(f"map_network: two edges share one synapse (same pre, post and sign): {names}; merge their weights into one projection")
