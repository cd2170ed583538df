"""What a mapping produced: :class:`MappingResult`."""

from __future__ import annotations

import attrs
import numpy as np

from hal import coordinates as C
from hal.errors import ConfigError
from hal.hardware.wafer import WaferConfig
from hal.mapping.bound import SynapseBound
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
    #: per projection (in order): the conductance of weight 1 its rows realise (biological nS),
    #: the network's value divided by the rows' gmax divisor -- what a software twin multiplies the bits by
    projection_ns_per_bit: tuple[float, ...] = ()
    #: per HICANN (enum) whose rows are packed: addresses per row (absent: one address per row)
    row_packing: dict = attrs.field(factory=dict)
    #: the most synapses this placement permits and what the mapping realised of it (:mod:`hal.mapping.bound`);
    #: not part of :meth:`summary` (which stays as it was), ``hal map --json`` adds it as "bound"
    bound: SynapseBound | None = None

    def neurons_of(self, population: str) -> list:
        return self.placement[population]

    def realised(self, projection: int) -> np.ndarray:
        """Boolean mask of the synapses of ``projection`` that were realised, in its edge order
        (:meth:`hal.network.Projection.edges`); the lost ones are False (their location is -1).

        For a ``matrix`` or ``all_to_all`` projection, ``.reshape(n_post, n_pre)`` gives the (post, pre) mask.
        """
        if not 0 <= projection < len(self.synapse_location):
            raise ConfigError(f"MappingResult.realised: projection {projection} out of range; valid 0..{len(self.synapse_location) - 1}")
        return self.synapse_location[projection][0] >= 0

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
            # only when some rows are packed: a mapping without packing summarises as before
            **({"row_packing": {str(k): v for k, v in self.row_packing.items()}} if self.row_packing else {}),
        }
