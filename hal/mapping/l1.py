"""L1 resources of the wafer: who uses each line, which repeaters are broken, and one hop between chips.

A line is named by :class:`L1Line` (a HICANN and its horizontal or vertical line coordinate).
Each line carries one origin -- an ``(HICANNOnWafer, channel)`` pair, the DNC merger whose
sending repeater puts the events on L1 -- or is on the defect list. The global router
(:mod:`hal.mapping.routing`) grows buses through :meth:`L1Occupancy.hop`.
"""

from __future__ import annotations

from collections import defaultdict

import attrs

from hal import coordinates as C
from hal.hardware.hicann import RepeaterMode
from hal.hardware.wafer import WaferConfig

__all__ = ["L1Line", "L1Occupancy", "DEFECT", "sending_line"]

#: Owner of a line on the defect list.
DEFECT = ("defect",)

#: Register field of a repeater that drives towards each direction.
_STEPS = {"east": "towards_east", "west": "towards_west", "north": "towards_north", "south": "towards_south"}


@attrs.frozen
class L1Line:
    """One L1 line of the wafer: ``line`` (horizontal or vertical) on ``hicann``."""

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
        there = getattr(self.hicann, direction)()
        return None if there is None else L1Line(there, getattr(self.line, direction)())


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
        self.owner: dict[L1Line, object] = {}
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

    def free(self, key: L1Line, origin) -> bool:
        return key.hicann.enum not in self.dead and self.owner.get(key, origin) == origin

    def claim(self, key: L1Line, origin) -> None:
        self.owner[key] = origin
        self.per_chip[key.hicann][key.line] = origin

    def claim_origin(self, hicann: C.HICANNOnWafer, channel: int) -> None:
        """The sending line of DNC merger ``channel``, driven by its sending repeater in output mode."""
        key = L1Line.horizontal(hicann, sending_line(channel))
        self.claim(key, (hicann, channel))
        self.outputs.add(key)

    def horizontal_lines_of(self, origin) -> list[L1Line]:
        """The horizontal lines ``origin``'s bus holds (a scan of every line: for the rare detours, not per hop)."""
        return [key for key, o in self.owner.items() if o == origin and key.is_horizontal]

    def checkpoint(self) -> tuple:
        """The occupancy and the configured HICANNs' registers as they are now, for :meth:`rollback`.

        A tentative route (:func:`hal.mapping.routing.route_detour`) claims lines and sets
        repeaters and switches step by step; if it does not get through, rolling back leaves
        no half-built branch behind.
        """
        images = {h: {name: words.copy() for name, words in chip.image.items()} for h, chip in self.config.hicanns()}
        return dict(self.owner), {h: dict(lines) for h, lines in self.per_chip.items()}, set(self.outputs), images

    def rollback(self, checkpoint: tuple) -> None:
        """Back to the state of :meth:`checkpoint` (lines, repeaters, switches; HICANNs configured since are dropped)."""
        owner, per_chip, outputs, images = checkpoint
        self.owner = owner
        self.per_chip = defaultdict(dict, per_chip)
        self.outputs = outputs
        for h, chip in list(self.config.hicanns()):
            if h not in images:
                self.config.remove_hicann(h)
                continue
            for name, words in images[h].items():
                chip.image[name][...] = words

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
        chip = self.config.hicann(repeater.hicann)
        repeaters = chip.h_repeaters if here.is_horizontal else chip.v_repeaters
        sending = repeater in self.outputs
        if sending and not (repeater == here and direction == "west"):
            return None  # a sending repeater drives its own line (and, towards the west, its western neighbour's)
        mode = RepeaterMode.OUTPUT if sending else RepeaterMode.FORWARDING
        repeaters.update(repeater.line.value, mode=mode, **{_STEPS[direction]: True})
        self.claim(there, origin)
        return there
