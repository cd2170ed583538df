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
from hal.calibration import Calibration, apply_gmax, apply_parameters, gmax_target
from hal.calibration.database import check_defect
from hal.analog.domains import PAPER_DOMAINS, Domains
from hal.errors import ConfigError, ResourceError
from hal.hardware.hicann import GbitDirection, MergerMode, RepeaterMode
from hal.hardware.wafer import WaferConfig
from hal.network import Network
from hal.mapping.drivers import allocate_drivers, merge_circuits

__all__ = ["MappingOptions", "MappingResult", "map_network", "INPUT_BUDGET_HZ_PER_HICANN", "CIRCUITS_PER_NEURON"]

#: The (hicann, item) sets of :class:`MappingOptions` and the defect kinds their items are checked as.
_DISABLED_FIELDS = {"disabled_circuits": "neuron", "disabled_drivers": "synapse_driver", "disabled_rows": "synapse_row",
                    "disabled_hlines": "hline", "disabled_vlines": "vline", "disabled_hrepeaters": "hrepeater",
                    "disabled_vrepeaters": "vrepeater"}

#: Placement strategies (:attr:`MappingOptions.placement`).
PLACEMENTS = ("compact", "random", "random_hicanns")

#: Circuits per logical neuron: one denmem, a column, or 1..16 whole quads (up to one neuron block).
CIRCUITS_PER_NEURON = (1, 2, 4, 8, 16, 32, 64)

log = structlog.get_logger(__name__)

#: 80 % of 17.8 MHz hardware per HICANN link, in biological Hz at speed-up 10^4 (marocco's budget).
INPUT_BUDGET_HZ_PER_HICANN = 0.8 * 17.8e6 / 1e4
_ADDRESSES = tuple(range(1, 64))
_MAX_HOPS = 3  # how far east ``_order_blocks`` looks for buses arriving on a fresh HICANN


#: FG block (quadrant: 2 * half + side) whose V_gmax a synapse row uses: its driver's side and half.
_ROW_FG_BLOCK = np.array([(C.SynapseDriverOnHICANN(r // 2).side != "left") + 2 * (r // 2 >= 112) for r in range(448)])


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
    disabled_rows: frozenset = frozenset()  # (hicann enum, synapse row 0..447)
    disabled_hlines: frozenset = frozenset()  # (hicann enum, horizontal line 0..63)
    disabled_vlines: frozenset = frozenset()  # (hicann enum, vertical line 0..255)
    disabled_hrepeaters: frozenset = frozenset()  # (hicann enum, repeater = its line 0..63)
    disabled_vrepeaters: frozenset = frozenset()  # (hicann enum, repeater = its line 0..255)
    calibration: Calibration | None = None
    # Clip calibration targets outside a circuit's or quadrant's calibrated range (logged) instead of raising.
    calibration_clip: bool = False
    domains: Domains = PAPER_DOMAINS
    # "compact": neurons on consecutive columns; "random": a seeded shuffle of the columns inside the
    # neuron blocks a HICANN uses (other circuits -- another fixed pattern -- with the same routing);
    # "random_hicanns": each neuron on a HICANN drawn (seeded) from ``hicanns`` (the paper's placement).
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
        def of(component: str) -> frozenset:
            return frozenset((d.hicann, d.item) for d in defects if d.component == component)

        return cls(
            disabled_hicanns=frozenset(hicanns),
            disabled_circuits=of("neuron"),
            disabled_drivers=of("synapse_driver"),
            disabled_rows=of("synapse_row"),
            disabled_hlines=of("hline"),
            disabled_vlines=of("vline"),
            disabled_hrepeaters=of("hrepeater"),
            disabled_vrepeaters=of("vrepeater"),
            **kwargs,
        )

    def __attrs_post_init__(self):
        if self.circuits_per_neuron not in CIRCUITS_PER_NEURON:
            raise ConfigError(f"MappingOptions.circuits_per_neuron: {self.circuits_per_neuron} not supported; valid {', '.join(map(str, CIRCUITS_PER_NEURON))}")
        if not self.hicanns:
            raise ConfigError("MappingOptions.hicanns: empty; give the HICANNs the mapping may use, west to east")
        for name, component in _DISABLED_FIELDS.items():
            for entry in getattr(self, name):
                if not (isinstance(entry, tuple) and len(entry) == 2):
                    raise ConfigError(f"MappingOptions.{name}: {entry!r} is not a (hicann enum, {component} index) pair")
                check_defect(component, *entry)
        if self.placement not in PLACEMENTS:
            raise ConfigError(f"MappingOptions.placement: {self.placement!r} not valid; valid {', '.join(PLACEMENTS)}")


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
    # per HICANN with synapse rows: {"dac": {FG block: V_gmax0}, "source": "calibrated" | "nominal", "target": per mille}
    gmax: dict = attrs.field(factory=dict)

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
            "gmax": {str(k): v for k, v in self.gmax.items()},
        }


class _Chip:
    """Allocation state of one HICANN."""

    def __init__(self, hicann: C.HICANNOnWafer, width: int, options: MappingOptions):
        self.hicann = hicann
        self.width = width
        e = hicann.enum
        disabled = options.disabled_circuits
        # A neuron block whose sending line or repeater is broken cannot put its spikes on L1:
        # its circuits are left out like broken ones (the FPGA channel could still record them,
        # but a neuron that cannot send is of little use to a network).
        mute = {b for b in range(8) if _sending_line_broken(e, b, options)}
        self.free_columns = [x for x in range(0, 256, width)
                             if x // 32 not in mute
                             and not any((e, C.NeuronOnHICANN(x=x + dx, y=y).enum) in disabled for dx in range(width) for y in (0, 1))]
        # Usable rows per driver: 2, or 1 when one of its rows is on the defect list (0: driver unusable).
        self.capacity = {d: 2 - sum((e, r.value) in options.disabled_rows for r in C.SynapseDriverOnHICANN(d).rows()) for d in range(224)}
        self.free_drivers = {d for d in range(224) if (e, d) not in options.disabled_drivers and self.capacity[d] > 0}
        self.block_count: dict[int, int] = defaultdict(int)
        self.neurons = 0
        self.chained = 0


def _sending_line_broken(hicann: int, channel: int, options: MappingOptions) -> bool:
    line = _sending_line(channel)
    return (hicann, line) in options.disabled_hlines or (hicann, line) in options.disabled_hrepeaters


_DEFECT = ("defect",)


class _L1:
    """Who uses each L1 line of the wafer, and the repeaters that must not be used.

    A line (HICANN, "H" or "V", number) carries one origin; lines and repeaters on the defect
    list are never taken. Routing goes from line to line through repeaters at chip borders,
    set the way the hardware needs them (marocco ``routing/Configuration.cpp``): a repeater
    sits at one border of its line's chip -- even horizontal lines at the west, odd ones at
    the east; vertical lines at the top or bottom (:class:`~hal.coordinates.VRepeaterOnHICANN`)
    -- so a hop across a border uses the repeater of the chip on whichever side has it.
    """

    def __init__(self, config: WaferConfig, options: MappingOptions):
        self.config = config
        self.owner: dict[tuple[int, str, int], object] = {}
        self.per_chip: dict[int, dict[tuple[str, int], object]] = defaultdict(dict)  # the same, by HICANN
        for h, line in options.disabled_hlines:
            self.claim((h, "H", line), _DEFECT)
        for h, line in options.disabled_vlines:
            self.claim((h, "V", line), _DEFECT)
        self.bad_repeaters = {(h, "H", r) for h, r in options.disabled_hrepeaters} | {(h, "V", r) for h, r in options.disabled_vrepeaters}
        self.dead = options.disabled_hicanns  # no bus crosses a disabled HICANN either
        self.outputs: set[tuple[int, int]] = set()  # (hicann enum, line) of sending repeaters in output mode

    def free(self, key: tuple[int, str, int], origin) -> bool:
        return key[0] not in self.dead and self.owner.get(key, origin) == origin

    def claim(self, key: tuple[int, str, int], origin) -> None:
        self.owner[key] = origin
        self.per_chip[key[0]][key[1:]] = origin

    def claim_origin(self, hicann: C.HICANNOnWafer, channel: int) -> None:
        """The sending line of DNC merger ``channel``, driven by its sending repeater in output mode."""
        line = _sending_line(channel)
        self.claim((hicann.enum, "H", line), (hicann, channel))
        self.outputs.add((hicann.enum, line))

    def vline_owner(self, hicann: C.HICANNOnWafer) -> dict[int, object]:
        """Vertical lines of ``hicann`` already taken (by buses passing through, or broken)."""
        return {line: o for (kind, line), o in self.per_chip.get(hicann.enum, {}).items() if kind == "V"}

    def lines_of(self, hicann: C.HICANNOnWafer, kind: str) -> int:
        return sum(1 for (k, _), o in self.per_chip.get(hicann.enum, {}).items() if k == kind and o != _DEFECT)

    def hop(self, here: C.HICANNOnWafer, kind: str, line: int, direction: str, origin) -> tuple[C.HICANNOnWafer, int] | None:
        """Continue ``origin``'s bus from ``line`` on ``here`` to the neighbour in ``direction``; None if blocked.

        Claims the neighbour's line and sets the repeater between the two chips.
        """
        step = _STEPS[direction]
        there = getattr(here, direction)()
        if there is None:
            return None
        coordinate = C.HLineOnHICANN(line) if kind == "H" else C.VLineOnHICANN(line)
        nline = getattr(coordinate, direction)().value
        if not self.free((there.enum, kind, nline), origin):
            return None
        # The repeater between the chips: on ``here`` if it sits at the border we cross, else on ``there``.
        if kind == "H":
            at_border = "east" if line % 2 else "west"
        else:
            at_border = "north" if C.VRepeaterOnHICANN(line).is_top else "south"
        chip, index = (here, line) if at_border == direction else (there, nline)
        if (chip.enum, kind, index) in self.bad_repeaters:
            return None
        repeaters = self.config.hicann(chip).h_repeaters if kind == "H" else self.config.hicann(chip).v_repeaters
        sending = kind == "H" and (chip.enum, index) in self.outputs
        if sending and not (chip == here and direction == "west"):
            return None  # a sending repeater drives its own line (and, towards the west, its western neighbour's)
        mode = RepeaterMode.OUTPUT if sending else RepeaterMode.FORWARDING
        repeaters.update(index, mode=mode, **{step: True})
        self.claim((there.enum, kind, nline), origin)
        return there, nline


_STEPS = {"east": "towards_east", "west": "towards_west", "north": "towards_north", "south": "towards_south"}


def map_network(network: Network, wafer: C.Wafer = C.Wafer(0), options: MappingOptions = MappingOptions()) -> tuple[WaferConfig, MappingResult]:
    """Map ``network``; returns the register configuration and the mapping result."""
    if not isinstance(network, Network):
        raise ConfigError(f"map_network: expected a Network, got {type(network).__name__}")
    k = options.circuits_per_neuron
    width = 1 if k == 1 else k // 2  # columns per neuron (both rows from 2 circuits on)
    chain = [h for h in options.hicanns if h.enum not in options.disabled_hicanns]
    chips = {h: _Chip(h, width, options) for h in chain}
    cap = options.max_neurons_per_hicann
    config = WaferConfig(wafer)
    l1 = _L1(config, options)

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
    fed_chips: set = set()
    blocks_placed: dict[tuple[int, int], np.ndarray] = {}  # (x, y) -> neurons per neuron block, finished populations
    # "random_hicanns": every neuron goes to a HICANN drawn (seeded) from the allowed ones that still
    # have room -- the paper placed its neurons at random on 8 HICANNs.
    rng = np.random.default_rng([options.seed, 0x5CA7]) if options.placement == "random_hicanns" else None
    ordered = [p for p in network.populations if p.name in fed] + [p for p in network.populations if p.name not in fed]
    for pop in ordered:
        per_neuron_rate = source_rate.get(pop.name, 0.0)
        is_fed = pop.name in fed

        def fits(chip: _Chip) -> bool:
            room = chip.free_columns and (cap is None or chip.neurons < cap)
            # A HICANN with fed neurons keeps its FPGA channels for their sources.
            channels = not (is_fed or chip.hicann in fed_chips) or chip.neurons < fed_cap
            return bool(room and channels and (per_neuron_rate == 0 or load[chip.hicann] + per_neuron_rate <= options.input_budget_hz))

        placed = []
        open_chips = list(chain)
        for _ in range(pop.size):
            chip = None
            if rng is None:
                while cursor < len(chain) and not fits(chips[chain[cursor]]):
                    cursor += 1
                chip = chips[chain[cursor]] if cursor < len(chain) else None
            else:
                while open_chips and chip is None:
                    i = int(rng.integers(len(open_chips)))
                    if fits(chips[open_chips[i]]):
                        chip = chips[open_chips[i]]
                    else:
                        open_chips[i] = open_chips[-1]
                        open_chips.pop()
            if chip is None:
                need = network.n_neurons
                raise ResourceError(
                    f"placement: {need} neurons of {k} circuits (and {network.n_sources} sources at {options.source_rate_hz} Hz, "
                    f"budget {options.input_budget_hz:.0f} Hz per HICANN link) do not fit the {len(chain)} allowed HICANNs; "
                    f"population {pop.name!r} stopped at neuron {len(placed)} of {pop.size}: allow more HICANNs"
                )
            if chip.neurons == 0:
                _order_blocks(chip, blocks_placed, fed_chips=[h for h in chain if chips[h].neurons] if is_fed else None)
                if options.placement == "random":
                    _shuffle_within_blocks(chip, np.random.default_rng([options.seed, chip.hicann.enum]))
            x = chip.free_columns.pop(0)
            denmems = tuple(C.NeuronOnHICANN(x=x + dx, y=y) for y in ((0,) if k == 1 else (0, 1)) for dx in range(width))
            placed.append((chip.hicann, denmems))
            chip.neurons += 1
            load[chip.hicann] += per_neuron_rate
            if is_fed:
                fed_chips.add(chip.hicann)
        placement[pop.name] = placed
        for h, denmems in placed:
            blocks_placed.setdefault((h.x, h.y), np.zeros(8, dtype=np.int64))[denmems[0].x // 32] += 1
        if is_fed and rng is None:
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
            apply_parameters(config.hicann(h), h, denmems, pop.params, calibration, options.domains, clip=options.calibration_clip)
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
            l1.claim_origin(h, block)
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
            addresses[s] = _source_slot(config, chips[host], s, src.name, l1, options)
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

    # Buses: one tree per origin, reaching every HICANN that holds rows for it.
    targets_of: dict[tuple, set] = defaultdict(set)
    for target, per_origin in row_needs.items():
        for origin in per_origin:
            targets_of[origin].add(target)
    arrival: dict[tuple, tuple[str, int]] = {}  # (origin, target) -> line carrying the origin there
    origins = sorted(targets_of, key=lambda o: (o[0].enum, o[1]))
    for origin in origins:
        arrival.update(_route_origin(l1, origin, targets_of[origin]))
    for origin in origins:
        rest = [t for t in targets_of[origin] if t.y != origin[0].y and (origin, t) not in arrival]
        if rest:
            arrival.update(_route_origin_vertical_first(l1, origin, rest))

    lost_reasons: dict[str, int] = defaultdict(int)
    row_of: dict[tuple, int] = {}
    unreachable: set = set()
    for target, per_origin in row_needs.items():
        chip = chips[target]
        cfg = config.hicann(target)
        demands = {}
        for origin, needs in per_origin.items():
            line = arrival.get((origin, target))
            if line is None:
                unreachable.add((origin, target))
                continue
            demands[origin] = (line, _row_order(sorted(set(needs))))
        owner = l1.vline_owner(target)
        assigned, chained = allocate_drivers(cfg, chip.free_drivers, {o: (line, len(rows)) for o, (line, rows) in demands.items()},
                                             capacity=chip.capacity, vline_owner=owner)
        for vline, origin in owner.items():
            l1.claim((target.enum, "V", vline), origin)
        chip.chained += chained
        for origin, drivers in assigned.items():
            needs = iter(demands[origin][1])
            for driver in drivers:
                for row in C.SynapseDriverOnHICANN(driver).rows():
                    if (target.enum, row.value) in options.disabled_rows:
                        continue
                    need = next(needs, None)
                    if need is None:
                        break
                    address, exc = need
                    cfg.synapse_rows.update(row, input_excitatory=exc, input_inhibitory=not exc,
                                            decoder_even=address >> 4, decoder_odd=address >> 4, sel_gmax=0)
                    row_of[(origin, address, exc, target)] = row.value

    # Synaptic strength per quadrant: V_gmax0 of the FG blocks whose drivers hold rows, through the
    # gmax calibration, so that the declared conversion (nS per weight bit) holds on every quadrant.
    gmax = {}
    target_gmax = gmax_target(network.ns_per_weight_bit, attrs.fields(Network).ns_per_weight_bit.default)
    calibration = options.calibration or Calibration.nominal()
    for target in row_needs:
        rows = config.hicann(target).synapse_rows
        used = np.flatnonzero(rows.column("input_excitatory").astype(bool) | rows.column("input_inhibitory").astype(bool))
        blocks = sorted(set(_ROW_FG_BLOCK[used].tolist()))
        if blocks:
            dac, source = apply_gmax(config.hicann(target), target, blocks, target_gmax, calibration, clip=options.calibration_clip)
            gmax[target.enum] = {"dac": dict(zip(blocks, dac.tolist())), "source": source, "target": round(target_gmax, 3)}

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
    _check_no_shared_synapse(network, locations)
    for h in weights:
        config.hicann(h).set_weights(weights[h])
        config.hicann(h).set_decoders(decoders[h])
    if lost and not options.allow_loss:
        raise ResourceError(f"{lost} of {realised + lost} synapses could not be realised ({dict(lost_reasons)}); "
                            f"pass allow_loss=True to accept, or allow more HICANNs / fewer circuits per neuron")

    used = tuple(sorted({h for pop in placement.values() for h, _ in pop} | {a.hicann for addrs in source_address.values() for a in addrs if a}))
    fpgas = tuple(sorted({h.to_fpga() for h in used}))
    resources = {h.enum: {"neurons": chips[h].neurons, "circuits": chips[h].neurons * k,
                          "drivers": int(config.hicann(h).synapse_drivers.column("enable").astype(bool).sum()),
                          "chained_drivers": chips[h].chained, "l1_lines": l1.lines_of(h, "H"), "vertical_lines": l1.lines_of(h, "V")}
                 for h in used}
    input_load = {h.enum: round(load[h], 1) for h in used if load[h] > 0}
    result = MappingResult(network, placement, source_address, locations, realised, lost, dict(lost_reasons), used, fpgas, resources, input_load, gmax)
    log.info("network_mapped", hicanns=len(used), fpgas=len(fpgas), synapses=realised, lost=lost)
    return config, result


def _check_no_shared_synapse(network: Network, locations: list) -> None:
    """Two edges (same pre, post and sign, e.g. from two projections) on one synapse would silently keep one weight."""
    keys = np.concatenate([(h * 448 + r) * 256 + c for h, r, c in locations] or [np.zeros(0, dtype=np.int64)])
    where = np.concatenate([np.full(h.size, j) for j, (h, _, _) in enumerate(locations)] or [np.zeros(0, dtype=np.int64)])
    realised = keys >= 0
    keys, where = keys[realised], where[realised]
    unique, first, counts = np.unique(keys, return_index=True, return_counts=True)
    if unique.size == keys.size:
        return
    key = unique[np.flatnonzero(counts > 1)[0]]
    projections = sorted({int(j) for j in where[keys == key]})
    names = ", ".join(f"projections[{j}] {network.projections[j].pre}->{network.projections[j].post} ({network.projections[j].receptor})" for j in projections)
    raise ConfigError(f"map_network: two edges share one synapse (same pre, post and sign): {names}; merge their weights into one projection")


def _sending_line(block: int) -> int:
    return C.DNCMergerOnHICANN(block).to_sending_repeater().to_hline().value


def _order_blocks(chip: _Chip, blocks_placed: dict, fed_chips: list | None) -> None:
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
                load[((_sending_line(int(b)) + 2 * d) % 64) // 8] += counts[b]
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


def _source_slot(config: WaferConfig, chip: _Chip, index: int, name: str, l1: _L1, options: MappingOptions):
    from hal.coordinates import InputAddress

    cfg = config.hicann(chip.hicann)
    free = [c for c in range(8) if c not in chip.block_count and not _sending_line_broken(chip.hicann.enum, c, options)]
    if not free:
        raise ResourceError(f"{chip.hicann!r}: all 8 channels carry neuron blocks or have a broken sending line / repeater; "
                            f"no FPGA input channel left for source {name}[{index}]")
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
        l1.claim_origin(chip.hicann, channel)
    config.fpga(chip.hicann.to_fpga()).links.update(chip.hicann.to_highspeed_link(), enable=True)
    return InputAddress(chip.hicann, channel, address)


def _route_origin(l1: _L1, origin: tuple, targets: set) -> dict[tuple, tuple[str, int]]:
    """Route one origin's events to ``targets``; returns {(origin, target): arrival line} for those reached.

    1. A backbone along the origin's row (marocco's backbone router does the same): east through
       forwarding repeaters, west through the sending repeater's western output and then
       forwarding repeaters, each hop moving the line by 2 (halco).
    2. Targets in other rows get a vertical branch from the backbone chip of their column: a
       crossbar switch onto one of the backbone line's 8 vertical lines, then vertical repeaters
       north or south (each hop moves the vertical line by 2 within its half).
    3. Targets still unreached (their column is not on the backbone, or its vertical lines are
       taken) are tried the other way round: vertical from the origin's chip to their row, a
       crossbar switch onto a horizontal line there, and a backbone along that row.

    A blocked line or repeater ends a branch there; targets beyond it stay unreached (counted
    as "unreachable bus").
    """
    source, channel = origin
    line = _sending_line(channel)
    backbone = _horizontal(l1, origin, source, line, [t.x for t in targets])
    out = {}
    by_column: dict[int, list] = defaultdict(list)
    for t in targets:
        if t.y == source.y:
            if t.x in backbone:
                out[(origin, t)] = ("H", backbone[t.x][1])
        elif t.x in backbone:
            by_column[t.x].append(t)
    config = l1.config
    for x, column in sorted(by_column.items()):
        branch, hl = backbone[x]
        for direction, wanted in (("north", [t for t in column if t.y < branch.y]), ("south", [t for t in column if t.y > branch.y])):
            if not wanted:
                continue
            far = min(t.y for t in wanted) if direction == "north" else max(t.y for t in wanted)
            reached = _vertical_branch(l1, origin, branch, hl, direction, far)
            if reached:
                config.hicann(branch).set_crossbar_switch(C.CrossbarSwitchOnHICANN(hline=hl, vline=reached[0][1]), True)
                at = dict(reached)
                for t in wanted:
                    if t in at:
                        out[(origin, t)] = _widen(l1, origin, t, at[t])
    return out


def _route_origin_vertical_first(l1: _L1, origin: tuple, rest: list) -> dict[tuple, tuple[str, int]]:
    """Step 3 of :func:`_route_origin`, for the targets in other rows it left unreached.

    Run after every origin had its steps 1 and 2, so that these longer detours take only the
    lines the direct routes leave.
    """
    source, _ = origin
    config = l1.config
    out = {}
    hl = next(line for line in (_sending_line(origin[1]) + 1, _sending_line(origin[1]))
              if l1.owner.get((source.enum, "H", line)) == origin)
    for direction, wanted in (("north", [t for t in rest if t.y < source.y]), ("south", [t for t in rest if t.y > source.y])):
        if not wanted:
            continue
        far = min(t.y for t in wanted) if direction == "north" else max(t.y for t in wanted)
        reached = _vertical_branch(l1, origin, source, hl, direction, far)
        if not reached:
            continue
        config.hicann(source).set_crossbar_switch(C.CrossbarSwitchOnHICANN(hline=hl, vline=reached[0][1]), True)
        for chip, vline in reached[1:]:
            in_row = [t for t in wanted if t.y == chip.y]
            if not in_row:
                continue
            for t in in_row:
                if t == chip:
                    out[(origin, t)] = _widen(l1, origin, t, vline)
            others = [t for t in in_row if t != chip]
            row_line = _vline_to_hline(l1, origin, chip, vline) if others else None
            if row_line is None:
                continue
            row_backbone = _horizontal(l1, origin, chip, row_line, [t.x for t in others])
            for t in others:
                if t.x in row_backbone:
                    out[(origin, t)] = ("H", row_backbone[t.x][1])
    return out


def _widen(l1: _L1, origin, chip: C.HICANNOnWafer, vline: int) -> tuple[str, int]:
    """The arrival of a vertical bus on a target: onto a free horizontal line if there is one.

    A vertical line feeds 14 drivers through synapse switches; a horizontal line reaches 28
    through its 8 vertical lines, so an origin with many rows there gets more heads.
    """
    line = _vline_to_hline(l1, origin, chip, vline)
    return ("V", vline) if line is None else ("H", line)


def _horizontal(l1: _L1, origin, start: C.HICANNOnWafer, line: int, xs: list[int]) -> dict[int, tuple[C.HICANNOnWafer, int]]:
    """Extend ``origin``'s bus from ``line`` on ``start`` east and west along the row to cover columns ``xs``.

    Returns column -> (chip, line that carries the origin there), for the columns reached.
    """
    reached = {start.x: (start, line)}
    for direction, far, more in (("east", max(xs), lambda x, f: x < f), ("west", min(xs), lambda x, f: x > f)):
        here, hl = start, line
        while more(here.x, far):
            step = l1.hop(here, "H", hl, direction, origin)
            if step is None and reached[here.x][1] == hl:
                # Blocked. Even lines run into the sending line of the fourth chip along (sending
                # lines are 8 apart, a hop moves by 2); odd lines never do. Switch over to the
                # partner line (2j <-> 2j + 1) through a vertical line on this chip -- its two
                # crossbar switches join them -- and go on there.
                other = _switch_partner(l1, here, hl, origin)
                if other is not None:
                    hl = other
                    reached[here.x] = (here, hl)
                    step = l1.hop(here, "H", hl, direction, origin)
            if step is None:
                break
            here, hl = step
            reached[here.x] = (here, hl)
    return reached


def _vline_to_hline(l1: _L1, origin, chip: C.HICANNOnWafer, vline: int) -> int | None:
    """Join ``vline`` on ``chip`` to one of its two horizontal lines (the odd one first: it never meets a sending line)."""
    for h in reversed(C.VLineOnHICANN(vline).crossbar_hlines()):
        if l1.free((chip.enum, "H", h.value), origin):
            l1.claim((chip.enum, "H", h.value), origin)
            l1.config.hicann(chip).set_crossbar_switch(C.CrossbarSwitchOnHICANN(hline=h.value, vline=vline), True)
            return h.value
    return None


def _switch_partner(l1: _L1, here: C.HICANNOnWafer, hline: int, origin) -> int | None:
    """Join ``hline`` to its partner ``hline ^ 1`` on ``here`` through a free vertical line; the partner, or None."""
    partner = hline ^ 1
    if not l1.free((here.enum, "H", partner), origin):
        return None
    for v in C.HLineOnHICANN(hline).crossbar_vlines():
        if l1.free((here.enum, "V", v.value), origin):
            l1.claim((here.enum, "V", v.value), origin)
            l1.claim((here.enum, "H", partner), origin)
            chip = l1.config.hicann(here)
            chip.set_crossbar_switch(C.CrossbarSwitchOnHICANN(hline=hline, vline=v.value), True)
            chip.set_crossbar_switch(C.CrossbarSwitchOnHICANN(hline=partner, vline=v.value), True)
            return partner
    return None


def _vertical_branch(l1: _L1, origin, branch: C.HICANNOnWafer, hline: int, direction: str, far: int) -> list:
    """Claim a vertical line from ``branch`` towards row ``far``; [(hicann, vline)] from the branch on, or [].

    Of the backbone line's 8 crossbar lines, the first that is free all the way is taken; if
    none is, the one that gets furthest.
    """
    best: list = []
    for v in C.HLineOnHICANN(hline).crossbar_vlines():
        if not l1.free((branch.enum, "V", v.value), origin):
            continue
        path = [(branch, v.value)]
        here, line = branch, v.value
        while here.y != far:
            there = getattr(here, direction)()
            if there is None:
                break
            nline = getattr(C.VLineOnHICANN(line), direction)().value
            if not l1.free((there.enum, "V", nline), origin) or not _vrepeater_ok(l1, here, line, direction, there, nline):
                break
            here, line = there, nline
            path.append((here, line))
        if len(path) > len(best):
            best = path
        if here.y == far:
            break
    if len(best) < 2:
        return []
    # Claim and configure the chosen path (the hop does both, step by step).
    l1.claim((branch.enum, "V", best[0][1]), origin)
    here, line = best[0]
    for _ in best[1:]:
        here, line = l1.hop(here, "V", line, direction, origin)
    return best


def _vrepeater_ok(l1: _L1, here, line: int, direction: str, there, nline: int) -> bool:
    at_border = "north" if C.VRepeaterOnHICANN(line).is_top else "south"
    chip, index = (here, line) if at_border == direction else (there, nline)
    return (chip.enum, "V", index) not in l1.bad_repeaters


def _row_order(needs: list[tuple[int, bool]]) -> list[tuple[int, bool]]:
    """The rows an origin needs on a chip, in the order they fill its drivers' rows.

    Both signs of one pre come next to each other (one driver when its rows are whole), then
    the single-sign pres. A driver's two rows can serve any two pres of its origin: each row
    has its own decoder.
    """
    by_pre = defaultdict(list)
    for address, exc in needs:
        by_pre[address].append(exc)
    pairs, singles = [], []
    for address, signs in by_pre.items():
        if len(signs) == 2:
            pairs.extend([(address, True), (address, False)])
        else:
            singles.append((address, signs[0]))
    return pairs + singles
