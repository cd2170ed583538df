"""Per-projection weight scales: the gmax divisor of each projection's synapse rows.

The mapping sets V_gmax so that divisor 1 gives the network's conductance per weight bit
(:attr:`hal.network.Network.ns_per_weight_bit`, see :func:`hal.mapping.synapses.set_gmax`).
A row's unit conductance is ``K_SYN * I(V_gmax) / divisor``
(:func:`hal.analog.transfer.synaptic_unit_conductance_ns`), so a projection that declares its
own :attr:`~hal.network.Projection.ns_per_weight_bit` ``p`` is realised by the divisor ``d``
with ``p = network value / d``. The divisor is a 4-bit row field; 0 switches the input off,
so ``d`` runs 1..15 and only these 15 values are realisable.
"""

from __future__ import annotations

from hal.errors import ConfigValueError
from hal.hardware.hicann import SynapseRowConfig
from hal.network import Network

__all__ = ["GMAX_DIVISORS", "projection_divisors", "realisable_ns_per_bit"]

#: Valid gmax divisors of a synapse row (the field's range without 0, which switches the input off).
GMAX_DIVISORS = tuple(range(1, SynapseRowConfig.REGISTER.field("gmax_div_excitatory").max + 1))

#: Relative tolerance between a declared scale and ``network value / divisor``: room for the
#: rounding of a value written out as a decimal, far below one calibration DAC step (1/1000).
_RELATIVE_TOLERANCE = 1e-6


def realisable_ns_per_bit(network_ns_per_bit: float) -> dict[int, float]:
    """Divisor -> conductance of weight 1 it gives, for a network whose divisor 1 gives ``network_ns_per_bit``."""
    return {d: network_ns_per_bit / d for d in GMAX_DIVISORS}


def projection_divisors(network: Network) -> list[int]:
    """The gmax divisor of every projection's rows, in projection order.

    Raises :class:`~hal.errors.ConfigValueError` naming the projection, its value and the
    nearest realisable values when no divisor gives its declared scale.
    """
    values = realisable_ns_per_bit(network.ns_per_weight_bit)
    out = []
    for j, proj in enumerate(network.projections):
        wanted = network.ns_per_bit(proj)
        divisor = min(values, key=lambda d: abs(values[d] - wanted))
        if abs(values[divisor] - wanted) > _RELATIVE_TOLERANCE * wanted:
            below = max((d for d in values if values[d] < wanted), default=None, key=lambda d: values[d])
            above = min((d for d in values if values[d] > wanted), default=None, key=lambda d: values[d])
            nearest = " or ".join(f"{values[d]:.6g} (divisor {d})" for d in (below, above) if d is not None)
            raise ConfigValueError(
                f"projections[{j}] {proj.pre}->{proj.post} ({proj.receptor})", "ns_per_weight_bit", wanted,
                f"Network.ns_per_weight_bit {network.ns_per_weight_bit:g} nS divided by a gmax divisor "
                f"{GMAX_DIVISORS[0]}..{GMAX_DIVISORS[-1]}; nearest {nearest}")
        out.append(divisor)
    return out
