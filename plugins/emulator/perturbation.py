"""The emulator's perturbation interface: how another plugin changes what the emulated chip does.

The emulator models a chip whose analog behaviour is fixed at manufacture
(:mod:`hal_plugins.emulator.mismatch`). Anything that varies on top of that, from
one programming of the floating gates to the next or from one run to the next,
comes from a :class:`Perturbation` handed to
:class:`~hal_plugins.emulator.backend.EmulatorBackend` (``perturbation=...``).
The noisy backend (:mod:`hal_plugins.noisy`) is built this way; so is a test
that wants to drop one known input event.

A perturbation is told about the chip's life, and asked once per run for a
:class:`Trial`, the changes to that one run::

    backend = EmulatorBackend(perturbation=p)
    backend.write_registers(w)  # w writes fg_cell -> p.floating_gates_programmed(w)
    backend.reset()             # -> p.reset()
    backend.run(request)        # -> trial = p.trial(RunContext(...)), then in this order:
                                #    trial.neuron_parameters, trial.synapse_weights,
                                #    trial.input_events, (integration), trial.output_spikes

Without a perturbation (the default) the emulator runs as if every :class:`Trial`
were the identity. What a trial returns is checked before it is used; a wrong
shape, a non-finite value or an event before the run's start is a
:class:`~hal.errors.BackendError` naming the perturbation, the quantity and what
is valid.

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import attrs
import numpy as np

from hal.errors import BackendError

if TYPE_CHECKING:
    from hal.analog.domains import Domains
    from hal.configuration.configurator import RegisterWrite

__all__ = ["RunContext", "Events", "Trial", "Perturbation", "FLOATING_GATE_CELLS"]

#: The register whose writes program floating-gate cells (the analog parameter storage).
FLOATING_GATE_CELLS = "fg_cell"


@attrs.frozen
class RunContext:
    """What a perturbation may know about the run it perturbs.

    ``wafer`` is the backend's wafer id, ``seed`` the :class:`~hal.backend.RunRequest`'s seed,
    ``duration`` the run's length per sample in 4 ns ticks, ``domains`` the backend's
    bio <-> hardware conversion (e.g. ``domains.voltage_difference_to_bio``).
    """

    wafer: int
    seed: int
    n_samples: int
    duration: int
    domains: Domains


def _int_array(value) -> np.ndarray:
    array = np.asarray(value)
    if array.size == 0:
        return array.astype(np.int64)
    if array.dtype.kind not in "iu":
        raise BackendError(f"Events: {array.dtype} values given; valid integer arrays (ticks are whole 4 ns steps)")
    return array.astype(np.int64, copy=False)


def _bool_array(value) -> np.ndarray:
    array = np.asarray(value)
    if array.size and array.dtype != bool:
        raise BackendError(f"Events.delivered: {array.dtype} values given; valid a boolean array")
    return array.astype(bool, copy=False)


@attrs.frozen(eq=False)
class Events:
    """Timestamped events of one run inside the emulator, one entry per event.

    ``sample`` is the sample of the batch, ``tick`` the time in 4 ns ticks from the
    sample's start, ``index`` the netlist's source index (input events) or neuron
    index (output spikes). ``delivered`` is False for an event that does not take
    effect: an input event the FPGA link dropped (kept in the arrays so that a
    perturbation sees the whole playback), or one a perturbation drops.
    """

    sample: np.ndarray = attrs.field(converter=_int_array)
    tick: np.ndarray = attrs.field(converter=_int_array)
    index: np.ndarray = attrs.field(converter=_int_array)
    delivered: np.ndarray = attrs.field(converter=_bool_array)

    def __attrs_post_init__(self):
        sizes = {name: getattr(self, name).shape for name in ("sample", "tick", "index", "delivered")}
        if len(set(sizes.values())) != 1 or self.sample.ndim != 1:
            raise BackendError(f"Events: array shapes {sizes}; valid four 1-d arrays of one length")

    def __len__(self) -> int:
        return int(self.sample.size)

    def drop(self, mask) -> Events:
        """These events with those where ``mask`` is True no longer delivered."""
        return attrs.evolve(self, delivered=self.delivered & ~np.asarray(mask, dtype=bool))

    def shifted(self, ticks) -> Events:
        """These events with ``tick`` replaced by ``ticks`` (same length, integers)."""
        return attrs.evolve(self, tick=ticks)


def _identity(value):
    return value


@attrs.frozen
class Trial:
    """The changes to one run: four callables, each the identity unless given.

    Called by the emulator in this order, each once per run:

    ``neuron_parameters(params) -> params``
        ``params`` maps each of the kernel's parameter names (``c_m_pf``, ``g_l_ns``,
        ``e_l_mv``, ``v_th_mv``, ``v_reset_mv``, ``e_rev_e_mv``, ``e_rev_i_mv``,
        ``tau_syn_e_ms``, ``tau_syn_i_ms``, ``t_ref_ms``; with adaptation also ``a_ns``,
        ``b_pa``, ``tau_w_ms``, ``delta_t_mv``, ``v_exp_mv``) to one value per neuron, in
        biological units, after the fixed-pattern mismatch. Return a mapping with the same
        names and shapes (finite values); do not change the argument in place.
    ``synapse_weights(weights_ns) -> weights_ns``
        One biological conductance (nS) per realised synapse, in the netlist's order,
        after the fixed-pattern gains. Return an array of the same shape, finite, >= 0.
    ``input_events(events) -> events``
        The run's input events (:class:`Events`, ``index`` = source) after the FPGA
        links, with the ticks the links delivered them at (a link's queue may deliver an
        event after the run's end). Return :class:`Events` whose delivered entries have
        ``tick >= 0`` and the run's ``sample`` and ``index`` ranges; only delivered events
        inside the run are integrated.
    ``output_spikes(events) -> events``
        The neurons' spikes (:class:`Events`, ``index`` = neuron, all delivered), before
        the trace is built and passed through the output links. Return :class:`Events`;
        delivered spikes outside the run are dropped like any spike after the run's end.

    A perturbation drawing random numbers keeps its generator in the callables'
    closure, so one run's draws come from one stream in the order above.
    """

    neuron_parameters: Callable[[Mapping[str, np.ndarray]], Mapping[str, np.ndarray]] = _identity
    synapse_weights: Callable[[np.ndarray], np.ndarray] = _identity
    input_events: Callable[[Events], Events] = _identity
    output_spikes: Callable[[Events], Events] = _identity


class Perturbation:
    """Base class of emulator perturbations; every method does nothing unless overridden.

    A perturbation belongs to one backend (it may keep state, e.g. how often the
    floating gates were programmed) and must be deterministic given its own seed and
    the sequence of calls, if the backend is to stay reproducible.
    """

    def floating_gates_programmed(self, write: RegisterWrite) -> None:
        """Called after the backend stored a register write to :data:`FLOATING_GATE_CELLS`.

        One call per write (a write may cover many cells of one HICANN). Real floating
        gates hit their targets only up to a variation that holds until they are
        programmed again: this is where a perturbation notes that. Must not change ``write``.
        """

    def reset(self) -> None:
        """Called after the backend forgot its configuration (:meth:`Backend.reset`)."""

    def trial(self, run: RunContext) -> Trial:
        """Called once at the start of every run that has neurons; returns that run's changes.

        The default is the identity :class:`Trial`.
        """
        return Trial()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"
