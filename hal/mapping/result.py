"""What a mapping produced: :class:`MappingResult`."""

from __future__ import annotations

import attrs
import numpy as np

from hal import coordinates as C
from hal.errors import ConfigError
from hal.hardware.wafer import WaferConfig
from hal.mapping.options import INPUT_BUDGET_HZ_PER_HICANN
from hal.network import Network

__all__ = ["MappingResult"]


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
