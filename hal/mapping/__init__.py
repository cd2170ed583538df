"""Mapping a :class:`~hal.network.Network` onto the wafer: placement, L1 routing, synapse drivers, parameters.

The one mapper: :func:`map_network` runs the phases of :mod:`hal.mapping.pipeline` over one
:class:`~hal.mapping.state.MappingState`.
"""

from hal.mapping.l1 import L1Line
from hal.mapping.options import CIRCUITS_PER_NEURON, INPUT_BUDGET_HZ_PER_HICANN, PLACEMENTS, ROUTERS, MappingOptions
from hal.mapping.pipeline import map_network
from hal.mapping.result import MappingResult

__all__ = ["CIRCUITS_PER_NEURON", "INPUT_BUDGET_HZ_PER_HICANN", "PLACEMENTS", "ROUTERS", "MappingOptions", "MappingResult", "L1Line", "map_network"]
