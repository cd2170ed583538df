"""From wiring plus playback to an event-level netlist that any simulator can integrate.

Sources are the distinct (origin, L1 address) pairs that carry input events
(FPGA playback or background generators); connections run from sources or
neurons to neurons with a hardware-domain peak conductance. Everything stays in
hardware units (ticks, nS); each backend converts to what its integrator wants.
"""

from __future__ import annotations

import attrs
import numpy as np

from hal import coordinates as C
from hal.analog.domains import TICKS_PER_HW_SECOND
from hal.backend.events import HardwareEvents, sort_order
from hal.netlist.wiring import Wiring

__all__ = ["Netlist", "build_netlist", "background_trains", "trace_events"]

#: L1 addresses per origin and DNC merger channels per HICANN: the key spaces of the lookup tables.
_ADDRESSES = C.L1Address.size
_CHANNELS = C.DNCMergerOnHICANN.size


@attrs.frozen(eq=False)
class Netlist:
    """Sources, connections and input events of one run (see the module docstring).

    ``pre`` indexes sources (``< n_sources``) or neurons (``n_sources + k``).
    ``synapse`` gives each connection's (hicann enum, row, column), so that a
    backend can apply per-synapse or per-driver deviations.
    """

    n_sources: int
    n_neurons: int
    source_keys: np.ndarray
    pre: np.ndarray
    post: np.ndarray
    conductance_ns: np.ndarray
    excitatory: np.ndarray
    synapse_hicann: np.ndarray
    synapse_row: np.ndarray
    synapse_column: np.ndarray
    in_sample: np.ndarray
    in_time: np.ndarray  # ticks
    in_source: np.ndarray
    in_link: np.ndarray  # HICANN enum the event enters through (its FPGA highspeed link)
    unrouted: int

    @property
    def n_connections(self) -> int:
        return int(self.pre.size)


def background_trains(wiring: Wiring, duration_ticks: int, seed: int) -> list[tuple[int, np.ndarray]]:
    """(source key, spike ticks) of every background generator that reaches L1; the same in each sample."""
    out = []
    for origin, address, period, random, bg_seed in wiring.background:
        f_mhz = wiring.pll_mhz[wiring.origins[origin].hicann]
        if period == 0 or f_mhz <= 0:
            continue
        isi = period / (f_mhz * 1e6) * TICKS_PER_HW_SECOND
        if random:
            rng = np.random.default_rng([bg_seed, seed])
            n = int(duration_ticks / isi * 1.5) + 10
            ticks = np.cumsum(rng.exponential(isi, size=n))
        else:
            ticks = np.arange(isi, duration_ticks, isi)
        ticks = np.rint(ticks).astype(np.int64)
        out.append((origin * _ADDRESSES + address, ticks[ticks < duration_ticks]))
    return out


def build_netlist(wiring: Wiring, playback: HardwareEvents, n_samples: int, duration_ticks: int, seed: int = 0) -> Netlist:
    """The netlist of one run: playback events that the configuration accepts become source spikes.

    The steps: which playback events the configuration accepts (:func:`_accept_playback`), the
    sources they and the background generators make (:func:`_sources`), the connections from
    sources and neurons (:func:`_connections`), and the input events of every sample
    (:func:`_input_events`).
    """
    syn = wiring.synapses
    accepted, accepted_keys = _accept_playback(wiring, playback)
    bg = background_trains(wiring, duration_ticks, seed)
    source_keys, source_index = _sources(wiring, accepted_keys, bg)
    pre, which = _connections(wiring, source_index, int(source_keys.size))

    def take(column: np.ndarray) -> np.ndarray:
        return column if which is None else column[which]

    in_sample, in_time, in_source, in_link = _input_events(wiring, playback, accepted, source_index[accepted_keys], bg, source_index,
                                                           n_samples)
    return Netlist(
        n_sources=int(source_keys.size),
        n_neurons=len(wiring.neurons),
        source_keys=source_keys,
        pre=pre,
        post=take(syn.post),
        conductance_ns=take(syn.conductance_ns),
        excitatory=take(syn.excitatory),
        synapse_hicann=take(syn.hicann),
        synapse_row=take(syn.row),
        synapse_column=take(syn.column),
        in_sample=in_sample,
        in_time=in_time,
        in_source=in_source,
        in_link=in_link,
        unrouted=int(np.count_nonzero(~accepted)),
    )


# Keys ``origin * 64 + address`` name what an origin carries: they are dense and small
# (< 64 per origin), so the steps look them up in tables instead of sorting or searching
# millions of events.


def _n_keys(wiring: Wiring) -> int:
    return _ADDRESSES * max(len(wiring.origins), 1)


def _accept_playback(wiring: Wiring, pb: HardwareEvents) -> tuple[np.ndarray, np.ndarray]:
    """(accepted, keys of the accepted): playback events that enter at an origin taking FPGA input."""
    # Dense lookup (hicann, channel) -> origin index; -1 where no origin exists.
    origin_table = np.full(C.HICANNOnWafer.size * _CHANNELS, -1, dtype=np.int64)
    for i, o in enumerate(wiring.origins):
        origin_table[o.hicann.enum * _CHANNELS + o.channel] = i
    if len(pb):
        pb_origin = origin_table[pb.hicann.astype(np.int64) * _CHANNELS + pb.channel.astype(np.int64)]
    else:
        pb_origin = np.zeros(0, dtype=np.int64)
    is_input = np.zeros(len(wiring.origins) + 1, dtype=bool)  # the last entry answers for "no origin" (-1)
    is_input[list(wiring.input_origins)] = True
    accepted = is_input[pb_origin] if len(pb) else np.zeros(0, dtype=bool)
    keys = pb_origin * _ADDRESSES + pb.address.astype(np.int64)
    return accepted, keys[accepted]


def _sources(wiring: Wiring, accepted_keys: np.ndarray, bg: list[tuple[int, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """(source keys ascending, key -> source index or -1): every key that carries playback or background events."""
    n_keys = _n_keys(wiring)
    used = np.zeros(n_keys, dtype=bool)
    used[accepted_keys] = True
    used[np.array([k for k, _ in bg], dtype=np.int64)] = True
    source_keys = np.flatnonzero(used)
    source_index = np.full(n_keys, -1, dtype=np.int64)
    source_index[source_keys] = np.arange(source_keys.size)
    return source_keys, source_index


def _connections(wiring: Wiring, source_index: np.ndarray, n_sources: int) -> tuple[np.ndarray, np.ndarray | None]:
    """(pre, which): each connection's presynaptic index and the synapse-table entry it uses.

    Connections from sources come first, in table order; then those from neurons: a neuron's
    spikes carry its address into its origin (and those of :attr:`Wiring.fanout`), and every synapse listening there fires; they
    follow the neuron order, each neuron's synapses in table order. ``which`` is None when the
    connections are the synapse table itself (every synapse fed by exactly one source, no
    neuron feeding any: a full wafer of background input), so that its columns are shared
    instead of copying 44 M entries.
    """
    syn = wiring.synapses
    syn_key = syn.origin * _ADDRESSES + syn.address
    syn_source = source_index[syn_key]
    sender = np.flatnonzero(wiring.neuron_origin >= 0)
    sender = sender[[wiring.neurons[k].address is not None for k in sender]] if sender.size else sender
    sender_origin = wiring.neuron_origin[sender]
    if wiring.fanout:  # blocks the merger tree sends to further DNC mergers: their neurons send into those buses too
        extra = np.array(wiring.fanout, dtype=np.int64).reshape(-1, 2)
        order = np.argsort(np.concatenate([sender, extra[:, 0]]), kind="stable")
        sender = np.concatenate([sender, extra[:, 0]])[order]
        sender_origin = np.concatenate([sender_origin, extra[:, 1]])[order]
    sender_key = sender_origin * _ADDRESSES + np.array([wiring.neurons[k].address for k in sender], dtype=np.int64)
    listened = np.zeros(_n_keys(wiring), dtype=bool)
    listened[sender_key] = True
    candidates = np.flatnonzero(listened[syn_key])
    candidates = candidates[np.argsort(syn_key[candidates], kind="stable")]
    lo = np.searchsorted(syn_key[candidates], sender_key, side="left")
    hits = np.searchsorted(syn_key[candidates], sender_key, side="right") - lo
    if not hits.any() and bool(np.all(syn_source >= 0)):
        return syn_source.astype(np.int64, copy=False), None
    from_source = np.flatnonzero(syn_source >= 0)
    first = np.repeat(lo - (np.cumsum(hits) - hits), hits) + np.arange(int(hits.sum()))
    pre = np.concatenate([syn_source[from_source], np.repeat(n_sources + sender, hits)]).astype(np.int64)
    which = np.concatenate([from_source, candidates[first]]).astype(np.int64)
    return pre, which


def _input_events(wiring: Wiring, pb: HardwareEvents, accepted: np.ndarray, accepted_sources: np.ndarray,
                  bg: list[tuple[int, np.ndarray]], source_index: np.ndarray, n_samples: int) -> tuple[np.ndarray, ...]:
    """(sample, tick, source, link) of every input event, sorted by sample then time.

    The accepted playback events, then each background train in every sample; ``link`` is the
    HICANN enum whose highspeed link an event enters through, ``-1 - hicann`` for events made
    on the wafer.
    """
    in_sample = [pb.sample[accepted].astype(np.int64)]
    in_time = [pb.time[accepted].astype(np.int64)]
    in_source = [accepted_sources]
    in_link = [pb.hicann[accepted].astype(np.int64)]
    for key, ticks in bg:
        src = int(source_index[key])
        hicann = wiring.origins[key // _ADDRESSES].hicann.enum
        for s in range(n_samples):
            in_sample.append(np.full(ticks.size, s))
            in_time.append(ticks)
            in_source.append(np.full(ticks.size, src))
            in_link.append(np.full(ticks.size, -1 - hicann))  # on-wafer: not through a link
    in_sample_a = np.concatenate(in_sample)
    in_time_a = np.concatenate(in_time)
    order = sort_order(in_sample_a, in_time_a)
    if order is None:
        order = slice(None)
    return (in_sample_a[order], in_time_a[order], np.concatenate(in_source).astype(np.int64)[order],
            np.concatenate(in_link).astype(np.int64)[order])


def trace_events(wiring: Wiring, sample: np.ndarray, ticks: np.ndarray, neuron: np.ndarray, config, duration_ticks: int) -> HardwareEvents:
    """Spikes of neurons (sample, tick, neuron index) -> the FPGA trace they produce.

    Only neurons whose spikes reach an FPGA channel appear; the FPGA's trace
    filter drops address-0 events where it is enabled.
    """
    # Integer arrays even when empty: a run without neurons passes plain empty lists.
    sample, ticks, neuron = (np.asarray(a, dtype=np.int64) for a in (sample, ticks, neuron))
    keep = wiring.recorded[neuron] & (ticks >= 0) & (ticks < duration_ticks) if neuron.size else np.zeros(0, dtype=bool)
    sample, ticks, neuron = sample[keep], ticks[keep], neuron[keep]
    origin = wiring.neuron_origin[neuron]
    hicann = np.array([o.hicann.enum for o in wiring.origins], dtype=np.int64)[origin] if origin.size else np.zeros(0, np.int64)
    channel = np.array([o.channel for o in wiring.origins], dtype=np.int64)[origin] if origin.size else np.zeros(0, np.int64)
    addresses = np.array([n.address if n.address is not None else -1 for n in wiring.neurons], dtype=np.int64)
    trace = HardwareEvents(sample, ticks, hicann, channel, addresses[neuron]).sorted()
    if len(trace):
        drop = np.zeros(len(trace), dtype=bool)
        for fpga, cfg in config.fpgas():
            if cfg.control.value.drop_background_events:
                drop |= np.isin(trace.hicann, [h.enum for h in fpga.hicanns()]) & (trace.address == 0)
        trace = trace.select(~drop)
    return trace
