"""From a :class:`~hal.hardware.wafer.WaferConfig` to an ordered stream of register writes.

The order of configuration is data: :data:`STAGES` lists named stages, each
naming the subsystems written in it, following the real system (init, the
timing-uncritical floating gates and synapse array, L1 routing, repeater
locking, synapse drivers, synapse-driver locking, neurons last). Given the last
applied state the configurator writes only the words that changed; a mode per
subsystem (skip / only-changed / force) and explicit invalidation rules
(:data:`INVALIDATES`, e.g. an L1 routing change forces repeater relocking)
refine that. The applied state is recorded only after the last stage and the
read-back verification succeeded.

A stream saved to a file (:meth:`WriteStream.save`) is read back strictly and bounded, like a
configuration file: members checked from the zip's directory before decompressing, every
record and array checked against its register (:mod:`hal.configuration.stream_file`).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import attrs
import numpy as np

from hal import coordinates as C
from hal.errors import ConfigError, ConfiguratorError, UnknownNameError, VerificationError
from hal.hardware.fpga import FPGA_REGISTERS, FPGAConfig
from hal.hardware.hicann import HICANN_REGISTERS, HICANNConfig, RepeaterBlockControl, SynapseDriverControl
from hal.hardware.wafer import WaferConfig
from hal.logging import get_logger
from hal.registers import Access, RegisterFile

__all__ = [
    "Mode",
    "Verify",
    "Subsystem",
    "Stage",
    "SUBSYSTEMS",
    "STAGES",
    "INVALIDATES",
    "RegisterWrite",
    "WordWrite",
    "Mismatch",
    "WriteStream",
    "RegisterSink",
    "RegisterImageSink",
    "Configurator",
]

log = get_logger(__name__)

Chip = "C.HICANNOnWafer | C.FPGAOnWafer"


class Mode(str, enum.Enum):
    """How a subsystem is written: not at all, only what changed, or everything."""

    SKIP = "skip"
    ONLY_CHANGED = "only_changed"
    FORCE = "force"


class Verify(str, enum.Enum):
    """Read-back verification: check and raise, skip, or check and only log (tri-state)."""

    VERIFY = "verify"
    SKIP = "skip"
    WARN = "warn"


@attrs.frozen
class Subsystem:
    """A group of registers of one chip type that is written (and invalidated) together.

    ``command`` subsystems hold write-only registers (e.g. DLL locking): they
    carry no state and are written only when invalidated or forced.
    """

    name: str
    chip: str  # "hicann" or "fpga"
    registers: tuple[str, ...]
    command: bool = False
    doc: str = ""


SUBSYSTEMS: Mapping[str, Subsystem] = {
    s.name: s
    for s in (
        Subsystem("fpga", "fpga", ("fpga_control", "highspeed_link", "fpga_background_generator"), doc="FPGA playback, trace and links"),
        Subsystem("pll", "hicann", ("pll",), doc="HICANN clock"),
        Subsystem("spike_output", "hicann", ("merger", "dnc_merger", "gbit_link"), doc="merger tree and HICANN-FPGA channels"),
        Subsystem("floating_gates", "hicann", ("fg_controller", "fg_bias", "fg_cell"), doc="analog parameter storage"),
        Subsystem("synapse_array", "hicann", ("synapse_weight", "synapse_decoder"), doc="weights and decoder addresses"),
        Subsystem("analog_readout", "hicann", ("analog_output",), doc="analog output multiplexers"),
        Subsystem("l1_routing", "hicann", ("h_repeater", "v_repeater", "crossbar_switch", "synapse_switch"), doc="L1 buses"),
        Subsystem("background_generators", "hicann", ("background_generator",), doc="background / locking event sources"),
        Subsystem("repeater_locking", "hicann", ("repeater_block_control",), command=True, doc="repeater DLL (re)locking"),
        Subsystem("synapse_drivers", "hicann", ("synapse_driver", "synapse_row"), doc="drivers and row configuration"),
        Subsystem("synapse_driver_locking", "hicann", ("synapse_driver_control",), command=True, doc="synapse driver DLL (re)locking"),
        Subsystem("neurons", "hicann", ("neuron_config", "neuron", "neuron_quad"), doc="denmem configuration and merge switches"),
    )
}


@attrs.frozen
class Stage:
    """A named configuration stage and the subsystems written in it, in order."""

    name: str
    subsystems: tuple[str, ...]
    doc: str = ""


STAGES: tuple[Stage, ...] = (
    Stage("init", ("fpga", "pll", "spike_output"), "clocks, FPGA and the HICANN-FPGA channels"),
    Stage("timing_uncritical", ("floating_gates", "synapse_array", "analog_readout"), "slow, order-free parts"),
    Stage("l1_routing", ("l1_routing", "background_generators"), "buses and the locking event sources"),
    Stage("repeater_locking", ("repeater_locking",), "repeaters lock onto the background events"),
    Stage("synapse_drivers", ("synapse_drivers",), "drivers after the buses they listen to"),
    Stage("synapse_driver_locking", ("synapse_driver_locking",), "driver DLLs lock"),
    Stage("neurons", ("neurons",), "neurons last, so they start firing into a configured chip"),
)

#: A change in the key subsystem forces a write of each listed (command) subsystem.
INVALIDATES: Mapping[str, tuple[str, ...]] = {
    "pll": ("repeater_locking", "synapse_driver_locking"),
    "l1_routing": ("repeater_locking", "synapse_driver_locking"),
    "background_generators": ("repeater_locking", "synapse_driver_locking"),
    "synapse_drivers": ("synapse_driver_locking",),
}

_FILES: Mapping[str, RegisterFile] = {"hicann": HICANN_REGISTERS, "fpga": FPGA_REGISTERS}
_COMMAND_SEQUENCE = {
    # (register, successive words): reset the DLLs, then start locking.
    "repeater_locking": ("repeater_block_control", (RepeaterBlockControl(dll_reset=True), RepeaterBlockControl(start_lock=True))),
    "synapse_driver_locking": ("synapse_driver_control", (SynapseDriverControl(dll_reset=True), SynapseDriverControl(start_lock=True))),
}


def _check_consistency() -> None:
    staged = [s for stage in STAGES for s in stage.subsystems]
    assert sorted(staged) == sorted(SUBSYSTEMS), "every subsystem is in exactly one stage"
    for chip, rf in _FILES.items():
        covered = [r for s in SUBSYSTEMS.values() if s.chip == chip for r in s.registers]
        assert sorted(covered) == sorted(rf.names()), f"every {chip} register belongs to one subsystem"


_check_consistency()


def _chip_kind(chip: Any) -> str:
    if isinstance(chip, C.HICANNOnWafer):
        return "hicann"
    if isinstance(chip, C.FPGAOnWafer):
        return "fpga"
    raise ConfigError(f"{chip!r} is not a chip coordinate (HICANNOnWafer or FPGAOnWafer)")


def _chip_key(chip: Any) -> str:
    return f"{_chip_kind(chip)}/{chip.enum}"


# -- the write records ----------------------------------------------------------------------------


@attrs.frozen
class WordWrite:
    """One register word written to one chip (the flat view of a :class:`RegisterWrite`)."""

    stage: str
    chip: Any
    register: str
    address: int
    value: int

    def __str__(self) -> str:
        return f"{self.stage}: {self.chip!r} {self.register}[{hex(self.address)}] <- {hex(self.value)}"


@attrs.frozen(eq=False)
class RegisterWrite:
    """Words written to some instances of one register of one chip, within one stage."""

    stage: str
    subsystem: str
    chip: Any
    register: str
    # Compact dtypes: a full-wafer stream holds ~16 million words.
    indices: np.ndarray = attrs.field(converter=lambda a: np.asarray(a, dtype=np.uint32))
    words: np.ndarray = attrs.field(converter=np.asarray)

    def __attrs_post_init__(self):
        if self.words.dtype.kind != "u":
            object.__setattr__(self, "words", self.words.astype(np.uint64))
        if self.indices.shape != self.words.shape:
            raise ConfigError(f"RegisterWrite {self.register}: {self.indices.size} indices but {self.words.size} words")

    @property
    def register_file(self) -> RegisterFile:
        return _FILES[_chip_kind(self.chip)]

    @property
    def addresses(self) -> np.ndarray:
        return self.register_file[self.register].address + self.indices

    def __len__(self) -> int:
        return int(self.indices.size)

    def word_writes(self) -> Iterator[WordWrite]:
        for a, w in zip(self.addresses.tolist(), self.words.tolist()):
            yield WordWrite(self.stage, self.chip, self.register, a, w)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RegisterWrite):
            return NotImplemented
        return (self.stage, self.subsystem, self.chip, self.register) == (other.stage, other.subsystem, other.chip, other.register) and (
            np.array_equal(self.indices, other.indices) and np.array_equal(self.words, other.words)
        )

    __hash__ = None


@attrs.frozen
class Mismatch:
    """A register word that read back differently from what was written."""

    chip: Any
    register: str
    address: int
    written: int
    read: int

    def __str__(self) -> str:
        return f"{self.chip!r} {self.register}[{hex(self.address)}]: wrote {hex(self.written)}, read {hex(self.read)}"


@attrs.frozen(eq=False)
class WriteStream:
    """The ordered register writes of one configuration run: inspectable, savable, replayable."""

    writes: tuple[RegisterWrite, ...]

    def __iter__(self) -> Iterator[RegisterWrite]:
        return iter(self.writes)

    def __len__(self) -> int:
        return len(self.writes)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WriteStream):
            return NotImplemented
        return len(self.writes) == len(other.writes) and all(a == b for a, b in zip(self.writes, other.writes))

    __hash__ = None

    @property
    def word_count(self) -> int:
        return sum(len(w) for w in self.writes)

    def word_writes(self) -> Iterator[WordWrite]:
        for w in self.writes:
            yield from w.word_writes()

    def registers(self) -> set[str]:
        """Names of the registers written."""
        return {w.register for w in self.writes}

    def stages(self) -> list[str]:
        """The stages that have writes, in order."""
        seen: list[str] = []
        for w in self.writes:
            if not seen or seen[-1] != w.stage:
                seen.append(w.stage)
        return seen

    def summary(self) -> dict[str, dict[str, int]]:
        """Words written per stage and register."""
        out: dict[str, dict[str, int]] = {}
        for w in self.writes:
            per = out.setdefault(w.stage, {})
            per[w.register] = per.get(w.register, 0) + len(w)
        return out

    def save(self, path: str | Path) -> None:
        """Write the stream to ``path`` (atomically; the path is checked first)."""
        from hal.configuration.stream_file import save_writes  # it builds on this module's classes

        save_writes(self.writes, path)

    @classmethod
    def load(cls, path: str | Path) -> WriteStream:
        """Read a stream written by :meth:`save`; strict and bounded like the configuration reader.

        From the zip's directory, before decompressing: only ``N/indices.npy`` and ``N/words.npy``
        members, none larger than the largest register's words. Then the manifest holds exactly
        ``writes`` (records of exactly stage, subsystem, chip, register, each a known name that
        belongs to the others), every write has both arrays (1-d unsigned, equally long, indices
        in the register's range, words that fit its width) and no member is left over. Any
        problem is a :class:`~hal.errors.FileFormatError` naming the file and the write.
        """
        from hal.configuration.stream_file import load_writes  # it builds on this module's classes

        return cls(load_writes(path))

    def replay(self, sink: RegisterSink) -> None:
        """Send every write to ``sink`` in order (no diffing, no verification)."""
        for w in self.writes:
            sink.write_registers(w)


# -- where writes go --------------------------------------------------------------------------------


@runtime_checkable
class RegisterSink(Protocol):
    """Anything that takes register writes and can read registers back (a backend, a fake)."""

    def write_registers(self, write: RegisterWrite) -> None: ...

    def read_registers(self, chip: Any, register: str, indices: np.ndarray) -> np.ndarray: ...


class RegisterImageSink:
    """An in-memory chip model that stores what is written: the simplest sink.

    It keeps every chip's register image (starting from reset) and a log of all
    writes, including the write-only command registers. Used as a fake backend in
    tests and by the recording fake backend.
    """

    def __init__(self):
        self.images: dict[Any, dict[str, np.ndarray]] = {}
        self.log: list[RegisterWrite] = []

    def _image(self, chip: Any) -> dict[str, np.ndarray]:
        img = self.images.get(chip)
        if img is None:
            cls = HICANNConfig if _chip_kind(chip) == "hicann" else FPGAConfig
            img = self.images[chip] = cls.reset_image()
        return img

    def write_registers(self, write: RegisterWrite) -> None:
        self.log.append(write)
        rf = write.register_file
        if rf[write.register].access is Access.WRITE_ONLY:
            return
        words = self._image(write.chip)[write.register]
        words[write.indices] = write.words.astype(words.dtype)

    def read_registers(self, chip: Any, register: str, indices: np.ndarray) -> np.ndarray:
        return self._image(chip)[register][np.asarray(indices, dtype=np.int64)].astype(np.uint64)

    def chip_config(self, chip: Any) -> HICANNConfig | FPGAConfig:
        """What the chip holds now, as a typed configuration (a copy)."""
        cls = HICANNConfig if _chip_kind(chip) == "hicann" else FPGAConfig
        return cls({k: v.copy() for k, v in self._image(chip).items()})


# -- the configurator ----------------------------------------------------------------------------------


def _parse_modes(modes: Mapping[str, Mode | str] | None) -> dict[str, Mode]:
    out = {name: Mode.ONLY_CHANGED for name in SUBSYSTEMS}
    for name, mode in (modes or {}).items():
        if name not in SUBSYSTEMS:
            raise UnknownNameError("subsystem", name, SUBSYSTEMS)
        try:
            out[name] = Mode(mode)
        except ValueError:
            raise ConfigError(f"mode of subsystem {name}: {mode!r} is not valid; valid: {', '.join(m.value for m in Mode)}") from None
    return out


@attrs.define
class Configurator:
    """Turns wafer configurations into minimal write streams and applies them to a sink.

    Parameters
    ----------
    modes:
        Per subsystem: ``skip``, ``only_changed`` (default) or ``force``.
    """

    modes: dict[str, Mode] = attrs.field(factory=dict, converter=_parse_modes)
    _applied: WaferConfig | None = attrs.field(default=None, init=False)
    _invalidated: dict[Any, set[str]] = attrs.field(factory=dict, init=False)

    @property
    def applied(self) -> WaferConfig | None:
        """The configuration the sink is known to hold (None: unknown, write everything)."""
        return self._applied

    def forget(self) -> None:
        """Treat the hardware state as unknown: the next apply writes everything configured."""
        self._applied = None
        self._invalidated.clear()

    def invalidate(self, subsystem: str, chips: Iterable[Any] | None = None, config: WaferConfig | None = None) -> None:
        """Force ``subsystem`` (and what it invalidates) to be written on the next apply.

        ``chips`` defaults to every chip of the right kind in ``config`` or in the
        applied state.
        """
        if subsystem not in SUBSYSTEMS:
            raise UnknownNameError("subsystem", subsystem, SUBSYSTEMS)
        kind = SUBSYSTEMS[subsystem].chip
        if chips is None:
            source = config or self._applied
            chips = [c for c, _ in source.chips()] if source is not None else []
        for chip in chips:
            if _chip_kind(chip) == kind:
                self._invalidated.setdefault(chip, set()).update((subsystem, *INVALIDATES.get(subsystem, ())))

    def plan(self, config: WaferConfig) -> WriteStream:
        """The writes that bring the sink from the applied state to ``config`` (changes nothing)."""
        if not isinstance(config, WaferConfig):
            raise ConfigError(f"Configurator.plan: expected a WaferConfig, got {type(config).__name__}")
        previous = self._applied
        if previous is not None and previous.wafer != config.wafer:
            previous = None  # another wafer: nothing is known about it
        chips = {c: cfg for c, cfg in config.chips()}
        if previous is not None:
            # Chips configured before but absent now go back to their reset state.
            for chip, old in previous.chips():
                if chip not in chips:
                    chips[chip] = type(old)()
        per_stage: dict[str, list[RegisterWrite]] = {stage.name: [] for stage in STAGES}
        stage_of = {s: stage.name for stage in STAGES for s in stage.subsystems}
        for chip in sorted(chips, key=lambda c: (_chip_kind(c), c.enum)):
            new = chips[chip]
            old = self._previous_chip(previous, chip)
            forced = set(self._invalidated.get(chip, ()))
            for stage in STAGES:
                for name in stage.subsystems:
                    sub = SUBSYSTEMS[name]
                    if sub.chip != _chip_kind(chip) or self.modes[name] is Mode.SKIP:
                        continue
                    if sub.command:
                        if name in forced or self.modes[name] is Mode.FORCE:
                            per_stage[stage_of[name]].extend(self._command_writes(stage.name, name, chip))
                        continue
                    force = old is None or name in forced or self.modes[name] is Mode.FORCE
                    changed = False
                    for reg in sub.registers:
                        words = new.image[reg]
                        if force:
                            idx = np.arange(words.size, dtype=np.uint32)
                        else:
                            idx = np.flatnonzero(words != old.image[reg]).astype(np.uint32)
                        if idx.size:
                            changed = True
                            per_stage[stage.name].append(RegisterWrite(stage.name, name, chip, reg, idx, words[idx]))
                    if changed and old is not None:
                        # Dependents are forced when this subsystem's content differs.
                        differs = any(not np.array_equal(new.image[r], old.image[r]) for r in sub.registers)
                        if differs:
                            forced.update(INVALIDATES.get(name, ()))
                    elif old is None:
                        forced.update(INVALIDATES.get(name, ()))
        return WriteStream(tuple(w for stage in STAGES for w in per_stage[stage.name]))

    @staticmethod
    def _previous_chip(previous: WaferConfig | None, chip: Any):
        if previous is None:
            return None
        if _chip_kind(chip) == "hicann":
            return previous.hicann(chip) if previous.has_hicann(chip) else HICANNConfig()
        return previous.fpga(chip) if previous.has_fpga(chip) else FPGAConfig()

    @staticmethod
    def _command_writes(stage: str, subsystem: str, chip: Any) -> list[RegisterWrite]:
        register, values = _COMMAND_SEQUENCE[subsystem]
        count = HICANN_REGISTERS[register].count
        return [
            RegisterWrite(stage, subsystem, chip, register, np.arange(count), np.full(count, v.to_word(), dtype=np.uint32))
            for v in values
        ]

    def apply(self, config: WaferConfig, sink: RegisterSink, verify: Verify | str = Verify.VERIFY) -> WriteStream:
        """Write ``config`` to ``sink`` stage by stage, verify, then record it as applied.

        If any write or the verification fails, the applied state becomes
        unknown (the next apply writes everything) and :class:`ConfiguratorError`
        is raised; the previously recorded state is never half-updated.
        """
        try:
            verify = Verify(verify)
        except ValueError:
            raise ConfigError(f"verify: {verify!r} is not valid; valid: {', '.join(v.value for v in Verify)}") from None
        stream = self.plan(config)
        snapshot = config.copy()  # the caller may keep editing config
        try:
            for write in stream:
                sink.write_registers(write)
            if verify is not Verify.SKIP:
                mismatches = self.verify(stream, sink)
                if mismatches:
                    if verify is Verify.VERIFY:
                        raise VerificationError(mismatches)
                    log.warning("readback_mismatched", mismatches=len(mismatches), first=str(mismatches[0]))
        except VerificationError:
            self.forget()
            raise
        except Exception as exc:
            self.forget()
            raise ConfiguratorError(f"applying the configuration failed; hardware state now unknown: {exc}") from exc
        self._applied = snapshot
        self._invalidated.clear()
        # debug: a training loop or a calibration applies thousands of (mostly weight-only) configurations
        log.debug("configuration_applied", writes=len(stream), words=stream.word_count, stages=stream.stages())
        return stream

    @staticmethod
    def verify(stream: WriteStream, sink: RegisterSink) -> list[Mismatch]:
        """Read back every state register word of ``stream`` and list what differs.

        Later writes to the same word win, so the expected value is the last one written.
        """
        grouped: dict[tuple[Any, str], list[RegisterWrite]] = {}
        for w in stream:
            if w.register_file[w.register].access is not Access.WRITE_ONLY:
                grouped.setdefault((w.chip, w.register), []).append(w)
        mismatches = []
        for (chip, register), writes in grouped.items():
            indices = np.concatenate([w.indices for w in writes]).astype(np.int64)
            words = np.concatenate([w.words.astype(np.uint64) for w in writes])
            # np.unique keeps the first occurrence: reverse so that the last write wins.
            idx, first = np.unique(indices[::-1], return_index=True)
            want = words[::-1][first]
            got = np.asarray(sink.read_registers(chip, register, idx), dtype=np.uint64)
            base = _FILES[_chip_kind(chip)][register].address
            for i in np.flatnonzero(got != want):
                mismatches.append(Mismatch(chip, register, int(base + idx[i]), int(want[i]), int(got[i])))
        return mismatches
