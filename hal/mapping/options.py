"""How to map: :class:`MappingOptions` and the constants it is checked against."""

from __future__ import annotations

import attrs

from hal import coordinates as C
from hal.analog.domains import PAPER_DOMAINS, Domains
from hal.calibration import Calibration
from hal.calibration.database import check_defect
from hal.errors import ConfigError
from hal.mapping.hicanns import DEFAULT_CHAIN

__all__ = ["MappingOptions", "CIRCUITS_PER_NEURON", "INPUT_BUDGET_HZ_PER_HICANN", "PLACEMENTS", "ROUTERS"]

#: The (hicann, item) sets of :class:`MappingOptions` and the defect kinds their items are checked as.
_DISABLED_FIELDS = {"disabled_circuits": "neuron", "disabled_drivers": "synapse_driver", "disabled_rows": "synapse_row",
                    "disabled_hlines": "hline", "disabled_vlines": "vline", "disabled_hrepeaters": "hrepeater",
                    "disabled_vrepeaters": "vrepeater"}

#: Placement strategies (:attr:`MappingOptions.placement`).
PLACEMENTS = ("compact", "random", "random_hicanns", "partition")

#: Routers for what the backbone router leaves unreached (:attr:`MappingOptions.router`).
ROUTERS = ("greedy", "negotiated")

#: Circuits per logical neuron: one denmem, a column, or 1..16 whole quads (up to one neuron block).
CIRCUITS_PER_NEURON = (1, 2, 4, 8, 16, 32, 64)

#: 80 % of 17.8 MHz hardware per HICANN link, in biological Hz at speed-up 10^4 (marocco's budget).
INPUT_BUDGET_HZ_PER_HICANN = 0.8 * 17.8e6 / 1e4


def _default_chain() -> tuple[C.HICANNOnWafer, ...]:
    return DEFAULT_CHAIN


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
    # "random_hicanns": each neuron on a HICANN drawn (seeded) from ``hicanns`` (the paper's placement);
    # "partition": connectivity-aware, by recursive spectral bisection (:mod:`hal.mapping.partition`).
    placement: str = "compact"
    seed: int = 0
    # Sources on the HICANN of their first target (False), or spread over the HICANNs of their
    # targets, fewest sources first (True): every HICANN's FPGA link then carries a share of the
    # input. Needed where many sources fire together (a latency code's first spikes arrive as
    # one burst, which a single link's 17.8 MHz drops).
    spread_sources: bool = False
    # Failed detour tries (hal.mapping.routing.route_detour) allowed per mapping: bounds the routing
    # work where many buses cannot be routed (a count, so the result does not depend on the machine).
    detour_budget: int = 20_000
    # What routes the buses the backbone router (hal.mapping.routing, steps 1-3) leaves unreached:
    # "greedy": detours one bus at a time (step 4); "negotiated": all of them together with
    # negotiated congestion (hal.mapping.negotiated), at most ``route_iterations`` rip-up-and-reroute
    # iterations and ``route_work`` lines settled by its searches (counts: the same result on every
    # machine; the work limit ends the negotiation on a wafer whose lines are saturated, where it
    # gains nothing: the random chain's negotiation settles 1.14 M lines, the microcircuit's first
    # iteration alone ~10 M) and ``route_seconds`` of CPU (a logged safety limit). Networks the
    # backbone routes completely map the same with either; the
    # default is the one that realises more where they differ (wafer networks: random 73.1 -> 91.5 %
    # of the bound, local 97.0 -> 100 %, docs/mapping.md) at no cost where they do not.
    router: str = "negotiated"
    route_iterations: int = 12
    route_work: int = 1_500_000
    route_seconds: float = 40.0
    # Neuron blocks of a HICANN share a DNC merger through the merger tree where their neurons fit its
    # 63 addresses and their summed rate (source_rate_hz each) its link budget (hal.mapping.merger):
    # fewer buses, more lines for the others. Off by default: the paper network then maps as before.
    merge_blocks: bool = False

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
        if all(h.enum in self.disabled_hicanns for h in self.hicanns):
            names = ", ".join(str(h.enum) for h in self.hicanns[:8]) + (", ..." if len(self.hicanns) > 8 else "")
            raise ConfigError(f"MappingOptions.hicanns: all {len(self.hicanns)} ({names}) are disabled (defect list); "
                              f"valid: HICANNs not on it")
        for name, component in _DISABLED_FIELDS.items():
            for entry in getattr(self, name):
                if not (isinstance(entry, tuple) and len(entry) == 2):
                    raise ConfigError(f"MappingOptions.{name}: {entry!r} is not a (hicann enum, {component} index) pair")
                check_defect(component, *entry)
        if not isinstance(self.detour_budget, int) or isinstance(self.detour_budget, bool) or self.detour_budget < 0:
            raise ConfigError(f"MappingOptions.detour_budget: {self.detour_budget!r} not valid; valid integers >= 0")
        if not isinstance(self.merge_blocks, bool):
            raise ConfigError(f"MappingOptions.merge_blocks: {self.merge_blocks!r} not valid; valid True or False")
        if self.router not in ROUTERS:
            raise ConfigError(f"MappingOptions.router: {self.router!r} not valid; valid {', '.join(ROUTERS)}")
        if not isinstance(self.route_iterations, int) or isinstance(self.route_iterations, bool) or self.route_iterations < 1:
            raise ConfigError(f"MappingOptions.route_iterations: {self.route_iterations!r} not valid; valid integers >= 1")
        if not isinstance(self.route_work, int) or isinstance(self.route_work, bool) or self.route_work < 0:
            raise ConfigError(f"MappingOptions.route_work: {self.route_work!r} not valid; valid integers >= 0 (lines settled)")
        if (not isinstance(self.route_seconds, (int, float)) or isinstance(self.route_seconds, bool)
                or not self.route_seconds > 0 or self.route_seconds == float("inf")):
            raise ConfigError(f"MappingOptions.route_seconds: {self.route_seconds!r} not valid; valid finite numbers > 0")
        if self.placement not in PLACEMENTS:
            raise ConfigError(f"MappingOptions.placement: {self.placement!r} not valid; valid {', '.join(PLACEMENTS)}")

