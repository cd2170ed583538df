"""Gradient estimators: how the backward pass gets through the spike.

* :class:`SuperSpike` (Zenke & Ganguli 2018; Cramer et al. 2022): Heaviside forward,
  ``1 / (steepness |V - V_th| + 1)^2`` backward, ``steepness`` per mV;
* :class:`StraightThrough`: Heaviside forward, the derivative 1 inside ``|V - V_th| < width``.

An estimator is what :func:`hal_trainers.snn.twin.simulate` takes as ``spike_fn``.
"""

from __future__ import annotations

import attrs

from hal.errors import ConfigError
from hal.validators import positive
from hal_plugins.torch.dynamics import superspike, surrogate_spike

__all__ = ["SuperSpike", "StraightThrough", "ESTIMATORS", "estimator"]


@attrs.frozen
class SuperSpike:
    """The SuperSpike surrogate derivative; ``steepness`` in 1/mV."""

    steepness: float = attrs.field(default=0.5, validator=positive(what="steepness", unit="1/mV"))
    name = "superspike"

    def spike_fn(self):
        return superspike(self.steepness)


@attrs.frozen
class StraightThrough:
    """Derivative 1 for ``|V - V_th| < width_mv``, 0 outside."""

    width_mv: float = attrs.field(default=2.0, validator=positive(what="voltage", unit="mV"))
    name = "straight_through"

    def spike_fn(self):
        width = self.width_mv
        return surrogate_spike(lambda x: (x.abs() < width).to(x.dtype))


#: Estimators by name (``estimator("superspike", steepness=1.0)``).
ESTIMATORS = {"superspike": SuperSpike, "straight_through": StraightThrough}


def estimator(name: str, **options):
    if name not in ESTIMATORS:
        from hal.errors import UnknownNameError

        raise UnknownNameError("gradient estimator", name, ESTIMATORS)
    try:
        return ESTIMATORS[name](**options)
    except TypeError as exc:
        raise ConfigError(f"gradient estimator {name!r}: {exc}") from None
