"""Mapping a :class:`~hal.network.Network` onto the wafer: placement, routing, parameter translation.

Algorithm (one page in ``docs/mapping.md``):

1. **Placement.** Neurons are logical neurons of ``k`` merged circuits (1, 2 or 4) on
   consecutive columns of a HICANN. Populations that receive external sources are spread over
   enough HICANNs that each HICANN's FPGA link stays within its input budget (80 % of
   17.8 MHz hardware, as marocco); the other populations follow, packed, on the HICANNs east
   of them, in the order given. HICANNs come from a row of the wafer, west to east; disabled
   HICANNs and circuits (the defect list) are skipped.
2. **Origins.** A neuron block's spikes leave through its DNC merger; FPGA input enters
   through the channels no neuron block uses. Each origin drives one L1 line (its sending
   repeater).
3. **Buses.** An origin reaches synapse drivers on its own HICANN, and on HICANNs up to
   three places east along its horizontal line through forwarding repeaters (each hop moves
   the line by 2). A line carries one origin; a conflict is a routing failure.
4. **Drivers and rows.** On every target HICANN, each (pre-synaptic neuron or source, sign)
   gets a synapse row; a driver holds an excitatory and an inhibitory row of one pre, or two
   rows of one kind. Drivers are fed from the arriving line through crossbar and synapse
   switches; an origin short of directly reachable drivers extends chains (``d -> d+2``).
5. **Synapses.** Row decoders take the pre's L1 address MSBs, synapse decoders its LSBs; the
   weight sits at the post neuron's column in the row's half.
6. **Parameters** through a calibration (nominal by default).

What does not fit raises :class:`ResourceError` naming the resource and by how much, unless
``allow_loss`` is set, in which case the lost synapses are counted and listed.
"""

from __future__ import annotations

from collections import defaultdict

import attrs
import numpy as np
import structlog

from hal import coordinates as C
from hal.calibration import Calibration, apply_parameters
from hal.domains import PAPER_DOMAINS, Domains
from hal.errors import ConfigError, ResourceError
from hal.hardware.hicann import GbitDirection, MergerMode, RepeaterMode
from hal.hardware.wafer import WaferConfig
from hal.network import Network
from hal.routing import allocate_drivers, merge_circuits

__all__ = ["MappingOptions", "MappingResult", "map_network", "INPUT_BUDGET_HZ_PER_HICANN", "CIRCUITS_PER_NEURON"]

#: Circuits per logical neuron: one denmem, a column, or 1..16 whole quads (up to one neuron block).
CIRCUITS_PER_NEURON = (1, 2, 4, 8, 16, 32, 64)

log = structlog.get_logger(__name__)

#: 80 % of 17.8 MHz hardware per HICANN link, in biological Hz at speed-up 10^4 (marocco's budget).
INPUT_BUDGET_HZ_PER_HICANN = 0.8 * 17.8e6 / 1e4
_ADDRESSES = tuple(range(1, 64))
_MAX_HOPS = 3


def _default_chain() -> tuple[C.HICANNOnWafer, ...]:
    return tuple(C.HICANNOnWafer.from_xy(x, 7) for x in range(12, 24))


@attrs.frozen
class MappingOptions:
    """How to map: circuits per neuron, which HICANNs, expected source rates, loss policy, calibration."""

    circuits_per_neuron: int = 4
    hicanns: tuple[C.HICANNOnWafer, ...] = attrs.field(factory=_default_chain, converter=tuple)
    source_rate_hz: float = 25.0  # expected mean rate per source, for the link budget
    input_budget_hz: float = INPUT_BUDGET_HZ_PER_HICANN
    max_neurons_per_hicann: int | None = None
    allow_loss: bool = False
    disabled_hicanns: frozenset = frozenset()
    disabled_circuits: frozenset = frozenset()  # (hicann enum, denmem enum)
    disabled_drivers: frozenset = frozenset()  # (hicann enum, driver)
    calibration: Calibration | None = None
    domains: Domains = PAPER_DOMAINS
    # "compact": neurons on consecutive columns; "random": a seeded shuffle of the columns inside the
    # neuron blocks a HICANN uses (other circuits -- another fixed pattern -- with the same routing).
    placement: str = "compact"
    seed: int = 0

    @classmethod
    def with_defects(cls, store, wafer: int, **kwargs) -> MappingOptions:
        """Options that avoid every component on the wafer's defect list (``hal defects``)."""
        defects = store.defects(wafer)
        hicanns = {d.hicann for d in defects if d.component == "hicann"}
        for d in defects:
            if d.component == "fpga":
                hicanns |= {h.enum for h in C.FPGAOnWafer(d.item).hicanns()}
        return cls(
            disabled_hicanns=frozenset(hicanns),
            disabled_circuits=frozenset((d.hicann, d.item) for d in defects if d.component == "neuron"),
            disabled_drivers=frozenset((d.hicann, d.item) for d in defects if d.component == "synapse_driver"),
            **kwargs,
        )

    def __attrs_post_init__(self):
        if self.circuits_per_neuron not in CIRCUITS_PER_NEURON:
            raise ConfigError(f"MappingOptions.circuits_per_neuron: {self.circuits_per_neuron} not supported; valid {', '.join(map(str, CIRCUITS_PER_NEURON))}")
        if not self.hicanns:
            raise ConfigError("MappingOptions.hicanns: empty; give the HICANNs the mapping may use, west to east")
        if self.placement not in ("compact", "random"):
            raise ConfigError(f"MappingOptions.placement: {self.placement!r} not valid; valid compact, random")


@attrs.frozen(eq=False)
class MappingResult:
    """Where everything went, what was realised and what was lost."""

    network: Network
    placement: dict  # population -> list of (hicann, tuple of denmems) per neuron
    source_address: dict  # source population -> list of InputAddress per source
    synapse_location: list  # per projection: (hicann enum, row, column) arrays, -1 where lost
    synapses: int
    synapses_lost: int
    lost_reasons: dict
    hicanns_used: tuple
    fpgas_used: tuple
    resources: dict  # per HICANN: neurons, circuits, drivers, chained drivers, lines
    input_load_hz: dict  # per HICANN link: predicted input rate (bio Hz)

    def neurons_of(self, population: str) -> list:
        return self.placement[population]

    def set_weights(self, config: WaferConfig, projection: int, bits) -> None:
        """New 4-bit weights for one projection's synapses (in its edge order); only weights change."""
        hic, row, col = self.synapse_location[projection]
        w = np.asarray(bits)
        if w.shape != row.shape:
            raise ConfigError(f"set_weights: {w.shape} weights for projection {projection} with {row.size} synapses")
        if w.size and (w.min() < 0 or w.max() > 15):
            raise ConfigError(f"set_weights: values {int(w.min())}..{int(w.max())}; valid 0..15")
        for h in np.unique(hic[hic >= 0]):
            sel = hic == h
            config.hicann(C.HICANNOnWafer(int(h))).set_weights(w[sel], rows=row[sel], columns=col[sel])

    def summary(self) -> dict:
        return {
            "hicanns": len(self.hicanns_used),
            "fpgas": len(self.fpgas_used),
            "synapses": self.synapses,
            "synapses_lost": self.synapses_lost,
            "lost_reasons": self.lost_reasons,
            "neurons": self.network.n_neurons,
            "per_hicann": {str(k): v for k, v in self.resources.items()},
            "input_load_hz": {str(k): v for k, v in self.input_load_hz.items()},
            "input_budget_hz": INPUT_BUDGET_HZ_PER_HICANN,
        }


class _Chip:
    """Allocation state of one HICANN."""

    def __init__(self, hicann: C.HICANNOnWafer, width: int, disabled: frozenset, disabled_drivers: frozenset):
        self.hicann = hicann
        self.width = width
        self.free_columns = [x for x in range(0, 256, width)
                             if not any((hicann.enum, C.NeuronOnHICANN(x=x + dx, y=y).enum) in disabled for dx in range(width) for y in (0, 1))]
        self.free_drivers = {d for d in range(224) if (hicann.enum, d) not in disabled_drivers}
        self.lines_used: dict[int, object] = {}
        self.block_count: dict[int, int] = defaultdict(int)
        self.neurons = 0
        self.chained = 0


def map_network(network: Network, wafer: C.Wafer = C.Wafer(0), options: MappingOptions = MappingOptions()) -> tuple[WaferConfig, MappingResult]:
    """Map ``network``; returns the register configuration and the mapping result."""
    if not isinstance(network, Network):
        raise ConfigError(f"map_network: expected a Network, got {type(network).__name__}")
    k = options.circuits_per_neuron
    width = 1 if k == 1 else k // 2  # columns per neuron (both rows from 2 circuits on)
    chain = [h for h in options.hicanns if h.enum not in options.disabled_hicanns]
    chips = {h: _Chip(h, width, options.disabled_circuits, options.disabled_drivers) for h in chain}
    cap = options.max_neurons_per_hicann
    config = WaferConfig(wafer)

    # 1. Placement.
    fed = {p.post for p in network.projections if network.is_source(p.pre)}
    source_rate = defaultdict(float)
    for p in network.projections:
        if network.is_source(p.pre):
            source_rate[p.post] += network.size(p.pre) * options.source_rate_hz / max(1, network.size(p.post))
    placement: dict[str, list] = {}
    # A HICANN hosting neurons fed by sources keeps FPGA channels free for them: b blocks of
    # 32/width neurons each leave 8 - b channels of 63 addresses.
    per_block = 32 // width
    fed_blocks = max(b for b in range(1, 8) if b * per_block <= (8 - b) * len(_ADDRESSES))
    fed_cap = fed_blocks * per_block
    cursor = 0
    load: dict[C.HICANNOnWafer, float] = defaultdict(float)
    ordered = [p for p in network.populations if p.name in fed] + [p for p in network.populations if p.name not in fed]
    for pop in ordered:
        per_neuron_rate = source_rate.get(pop.name, 0.0)
        placed = []
        for _ in range(pop.size):
            while cursor < len(chain):
                chip = chips[chain[cursor]]
                room = chip.free_columns and (cap is None or chip.neurons < cap) and (pop.name not in fed or chip.neurons < fed_cap)
                fits_budget = per_neuron_rate == 0 or load[chip.hicann] + per_neuron_rate <= options.input_budget_hz
                if room and fits_budget:
                    break
                cursor += 1
            if cursor >= len(chain):
                need = network.n_neurons
                raise ResourceError(
                    f"placement: {need} neurons of {k} circuits (and {network.n_sources} sources at {options.source_rate_hz} Hz, "
                    f"budget {options.input_budget_hz:.0f} Hz per HICANN link) do not fit the {len(chain)} allowed HICANNs; "
                    f"population {pop.name!r} stopped at neuron {len(placed)} of {pop.size}: allow more HICANNs"
                )
            chip = chips[chain[cursor]]
            if chip.neurons == 0:
                _order_blocks(chip, placement, fed_chips=[h for h in chain[:cursor] if chips[h].neurons] if pop.name in fed else None)
                if options.placement == "random":
                    _shuffle_within_blocks(chip, np.random.default_rng([options.seed, chip.hicann.enum]))
            x = chip.free_columns.pop(0)
            denmems = tuple(C.NeuronOnHICANN(x=x + dx, y=y) for y in ((0,) if k == 1 else (0, 1)) for dx in range(width))
            placed.append((chip.hicann, denmems))
            chip.neurons += 1
            load[chip.hicann] += per_neuron_rate
        placement[pop.name] = placed
        if pop.name in fed:
            cursor += 1  # the next population starts on a fresh HICANN, east of the inputs

    # Configure neurons, addresses and output origins.
    address_of: dict[tuple[str, int], tuple[C.HICANNOnWafer, int, int]] = {}
    for pop in network.populations:
        for i, (h, denmems) in enumerate(placement[pop.name]):
            chip_cfg = config.hicann(h)
            merge_circuits(chip_cfg, denmems)
            block = denmems[0].to_neuron_block().value
            state = chips[h]
            address = _ADDRESSES[state.block_count[block]]
            state.block_count[block] += 1
            chip_cfg.neurons.update(denmems[0], activate_firing=True, enable_spl1_output=True, l1_address=address)
            address_of[(pop.name, i)] = (h, block, address)
        calibration = options.calibration or Calibration.nominal()
        by_chip = defaultdict(list)
        for h, denmems in placement[pop.name]:
            by_chip[h].extend(denmems)
        for h, denmems in by_chip.items():
            apply_parameters(config.hicann(h), h, denmems, pop.params, calibration, options.domains)
    for h, state in chips.items():
        if not state.block_count:
            continue
        cfg = config.hicann(h)
        for block in state.block_count:
            cfg.mergers.update(block, mode=MergerMode.RIGHT_ONLY)
            cfg.dnc_mergers.update(block, mode=MergerMode.LEFT_ONLY)
            cfg.gbit_links.update(block, direction=GbitDirection.TO_DNC)
            sending = C.DNCMergerOnHICANN(block).to_sending_repeater()
            cfg.h_repeaters.update(sending.to_hrepeater(), mode=RepeaterMode.OUTPUT)
            state.lines_used[sending.to_hline().value] = ("origin", h.enum, block)
        config.fpga(h.to_fpga()).links.update(h.to_highspeed_link(), enable=True)

    # Sources: FPGA channels not used by neuron blocks, on the HICANN of their first target.
    source_address: dict[str, list] = {}
    for src in network.sources:
        addresses = [None] * src.size
        targets = [p for p in network.projections if p.pre == src.name]
        for s in range(src.size):
            host = None
            for p in targets:
                pre, post = p.edges(src.size, network.size(p.post))
                hit = post[pre == s]
                if hit.size:
                    host = placement[p.post][int(hit[0])][0]
                    break
            if host is None:
                continue
            addresses[s] = _source_slot(config, chips[host], s, src.name)
        source_address[src.name] = addresses

    # 2-5. Rows, drivers, buses, synapses.
    edges = []  # per projection: (pre keys, post neuron index, bits, exc)
    row_needs: dict[C.HICANNOnWafer, dict[tuple, list]] = defaultdict(lambda: defaultdict(list))
    for j, proj in enumerate(network.projections):
        n_pre, n_post = network.size(proj.pre), network.size(proj.post)
        pre, post = proj.edges(n_pre, n_post)
        bits = proj.bits(pre, post, network.ns_per_weight_bit)
        exc = proj.receptor == "excitatory"
        keys = []
        for a, b in zip(pre.tolist(), post.tolist()):
            if network.is_source(proj.pre):
                ia = source_address[proj.pre][a]
                origin = (ia.hicann, ia.channel)
                address = ia.address
            else:
                h, block, address = address_of[(proj.pre, a)]
                origin = (h, block)
            target = placement[proj.post][b][0]
            keys.append((origin, address, exc, target))
            row_needs[target][origin].append((address, exc))
        edges.append((keys, post, bits))

    lost_reasons: dict[str, int] = defaultdict(int)
    row_of: dict[tuple, int] = {}
    unreachable: set = set()
    for target, per_origin in row_needs.items():
        chip = chips[target]
        cfg = config.hicann(target)
        demands = {}
        for origin, needs in per_origin.items():
            line = _bring_line(config, chips, origin, target)
            if line is None:
                unreachable.add((origin, target))
                continue
            pairs = _pair_rows(sorted(set(needs)))
            demands[origin] = (line, pairs)
        assigned, chained = allocate_drivers(cfg, chip.free_drivers, {o: (line, len(pairs)) for o, (line, pairs) in demands.items()})
        chip.chained += chained
        for origin, drivers in assigned.items():
            for driver, (first, second) in zip(drivers, demands[origin][1]):
                rows = C.SynapseDriverOnHICANN(driver).rows()
                for row, need in zip(rows, (first, second)):
                    if need is None:
                        continue
                    address, exc = need
                    cfg.synapse_rows.update(row, input_excitatory=exc, input_inhibitory=not exc,
                                            decoder_even=address >> 4, decoder_odd=address >> 4, sel_gmax=0)
                    row_of[(origin, address, exc, target)] = row.value

    # Synapses.
    locations = []
    realised = lost = 0
    weights = {h: config.hicann(h).weights for h in row_needs}
    decoders = {h: config.hicann(h).decoders for h in row_needs}
    for j, (keys, post, bits) in enumerate(edges):
        proj = network.projections[j]
        hic = np.full(len(keys), -1, dtype=np.int64)
        rows = np.full(len(keys), -1, dtype=np.int64)
        cols = np.full(len(keys), -1, dtype=np.int64)
        for e, (key, b, w) in enumerate(zip(keys, post.tolist(), bits.tolist())):
            row = row_of.get(key)
            if row is None:
                lost += 1
                lost_reasons["unreachable bus" if (key[0], key[3]) in unreachable else "no synapse driver"] += 1
                continue
            target = key[3]
            y = 0 if row < 224 else 1
            column = next((d.x for d in placement[proj.post][b][1] if d.y == y), None)
            if column is None:
                lost += 1
                lost_reasons["no circuit of the neuron in that synapse half (use 2 or 4 circuits per neuron)"] += 1
                continue
            weights[target][row, column] = w
            decoders[target][row, column] = key[1] & 15
            hic[e], rows[e], cols[e] = target.enum, row, column
            realised += 1
        locations.append((hic, rows, cols))
    for h in weights:
        config.hicann(h).set_weights(weights[h])
        config.hicann(h).set_decoders(decoders[h])
    if lost and not options.allow_loss:
        raise ResourceError(f"{lost} of {realised + lost} synapses could not be realised ({dict(lost_reasons)}); "
                            f"pass allow_loss=True to accept, or allow more HICANNs / fewer circuits per neuron")

    used = tuple(sorted({h for pop in placement.values() for h, _ in pop} | {a.hicann for addrs in source_address.values() for a in addrs if a}))
    fpgas = tuple(sorted({h.to_fpga() for h in used}))
    resources = {h.enum: {"neurons": chips[h].neurons, "circuits": chips[h].neurons * k, "drivers": 224 - len(chips[h].free_drivers),
                          "chained_drivers": chips[h].chained, "l1_lines": len(chips[h].lines_used)} for h in used}
    input_load = {h.enum: round(load[h], 1) for h in used if load[h] > 0}
    result = MappingResult(network, placement, source_address, locations, realised, lost, dict(lost_reasons), used, fpgas, resources, input_load)
    log.info("network_mapped", hicanns=len(used), fpgas=len(fpgas), synapses=realised, lost=lost)
    return config, result


def _sending_line(block: int) -> int:
    return C.DNCMergerOnHICANN(block).to_sending_repeater().to_hline().value


def _order_blocks(chip: _Chip, placement: dict, fed_chips: list | None) -> None:
    """Order a fresh HICANN's free columns so that its neuron blocks use lightly loaded driver groups.

    Lines 8n..8n+7 reach the same 28 drivers. Input HICANNs take their blocks in rotation (so that
    two of them do not send into the same groups downstream); other HICANNs prefer blocks whose
    own line group receives the fewest events arriving from HICANNs west of them.
    """
    if fed_chips is not None:
        start = (4 * len(fed_chips)) % 8
        rank = {b: (b - start) % 8 for b in range(8)}
    else:
        load = np.zeros(8)
        for placed in placement.values():
            for h, denmems in placed:
                d = chip.hicann.x - h.x
                if h.y == chip.hicann.y and 1 <= d <= _MAX_HOPS:
                    load[((_sending_line(denmems[0].to_neuron_block().value) + 2 * d) % 64) // 8] += 1
        rank = {b: (load[_sending_line(b) // 8], b) for b in range(8)}
    chip.free_columns.sort(key=lambda x: (rank[x // 32], x))


def _shuffle_within_blocks(chip: _Chip, rng: np.random.Generator) -> None:
    """Shuffle the free columns inside each neuron block, keeping the blocks' order."""
    out, group = [], []
    for x in chip.free_columns + [None]:
        if group and (x is None or x // 32 != group[0] // 32):
            out.extend(rng.permutation(group).tolist())
            group = []
        if x is not None:
            group.append(x)
    chip.free_columns = out


def _source_slot(config: WaferConfig, chip: _Chip, index: int, name: str):
    from hal.experiment import InputAddress

    cfg = config.hicann(chip.hicann)
    free = [c for c in range(8) if c not in chip.block_count]
    if not free:
        raise ResourceError(f"{chip.hicann!r}: all 8 channels carry neuron blocks; no FPGA input channel left for source {name}[{index}]")
    # Spread sources round-robin over the free channels (each reaches only 28 drivers directly).
    counts = getattr(chip, "source_count", defaultdict(int))
    chip.source_count = counts
    channel = min(free, key=lambda c: counts[c])
    if counts[channel] >= len(_ADDRESSES):
        raise ResourceError(f"{chip.hicann!r}: input channels full ({len(free)} x {len(_ADDRESSES)} addresses) at source {name}[{index}]")
    address = _ADDRESSES[counts[channel]]
    counts[channel] += 1
    if counts[channel] == 1:
        cfg.gbit_links.update(channel, direction=GbitDirection.TO_HICANN)
        cfg.dnc_mergers.update(channel, mode=MergerMode.RIGHT_ONLY)
        sending = C.DNCMergerOnHICANN(channel).to_sending_repeater()
        cfg.h_repeaters.update(sending.to_hrepeater(), mode=RepeaterMode.OUTPUT)
        chip.lines_used[sending.to_hline().value] = ("origin", chip.hicann.enum, channel)
    config.fpga(chip.hicann.to_fpga()).links.update(chip.hicann.to_highspeed_link(), enable=True)
    return InputAddress(chip.hicann, channel, address)


def _bring_line(config: WaferConfig, chips: dict, origin: tuple, target: C.HICANNOnWafer) -> int | None:
    """The horizontal line on ``target`` that carries ``origin``'s events (forwarding east if needed)."""
    source, channel = origin
    line = C.DNCMergerOnHICANN(channel).to_sending_repeater().to_hline()
    if source == target:
        return line.value
    here = source
    for _ in range(_MAX_HOPS):
        east = here.east()
        if east is None:
            return None
        line = line.east()
        state = chips.get(east)
        owner = state.lines_used.get(line.value) if state else None
        if owner is not None and owner != ("bus", origin):
            return None
        if state is not None:
            state.lines_used[line.value] = ("bus", origin)
        # Even lines have their repeater at the left border of the eastern HICANN.
        config.hicann(east).h_repeaters.update(line.value, mode=RepeaterMode.FORWARDING, towards_east=True)
        here = east
        if here == target:
            return line.value
    return None


def _pair_rows(needs: list[tuple[int, bool]]) -> list[tuple]:
    by_pre = defaultdict(list)
    for address, exc in needs:
        by_pre[address].append(exc)
    pairs, singles = [], []
    for address, signs in by_pre.items():
        if len(signs) == 2:
            pairs.append(((address, True), (address, False)))
        else:
            singles.append((address, signs[0]))
    for a, b in zip(singles[0::2], singles[1::2]):
        pairs.append((a, b))
    if len(singles) % 2:
        pairs.append((singles[-1], None))
    return pairs
