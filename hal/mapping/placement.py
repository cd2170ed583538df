"""Placement: neurons on circuits, their addresses and origins, and the sources' FPGA channels.

Neurons are logical neurons of ``k`` merged circuits on consecutive columns of a HICANN.
Populations that receive external sources are spread over enough HICANNs that each HICANN's
FPGA link stays within its input budget; the other populations follow, packed, on the HICANNs
east of them, in the order given. Disabled HICANNs and circuits are skipped. A neuron block's
spikes leave through its DNC merger, or, with ``merge_blocks``, one it shares with other blocks
through the merger tree (:mod:`hal.mapping.merger`); FPGA input enters through the channels no
neuron block uses (:func:`hal.hardware.recipes.configure_channel` for both).
"""

from __future__ import annotations

from collections import defaultdict

import attrs
import numpy as np

from hal import coordinates as C
from hal.calibration import apply_parameters
from hal.errors import ResourceError
from hal.hardware.recipes import ChannelSource, configure_channel, enable_highspeed_link
from hal.mapping.drivers import merge_all_circuits
from hal.mapping.l1 import sending_line
from hal.mapping.merger import assign_channels
from hal.mapping.partition import partition_targets
from hal.mapping.state import ADDRESSES, ChipState, MappingState, sending_line_broken

__all__ = ["place_populations", "configure_neurons", "place_sources"]

_MAX_HOPS = 3  # how far east ``_order_blocks`` looks for buses arriving on a fresh HICANN


@attrs.define
class _Placer:
    """The running state of :func:`place_populations`."""

    state: MappingState
    fed_cap: int  # neurons a HICANN with fed neurons may hold (it keeps FPGA channels for their sources)
    rng: np.random.Generator | None  # "random_hicanns" only
    targets: dict | None = None  # "partition" only: (population, neuron) -> target HICANN
    cursor: int = 0
    fed_chips: set = attrs.field(factory=set)
    blocks_placed: dict = attrs.field(factory=dict)  # (x, y) -> neurons per neuron block, finished populations
    # "partition": per target HICANN, the allowed ones nearest first (ties: chain order); sorted once per
    # target, not once per neuron that does not fit its target (most of a full wafer's placement time)
    nearest: dict = attrs.field(factory=dict)

    def fits(self, chip: ChipState, rate: float, is_fed: bool) -> bool:
        options = self.state.options
        cap = options.max_neurons_per_hicann
        room = chip.free_columns and (cap is None or chip.neurons < cap)
        channels = not (is_fed or chip.hicann in self.fed_chips) or chip.neurons < self.fed_cap
        return bool(room and channels and (rate == 0 or self.state.load[chip.hicann] + rate <= options.input_budget_hz))

    def target_chip(self, name: str, index: int, rate: float, is_fed: bool) -> ChipState | None:
        """"partition": the neuron's target HICANN if it fits there, else the nearest one with room (ties: chain order)."""
        chips = self.state.chips
        target = self.targets[(name, index)]
        if self.fits(chips[target], rate, is_fed):
            return chips[target]
        nearest = self.nearest.get(target)
        if nearest is None:
            chain = self.state.chain
            order = sorted(range(len(chain)), key=lambda i: (abs(chain[i].x - target.x) + abs(chain[i].y - target.y), i))
            nearest = self.nearest[target] = [chips[chain[i]] for i in order]
        return next((chip for chip in nearest if self.fits(chip, rate, is_fed)), None)

    def next_chip(self, rate: float, is_fed: bool, open_chips: list) -> ChipState | None:
        chips, chain = self.state.chips, self.state.chain
        if self.rng is None:
            while self.cursor < len(chain) and not self.fits(chips[chain[self.cursor]], rate, is_fed):
                self.cursor += 1
            return chips[chain[self.cursor]] if self.cursor < len(chain) else None
        # "random_hicanns": a HICANN drawn (seeded) from the allowed ones that still have room.
        while open_chips:
            i = int(self.rng.integers(len(open_chips)))
            if self.fits(chips[open_chips[i]], rate, is_fed):
                return chips[open_chips[i]]
            open_chips[i] = open_chips[-1]
            open_chips.pop()
        return None


def place_populations(state: MappingState) -> None:
    """Phase 1: every neuron on a HICANN and its circuits; fills ``state.placement`` and ``state.load``."""
    network, options = state.network, state.options
    fed = {p.post for p in network.projections if network.is_source(p.pre)}
    source_rate: dict[str, float] = defaultdict(float)
    for p in network.projections:
        if network.is_source(p.pre):
            source_rate[p.post] += network.size(p.pre) * options.source_rate_hz / max(1, network.size(p.post))
    # A HICANN hosting neurons fed by sources keeps FPGA channels free for them: b blocks of
    # 32/width neurons each leave 8 - b channels of 63 addresses.
    per_block = 32 // state.columns_per_neuron(options.circuits_per_neuron)
    fed_blocks = max(b for b in range(1, 8) if b * per_block <= (8 - b) * len(ADDRESSES))
    rng = np.random.default_rng([options.seed, 0x5CA7]) if options.placement == "random_hicanns" else None
    placer = _Placer(state, fed_blocks * per_block, rng)
    if options.placement == "partition":
        cap = options.max_neurons_per_hicann
        capacity = {h: min(len(c.free_columns), cap if cap is not None else 256) for h, c in state.chips.items()}
        placer.targets = partition_targets(state, per_block, capacity)
    ordered = [p for p in network.populations if p.name in fed] + [p for p in network.populations if p.name not in fed]
    for pop in ordered:
        _place_population(placer, pop, source_rate.get(pop.name, 0.0), pop.name in fed)


def _place_population(placer: _Placer, pop, rate: float, is_fed: bool) -> None:
    state, options = placer.state, placer.state.options
    k = options.circuits_per_neuron
    width = state.columns_per_neuron(k)
    placed = []
    open_chips = list(state.chain)
    for i in range(pop.size):
        chip = placer.target_chip(pop.name, i, rate, is_fed) if placer.targets is not None else placer.next_chip(rate, is_fed, open_chips)
        if chip is None:
            raise ResourceError(
                f"placement: {state.network.n_neurons} neurons of {k} circuits (and {state.network.n_sources} sources at "
                f"{options.source_rate_hz} Hz, budget {options.input_budget_hz:.0f} Hz per HICANN link) do not fit the "
                f"{len(state.chips)} allowed HICANNs ({_names(state.chain)}); population {pop.name!r} stopped at neuron "
                f"{len(placed)} of {pop.size}: allow more HICANNs (MappingOptions.hicanns; hal map --hicann/--rect/--reticle, "
                f"by default the whole wafer)"
            )
        if chip.neurons == 0 and placer.targets is None:  # "partition" keeps a unit's neurons on consecutive columns
            _order_blocks(chip, placer.blocks_placed, fed_chips=[h for h in state.chain if state.chips[h].neurons] if is_fed else None)
            if options.placement == "random":
                _shuffle_within_blocks(chip, np.random.default_rng([options.seed, chip.hicann.enum]))
        x = chip.free_columns.pop(0)
        denmems = tuple(C.NeuronOnHICANN(x=x + dx, y=y) for y in ((0,) if k == 1 else (0, 1)) for dx in range(width))
        placed.append((chip.hicann, denmems))
        chip.neurons += 1
        state.load[chip.hicann] += rate
        if is_fed:
            placer.fed_chips.add(chip.hicann)
    state.placement[pop.name] = placed
    for h, denmems in placed:
        placer.blocks_placed.setdefault((h.x, h.y), np.zeros(8, dtype=np.int64))[denmems[0].x // 32] += 1
    if is_fed and placer.rng is None and placer.cursor + 1 < len(state.chips):
        placer.cursor += 1  # the next population starts on a fresh HICANN east of the inputs, if there is one


def _names(hicanns: list) -> str:
    """HICANN enums for a message: all of a short list, the first ones of a long one."""
    shown = ", ".join(str(h.enum) for h in hicanns[:12])
    return shown + (f", ... ({len(hicanns) - 12} more)" if len(hicanns) > 12 else "")


def configure_neurons(state: MappingState) -> None:
    """Merge each neuron's circuits, give it an L1 address, set its parameters; open the neuron blocks' channels.

    Each neuron block sends through the DNC merger :func:`hal.mapping.merger.assign_channels`
    gives it (its own, or one shared with other blocks through the merger tree); the neurons
    on one DNC merger get distinct addresses.
    """
    config, options = state.config, state.options
    assign_channels(state)
    for pop in state.network.populations:
        # Per HICANN: the neurons, and (first circuit, address) of each -- written one field at a time for all of them.
        neurons_on, firing_on = defaultdict(list), defaultdict(list)
        for i, (h, denmems) in enumerate(state.placement[pop.name]):
            chip = state.chips[h]
            channel = chip.channel_of[denmems[0].x // 32]  # its neuron block
            address = ADDRESSES[chip.channel_count[channel]]
            chip.channel_count[channel] += 1
            neurons_on[h].append(denmems)
            firing_on[h].append((denmems[0].enum, address))
            state.address_of[(pop.name, i)] = (h, channel, address)
        for h, neurons in neurons_on.items():
            chip_cfg = config.hicann(h)
            merge_all_circuits(chip_cfg, neurons)
            first, addresses = zip(*firing_on[h])
            first = list(first)
            chip_cfg.neurons.set_column("activate_firing", 1, index=first)
            chip_cfg.neurons.set_column("enable_spl1_output", 1, index=first)
            chip_cfg.neurons.set_column("l1_address", np.array(addresses), index=first)
            apply_parameters(chip_cfg, h, [d for denmems in neurons for d in denmems], pop.params, state.calibration, options.domains,
                             clip=options.calibration_clip)
    for h, chip in state.chips.items():
        if not chip.channel_count:
            continue
        cfg = config.hicann(h)
        for channel in chip.channel_count:
            blocks = [b for b, c in chip.channel_of.items() if c == channel]
            configure_channel(cfg, C.DNCMergerOnHICANN(channel), ChannelSource.NEURON_BLOCK, record=True, blocks=blocks)
            state.l1.claim_origin(h, channel)
        enable_highspeed_link(config, h)


def place_sources(state: MappingState) -> None:
    """Each source on an FPGA channel no neuron block uses, on the HICANN of its first target; fills ``state.source_address``.

    When that HICANN's input channels are full, the source goes to the HICANN of a later target
    with room, then to any allowed HICANN with room (its bus reaches the targets over L1); only
    if none has room does it raise. A network whose sources fit their first targets' HICANNs
    is placed as before. With ``spread_sources``, a source goes to the HICANN among its targets'
    that holds the fewest sources so far (ties: the first target's), spreading the input over links.
    """
    network = state.network
    for src in network.sources:
        addresses = [None] * src.size
        # each target projection's edges once (not once per source: a list connector converts its pairs each time)
        targets = [(p, *p.edges(src.size, network.size(p.post))) for p in network.projections if p.pre == src.name]
        for s in range(src.size):
            hosts = []
            for p, pre, post in targets:
                hosts.extend(state.placement[p.post][int(b)][0] for b in post[pre == s])
            if hosts:
                hosts = list(dict.fromkeys(hosts))  # first target's HICANN first
                if state.options.spread_sources:
                    hosts.sort(key=lambda h: sum(state.chips[h].source_count.values()))  # stable: ties keep target order
                host = next((h for h in hosts + state.chain if _free_channel(state, state.chips[h]) is not None), hosts[0])
                addresses[s] = _source_slot(state, state.chips[host], s, src.name)
        state.source_address[src.name] = addresses


def _input_channels(state: MappingState, chip: ChipState) -> list[int]:
    """The channels of ``chip`` that may carry FPGA input: no neuron block on them, sending line and repeater whole."""
    return [c for c in range(8) if c not in chip.channel_count and not sending_line_broken(chip.hicann.enum, c, state.options)]


def _free_channel(state: MappingState, chip: ChipState) -> int | None:
    """The input channel the next source on ``chip`` takes (round-robin: each reaches only 28 drivers directly), or None when full."""
    free = _input_channels(state, chip)
    if not free:
        return None
    channel = min(free, key=lambda c: chip.source_count[c])
    return channel if chip.source_count[channel] < len(ADDRESSES) else None


def _source_slot(state: MappingState, chip: ChipState, index: int, name: str) -> C.InputAddress:
    free = _input_channels(state, chip)
    if not free:
        raise ResourceError(f"{chip.hicann!r}: all 8 channels carry neuron blocks or have a broken sending line / repeater; "
                            f"no FPGA input channel left for source {name}[{index}]")
    counts = chip.source_count
    channel = _free_channel(state, chip)
    if channel is None:
        raise ResourceError(f"{chip.hicann!r}: input channels full ({len(free)} x {len(ADDRESSES)} addresses) at source {name}[{index}]")
    address = ADDRESSES[counts[channel]]
    counts[channel] += 1
    if counts[channel] == 1:
        configure_channel(state.config.hicann(chip.hicann), C.DNCMergerOnHICANN(channel), ChannelSource.FPGA, record=False)
        state.l1.claim_origin(chip.hicann, channel)
    enable_highspeed_link(state.config, chip.hicann)
    return C.InputAddress(chip.hicann, channel, address)


def _order_blocks(chip: ChipState, blocks_placed: dict, fed_chips: list | None) -> None:
    """Order a fresh HICANN's free columns so that its neuron blocks use lightly loaded driver groups.

    Lines 8n..8n+7 reach the same 28 drivers. Input HICANNs take their blocks in rotation (so that
    two of them do not send into the same groups downstream); other HICANNs prefer blocks whose
    own line group receives the fewest events arriving from HICANNs west of them
    (``blocks_placed``: HICANN -> neurons per neuron block, of the populations placed so far).
    """
    if fed_chips is not None:
        start = (4 * len(fed_chips)) % 8
        rank = {b: (b - start) % 8 for b in range(8)}
    else:
        load = np.zeros(8)
        here = chip.hicann
        for d in range(1, _MAX_HOPS + 1):
            counts = blocks_placed.get((here.x - d, here.y))
            if counts is None:
                continue
            for b in np.flatnonzero(counts):
                load[((sending_line(int(b)) + 2 * d) % 64) // 8] += counts[b]
        rank = {b: (load[sending_line(b) // 8], b) for b in range(8)}
    chip.free_columns.sort(key=lambda x: (rank[x // 32], x))


def _shuffle_within_blocks(chip: ChipState, rng: np.random.Generator) -> None:
    """Shuffle the free columns inside each neuron block, keeping the blocks' order."""
    out, group = [], []
    for x in chip.free_columns + [None]:
        if group and (x is None or x // 32 != group[0] // 32):
            out.extend(rng.permutation(group).tolist())
            group = []
        if x is not None:
            group.append(x)
    chip.free_columns = out
