"""What a register configuration wires together: logical neurons, their parameters, and every synapse.

Backends consume only registers; this module is the shared reading of them —
the chip's wiring, not its dynamics. It answers, for a :class:`WaferConfig`:

* which denmems are merged into which logical neuron (quad merge switches and
  the fire-input bit across quads), which denmem fires, and where its spikes go;
* each logical neuron's parameters in the hardware domain through the nominal
  transfer functions (:mod:`hal.analog.transfer`); a backend with mismatch applies its
  own per-circuit deviations on top of the DAC values it reads here;
* the path of events: FPGA channel or neuron block -> DNC merger -> sending
  repeater -> L1 lines (crossbar switches, repeaters across chip borders) ->
  synapse switches -> synapse drivers -> rows (driver decoder) -> synapses
  (synapse decoder, weight) -> denmem -> logical neuron;
* which neurons' spikes reach which FPGA channel for recording.

Model simplifications (said here so that nobody mistakes them for the chip):
the merger tree is modelled as level-0 merger ``j`` feeding DNC merger ``j``
(background generator ``j`` on its left input, neuron block ``j`` on its right);
higher merger levels are stored but not interpreted. A sending repeater in output mode
drives its own line; with ``towards_west`` also the western neighbour's line (the
hardware's left output). A driver with
``connect_neighbor`` passes its input to the next driver on the same side
(``d + 2``) when that one is enabled and not listening to L1 itself.
"""

from __future__ import annotations

import functools
from collections import defaultdict, deque

import attrs
import numpy as np

from hal import coordinates as C
from hal.hardware.fpga import FPGAConfig
from hal.hardware.hicann import (
    NEURONS,
    GbitDirection,
    HICANNConfig,
    MergerMode,
    RepeaterMode,
)
from hal.hardware.wafer import WaferConfig
from hal.analog.transfer import (
    C_BIG_PF,
    C_SMALL_PF,
    GL_DIVIDERS,
    dac_to_current_na,
    dac_to_voltage_mv,
    nominal,
    synaptic_unit_conductance_ns,
)

__all__ = ["LogicalNeuron", "Origin", "SynapseTable", "Wiring", "extract_wiring", "denmem_parameters", "l1_lines", "PARAMETER_NAMES"]

#: Hardware-domain parameters of each logical neuron in :attr:`Wiring.parameters`.
PARAMETER_NAMES = (
    "c_pf", "g_l_ns", "e_l_mv", "v_th_mv", "v_reset_mv", "e_rev_e_mv", "e_rev_i_mv", "tau_syn_e_us", "tau_syn_i_us",
    "t_ref_us", "a_ns", "b_na", "tau_w_us", "delta_t_mv", "v_exp_mv", "exp_bias_na",
)

_PASSES_RIGHT = (MergerMode.RIGHT_ONLY, MergerMode.MERGE)
_PASSES_LEFT = (MergerMode.LEFT_ONLY, MergerMode.MERGE)


@attrs.frozen(order=True)
class LogicalNeuron:
    """Merged denmems acting as one neuron, identified by its HICANN and firing denmem."""

    hicann: C.HICANNOnWafer
    firing: C.NeuronOnHICANN
    denmems: tuple[C.NeuronOnHICANN, ...] = attrs.field(order=False)
    address: int | None = attrs.field(order=False)  # L1 address of its spikes, None if it sends none

    def __repr__(self) -> str:
        return f"LogicalNeuron({self.hicann!r}, {self.firing!r}, {len(self.denmems)} denmems)"


@attrs.frozen(order=True)
class Origin:
    """Where events enter L1: the DNC merger ``channel`` of ``hicann``."""

    hicann: C.HICANNOnWafer
    channel: int


@attrs.frozen(eq=False)
class SynapseTable:
    """Every realised synapse, one row per (origin, address) -> neuron entry.

    ``origin`` indexes :attr:`Wiring.origins`; ``address`` is the 6-bit L1
    address that triggers the synapse; ``post`` indexes :attr:`Wiring.neurons`;
    ``conductance_ns`` is the hardware-domain peak conductance (weight x unit
    conductance of the row); ``excitatory`` says which synaptic input it drives.
    """

    origin: np.ndarray
    address: np.ndarray
    post: np.ndarray
    conductance_ns: np.ndarray
    excitatory: np.ndarray
    row: np.ndarray
    column: np.ndarray
    hicann: np.ndarray

    def __len__(self) -> int:
        return int(self.origin.size)


@attrs.frozen(eq=False)
class Wiring:
    """The result of reading a configuration's registers (see the module docstring)."""

    neurons: tuple[LogicalNeuron, ...]
    parameters: dict[str, np.ndarray]
    origins: tuple[Origin, ...]
    synapses: SynapseTable
    # (origin index) -> neurons whose spikes enter that origin (neuron block -> DNC merger)
    neuron_origin: np.ndarray  # per neuron: origin index or -1
    # FPGA playback channels that accept input: origin indices
    input_origins: frozenset[int]
    # recording: per neuron, True if its spikes reach the FPGA trace
    recorded: np.ndarray
    # background generators that reach L1: (origin index, address, period cycles, random, seed)
    background: tuple[tuple[int, int, int, bool, int], ...]
    pll_mhz: dict[C.HICANNOnWafer, float]
    adex_in_use: tuple[LogicalNeuron, ...]

    def neuron_index(self) -> dict[tuple[C.HICANNOnWafer, C.NeuronOnHICANN], int]:
        return {(n.hicann, n.firing): i for i, n in enumerate(self.neurons)}

    def origin_index(self) -> dict[Origin, int]:
        return {o: i for i, o in enumerate(self.origins)}

    def trace_key_to_neurons(self) -> dict[tuple[int, int, int], list[int]]:
        """(hicann enum, channel, address) of a trace event -> the neurons that can have sent it."""
        out: dict[tuple[int, int, int], list[int]] = defaultdict(list)
        for i, n in enumerate(self.neurons):
            if self.recorded[i]:
                o = self.origins[self.neuron_origin[i]]
                out[(n.hicann.enum, o.channel, n.address)].append(i)
        return dict(out)


# -- denmems and logical neurons ---------------------------------------------------------------


def _components(chip: HICANNConfig) -> np.ndarray:
    """Union-find label (root denmem enum) of each of the 512 denmems."""
    parent = np.arange(NEURONS)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    quad_words = chip.image["neuron_quad"]
    for q in range(NEURONS // 4):
        w = int(quad_words[q])
        left, right = 2 * q, 2 * q + 1
        if w & 1:  # vertical_left
            union(left, 256 + left)
        if w & 2:  # vertical_right
            union(right, 256 + right)
        if w & 4:  # horizontal_top
            union(left, right)
        if w & 8:  # horizontal_bottom
            union(256 + left, 256 + right)
    fire_input = chip.neurons.column("enable_fire_input").astype(bool)
    for n in np.flatnonzero(fire_input):
        x, y = int(n % 256), int(n // 256)
        # Even denmems take the signal from the left quad, odd ones from the right.
        nx = x - 1 if x % 2 == 0 else x + 1
        if 0 <= nx < 256:
            union(int(n), y * 256 + nx)
    return np.array([find(i) for i in range(NEURONS)])


def denmem_parameters(chip: HICANNConfig) -> dict[str, np.ndarray]:
    """Per-denmem (512) hardware-domain parameters on the nominal chip."""
    cfg = chip.neuron_config.value
    top = np.arange(NEURONS) < 256
    bigcap = np.where(top, cfg.bigcap_top, cfg.bigcap_bottom)

    def divider(fast_top, fast_bottom, slow_top, slow_bottom):
        fast = np.where(top, fast_top, fast_bottom)
        slow = np.where(top, slow_top, slow_bottom)
        return np.where(fast, GL_DIVIDERS["fast"], np.where(slow, GL_DIVIDERS["slow"], GL_DIVIDERS["normal"]))

    gl_div = divider(cfg.fast_i_gl_top, cfg.fast_i_gl_bottom, cfg.slow_i_gl_top, cfg.slow_i_gl_bottom)
    reset = chip.shared_parameter("V_reset")
    enum = np.arange(NEURONS)
    shared_block = (enum // 256) * 2 + (enum % 256) % 2  # (x mod 2, y): V_reset of even/odd denmems per half
    return {
        "c_pf": np.where(bigcap, C_BIG_PF, C_SMALL_PF),
        "g_l_ns": nominal("g_l_ns")(chip.neuron_parameter("I_gl")) * GL_DIVIDERS["normal"] / gl_div,
        "e_l_mv": dac_to_voltage_mv(chip.neuron_parameter("E_l")),
        "v_th_mv": dac_to_voltage_mv(chip.neuron_parameter("V_t")),
        "v_reset_mv": dac_to_voltage_mv(reset[shared_block]),
        "e_rev_e_mv": dac_to_voltage_mv(chip.neuron_parameter("E_synx")),
        "e_rev_i_mv": dac_to_voltage_mv(chip.neuron_parameter("E_syni")),
        "tau_syn_e_us": nominal("tau_syn_e_us")(chip.neuron_parameter("V_syntcx")),
        "tau_syn_i_us": nominal("tau_syn_i_us")(chip.neuron_parameter("V_syntci")),
        "t_ref_us": nominal("t_ref_us")(chip.neuron_parameter("I_pl")),
        # Adaptation and exponential terms (AdEx): a = b = 0 and I_bexp = 0 means plain LIF.
        "a_ns": nominal("a_ns")(chip.neuron_parameter("I_gladapt")),
        "b_na": nominal("b_na")(chip.neuron_parameter("I_fire")),
        "tau_w_us": nominal("tau_w_us")(chip.neuron_parameter("I_radapt")),
        "delta_t_mv": nominal("delta_t_mv")(chip.neuron_parameter("I_rexp")),
        "v_exp_mv": dac_to_voltage_mv(chip.neuron_parameter("V_exp")),
        "exp_bias_na": dac_to_current_na(chip.neuron_parameter("I_bexp")),
    }


def _combine(per_denmem: dict[str, np.ndarray], members: list[np.ndarray], firing: list[int]) -> dict[str, np.ndarray]:
    """Logical-neuron parameters from their denmems (capacitances and leaks add up)."""
    if all(idx.size == 1 for idx in members):
        return _combine_single(per_denmem, np.array([int(idx[0]) for idx in members], dtype=np.int64))
    out: dict[str, list[float]] = defaultdict(list)
    for idx, fire in zip(members, firing):
        c = per_denmem["c_pf"][idx]
        g = per_denmem["g_l_ns"][idx]
        out["c_pf"].append(float(c.sum()))
        out["g_l_ns"].append(float(g.sum()))
        # The joint resting potential is the leak-weighted mean of the members'.
        out["e_l_mv"].append(float((g * per_denmem["e_l_mv"][idx]).sum() / g.sum()) if g.sum() > 0 else float(per_denmem["e_l_mv"][idx].mean()))
        for key in ("e_rev_e_mv", "e_rev_i_mv", "tau_syn_e_us", "tau_syn_i_us"):
            out[key].append(float(per_denmem[key][idx].mean()))
        for key in ("v_th_mv", "v_reset_mv", "t_ref_us", "tau_w_us", "delta_t_mv", "v_exp_mv"):
            out[key].append(float(per_denmem[key][fire]))
        for key in ("a_ns", "b_na", "exp_bias_na"):
            out[key].append(float(per_denmem[key][idx].sum()))
    return {k: np.asarray(v, dtype=float) for k, v in out.items()}


def _combine_single(per_denmem: dict[str, np.ndarray], denmems: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`_combine` for neurons of one denmem each, vectorised (the same values, bit for bit)."""
    value = {k: np.asarray(v)[denmems].astype(float) for k, v in per_denmem.items()}
    g, e_l = value["g_l_ns"], value["e_l_mv"]
    with np.errstate(divide="ignore", invalid="ignore"):
        value["e_l_mv"] = np.where(g > 0, (g * e_l) / g, e_l)
    keys = ("c_pf", "g_l_ns", "e_l_mv", "e_rev_e_mv", "e_rev_i_mv", "tau_syn_e_us", "tau_syn_i_us", "v_th_mv", "v_reset_mv",
            "t_ref_us", "tau_w_us", "delta_t_mv", "v_exp_mv", "a_ns", "b_na", "exp_bias_na")
    return {k: value[k] for k in keys}


# -- L1 ----------------------------------------------------------------------------------------


def _l1_edges(config: WaferConfig) -> dict[tuple[int, str, int], list[tuple[int, str, int]]]:
    """Directed edges between L1 line nodes (hicann enum, "H"/"V", line)."""
    edges: dict[tuple[int, str, int], list[tuple[int, str, int]]] = defaultdict(list)
    for h, chip in config.hicanns():
        e = h.enum
        xbar = chip.crossbar_switches
        for hl, k in zip(*np.nonzero(xbar)):
            vline = C.HLineOnHICANN(int(hl)).crossbar_vlines()[int(k)].value
            edges[(e, "H", int(hl))].append((e, "V", vline))
            edges[(e, "V", vline)].append((e, "H", int(hl)))
        hrep = chip.h_repeaters
        modes = hrep.column("mode")
        west, east = hrep.column("towards_west"), hrep.column("towards_east")
        for line in np.flatnonzero(modes == RepeaterMode.FORWARDING):
            line = int(line)
            if line % 2 == 0:  # repeater at the left border, towards the western neighbour
                other, oline = h.west(), C.HLineOnHICANN(line).west().value
                if other is None:
                    continue
                if east[line]:
                    edges[(other.enum, "H", oline)].append((e, "H", line))
                if west[line]:
                    edges[(e, "H", line)].append((other.enum, "H", oline))
            else:  # right border, towards the eastern neighbour
                other, oline = h.east(), C.HLineOnHICANN(line).east().value
                if other is None:
                    continue
                if east[line]:
                    edges[(e, "H", line)].append((other.enum, "H", oline))
                if west[line]:
                    edges[(other.enum, "H", oline)].append((e, "H", line))
        # A sending repeater drives its own line and, with its western output on, the western
        # neighbour's line (marocco sets both outputs of a sending repeater; halco: sending
        # repeaters sit at the west border, on even lines).
        for line in np.flatnonzero((modes == RepeaterMode.OUTPUT) & west.astype(bool)):
            line = int(line)
            other = h.west()
            if line % 2 == 0 and other is not None:
                edges[(e, "H", line)].append((other.enum, "H", C.HLineOnHICANN(line).west().value))
        vrep = chip.v_repeaters
        vmodes = vrep.column("mode")
        north, south = vrep.column("towards_north"), vrep.column("towards_south")
        for line in np.flatnonzero(vmodes == RepeaterMode.FORWARDING):
            line = int(line)
            coord = C.VRepeaterOnHICANN(line)
            if coord.is_top:
                other, oline = h.north(), C.VLineOnHICANN(line).north().value
                outward, inward = north[line], south[line]
            else:
                other, oline = h.south(), C.VLineOnHICANN(line).south().value
                outward, inward = south[line], north[line]
            if other is None:
                continue
            if outward:
                edges[(e, "V", line)].append((other.enum, "V", oline))
            if inward:
                edges[(other.enum, "V", oline)].append((e, "V", line))
    return edges


def _switch_targets(config: WaferConfig) -> dict[tuple[int, int], list[tuple[int, int]]]:
    """(hicann enum, vline) -> synapse drivers (hicann enum, driver) its closed synapse switches feed."""
    out: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    all_switches = C.SynapseSwitchOnHICANN.all()
    for h, chip in config.hicanns():
        closed = np.flatnonzero(chip.synapse_switches.ravel())
        for enum in closed:
            sw = all_switches[int(enum)]
            where = sw.driver_location
            target = h if where == "local" else (h.west() if where == "west" else h.east())
            if target is not None:
                out[(h.enum, sw.vline)].append((target.enum, sw.switch_row))
    return out


def _reach(start: tuple[int, str, int], edges) -> set[tuple[int, str, int]]:
    seen = {start}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in edges.get(node, ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def l1_lines(config: WaferConfig) -> dict[tuple[int, int], set[tuple[int, str, int]]]:
    """The L1 lines each sending repeater's events reach: (hicann enum, channel) -> {(hicann enum, "H"/"V", line)}.

    Read from the registers alone (sending repeaters in output mode, repeaters, crossbar
    switches), the same way :func:`extract_wiring` follows events; for tests and inspection.
    """
    edges = _l1_edges(config)
    out = {}
    for h, chip in config.hicanns():
        modes = chip.h_repeaters.column("mode")
        for channel in range(8):
            line = C.DNCMergerOnHICANN(channel).to_sending_repeater().to_hline().value
            if modes[line] == RepeaterMode.OUTPUT:
                out[(h.enum, channel)] = _reach((h.enum, "H", line), edges)
    return out


def _driver_chain(chip: HICANNConfig | None, driver: int) -> list[int]:
    """The drivers that receive what ``driver`` takes from L1: itself plus neighbour chaining.

    A driver with ``connect_neighbor`` mirrors its input to the next driver on its side and
    half (``d + 2``) if that one is enabled and does not listen to L1 itself; it passes it on in
    turn if it has ``connect_neighbor`` set.
    """
    if chip is None:
        return []
    table = chip.synapse_drivers
    enable = table.column("enable").astype(bool)
    locin = table.column("locin").astype(bool)
    neighbor = table.column("connect_neighbor").astype(bool)
    if not (enable[driver] and locin[driver]):
        return []
    chain = [driver]
    d = driver
    while neighbor[d] and d + 2 < 224 and (d + 2 < 112) == (driver < 112) and enable[d + 2] and not locin[d + 2]:
        d += 2
        chain.append(d)
    return chain


def extract_wiring(config: WaferConfig, denmem_transform=None) -> Wiring:
    """Read the wiring of ``config`` (see the module docstring).

    ``denmem_transform(hicann, per_denmem) -> per_denmem``, if given, changes the
    nominal per-denmem parameters before they are combined into logical neurons:
    this is where a backend applies its circuits' deviations.
    """
    hicanns = dict(config.hicanns())

    # Logical neurons and their parameters.
    neurons: list[LogicalNeuron] = []
    params_parts: list[dict[str, np.ndarray]] = []
    post_of_denmem: dict[int, np.ndarray] = {}  # hicann enum -> logical neuron of each denmem (-1: none)
    adex: list[LogicalNeuron] = []
    denmem_coords = C.NeuronOnHICANN.all()  # frozen and cached: shared by every logical neuron
    for h, chip in hicanns.items():
        labels = _components(chip)
        firing = chip.neurons.column("activate_firing").astype(bool)
        spl1 = chip.neurons.column("enable_spl1_output").astype(bool)
        addresses = chip.neurons.column("l1_address")
        per_denmem = denmem_parameters(chip)
        if denmem_transform is not None:
            per_denmem = denmem_transform(h, per_denmem)
        groups: dict[int, list[int]] = defaultdict(list)
        for i, root in enumerate(labels):
            groups[int(root)].append(i)
        members, fires, logical = [], [], []
        for root in sorted(groups):
            idx = np.array(groups[root])
            firing_members = idx[firing[idx]]
            if firing_members.size == 0:
                continue  # a group that cannot fire is not a neuron anybody can use
            fire = int(firing_members[0])
            fire_coord = denmem_coords[fire]
            address = int(addresses[fire]) if spl1[fire] else None
            ln = LogicalNeuron(h, fire_coord, tuple(denmem_coords[int(i)] for i in idx), address)
            members.append(idx)
            fires.append(fire)
            logical.append(ln)
        if not logical:
            continue
        combined = _combine(per_denmem, members, fires)
        owner = post_of_denmem[h.enum] = np.full(NEURONS, -1, dtype=np.int64)
        for k, (ln, idx) in enumerate(zip(logical, members)):
            owner[idx] = len(neurons) + k
            if combined["a_ns"][k] > 0 or combined["b_na"][k] > 0 or combined["exp_bias_na"][k] > 0:
                adex.append(ln)
        neurons.extend(logical)
        params_parts.append(combined)
    parameters = {k: np.concatenate([p[k] for p in params_parts]) if params_parts else np.zeros(0) for k in
                  PARAMETER_NAMES}

    # Origins: DNC mergers that emit something.
    fpga_cfg: dict[C.FPGAOnWafer, FPGAConfig] = dict(config.fpgas())
    origins: list[Origin] = []
    origin_of: dict[tuple[int, int], int] = {}
    input_origins: set[int] = set()
    neuron_origin = np.full(len(neurons), -1, dtype=np.int64)
    recorded = np.zeros(len(neurons), dtype=bool)
    background = []
    pll = {}
    # The neurons that send spikes, by (HICANN, neuron block): the block's merger-tree input.
    sending: dict[tuple[C.HICANNOnWafer, int], list[int]] = defaultdict(list)
    for k, ln in enumerate(neurons):
        if ln.address is not None:
            sending[(ln.hicann, ln.firing.x // 32)].append(k)  # its neuron block (NeuronOnHICANN.to_neuron_block)
    for h, chip in hicanns.items():
        pll[h] = chip.pll.value.frequency_mhz
        fpga = fpga_cfg.get(h.to_fpga()) or FPGAConfig()
        link_on = fpga.links[h.to_highspeed_link()].enable
        control = fpga.control.value
        for j in range(8):
            gbit = chip.gbit_links[j]
            dnc = chip.dnc_mergers[j].mode
            level0 = chip.mergers[j].mode  # level-0 merger j: left = background generator j, right = neuron block j
            from_fpga = gbit.direction is GbitDirection.TO_HICANN and dnc in _PASSES_RIGHT and link_on and control.playback_enable
            from_tree = dnc in _PASSES_LEFT
            neurons_pass = from_tree and level0 in _PASSES_RIGHT
            bg = chip.background_generators[j]
            bg_pass = from_tree and level0 in _PASSES_LEFT and bg.enable
            if not (from_fpga or neurons_pass or bg_pass):
                continue
            oi = len(origins)
            origins.append(Origin(h, j))
            origin_of[(h.enum, j)] = oi
            if from_fpga:
                input_origins.add(oi)
            if bg_pass:
                background.append((oi, bg.address, bg.period, bg.random, bg.seed))
            to_fpga = gbit.direction is GbitDirection.TO_DNC and link_on and control.trace_enable
            if neurons_pass:
                for k in sending.get((h, j), ()):
                    neuron_origin[k] = oi
                    recorded[k] = to_fpga

    # Follow every origin through L1 to the synapses.
    edges = _l1_edges(config)
    switch_targets = _switch_targets(config)
    chip_synapses: dict[int, _ChipSynapses] = {}
    jobs: list[tuple[int, _ChipSynapses, list[int]]] = []  # (origin, chip, its drivers reached by the origin)
    for oi, origin in enumerate(origins):
        chip = hicanns[origin.hicann]
        sending_repeater = C.DNCMergerOnHICANN(origin.channel).to_sending_repeater()
        if chip.h_repeaters[sending_repeater.to_hrepeater()].mode is not RepeaterMode.OUTPUT:
            continue
        reached = _reach((origin.hicann.enum, "H", sending_repeater.to_hline().value), edges)
        drivers = set()
        for hicann_enum, kind, line in reached:
            if kind == "V":
                for target in switch_targets.get((hicann_enum, line), ()):
                    t_chip = hicanns.get(C.HICANNOnWafer(target[0]))
                    drivers.update((target[0], d) for d in _driver_chain(t_chip, target[1]))
        per_hicann: dict[int, list[int]] = defaultdict(list)
        for hicann_enum, driver in sorted(drivers):
            per_hicann[hicann_enum].append(driver)
        for hicann_enum, chip_drivers in per_hicann.items():
            table = chip_synapses.get(hicann_enum)
            if table is None:
                h = C.HICANNOnWafer(hicann_enum)
                table = chip_synapses[hicann_enum] = _ChipSynapses(hicann_enum, hicanns[h], post_of_denmem.get(hicann_enum))
            jobs.append((oi, table, chip_drivers))
    # Count first, then fill preallocated columns: a full wafer has 44 M synapses, and
    # concatenating pieces would hold the table twice.
    counts = [table.count(chip_drivers) for _, table, chip_drivers in jobs]
    stacked = [np.empty(sum(counts), dtype=dtype) for dtype in _SYNAPSE_DTYPES]
    at = 0
    for (oi, table, chip_drivers), n in zip(jobs, counts):
        if n:
            table.fill(oi, chip_drivers, [column[at:at + n] for column in stacked])
            at += n
    synapses = SynapseTable(*stacked)
    return Wiring(tuple(neurons), parameters, tuple(origins), synapses, neuron_origin, frozenset(input_origins), recorded,
                  tuple(background), pll, tuple(adex))


#: dtypes of the :class:`SynapseTable` fields, in declaration order.
_SYNAPSE_DTYPES = (np.int64, np.int64, np.int64, np.float64, np.bool_, np.int64, np.int64, np.int64)


@functools.cache
def _row_fg_block() -> np.ndarray:
    """FG block enum (``2 y + x``) of each synapse row's driver: x = its side (left 0, right 1), y = its half."""
    driver = np.arange(448) // 2
    right = np.array([C.SynapseDriverOnHICANN(int(d)).side != "left" for d in range(224)])[driver]
    return np.where(right, 1, 0) + 2 * (driver >= 112)


class _ChipSynapses:
    """The synapse array of one HICANN, decoded once, for reading many drivers' synapses.

    ``post_of_denmem`` (512 entries, or None) gives the logical neuron of each
    denmem, -1 for denmems of no logical neuron.
    """

    def __init__(self, hicann: int, chip: HICANNConfig, post_of_denmem: np.ndarray | None):
        self.hicann = hicann
        self.weights = chip.weights
        self.decoders = chip.decoders
        rows = chip.synapse_rows
        col = lambda name: rows.column(name).astype(np.int64)  # noqa: E731
        self.excitatory = col("input_excitatory").astype(bool)
        self.inhibitory = col("input_inhibitory").astype(bool)
        self.decoder_even, self.decoder_odd = col("decoder_even"), col("decoder_odd")
        # V_gmax of each row: the shared parameter selected by the row, in the FG block of its driver's side and half.
        v_gmax = np.stack([chip.shared_parameter(f"V_gmax{i}") for i in range(4)])
        v_row = v_gmax[col("sel_gmax"), _row_fg_block()]
        self.unit_excitatory = synaptic_unit_conductance_ns(v_row, col("gmax_div_excitatory"))
        self.unit_inhibitory = synaptic_unit_conductance_ns(v_row, col("gmax_div_inhibitory"))
        self.post_of_denmem = np.full(NEURONS, -1, dtype=np.int64) if post_of_denmem is None else post_of_denmem
        self._per_row: np.ndarray | None = None

    def _inputs(self, drivers: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """(row, excitatory) of every enabled synaptic input of the drivers' rows, in reading order."""
        rows = (2 * np.asarray(drivers, dtype=np.int64)[:, None] + np.arange(2)).ravel()
        enabled = np.stack([self.excitatory[rows], self.inhibitory[rows]], axis=1).ravel()
        return np.repeat(rows, 2)[enabled], np.tile(np.array([True, False]), rows.size)[enabled]

    def _post(self, rows: np.ndarray) -> np.ndarray:
        """Logical neuron under every synapse of ``rows``: rows 0..223 feed the top denmems, 224..447 the bottom ones."""
        return self.post_of_denmem[np.where(rows >= 224, 256, 0)[:, None] + np.arange(256)]

    def count(self, drivers: list[int]) -> int:
        """How many synapses :meth:`fill` writes for ``drivers``."""
        if self._per_row is None:
            rows = np.arange(448)
            self._per_row = np.count_nonzero((self.weights != 0) & (self._post(rows) >= 0), axis=1)
        input_row, _ = self._inputs(drivers)
        return int(self._per_row[input_row].sum())

    def fill(self, origin: int, drivers: list[int], out: list[np.ndarray]) -> None:
        """Write the synapses of ``drivers`` (ascending) reached by ``origin`` into ``out`` (:class:`SynapseTable` columns).

        Order: driver, its two rows, per row the excitatory then the inhibitory
        input (those enabled), then column.
        """
        input_row, input_excitatory = self._inputs(drivers)
        weights = self.weights[input_row]
        post = self._post(input_row)
        which, column = np.nonzero((weights != 0) & (post >= 0))  # row-major: input by input, columns ascending
        row = input_row[which]
        excitatory = input_excitatory[which]
        out[0][:] = origin
        out[1][:] = (np.where(column % 2 == 0, self.decoder_even[row], self.decoder_odd[row]) << 4) | self.decoders[row, column]
        out[2][:] = post[which, column]
        out[3][:] = weights[which, column] * np.where(excitatory, self.unit_excitatory[row], self.unit_inhibitory[row])
        out[4][:] = excitatory
        out[5][:] = row
        out[6][:] = column
        out[7][:] = self.hicann
