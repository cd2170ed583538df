"""The trainer API for any spiking network: torch modules mapped onto the wafer, surrogate gradients in the loop.

Compose a :class:`SpikingModel` from an input coding (:class:`LatencyCoding`,
:class:`PoissonCoding`, :class:`StepRateCoding`), signed 4-bit :class:`Projection` s and neuron layers (:class:`LIF`,
:class:`LeakyIntegrator`); map it onto a backend with :class:`MappedModel`; train it with a
:class:`Trainer` on its software :class:`Twin` ("mock") and then with the backend in the loop,
with surrogate gradients (:class:`SuperSpike`, :class:`StraightThrough`) or, for rate-coded
LIF networks, Schmitt et al.'s rate-based estimator (:class:`RateBased`).
See ``docs/training.md``.
"""

from hal_trainers.snn.coding import LatencyCoding, PoissonCoding, StepRateCoding, spike_grid
from hal_trainers.snn.estimators import ESTIMATORS, RateBased, StraightThrough, SuperSpike, estimator
from hal_trainers.snn.hardware import SCHEMES, MappedModel
from hal_trainers.snn.layers import DEFAULT_HIDDEN, DEFAULT_READOUT, LIF, MAX_WEIGHT, LeakyIntegrator, Projection
from hal_trainers.snn.model import SpikingModel
from hal_trainers.snn.trainer import Evaluation, Trainer
from hal_trainers.snn.twin import Measured, Output, Twin, simulate

__all__ = ["LatencyCoding", "PoissonCoding", "StepRateCoding", "spike_grid", "SuperSpike", "StraightThrough", "RateBased", "ESTIMATORS", "estimator",
           "MappedModel", "SCHEMES", "Projection", "LIF", "LeakyIntegrator", "DEFAULT_HIDDEN", "DEFAULT_READOUT", "MAX_WEIGHT",
           "SpikingModel", "Trainer", "Evaluation", "Twin", "Measured", "Output", "simulate"]
