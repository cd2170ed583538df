"""The rate-based gradient estimator of Schmitt et al. 2017 (section III-C): measured rates as ReLU activations.

Forward, every layer's firing rate, measured on the backend (or run on the twin, for mock
training), divided by ``rate_scale_hz`` is the activation ``a_l`` of a ReLU unit (the paper's
label-layer heuristic ``y~ = y / 30 Hz``, used for the hidden layers too); the input layer's
activation is the image itself (the intensities the rate coding turns into Poisson rates).
Backward, the gradient flows through the ReLU network's graph: layer ``l``'s pre-activation is
``z_l = a_{l-1} W_l^T`` from the *measured* activations of the layer before, and its derivative
is the ReLU's, ``1`` where ``z_l > 0`` and ``leak`` elsewhere (the paper's is 0; with it a unit
the loop drives negative gets no gradient again and stays silent for good). So for a batch

    dC/dW_l = delta_l^T a_{l-1},   delta_L = dC/da_L * relu'(z_L),
    delta_l = (delta_{l+1} W_{l+1}) * relu'(z_l)

with the paper's cost (its eq. 4 without the weight decay)
``C = (1 / classes) sum_samples sum_classes (a_L - onehot(label))^2`` (``cost="squared_error"``,
the default: what fine-tunes a converted network, as the paper does). A network trained from
its initial weights with it falls into the all-silent minimum (every label rate 0, cost 0.1 per
sample: measured on the 64-32-10 digits network, training accuracy 0.11 -> 0.13 in 24 steps);
``cost="cross_entropy"`` (softmax of ``a_L``, i.e. of the label rates per ``rate_scale_hz``)
trains it (0.11 -> 0.89 on the same steps).

The forward values are what was measured and the gradient is the ReLU network's: a custom
autograd function (:func:`measured_relu`), as hxtorch does it. :class:`RateBased` is an
estimator of the trainer API (``Trainer(model, estimator=RateBased())``) for models whose
input is a rate code and whose layers are all spiking LIF layers without recurrence; the
paper's own pipeline (:class:`hal_trainers.in_the_loop.InTheLoopTrainer`) uses the same
:meth:`RateBased.activations` and :meth:`RateBased.squared_error`.
"""

from __future__ import annotations

import attrs
import numpy as np
import torch

from hal.errors import ConfigError, ConfigValueError
from hal.validators import finite, one_of, positive
from hal_plugins.torch.dynamics import superspike
from hal_trainers.snn.coding import PoissonCoding, StepRateCoding
from hal_trainers.snn.model import SpikingModel
from hal_trainers.snn.twin import Measured, Output, Twin, simulate

__all__ = ["RateBased", "measured_relu", "RATE_CODINGS", "COSTS"]

#: Input codings whose spikes carry the image as rates (what the ReLU network's input stands for).
RATE_CODINGS = (PoissonCoding, StepRateCoding)

#: The costs :class:`RateBased` can minimise (see the module docstring).
COSTS = ("squared_error", "cross_entropy")


def measured_relu(leak: float = 0.0):
    """A torch autograd function ``f(z, measured)``: forward returns ``measured``, backward the ReLU derivative of ``z``.

    ``leak`` is the derivative used where ``z <= 0`` (0: the ReLU's own, as the paper).
    """

    class MeasuredReLU(torch.autograd.Function):
        @staticmethod
        def forward(ctx, z, measured):
            ctx.save_for_backward(z)
            return measured.clone()

        @staticmethod
        def backward(ctx, grad):
            (z,) = ctx.saved_tensors
            # torch.where makes the constants float32 (a leak of 0.1 acts as 0.10000000149): kept, so
            # the paper's trainer gives bit for bit the results it gave before the port.
            return grad * torch.where(z > 0, 1.0, leak).to(grad.dtype), None

    return MeasuredReLU.apply


def _derivative(instance, attribute, value) -> None:
    finite(what="derivative")(instance, attribute, value)
    if not 0 <= value <= 1:
        raise ConfigValueError(type(instance).__name__, attribute.name, value, "a derivative 0..1")


@attrs.frozen
class RateBased:
    """Measured rates / ``rate_scale_hz`` forward, the ReLU derivative (``leak`` below zero) backward.

    See the module docstring. ``rate_scale_hz``: the rate that counts as activation 1 (the
    paper's 30 Hz); ``leak``: the derivative where a unit's pre-activation is <= 0 (0..1; the
    paper's 0, the reproduction's default 0.1); ``cost``: ``"squared_error"`` (the paper's) or
    ``"cross_entropy"`` (:data:`COSTS`).
    """

    rate_scale_hz: float = attrs.field(default=30.0, validator=positive(what="rate", unit="Hz"))
    leak: float = attrs.field(default=0.1, validator=_derivative)
    cost: str = attrs.field(default="squared_error", validator=one_of(COSTS))
    name = "rate"

    # -- the ReLU network on measured activations (shared with the paper's own trainer) ---------------

    def activations(self, x: torch.Tensor, weights, rates_hz) -> torch.Tensor:
        """The last layer's activation: ``rates_hz[l] / rate_scale_hz`` forward, the ReLU chain from input ``x`` backward.

        ``weights[l]``: (post, pre) tensors; ``rates_hz[l]``: (samples, post) measured rates in Hz.
        """
        relu = measured_relu(self.leak)
        a = x
        for w, rate in zip(weights, rates_hz):
            a = relu(a @ w.T, rate / self.rate_scale_hz)
        return a

    @staticmethod
    def squared_error(activation: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The paper's cost of a batch (its eq. 4 without weight decay): summed over samples."""
        target = torch.nn.functional.one_hot(labels, num_classes=activation.shape[1]).to(activation.dtype)
        return ((activation - target) ** 2).sum() / activation.shape[1]

    # -- the trainer API ---------------------------------------------------------------------------------

    def check_model(self, model: SpikingModel) -> None:
        """A model the estimator can train: rate-coded input, spiking LIF layers, no recurrence."""
        if not isinstance(model.coding, RATE_CODINGS):
            raise ConfigError(f"RateBased estimator: input coding {type(model.coding).__name__} is not a rate code; "
                              f"valid {', '.join(c.__name__ for c in RATE_CODINGS)}")
        for name, layer in zip(model.names, model.layers):
            if not layer.spiking:
                raise ConfigError(f"RateBased estimator: layer {name!r} is a {type(layer).__name__}, which has no rate; "
                                  f"valid spiking LIF layers only (the last layer's rates are the output)")
            if layer.recurrent is not None:
                raise ConfigError(f"RateBased estimator: layer {name!r} has a recurrent projection; valid feed-forward LIF layers only")

    def response(self, model: SpikingModel, twin: Twin, grid: torch.Tensor, measured: Measured | None, *,
                 x, readout: str = "spike_count", readout_scale_mv: float = 1.0) -> Output:
        """The network's differentiable response to images ``x`` (see the module docstring).

        ``measured``: what the backend recorded; None for mock training, where the twin's own
        run (no gradient through it) stands in for the measurement. The logits are the last
        layer's activations, its spike counts per ``rate_scale_hz``, whatever ``readout`` says
        (there is no membrane readout; ``readout_scale_mv`` is not used).
        """
        self.check_model(model)
        if measured is None:
            with torch.no_grad():
                measured = Measured(simulate(model, twin, grid, spike_fn=superspike(1.0)).spikes, ())
        spikes = tuple(measured.spikes)
        # Rates over the whole run: the inputs' rate window and the neurons' response to it.
        rates = [s.sum(dim=1) / (model.duration_ms * 1e-3) for s in spikes]
        weights = [p.quantized() for p in model.projections]
        x = torch.tensor(np.asarray(x), dtype=weights[0].dtype)
        return Output(spikes, (), self.activations(x, weights, [r.to(x.dtype) for r in rates]))

    def loss(self, out: Output, y) -> torch.Tensor:
        """The chosen cost per sample (the mean over the batch)."""
        labels = torch.as_tensor(np.asarray(y), dtype=torch.int64)
        if self.cost == "cross_entropy":
            return torch.nn.functional.cross_entropy(out.logits, labels)
        return self.squared_error(out.logits, labels) / len(labels)
