"""Reading denmems back as logical neurons: merged circuits, the firing denmem, the parameters.

A logical neuron is a set of denmems joined by quad merge switches (vertical and horizontal)
and by the fire-input bit across quads, with at least one denmem that fires; the first firing
denmem (in enum order) is the one whose threshold, reset and L1 address count. Its parameters
are the nominal hardware-domain values of its denmems (:mod:`hal.analog.transfer`) combined:
capacitances, leaks and adaptation currents add up, the resting potential is the leak-weighted
mean, the synaptic parameters are the mean, and the spike mechanism is the firing denmem's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping

import attrs
import numpy as np

from hal import coordinates as C
from hal.analog.transfer import (
    C_BIG_PF,
    C_SMALL_PF,
    GL_DIVIDERS,
    dac_to_current_na,
    dac_to_voltage_mv,
    nominal,
)
from hal.hardware.hicann import NEURONS, HICANNConfig

__all__ = ["PARAMETER_NAMES", "LogicalNeuron", "NeuronReadout", "DenmemTransform", "denmem_parameters", "read_neurons"]

#: Hardware-domain parameters of each logical neuron in :attr:`NeuronReadout.parameters`.
PARAMETER_NAMES = (
    "c_pf", "g_l_ns", "e_l_mv", "v_th_mv", "v_reset_mv", "e_rev_e_mv", "e_rev_i_mv", "tau_syn_e_us", "tau_syn_i_us",
    "t_ref_us", "a_ns", "b_na", "tau_w_us", "delta_t_mv", "v_exp_mv", "exp_bias_na",
)

#: ``denmem_transform(hicann, per_denmem) -> per_denmem``: a backend's circuit deviations.
DenmemTransform = Callable[[C.HICANNOnWafer, dict[str, np.ndarray]], dict[str, np.ndarray]]


@attrs.frozen(order=True)
class LogicalNeuron:
    """Merged denmems acting as one neuron, identified by its HICANN and firing denmem."""

    hicann: C.HICANNOnWafer
    firing: C.NeuronOnHICANN
    denmems: tuple[C.NeuronOnHICANN, ...] = attrs.field(order=False)
    address: int | None = attrs.field(order=False)  # L1 address of its spikes, None if it sends none

    def __repr__(self) -> str:
        return f"LogicalNeuron({self.hicann!r}, {self.firing!r}, {len(self.denmems)} denmems)"


@attrs.frozen(eq=False)
class NeuronReadout:
    """The logical neurons of a wafer, in HICANN order then firing-group order.

    ``parameters`` holds one array per :data:`PARAMETER_NAMES` entry (one value per neuron);
    ``post_of_denmem`` maps a HICANN enum to the neuron index of each of its 512 denmems
    (-1: none), for HICANNs with at least one neuron; ``adex`` lists the neurons whose
    adaptation or exponential terms are switched on.
    """

    neurons: tuple[LogicalNeuron, ...]
    parameters: dict[str, np.ndarray]
    post_of_denmem: dict[int, np.ndarray]
    adex: tuple[LogicalNeuron, ...]


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



def _logical_neurons(h: C.HICANNOnWafer, chip: HICANNConfig) -> tuple[list[LogicalNeuron], list[np.ndarray], list[int]]:
    """The logical neurons of one chip with their denmems (enums) and firing denmem, in group order.

    A group without a firing denmem is not a neuron anybody can use and is left out.
    """
    labels = _components(chip)
    firing = chip.neurons.column("activate_firing").astype(bool)
    spl1 = chip.neurons.column("enable_spl1_output").astype(bool)
    addresses = chip.neurons.column("l1_address")
    denmem_coords = C.NeuronOnHICANN.all()  # frozen and cached: shared by every logical neuron
    groups: dict[int, list[int]] = defaultdict(list)
    for i, root in enumerate(labels):
        groups[int(root)].append(i)
    logical, members, fires = [], [], []
    for root in sorted(groups):
        idx = np.array(groups[root])
        firing_members = idx[firing[idx]]
        if firing_members.size == 0:
            continue
        fire = int(firing_members[0])
        address = int(addresses[fire]) if spl1[fire] else None
        logical.append(LogicalNeuron(h, denmem_coords[fire], tuple(denmem_coords[int(i)] for i in idx), address))
        members.append(idx)
        fires.append(fire)
    return logical, members, fires


def _uses_adex(combined: dict[str, np.ndarray], k: int) -> bool:
    return bool(combined["a_ns"][k] > 0 or combined["b_na"][k] > 0 or combined["exp_bias_na"][k] > 0)


def read_neurons(hicanns: Mapping[C.HICANNOnWafer, HICANNConfig], denmem_transform: DenmemTransform | None = None) -> NeuronReadout:
    """The logical neurons of ``hicanns`` and their combined hardware-domain parameters.

    ``denmem_transform``, if given, changes each chip's nominal per-denmem parameters before
    they are combined (where a backend applies its circuits' deviations).
    """
    neurons: list[LogicalNeuron] = []
    parts: list[dict[str, np.ndarray]] = []
    post_of_denmem: dict[int, np.ndarray] = {}
    adex: list[LogicalNeuron] = []
    for h, chip in hicanns.items():
        per_denmem = denmem_parameters(chip)
        if denmem_transform is not None:
            per_denmem = denmem_transform(h, per_denmem)
        logical, members, fires = _logical_neurons(h, chip)
        if not logical:
            continue
        combined = _combine(per_denmem, members, fires)
        owner = post_of_denmem[h.enum] = np.full(NEURONS, -1, dtype=np.int64)
        for k, (ln, idx) in enumerate(zip(logical, members)):
            owner[idx] = len(neurons) + k
            if _uses_adex(combined, k):
                adex.append(ln)
        neurons.extend(logical)
        parts.append(combined)
    parameters = {k: np.concatenate([p[k] for p in parts]) if parts else np.zeros(0) for k in PARAMETER_NAMES}
    return NeuronReadout(tuple(neurons), parameters, post_of_denmem, tuple(adex))
