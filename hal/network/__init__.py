"""Networks in biological units: populations, sources, projections, and the LIF neuron's parameters."""

from hal.network.model import (
    CONNECTORS,
    Network,
    Population,
    Projection,
    SourcePopulation,
    load_network,
    paper_network_description,
    save_network,
)
from hal.network.parameters import SCHMITT2017, LIFParameters

__all__ = [
    "CONNECTORS", "Network", "Population", "Projection", "SourcePopulation",
    "load_network", "paper_network_description", "save_network",
    "SCHMITT2017", "LIFParameters",
]
