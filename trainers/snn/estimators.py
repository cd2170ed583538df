"""Gradient estimators: how the backward pass gets through the spike.

* :class:`SuperSpike` (Zenke & Ganguli 2018; Cramer et al. 2022): Heaviside forward,
  ``1 / (steepness |V - V_th| + 1)^2`` backward, ``steepness`` per mV;
* :class:`StraightThrough`: Heaviside forward, the derivative 1 inside ``|V - V_th| < width``;
* :class:`~hal_trainers.snn.rate.RateBased` (Schmitt et al. 2017): measured rates as ReLU
  activations, the ReLU derivative backward (:mod:`hal_trainers.snn.rate`).

The :class:`~hal_trainers.snn.trainer.Trainer` asks its estimator for the network's
differentiable response to a batch (``response``), given what the backend measured (or, for
mock training, nothing). The surrogate estimators run the twin with their ``spike_fn``
(:func:`hal_trainers.snn.twin.simulate`), the measurements put into its graph; the rate-based
one builds a ReLU network on the measured rates and brings its own cost (``loss``).
"""

from __future__ import annotations

import attrs

from hal.errors import ConfigError
from hal.validators import positive
from hal_plugins.torch.dynamics import superspike, surrogate_spike
from hal_trainers.snn.rate import RateBased
from hal_trainers.snn.twin import simulate

__all__ = ["SuperSpike", "StraightThrough", "RateBased", "ESTIMATORS", "estimator"]


class _Surrogate:
    """The response of a surrogate-gradient estimator: the twin run with its ``spike_fn``, measurements in its graph."""

    __slots__ = ()

    def response(self, model, twin, grid, measured, *, x=None, readout: str = "membrane", readout_scale_mv: float = 1.0, dropout=()):
        out = simulate(model, twin, grid, spike_fn=self.spike_fn(), measured=measured, readout_scale_mv=readout_scale_mv, dropout=dropout)
        if readout == "spike_count":
            out = attrs.evolve(out, logits=out.spikes[-1].sum(dim=1))
        return out


@attrs.frozen
class SuperSpike(_Surrogate):
    """The SuperSpike surrogate derivative; ``steepness`` in 1/mV."""

    steepness: float = attrs.field(default=0.5, validator=positive(what="steepness", unit="1/mV"))
    name = "superspike"

    def spike_fn(self):
        return superspike(self.steepness)


@attrs.frozen
class StraightThrough(_Surrogate):
    """Derivative 1 for ``|V - V_th| < width_mv``, 0 outside."""

    width_mv: float = attrs.field(default=2.0, validator=positive(what="voltage", unit="mV"))
    name = "straight_through"

    def spike_fn(self):
        width = self.width_mv
        return surrogate_spike(lambda x: (x.abs() < width).to(x.dtype))


#: Estimators by name (``estimator("superspike", steepness=1.0)``).
ESTIMATORS = {"superspike": SuperSpike, "straight_through": StraightThrough, "rate": RateBased}


def estimator(name: str, **options):
    if name not in ESTIMATORS:
        from hal.errors import UnknownNameError

        raise UnknownNameError("gradient estimator", name, ESTIMATORS)
    try:
        return ESTIMATORS[name](**options)
    except TypeError as exc:
        raise ConfigError(f"gradient estimator {name!r}: {exc}") from None
