"""Mapping a :class:`~hal.network.Network` onto the wafer: placement, L1 routing, synapse drivers, parameters."""

from hal.mapping.pipeline import CIRCUITS_PER_NEURON, INPUT_BUDGET_HZ_PER_HICANN, MappingOptions, MappingResult, map_network

__all__ = ["CIRCUITS_PER_NEURON", "INPUT_BUDGET_HZ_PER_HICANN", "MappingOptions", "MappingResult", "map_network"]
