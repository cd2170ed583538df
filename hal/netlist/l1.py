"""Following events through L1: lines, repeaters, crossbar and synapse switches, synapse drivers.

L1 line nodes are ``(hicann enum, "H" | "V", line)``. Edges are directed: a crossbar switch
joins its lines both ways, a forwarding repeater passes events across the chip border in the
directions it is enabled for, and a sending repeater in output mode with ``towards_west``
also drives the western neighbour's line. Closed synapse switches feed synapse drivers, which
may pass their input on to the next driver on their side (``connect_neighbor``).
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Mapping, Sequence

import attrs
import numpy as np

from hal import coordinates as C
from hal.hardware.hicann import HICANNConfig, RepeaterMode
from hal.hardware.wafer import WaferConfig

__all__ = ["L1Node", "Origin", "l1_lines", "drivers_reached"]

#: A line node of the L1 graph: (hicann enum, "H" or "V", line).
L1Node = tuple[int, str, int]


@attrs.frozen(order=True)
class Origin:
    """Where events enter L1: the DNC merger ``channel`` of ``hicann``."""

    hicann: C.HICANNOnWafer
    channel: int


def _l1_edges(config: WaferConfig) -> dict[L1Node, list[L1Node]]:
    """Directed edges between L1 line nodes (hicann enum, "H"/"V", line)."""
    edges: dict[L1Node, list[L1Node]] = defaultdict(list)
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


def _reach(start: L1Node, edges: Mapping[L1Node, list[L1Node]]) -> set[L1Node]:
    seen = {start}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in edges.get(node, ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def l1_lines(config: WaferConfig) -> dict[tuple[int, int], set[L1Node]]:
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


#: A chip's driver columns (enable, locin, connect_neighbor), read once per chip: a full wafer asks
#: for 86,000 driver chains, and unpacking the columns each time was a quarter of reading its wiring.
_DriverColumns = tuple[np.ndarray, np.ndarray, np.ndarray]


def _driver_columns(chip: HICANNConfig) -> _DriverColumns:
    table = chip.synapse_drivers
    return tuple(table.column(name).astype(bool) for name in ("enable", "locin", "connect_neighbor"))


def _driver_chain(columns: _DriverColumns | None, driver: int) -> list[int]:
    """The drivers that receive what ``driver`` takes from L1: itself plus neighbour chaining.

    A driver with ``connect_neighbor`` mirrors its input to the next driver on its side and
    half (``d + 2``) if that one is enabled and does not listen to L1 itself; it passes it on in
    turn if it has ``connect_neighbor`` set. ``columns`` are the chip's :func:`_driver_columns`
    (None: no such chip).
    """
    if columns is None:
        return []
    enable, locin, neighbor = columns
    if not (enable[driver] and locin[driver]):
        return []
    chain = [driver]
    d = driver
    while neighbor[d] and d + 2 < 224 and (d + 2 < 112) == (driver < 112) and enable[d + 2] and not locin[d + 2]:
        d += 2
        chain.append(d)
    return chain


def drivers_reached(config: WaferConfig, origins: Sequence[Origin]) -> list[dict[int, list[int]]]:
    """Per origin: HICANN enum -> ascending synapse drivers that receive the events it sends.

    An origin whose sending repeater is not in output mode reaches nothing (an empty dict).
    HICANNs appear in ascending enum order.
    """
    hicanns = dict(config.hicanns())
    edges = _l1_edges(config)
    switch_targets = _switch_targets(config)
    columns = {h.enum: _driver_columns(chip) for h, chip in hicanns.items()}
    return [_drivers_of(origin, hicanns, columns, edges, switch_targets) for origin in origins]


def _drivers_of(
    origin: Origin,
    hicanns: Mapping[C.HICANNOnWafer, HICANNConfig],
    driver_columns: Mapping[int, _DriverColumns],
    edges: Mapping[L1Node, list[L1Node]],
    switch_targets: Mapping[tuple[int, int], list[tuple[int, int]]],
) -> dict[int, list[int]]:
    sending_repeater = C.DNCMergerOnHICANN(origin.channel).to_sending_repeater()
    if hicanns[origin.hicann].h_repeaters[sending_repeater.to_hrepeater()].mode is not RepeaterMode.OUTPUT:
        return {}
    reached = _reach((origin.hicann.enum, "H", sending_repeater.to_hline().value), edges)
    drivers = set()
    for hicann_enum, kind, line in reached:
        if kind == "V":
            for target in switch_targets.get((hicann_enum, line), ()):
                drivers.update((target[0], d) for d in _driver_chain(driver_columns.get(target[0]), target[1]))
    per_hicann: dict[int, list[int]] = defaultdict(list)
    for hicann_enum, driver in sorted(drivers):
        per_hicann[hicann_enum].append(driver)
    return dict(per_hicann)
