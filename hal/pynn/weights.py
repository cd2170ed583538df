"""Weights to bits on the realised chip: PyNN's conductances through the rows the mapping chose.

:func:`hal.pynn.network.build_network` declares weights in hal's nS, which the mapper turns into
4-bit weights through the network's nominal scale (0.68 nS per bit). The rows it configures
realise a slightly different unit conductance (their V_gmax is a 10-bit floating-gate value,
e.g. 0.6773 nS instead of 0.68: a 0.4 % error in every PSP). :func:`refine_weights` reads the
realised unit conductance of each synapse's row (nominal transfer functions,
:func:`hal.netlist.synapses.row_unit_conductances`) and the post neuron's capacitance (the
configuration's wiring), and rewrites each synapse's bits as the nearest to the asked g/C::

    bits = round( (w_hal_nS / (1000 * C_hal_nF)) / (g_unit_hw_nS / speedup / C_hw_pF) )

through :meth:`hal.mapping.MappingResult.set_weights` (only weights change). A weight whose
nearest value is 16 bits (it was within half a bit of 15 on the nominal scale) is realised as
15 and counted.
"""

from __future__ import annotations

import numpy as np

from hal import coordinates as C
from hal.logging import get_logger
from hal.netlist.synapses import row_unit_conductances
from hal.netlist.wiring import extract_wiring

__all__ = ["refine_weights", "realised_ratios"]

log = get_logger(__name__)


def _per_bit(network, config, mapping, speedup: float) -> list[np.ndarray]:
    """Per hal projection, per synapse (edge order): the g/C of one weight bit (nS per pF, biological); NaN where lost."""
    wiring = extract_wiring(config, synapses=False)  # neurons and parameters only
    c_pf = np.asarray(wiring.parameters["c_pf"], dtype=float)
    neuron_of = {(n.hicann, n.firing): i for i, n in enumerate(wiring.neurons)}
    units: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    out = []
    for j, proj in enumerate(network.projections):
        hic, row, _ = mapping.synapse_location[j]
        _, post = proj.edges(network.size(proj.pre), network.size(proj.post))
        capacitance = np.array([c_pf[neuron_of[(h, denmems[0])]] for h, denmems in mapping.neurons_of(proj.post)])[post]
        unit = np.full(hic.size, np.nan)
        for h in np.unique(hic[hic >= 0]):
            if int(h) not in units:
                units[int(h)] = row_unit_conductances(config.hicann(C.HICANNOnWafer(int(h))))
            exc, inh = units[int(h)]
            sel = hic == h
            unit[sel] = (exc if proj.receptor == "excitatory" else inh)[row[sel]]
        out.append(unit / speedup / capacitance)
    return out


def _targets(proj, hal_cm_nf: float) -> np.ndarray:
    """The asked g/C of each synapse of a ``list`` projection (nS per pF, biological)."""
    return np.broadcast_to(np.asarray(proj.weight_ns, dtype=float), (len(proj.pairs),)) / (1000.0 * hal_cm_nf)


def refine_weights(network, config, mapping, *, hal_cm_nf: float, speedup: float) -> int:
    """Rewrite the weights of ``mapping``'s projections on ``config`` for the realised rows; returns synapses clipped to 15."""
    clipped = 0
    for j, (proj, per_bit) in enumerate(zip(network.projections, _per_bit(network, config, mapping, speedup))):
        realised = np.isfinite(per_bit)
        bits = np.where(realised, np.rint(_targets(proj, hal_cm_nf) / np.where(realised, per_bit, 1.0)), 0).astype(np.int64)
        clipped += int(np.count_nonzero(bits > 15))
        mapping.set_weights(config, j, np.clip(bits, 0, 15))
    if clipped:
        log.warning("weights_clipped_to_15_bits", synapses=clipped,
                    note="within half a bit of the largest weight on the nominal scale, above it on the realised rows")
    return clipped


def realised_ratios(network, config, mapping, *, hal_cm_nf: float, speedup: float) -> list[np.ndarray]:
    """Per hal projection, per synapse: realised / asked conductance (0 for a lost synapse)."""
    out = []
    for j, (proj, per_bit) in enumerate(zip(network.projections, _per_bit(network, config, mapping, speedup))):
        hic, row, col = mapping.synapse_location[j]
        bits = np.zeros(hic.size)
        for h in np.unique(hic[hic >= 0]):
            sel = hic == h
            bits[sel] = config.hicann(C.HICANNOnWafer(int(h))).weights[row[sel], col[sel]]
        out.append(np.where(np.isfinite(per_bit), bits * np.nan_to_num(per_bit) / _targets(proj, hal_cm_nf), 0.0))
    return out
