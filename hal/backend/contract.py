"""The backend contract: what every backend (emulator, reference, noisy, yours) takes and returns.

A backend sees what real hardware sees: register writes (it is a
:class:`~hal.configuration.configurator.RegisterSink`, so :class:`~hal.configuration.configurator.Configurator`
writes into it) and FPGA playback events; it returns FPGA trace events and,
with the capability, sampled membrane voltages. It never sees the biological
network. A run asking for something the backend cannot do fails in
:meth:`Backend.check` before anything runs.

To write a backend, subclass :class:`Backend`, set ``name`` and
``capabilities`` and implement :meth:`Backend._run`; see
``docs/writing_a_backend.md``.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any, ClassVar

import attrs
import numpy as np

from hal import coordinates as C
from hal.configuration.configurator import Configurator, RegisterImageSink, RegisterWrite
from hal.errors import BackendError, CapabilityError, ConfigError
from hal.backend.events import HardwareEvents
from hal.hardware.hicann import HICANNConfig
from hal.hardware.wafer import WaferConfig

__all__ = ["Capabilities", "RunRequest", "RunResult", "Backend", "LockState"]

# Registers whose change unlocks the repeaters / synapse drivers until they are locked again.
_UNLOCKS_REPEATERS = frozenset({"pll", "h_repeater", "v_repeater", "crossbar_switch", "synapse_switch", "background_generator"})
_UNLOCKS_DRIVERS = _UNLOCKS_REPEATERS | {"synapse_driver", "synapse_row"}


@attrs.frozen
class Capabilities:
    """What a backend can do; checked before a run starts.

    ``None`` for a limit means unlimited.
    """

    membrane_readout: bool = False
    max_membrane_traces: int | None = None  # per run
    max_batch_size: int | None = None
    adaptation_and_exponential: bool = False  # AdEx terms; LIF only when False
    trial_to_trial_noise: bool = False
    fixed_pattern_mismatch: bool = False
    lossy_links: bool = False
    deterministic: bool = True

    def describe(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen(eq=False)
class RunRequest:
    """One run: playback events for ``n_samples`` independent samples against the configured chip.

    ``duration`` is in timestamp ticks per sample; ``membrane`` lists the
    (HICANN, denmem) whose membrane is sampled every ``membrane_interval`` ticks.
    ``seed`` drives anything random in the backend (noise, background generators).
    """

    playback: HardwareEvents
    n_samples: int
    duration: int
    membrane: tuple[tuple[C.HICANNOnWafer, C.NeuronOnHICANN], ...] = ()
    membrane_interval: int = 25
    seed: int = 0

    def __attrs_post_init__(self):
        if not isinstance(self.n_samples, int) or self.n_samples < 1:
            raise ConfigError(f"RunRequest.n_samples: {self.n_samples!r} out of range; valid an integer >= 1")
        if not isinstance(self.duration, (int, np.integer)) or self.duration <= 0:
            raise ConfigError(f"RunRequest.duration: {self.duration!r} ticks out of range; valid an integer > 0")
        if self.membrane_interval <= 0:
            raise ConfigError(f"RunRequest.membrane_interval: {self.membrane_interval!r} out of range; valid > 0 ticks")
        p = self.playback
        if len(p):
            if p.sample.min() < 0 or p.sample.max() >= self.n_samples:
                raise ConfigError(f"playback sample index {int(p.sample.max())} out of range; valid 0..{self.n_samples - 1}")
            if p.time.min() < 0 or p.time.max() >= self.duration:
                bad = int(p.time.min()) if p.time.min() < 0 else int(p.time.max())
                raise ConfigError(f"playback event at tick {bad} outside the run; valid 0..{self.duration - 1}")


@attrs.frozen(eq=False)
class RunResult:
    """What a backend returns: trace events, membrane samples (hardware mV) and losses."""

    trace: HardwareEvents
    membrane: np.ndarray | None = None  # (samples, traces, times), hardware mV
    membrane_times: np.ndarray | None = None  # ticks
    lost_input: Mapping[str, int] = attrs.field(factory=dict)  # per FPGA link, e.g. "fpga/3/link/5"
    lost_output: Mapping[str, int] = attrs.field(factory=dict)
    info: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.define
class LockState:
    """Which chips have unlocked repeaters or synapse drivers (changed since their last lock)."""

    repeaters_unlocked: set = attrs.field(factory=set)
    drivers_unlocked: set = attrs.field(factory=set)

    def note(self, write: RegisterWrite) -> None:
        if write.register == "repeater_block_control":
            if np.any(write.words & 2):  # start_lock
                self.repeaters_unlocked.discard(write.chip)
        elif write.register == "synapse_driver_control":
            if np.any(write.words & 2):
                self.drivers_unlocked.discard(write.chip)
        else:
            if write.register in _UNLOCKS_REPEATERS:
                self.repeaters_unlocked.add(write.chip)
            if write.register in _UNLOCKS_DRIVERS:
                self.drivers_unlocked.add(write.chip)


class Backend(abc.ABC):
    """Base class of all backends: holds the written register state and checks requests.

    Subclasses implement :meth:`_run`. The register state is whatever was
    written, starting from reset; :meth:`wafer_config` gives it back as a
    typed configuration, which is what a backend simulates.
    """

    name: ClassVar[str] = "backend"
    capabilities: ClassVar[Capabilities] = Capabilities()

    def __init__(self, wafer: C.Wafer | int = 0, **options: Any):
        if options:
            raise ConfigError(f"backend {self.name!r}: unknown option(s) {', '.join(sorted(options))}")
        self.wafer = wafer if isinstance(wafer, C.Wafer) else C.Wafer(wafer)
        self._sink = RegisterImageSink()
        self.locks = LockState()
        #: The configurator that knows what this backend holds (so reruns write only changes).
        self.configurator = Configurator()
        #: Per-instance caches of the layers above (e.g. ``hal.run``'s reading of the registers),
        #: keyed by their owner's name; cleared by :meth:`reset`. The backend never reads them.
        self.caches: dict[str, Any] = {}

    # -- register access (the RegisterSink protocol) ---------------------------------------------

    def write_registers(self, write: RegisterWrite) -> None:
        self._sink.write_registers(write)
        self.locks.note(write)

    def read_registers(self, chip: Any, register: str, indices: np.ndarray) -> np.ndarray:
        return self._sink.read_registers(chip, register, indices)

    @property
    def write_log(self) -> list[RegisterWrite]:
        """Every register write received since the last reset."""
        return self._sink.log

    def wafer_config(self) -> WaferConfig:
        """The configuration this backend holds now (chips never written are absent = reset)."""
        hicanns, fpgas = {}, {}
        for chip in self._sink.images:
            cfg = self._sink.chip_config(chip)
            (hicanns if isinstance(cfg, HICANNConfig) else fpgas)[chip] = cfg
        return WaferConfig(self.wafer, hicanns=hicanns, fpgas=fpgas)

    def require_locked(self) -> None:
        """Raise :class:`BackendError` if repeaters or synapse drivers changed since their last lock.

        Real chips drop events on unlocked repeaters; backends refuse to run instead.
        """
        for chip in sorted(self.locks.repeaters_unlocked, key=lambda c: (type(c).__name__, c.enum)):
            raise BackendError(
                f"{chip!r}: L1 repeaters not locked since their last change; apply configurations with "
                f"hal.Configurator (it locks), or write repeater_block_control start_lock"
            )
        for chip in sorted(self.locks.drivers_unlocked, key=lambda c: (type(c).__name__, c.enum)):
            raise BackendError(f"{chip!r}: synapse drivers not locked since their last change; write synapse_driver_control start_lock")

    def reset(self) -> None:
        """Forget all configuration: every chip back to reset, the configurator's cache cleared."""
        self._sink = RegisterImageSink()
        self.locks = LockState()
        self.configurator.forget()
        self.caches.clear()

    # -- running -----------------------------------------------------------------------------------

    def check(self, request: RunRequest) -> None:
        """Raise :class:`CapabilityError` if this backend cannot serve ``request``."""
        caps = self.capabilities
        if request.membrane and not caps.membrane_readout:
            raise CapabilityError(f"backend {self.name!r} has no membrane readout (capability membrane_readout); record spikes only")
        if caps.max_membrane_traces is not None and len(request.membrane) > caps.max_membrane_traces:
            raise CapabilityError(
                f"backend {self.name!r} records at most {caps.max_membrane_traces} membrane trace(s) per run "
                f"(capability max_membrane_traces); {len(request.membrane)} requested"
            )
        if caps.max_batch_size is not None and request.n_samples > caps.max_batch_size:
            raise CapabilityError(
                f"backend {self.name!r} runs at most {caps.max_batch_size} samples per run (capability max_batch_size); "
                f"{request.n_samples} requested: split the batch"
            )

    def run(self, request: RunRequest) -> RunResult:
        """Check ``request`` against the capabilities, then run it."""
        if not isinstance(request, RunRequest):
            raise ConfigError(f"Backend.run: expected a RunRequest, got {type(request).__name__}")
        self.check(request)
        return self._run(request)

    @abc.abstractmethod
    def _run(self, request: RunRequest) -> RunResult:
        """Simulate/emulate ``request`` on the current register state."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} {self.wafer!r}>"
