"""L1 resources of the wafer: who uses each line, which repeaters are broken, and one hop between chips.

A line is named by :class:`L1Line` (a HICANN and its horizontal or vertical line coordinate).
Each line carries one origin -- an ``(HICANNOnWafer, channel)`` pair, the DNC merger whose
sending repeater puts the events on L1 -- or is on the defect list. The global router
(:mod:`hal.mapping.routing`) grows buses through :meth:`L1Occupancy.hop`.
"""

from __future__ import annotations

from collections import defaultdict

import attrs
import numpy as np

from hal import coordinates as C
from hal.hardware.hicann import RepeaterMode
from hal.hardware.wafer import WaferConfig

__all__ = ["DEFECT", "L1Line", "L1Occupancy", "sending_line"]

#: Owner of a line on the defect list.
DEFECT = ("defect",)

#: The registers a route writes (what a rollback restores).
_ROUTING_REGISTERS = ("h_repeater", "v_repeater", "crossbar_switch")
#: Previous owner of a line that had none.
_FREE = object()


@attrs.define
class _Journal:
    """What changed since :meth:`L1Occupancy.checkpoint`: (line, previous owner) in order; per HICANN its routing registers
    before; per origin how many deferred writes it had before."""

    owners: list = attrs.Factory(list)
    chips: dict = attrs.Factory(dict)
    pending: dict = attrs.Factory(dict)


#: Register field of a repeater that drives towards each direction.
_STEPS = {"east": "towards_east", "west": "towards_west", "north": "towards_north", "south": "towards_south"}


@attrs.frozen(cache_hash=True)
class L1Line:
    """One L1 line of the wafer: ``line`` (horizontal or vertical) on ``hicann``.

    Its hash is cached, and :meth:`towards` hands out one object per neighbour: the router hashes
    lines ~10^6 times on a full wafer, and hashing the two coordinates each time dominated it.
    """

    hicann: C.HICANNOnWafer
    line: C.HLineOnHICANN | C.VLineOnHICANN = attrs.field(
        validator=attrs.validators.instance_of((C.HLineOnHICANN, C.VLineOnHICANN)))

    @classmethod
    def horizontal(cls, hicann: C.HICANNOnWafer, line: int) -> L1Line:
        return cls(hicann, C.HLineOnHICANN(line))

    @classmethod
    def vertical(cls, hicann: C.HICANNOnWafer, line: int) -> L1Line:
        return cls(hicann, C.VLineOnHICANN(line))

    @property
    def is_horizontal(self) -> bool:
        return isinstance(self.line, C.HLineOnHICANN)

    def towards(self, direction: str) -> L1Line | None:
        """The line this one continues as on the neighbour in ``direction`` (None at the wafer's edge)."""
        known = _NEIGHBOURS[direction]
        if self in known:
            return known[self]
        there = getattr(self.hicann, direction)()
        known[self] = there = None if there is None else L1Line(there, getattr(self.line, direction)())
        return there


#: direction -> line -> the line it continues as there (or None), filled by :meth:`L1Line.towards` as lines are asked
#: for; at most the wafer's 122,880 lines per direction, all immutable.
_NEIGHBOURS: dict[str, dict[L1Line, L1Line | None]] = {"east": {}, "west": {}, "north": {}, "south": {}}


def sending_line(channel: int) -> int:
    """The horizontal line that DNC merger ``channel``'s sending repeater drives."""
    return C.DNCMergerOnHICANN(channel).to_sending_repeater().to_hline().value


class L1Occupancy:
    """Who uses each L1 line of the wafer, and the repeaters that must not be used.

    Lines and repeaters on the defect list are never taken; no bus crosses a disabled HICANN.
    Routing goes from line to line through repeaters at chip borders, set the way the hardware
    needs them (marocco ``routing/Configuration.cpp``): a repeater sits at one border of its
    line's chip -- even horizontal lines at the west, odd ones at the east; vertical lines at
    the top or bottom (:class:`~hal.coordinates.VRepeaterOnHICANN`) -- so a hop across a border
    uses the repeater of the chip on whichever side has it.
    """

    def __init__(self, config: WaferConfig, options):
        self.config = config
        self._journal: _Journal | None = None  # changes since checkpoint(), while a tentative route is built
        self.owner: dict[L1Line, object] = {}
        self.by_origin: dict[object, set[L1Line]] = defaultdict(set)  # the lines each origin (or DEFECT) holds
        self.per_chip: dict[C.HICANNOnWafer, dict[C.HLineOnHICANN | C.VLineOnHICANN, object]] = defaultdict(dict)
        for h, line in options.disabled_hlines:
            self.claim(L1Line.horizontal(C.HICANNOnWafer(h), line), DEFECT)
        for h, line in options.disabled_vlines:
            self.claim(L1Line.vertical(C.HICANNOnWafer(h), line), DEFECT)
        # A repeater is named by its line.
        self.bad_repeaters = ({L1Line.horizontal(C.HICANNOnWafer(h), r) for h, r in options.disabled_hrepeaters}
                              | {L1Line.vertical(C.HICANNOnWafer(h), r) for h, r in options.disabled_vrepeaters})
        self.dead = frozenset(options.disabled_hicanns)  # HICANN enums
        self.outputs: set[L1Line] = set()  # lines of sending repeaters in output mode
        # While True, hop() and close_crossbar() claim lines but keep their register writes per origin
        # (pending), so that the negotiated router can rip up a bus and a failed detour be rolled back
        # without undoing registers; flush() then writes them all, batched per HICANN.
        self.deferred = False
        self.pending: dict[object, list[tuple]] = defaultdict(list)

    def free(self, key: L1Line, origin) -> bool:
        return key.hicann.enum not in self.dead and self.owner.get(key, origin) == origin

    def claim(self, key: L1Line, origin) -> None:
        before = self.owner.get(key, _FREE)
        if self._journal is not None:
            self._journal.owners.append((key, before))
        if before is not _FREE:
            self.by_origin[before].discard(key)
        self.by_origin[origin].add(key)
        self.owner[key] = origin
        self.per_chip[key.hicann][key.line] = origin

    def claim_origin(self, hicann: C.HICANNOnWafer, channel: int) -> None:
        """The sending line of DNC merger ``channel``, driven by its sending repeater in output mode."""
        key = L1Line.horizontal(hicann, sending_line(channel))
        self.claim(key, (hicann, channel))
        self.outputs.add(key)

    def horizontal_lines_of(self, origin) -> list[L1Line]:
        """The horizontal lines ``origin``'s bus holds."""
        return [key for key in self.by_origin.get(origin, ()) if key.is_horizontal]

    def checkpoint(self) -> _Journal:
        """Start recording changes, for :meth:`rollback` (or :meth:`keep`).

        A tentative route (:func:`hal.mapping.routing.route_detour`) claims lines and sets
        repeaters and switches step by step; if it does not get through, rolling back leaves
        no half-built branch behind. Only what changes is recorded -- each line's previous
        owner, and the routing registers (repeaters, crossbar switches) of each HICANN the
        first time the route touches it, or in deferred mode the number of writes each origin
        had pending -- so a checkpoint costs nothing on a full wafer.
        """
        self._journal = _Journal()
        return self._journal

    def keep(self, journal: _Journal) -> None:
        """The tentative route stays: stop recording."""
        if self._journal is journal:
            self._journal = None

    def rollback(self, journal: _Journal) -> None:
        """Back to the state of :meth:`checkpoint` (lines, repeaters, switches; HICANNs configured since are dropped)."""
        for key, before in reversed(journal.owners):
            self.by_origin[self.owner[key]].discard(key)
            if before is _FREE:
                self.owner.pop(key, None)
                self.per_chip[key.hicann].pop(key.line, None)
            else:
                self.by_origin[before].add(key)
                self.owner[key] = before
                self.per_chip[key.hicann][key.line] = before
        for origin, count in journal.pending.items():
            del self.pending[origin][count:]
        for h, images in journal.chips.items():
            if images is None:
                self.config.remove_hicann(h)
                continue
            chip = self.config.hicann(h)
            for name, words in images.items():
                chip.image[name][...] = words
        if self._journal is journal:
            self._journal = None

    def touch(self, hicann: C.HICANNOnWafer):
        """The configuration of ``hicann``, for a routing write (repeaters, crossbar switches): recorded first when journaling."""
        journal = self._journal
        if journal is not None and hicann not in journal.chips:
            if self.config.has_hicann(hicann):
                image = self.config.hicann(hicann).image
                journal.chips[hicann] = {name: image[name].copy() for name in _ROUTING_REGISTERS}
            else:
                journal.chips[hicann] = None
        return self.config.hicann(hicann)

    def close_crossbar(self, hicann: C.HICANNOnWafer, hline: C.HLineOnHICANN, vline: C.VLineOnHICANN) -> None:
        """Close the crossbar switch joining ``hline`` and ``vline`` of ``hicann`` (both already claimed by one bus)."""
        if self.deferred:
            self._defer(self.owner[L1Line(hicann, hline)], ("crossbar", hicann, hline, vline))
            return
        self.touch(hicann).set_crossbar_switch(C.CrossbarSwitchOnHICANN(hline=hline.value, vline=vline.value), True)

    def release(self, origin) -> None:
        """Drop ``origin``'s bus -- every line but its sending line, and its pending register writes (deferred mode only)."""
        for key in list(self.by_origin.get(origin, ())):
            if key not in self.outputs:
                del self.owner[key]
                self.per_chip[key.hicann].pop(key.line, None)
                self.by_origin[origin].discard(key)
        self.pending.pop(origin, None)

    def flush(self) -> None:
        """Write the pending register writes of every bus and leave deferred mode.

        Batched per HICANN (one write per register and field): a full wafer has ~10^5 of them,
        and a write of one switch or repeater at a time unpacks and packs the whole register.
        """
        self.deferred = False
        switches: dict = defaultdict(list)
        repeaters: dict = defaultdict(lambda: defaultdict(list))  # (chip, horizontal) -> field -> lines
        for edits in self.pending.values():
            for kind, *args in edits:
                if kind == "crossbar":
                    hicann, hline, vline = args
                    switches[hicann].append((hline.value, vline.value // 32))
                else:
                    repeater, direction = args
                    fields = repeaters[(repeater.hicann, repeater.is_horizontal)]
                    fields[_STEPS[direction]].append(repeater.line.value)
                    fields["output" if repeater in self.outputs else "forwarding"].append(repeater.line.value)
        self.pending.clear()
        for hicann, pairs in switches.items():
            rows, bits = zip(*pairs)
            self.touch(hicann).set_crossbar_switches(True, index=(np.array(rows), np.array(bits)))
        for (hicann, horizontal), fields in repeaters.items():
            chip = self.touch(hicann)
            table = chip.h_repeaters if horizontal else chip.v_repeaters
            for name, lines in fields.items():
                lines = sorted(set(lines))
                if name in ("output", "forwarding"):
                    mode = RepeaterMode.OUTPUT if name == "output" else RepeaterMode.FORWARDING
                    table.set_column("mode", np.full(len(lines), int(mode)), index=lines)
                else:
                    table.set_column(name, np.ones(len(lines), dtype=int), index=lines)

    def vline_owner(self, hicann: C.HICANNOnWafer) -> dict[int, object]:
        """Vertical lines of ``hicann`` already taken (by buses passing through, or broken): line -> owner."""
        return {line.value: o for line, o in self.per_chip.get(hicann, {}).items() if isinstance(line, C.VLineOnHICANN)}

    def lines_of(self, hicann: C.HICANNOnWafer, kind: type) -> int:
        """How many lines of ``kind`` (:class:`~hal.coordinates.HLineOnHICANN` or ``VLineOnHICANN``) buses use on ``hicann``."""
        return sum(1 for line, o in self.per_chip.get(hicann, {}).items() if isinstance(line, kind) and o != DEFECT)

    def repeater_between(self, here: L1Line, there: L1Line, direction: str) -> L1Line:
        """The line whose repeater joins ``here`` to its neighbour ``there``: at the border crossed, if ``here`` has it there."""
        if here.is_horizontal:
            at_border = "east" if here.line.value % 2 else "west"
        else:
            at_border = "north" if C.VRepeaterOnHICANN(here.line.value).is_top else "south"
        return here if at_border == direction else there

    def hop(self, here: L1Line, direction: str, origin) -> L1Line | None:
        """Continue ``origin``'s bus from ``here`` to the neighbour in ``direction``; None if blocked.

        Claims the neighbour's line and sets the repeater between the two chips.
        """
        there = here.towards(direction)
        if there is None or not self.free(there, origin):
            return None
        repeater = self.repeater_between(here, there, direction)
        if repeater in self.bad_repeaters:
            return None
        if not self.deferred:
            self.touch(repeater.hicann)  # as before deferred writes existed: the chip's configuration exists even if the hop is refused
        if repeater in self.outputs and not (repeater == here and direction == "west"):
            return None  # a sending repeater drives its own line (and, towards the west, its western neighbour's)
        if self.deferred:
            self._defer(origin, ("repeater", repeater, direction))
        else:
            self._set_repeater(repeater, direction)
        self.claim(there, origin)
        return there

    def _defer(self, origin, edit: tuple) -> None:
        """Keep a register write of ``origin``'s bus for :meth:`flush` (its count before, if journaling, for :meth:`rollback`)."""
        edits = self.pending[origin]
        journal = self._journal
        if journal is not None and origin not in journal.pending:
            journal.pending[origin] = len(edits)
        edits.append(edit)

    def _set_repeater(self, repeater: L1Line, direction: str) -> None:
        chip = self.touch(repeater.hicann)
        repeaters = chip.h_repeaters if repeater.is_horizontal else chip.v_repeaters
        mode = RepeaterMode.OUTPUT if repeater in self.outputs else RepeaterMode.FORWARDING
        repeaters.update(repeater.line.value, mode=mode, **{_STEPS[direction]: True})
