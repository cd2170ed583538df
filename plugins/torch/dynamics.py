"""Differentiable dynamics of the conductance-based LIF neuron (NEST ``iaf_cond_exp``), in torch.

One function, :func:`integrate`, steps a population of neurons through time on a fixed grid,
vectorised over a batch of samples. It is what the ``torch`` backend simulates and what the
trainers' software twin differentiates through (backpropagation through time).

Model (biological units: ms, mV, nS, pF), as :mod:`hal_plugins.reference.integrator`::

    C dV/dt = g_L (E_L - V) + g_e (E_e - V) + g_i (E_i - V),   dg_x/dt = -g_x / tau_x

A spike arriving in step ``k`` adds its weight (nS) to ``g_e`` or ``g_i`` at the step's start.
Each step integrates V exactly for the step-average conductances (the exponential integrator
of the reference, first-order Magnus), which is stable for any conductance. ``V >= V_th`` at a
step's end is a spike: V is set to ``V_reset`` and held there for ``t_ref``. Unlike the
reference, spike times are on the grid (the step's end) and events are not placed inside a
step: the price of a differentiable, fully vectorised step; ``dt`` sets the error (measured
against the reference in the backend's tests).

Gradients: the spike nonlinearity is a Heaviside step in the forward pass and a surrogate
derivative in the backward pass (:func:`superspike`, Zenke & Ganguli 2018); the reset is
not differentiated (as in Zenke & Vogels 2021), the refractory hold neither.

*Measured values* (in-the-loop training, Cramer et al. 2022): ``measured_v`` replaces the
twin's membrane in the forward pass while the gradient flows through the twin's own step
(``v = v_twin + (v_measured - v_twin).detach()``); ``measured_spikes`` replaces the spikes the
same way, with the surrogate derivative taken at the (replaced) membrane. At a step with a
measured spike the measured membrane is raised to the threshold: a sampled trace shows the
reset there, where the twin's membrane marks the crossing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import attrs
import torch

from hal.errors import ConfigError

__all__ = ["NeuronTensors", "LayerTrace", "surrogate_spike", "superspike", "integrate", "PARAMETER_NAMES"]

#: Parameter names, as :func:`hal.netlist.bio.bio_parameters` returns them.
PARAMETER_NAMES = ("c_m_pf", "g_l_ns", "e_l_mv", "v_th_mv", "v_reset_mv", "e_rev_e_mv", "e_rev_i_mv",
                   "tau_syn_e_ms", "tau_syn_i_ms", "t_ref_ms")


@attrs.frozen(eq=False)
class NeuronTensors:
    """Per-neuron parameters as 1-d tensors of one length (see :data:`PARAMETER_NAMES`)."""

    c_m_pf: torch.Tensor
    g_l_ns: torch.Tensor
    e_l_mv: torch.Tensor
    v_th_mv: torch.Tensor
    v_reset_mv: torch.Tensor
    e_rev_e_mv: torch.Tensor
    e_rev_i_mv: torch.Tensor
    tau_syn_e_ms: torch.Tensor
    tau_syn_i_ms: torch.Tensor
    t_ref_ms: torch.Tensor

    def __attrs_post_init__(self):
        n = self.c_m_pf.shape
        for name in PARAMETER_NAMES:
            value = getattr(self, name)
            if not isinstance(value, torch.Tensor) or value.ndim != 1 or value.shape != n:
                raise ConfigError(f"NeuronTensors.{name}: expected a 1-d tensor of shape {tuple(n)}, got "
                                  f"{tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__}")
        for name in ("c_m_pf", "g_l_ns", "tau_syn_e_ms", "tau_syn_i_ms"):
            if not bool(torch.all(getattr(self, name) > 0)):
                raise ConfigError(f"NeuronTensors.{name}: every value must be > 0")
        if not bool(torch.all(self.t_ref_ms >= 0)):
            raise ConfigError("NeuronTensors.t_ref_ms: every value must be >= 0")

    @classmethod
    def from_mapping(cls, values: Mapping[str, object], *, dtype=torch.float32, device=None) -> NeuronTensors:
        """From arrays or scalars per name (scalars are broadcast to the longest array)."""
        missing = [n for n in PARAMETER_NAMES if n not in values]
        if missing:
            raise ConfigError(f"NeuronTensors: missing parameter(s) {', '.join(missing)}; needed {', '.join(PARAMETER_NAMES)}")
        tensors = {n: torch.as_tensor(values[n], dtype=dtype, device=device).reshape(-1) for n in PARAMETER_NAMES}
        size = max(t.numel() for t in tensors.values())
        return cls(**{n: t.expand(size).clone() if t.numel() == 1 else t for n, t in tensors.items()})

    @property
    def size(self) -> int:
        return int(self.c_m_pf.shape[0])

    def select(self, index) -> NeuronTensors:
        return NeuronTensors(**{n: getattr(self, n)[index] for n in PARAMETER_NAMES})

    def to(self, device=None, dtype=None) -> NeuronTensors:
        return NeuronTensors(**{n: getattr(self, n).to(device=device, dtype=dtype) for n in PARAMETER_NAMES})


@attrs.frozen(eq=False)
class LayerTrace:
    """What :func:`integrate` returns: spikes and membrane, each (batch, steps, neurons)."""

    spikes: torch.Tensor
    v: torch.Tensor


def surrogate_spike(derivative: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[torch.Tensor], torch.Tensor]:
    """A spike function: Heaviside of ``x`` forward, ``derivative(x)`` times the incoming gradient backward."""

    class SurrogateSpike(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return (x >= 0).to(x.dtype)

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * derivative(x)

    return SurrogateSpike.apply


def superspike(steepness: float) -> Callable[[torch.Tensor], torch.Tensor]:
    """Heaviside forward, SuperSpike surrogate ``1 / (steepness |x| + 1)^2`` backward (x in mV)."""
    if not steepness > 0:
        raise ConfigError(f"superspike: steepness {steepness!r} out of range; valid > 0 (per mV)")
    return surrogate_spike(lambda x: 1.0 / (steepness * x.abs() + 1.0) ** 2)


def _steps(x: torch.Tensor) -> tuple[torch.Tensor, ...]:
    return x.transpose(0, 1).contiguous().unbind(0)


def _heaviside(x: torch.Tensor) -> torch.Tensor:
    return (x >= 0).to(x.dtype)


def integrate(neurons: NeuronTensors, g_e_in: torch.Tensor, g_i_in: torch.Tensor, dt_ms: float, *,
              spike_fn: Callable[[torch.Tensor], torch.Tensor] | None = _heaviside,
              recurrent_e: torch.Tensor | None = None, recurrent_i: torch.Tensor | None = None, recurrent_delay: int = 1,
              measured_v: torch.Tensor | None = None, measured_spikes: torch.Tensor | None = None) -> LayerTrace:
    """Step ``neurons`` through ``g_e_in.shape[1]`` steps of ``dt_ms``.

    ``g_e_in`` / ``g_i_in``: (batch, steps, neurons) conductance (nS) arriving in each step from
    outside the population. ``recurrent_e`` / ``recurrent_i``: (neurons, neurons) weights (nS,
    [post, pre]) of connections inside the population, whose spikes arrive ``recurrent_delay``
    steps later. ``spike_fn=None``: no threshold (a leaky integrator). ``measured_v`` /
    ``measured_spikes``: (batch, steps, neurons) values that replace the twin's in the forward
    pass (module docstring). Returns the spikes and the membrane at each step's end (before a
    reset, so a spike is visible in the membrane as a threshold crossing).
    """
    if g_e_in.shape != g_i_in.shape or g_e_in.ndim != 3 or g_e_in.shape[2] != neurons.size:
        raise ConfigError(f"integrate: inputs of shape {tuple(g_e_in.shape)} and {tuple(g_i_in.shape)}; "
                          f"expected equal (batch, steps, {neurons.size})")
    if not dt_ms > 0:
        raise ConfigError(f"integrate: dt_ms {dt_ms!r} out of range; valid > 0")
    if recurrent_delay < 1:
        raise ConfigError(f"integrate: recurrent_delay {recurrent_delay} steps out of range; valid >= 1")
    for name, m in (("measured_v", measured_v), ("measured_spikes", measured_spikes)):
        if m is not None and m.shape != g_e_in.shape:
            raise ConfigError(f"integrate: {name} of shape {tuple(m.shape)}; expected {tuple(g_e_in.shape)}")
    batch, steps, n = g_e_in.shape
    p = neurons
    decay_e, decay_i = torch.exp(-dt_ms / p.tau_syn_e_ms), torch.exp(-dt_ms / p.tau_syn_i_ms)
    # Step average of a conductance that starts the step at g: g * mean_e.
    mean_e, mean_i = p.tau_syn_e_ms / dt_ms * (1 - decay_e), p.tau_syn_i_ms / dt_ms * (1 - decay_i)
    ref_steps = torch.round(p.t_ref_ms / dt_ms).to(torch.int64)
    zeros = g_e_in.new_zeros(batch, n)
    v = p.e_l_mv.expand(batch, n).clone()
    g_e, g_i = zeros, zeros
    refractory = torch.zeros(batch, n, dtype=torch.int64, device=g_e_in.device)
    history: list[torch.Tensor] = []
    spikes_out, v_out = [], []
    # Time-major, contiguous, unbound once: slicing [:, k] per step would make autograd build a
    # full-size gradient per step (quadratic in the steps) and the elementwise ops run strided.
    in_e, in_i = _steps(g_e_in), _steps(g_i_in)
    meas_v = _steps(measured_v) if measured_v is not None else None
    meas_s = _steps(measured_spikes) if measured_spikes is not None else None
    if meas_v is not None and meas_s is not None and spike_fn is not None:
        # A sampled membrane shows the reset at a spike's step, the twin's the crossing (>= V_th):
        # put the crossing there, so the surrogate derivative at a measured spike is its peak.
        v_th = p.v_th_mv.expand(batch, n)
        meas_v = tuple(torch.where(s > 0, torch.maximum(v_m, v_th), v_m) for v_m, s in zip(meas_v, meas_s))
    for k in range(steps):
        g_e = g_e + in_e[k]
        g_i = g_i + in_i[k]
        if (recurrent_e is not None or recurrent_i is not None) and k >= recurrent_delay:
            s_pre = history[k - recurrent_delay]
            if recurrent_e is not None:
                g_e = g_e + s_pre @ recurrent_e.T
            if recurrent_i is not None:
                g_i = g_i + s_pre @ recurrent_i.T
        ge_bar, gi_bar = g_e * mean_e, g_i * mean_i
        g_tot = p.g_l_ns + ge_bar + gi_bar
        v_inf = (p.g_l_ns * p.e_l_mv + ge_bar * p.e_rev_e_mv + gi_bar * p.e_rev_i_mv) / g_tot
        v_new = v_inf + (v - v_inf) * torch.exp(-dt_ms * g_tot / p.c_m_pf)
        held = refractory > 0
        v_new = torch.where(held, p.v_reset_mv.expand(batch, n), v_new)
        if measured_v is not None:
            v_new = v_new + (meas_v[k] - v_new).detach()
        g_e, g_i = g_e * decay_e, g_i * decay_i
        if spike_fn is None:
            s = zeros
        else:
            s = spike_fn(v_new - p.v_th_mv)
            if measured_spikes is not None:
                s = s + (meas_s[k] - s).detach()
            else:
                s = s * (~held).to(s.dtype)
        spikes_out.append(s)
        v_out.append(v_new)
        history.append(s)
        fired = s.detach() > 0
        # Reset is not differentiated (the gradient would flow through the reset's timing otherwise).
        v = torch.where(fired, p.v_reset_mv.expand(batch, n), v_new)
        refractory = torch.where(fired, ref_steps.expand(batch, n), torch.clamp(refractory - 1, min=0))
    return LayerTrace(torch.stack(spikes_out, dim=1), torch.stack(v_out, dim=1))
