"""The building blocks users compose: signed projections, LIF layers, a leaky-integrator readout.

* :class:`Projection`: a weight matrix (post, pre) in units of the hardware's 4-bit weight,
  signed. The hardware realises a weight ``w`` as ``|w|`` on an excitatory row for ``w > 0`` or
  on an inhibitory row for ``w < 0`` (both rows exist for every pair, so training can move the
  sign); ``ns_per_bit`` is the conductance of one weight step (the hardware's gmax setting of
  the rows: per projection, through the rows' gmax divisor), ``ns_per_bit_inhibitory`` that of
  the inhibitory rows where it differs (a network imported through NIR scales each sign to its
  own largest weight). The forward pass rounds to
  integers in -15..15 with a straight-through gradient. ``fine_divisor`` D adds a second pair of
  rows per input whose gmax divisor is D times the coarse rows' (the hardware's per-row
  ``gmax_div``): a weight is then ``coarse + fine / D`` with both parts 4-bit, a grid D times
  finer at the cost of twice the synapse rows (the mapper needs larger neurons to hold them,
  :class:`hal.mapping.MappingOptions` ``circuits_per_neuron``).
* :class:`LIF`: conductance-based leaky integrate-and-fire neurons with parameters in
  biological units (:class:`hal.network.LIFParameters`); optionally a recurrent projection.
* :class:`LeakyIntegrator`: the same circuit with the threshold out of reach (set to the
  excitatory reversal potential, which the membrane only approaches), a readout whose
  membrane is the output.
"""

from __future__ import annotations

import attrs
import numpy as np
import torch
from torch import nn

from hal.errors import ConfigError
from hal.mapping.scales import GMAX_DIVISORS
from hal.network import LIFParameters

__all__ = ["Projection", "LIF", "LeakyIntegrator", "MAX_WEIGHT", "quantize", "DEFAULT_HIDDEN", "DEFAULT_READOUT"]

#: Largest magnitude of a hardware weight (4 bits).
MAX_WEIGHT = 15

#: Hidden-layer neurons for surrogate-gradient training: rest and reset at -65 mV, threshold
#: 15 mV above, membrane 10 ms, synapses 5 ms, 1 ms refractory (a biological-scale version of
#: Cramer et al.'s neurons; all inside the chip's parameter ranges).
DEFAULT_HIDDEN = LIFParameters(e_l_mv=-65.0, v_reset_mv=-65.0, v_th_mv=-50.0, e_rev_e_mv=0.0, e_rev_i_mv=-80.0,
                               tau_m_ms=10.0, tau_syn_e_ms=5.0, tau_syn_i_ms=5.0, t_ref_ms=1.0)

#: Readout: the hidden neurons' circuit with the threshold at the excitatory reversal potential.
DEFAULT_READOUT = attrs.evolve(DEFAULT_HIDDEN, v_th_mv=0.0)


def quantize(weight: torch.Tensor) -> torch.Tensor:
    """Round to integers in -15..15; the gradient passes straight through (inside the range)."""
    clipped = weight.clamp(-MAX_WEIGHT, MAX_WEIGHT)
    return clipped + (torch.round(clipped) - clipped).detach()


class Projection(nn.Module):
    """Signed 4-bit weights from ``in_features`` to ``out_features`` neurons (see the module docstring).

    ``init_std``: standard deviation of the initial weights, in weight steps; ``seed`` makes
    the initial draw reproducible.
    """

    def __init__(self, in_features: int, out_features: int, *, ns_per_bit: float | None = None, init_std: float = 3.0,
                 init_mean: float = 0.0, seed: int = 0, ns_per_bit_inhibitory: float | None = None, fine_divisor: int | None = None):
        super().__init__()
        if fine_divisor is not None and not (isinstance(fine_divisor, int) and not isinstance(fine_divisor, bool)
                                             and fine_divisor in GMAX_DIVISORS[1:]):
            raise ConfigError(f"Projection.fine_divisor: {fine_divisor!r} out of range; valid None (one row pair per input) or "
                              f"an integer {GMAX_DIVISORS[1]}..{GMAX_DIVISORS[-1]} (the fine rows' gmax divisor)")
        self.fine_divisor = fine_divisor
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"Projection.{name}: {value!r} out of range; valid an integer >= 1")
        for name, value in (("ns_per_bit", ns_per_bit), ("ns_per_bit_inhibitory", ns_per_bit_inhibitory)):
            if value is not None and not (np.isfinite(value) and value > 0):
                raise ConfigError(f"Projection.{name}: {value!r} out of range; valid a finite conductance > 0 nS, or None")
        if not (np.isfinite(init_std) and init_std >= 0):
            raise ConfigError(f"Projection.init_std: {init_std!r} out of range; valid >= 0 weight steps")
        self.in_features, self.out_features, self.ns_per_bit = in_features, out_features, ns_per_bit
        self.ns_per_bit_inhibitory = ns_per_bit if ns_per_bit_inhibitory is None else ns_per_bit_inhibitory
        generator = torch.Generator().manual_seed(seed)
        w = init_mean + init_std * torch.randn(out_features, in_features, generator=generator)
        self.weight = nn.Parameter(w.clamp(-MAX_WEIGHT, MAX_WEIGHT))

    def quantized(self) -> torch.Tensor:
        """The realised weights in coarse steps (integers, or multiples of ``1 / fine_divisor``), straight-through gradient."""
        if self.fine_divisor is None:
            return quantize(self.weight)
        d = self.fine_divisor
        clipped = self.weight.clamp(-MAX_WEIGHT, MAX_WEIGHT)
        return clipped + (torch.round(clipped * d) / d - clipped).detach()

    def _parts(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(coarse, fine) integer steps as float tensors; fine is None without fine rows.

        The fine part is what is left after rounding to coarse steps: ``|fine| <= fine_divisor / 2``.
        """
        clipped = self.weight.detach().clamp(-MAX_WEIGHT, MAX_WEIGHT)
        if self.fine_divisor is None:
            return torch.round(clipped), None
        steps = torch.round(clipped * self.fine_divisor)
        coarse = torch.round(steps / self.fine_divisor)
        return coarse, steps - coarse * self.fine_divisor

    def conductances(self, unit_e: torch.Tensor, unit_i: torch.Tensor, fine_e: torch.Tensor | None = None,
                     fine_i: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(excitatory, inhibitory) conductance matrices (post, pre) in nS: the realised weights times each
        synapse's conductance per step (``unit_*``: coarse rows, ``fine_*``: fine rows).

        With fine rows a pair's weight sits on up to four rows (coarse and fine, each of either sign);
        the forward value is exactly that, the gradient is the coarse rows' as if the weight were one
        continuous value (straight through).
        """
        w = self.quantized()
        g_e, g_i = torch.relu(w) * unit_e, torch.relu(-w) * unit_i
        if self.fine_divisor is None:
            return g_e, g_i
        if fine_e is None or fine_i is None:
            raise ConfigError(f"Projection.conductances: {self.in_features} -> {self.out_features} has fine rows "
                              f"(fine_divisor {self.fine_divisor}) but no fine-row conductances were given")
        coarse, fine = self._parts()
        exact_e = torch.relu(coarse) * unit_e + torch.relu(fine) * fine_e
        exact_i = torch.relu(-coarse) * unit_i + torch.relu(-fine) * fine_i
        return g_e + (exact_e - g_e).detach(), g_i + (exact_i - g_i).detach()

    def bits(self) -> np.ndarray:
        """The signed integer weights the hardware gets on the coarse rows, (post, pre)."""
        return self._parts()[0].to(torch.int64).cpu().numpy()

    def fine_bits(self) -> np.ndarray | None:
        """The signed integer weights on the fine rows, (post, pre); None without fine rows."""
        fine = self._parts()[1]
        return None if fine is None else fine.to(torch.int64).cpu().numpy()

    def set_bits(self, bits, fine_bits=None) -> None:
        """Replace the weights by integer values (post, pre) in -15..15: coarse ``bits`` and, with
        fine rows, ``fine_bits`` (default zeros); the weight becomes ``bits + fine_bits / fine_divisor``,
        which must stay within -15..15. :meth:`bits` and :meth:`fine_bits` then give the same weight with
        the smallest fine part.
        """
        b = np.asarray(bits)
        if b.shape != (self.out_features, self.in_features):
            raise ConfigError(f"Projection.set_bits: shape {b.shape}; expected ({self.out_features}, {self.in_features}) (post, pre)")
        if b.size and (b.min() < -MAX_WEIGHT or b.max() > MAX_WEIGHT):
            raise ConfigError(f"Projection.set_bits: values {b.min()}..{b.max()} out of range; valid -15..15")
        value = b.astype(np.float64)
        if fine_bits is not None:
            if self.fine_divisor is None:
                raise ConfigError(f"Projection.set_bits: fine_bits given, but {self.in_features} -> {self.out_features} "
                                  "has no fine rows (fine_divisor None)")
            f = np.asarray(fine_bits)
            if f.shape != b.shape:
                raise ConfigError(f"Projection.set_bits: fine_bits of shape {f.shape}; expected {b.shape} (post, pre)")
            if f.size and (f.min() < -MAX_WEIGHT or f.max() > MAX_WEIGHT):
                raise ConfigError(f"Projection.set_bits: fine_bits {f.min()}..{f.max()} out of range; valid -15..15")
            value = value + f / self.fine_divisor
            if value.size and np.abs(value).max() > MAX_WEIGHT:
                raise ConfigError(f"Projection.set_bits: bits + fine_bits / {self.fine_divisor} reaches {np.abs(value).max():.3f} "
                                  f"in magnitude; valid within -15..15")
        with torch.no_grad():
            self.weight.copy_(torch.as_tensor(value, dtype=self.weight.dtype))

    def clamp_(self) -> None:
        """Keep the float weights inside the 4-bit range (after an optimiser step).

        Exactly at the limits: :func:`quantize`'s clamp passes the gradient there (a weight
        beyond would get none and stay saturated for good).
        """
        with torch.no_grad():
            self.weight.clamp_(-MAX_WEIGHT, MAX_WEIGHT)

    def extra_repr(self) -> str:
        extra = "" if self.ns_per_bit_inhibitory == self.ns_per_bit else f", ns_per_bit_inhibitory={self.ns_per_bit_inhibitory}"
        fine = "" if self.fine_divisor is None else f", fine_divisor={self.fine_divisor}"
        return f"{self.in_features} -> {self.out_features}, ns_per_bit={self.ns_per_bit}{extra}{fine}"


class LIF(nn.Module):
    """``size`` conductance-based LIF neurons; ``recurrent``: a ``size`` x ``size`` :class:`Projection`."""

    spiking = True

    def __init__(self, size: int, params: LIFParameters = DEFAULT_HIDDEN, *, recurrent: Projection | None = None):
        super().__init__()
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise ConfigError(f"{type(self).__name__}.size: {size!r} out of range; valid an integer >= 1")
        if not isinstance(params, LIFParameters):
            raise ConfigError(f"{type(self).__name__}.params: expected hal.network.LIFParameters, got {type(params).__name__}")
        if recurrent is not None and (recurrent.in_features, recurrent.out_features) != (size, size):
            raise ConfigError(f"{type(self).__name__}: recurrent projection {recurrent.in_features} -> {recurrent.out_features}; "
                              f"expected {size} -> {size}")
        self.size, self.params, self.recurrent = size, params, recurrent

    def extra_repr(self) -> str:
        return f"{self.size}"


class LeakyIntegrator(LIF):
    """``size`` readout neurons: the LIF circuit with the threshold at the excitatory reversal potential."""

    spiking = False

    def __init__(self, size: int, params: LIFParameters = DEFAULT_READOUT):
        if params.v_th_mv < params.e_rev_e_mv:
            raise ConfigError(f"LeakyIntegrator.params: v_th_mv {params.v_th_mv} below e_rev_e_mv {params.e_rev_e_mv} "
                              f"would let the readout fire; valid v_th_mv >= e_rev_e_mv")
        super().__init__(size, params)
