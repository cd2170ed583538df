"""The configurator writes exactly what changed, in staged order, and records state only on success."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hal.logging import capture_events

from hal import coordinates as C
from hal.configuration.configurator import (
    INVALIDATES,
    STAGES,
    SUBSYSTEMS,
    Configurator,
    Mode,
    RegisterImageSink,
    Verify,
    WriteStream,
)
from hal.errors import ConfigError, ConfiguratorError, FileFormatError, UnknownNameError, VerificationError
from hal.hardware.wafer import WaferConfig
from hal.testing.strategies import wafer_configs

H = C.HICANNOnWafer(100)


def applied(config: WaferConfig) -> tuple[Configurator, RegisterImageSink]:
    configurator, sink = Configurator(), RegisterImageSink()
    configurator.apply(config, sink)
    return configurator, sink


def test_stages_are_data_covering_every_register_once():
    names = [s for stage in STAGES for s in stage.subsystems]
    assert sorted(names) == sorted(SUBSYSTEMS)
    assert [stage.name for stage in STAGES][0] == "init" and STAGES[-1].name == "neurons"
    for key, targets in INVALIDATES.items():
        assert key in SUBSYSTEMS and all(SUBSYSTEMS[t].command for t in targets)


def test_first_apply_writes_everything_configured_in_stage_order(small_wafer_config):
    configurator, sink = applied(small_wafer_config)
    stream = configurator.plan(small_wafer_config)
    assert len(stream) == 0  # nothing changed since
    full = Configurator().plan(small_wafer_config)
    order = [stage.name for stage in STAGES]
    assert full.stages() == [s for s in order if s in full.stages()]
    assert full.stages() == order  # a fresh HICANN needs every stage, locking included
    # The sink now holds exactly the configuration.
    for chip, cfg in small_wafer_config.hicanns():
        assert sink.chip_config(chip) == cfg
    for chip, cfg in small_wafer_config.fpgas():
        assert sink.chip_config(chip) == cfg


def test_weights_only_change_emits_only_weight_writes_for_the_rows_concerned(small_wafer_config):
    configurator, sink = applied(small_wafer_config)
    small_wafer_config.hicann(H).set_weights(9, rows=[5, 300], columns=slice(0, 8))
    stream = configurator.plan(small_wafer_config)
    assert stream.registers() == {"synapse_weight"}
    (write,) = stream.writes
    assert write.chip == H
    # 8 columns are exactly one word (8 weights per word) in each of the two rows.
    assert write.indices.tolist() == [5 * 32, 300 * 32]
    configurator.apply(small_wafer_config, sink)
    assert np.array_equal(sink.chip_config(H).weights, small_wafer_config.hicann(H).weights)


def test_routing_change_forces_relocking_but_weight_change_does_not(small_wafer_config):
    configurator, sink = applied(small_wafer_config)
    small_wafer_config.hicann(H).h_repeaters.update(C.HRepeaterOnHICANN(6), mode="FORWARDING", towards_east=True)
    summary = configurator.plan(small_wafer_config).summary()
    assert summary["l1_routing"] == {"h_repeater": 1}
    assert "repeater_block_control" in summary["repeater_locking"]
    assert "synapse_driver_control" in summary["synapse_driver_locking"]
    configurator.apply(small_wafer_config, sink)
    small_wafer_config.hicann(H).synapse_drivers.update(C.SynapseDriverOnHICANN(3), enable=True)
    summary = configurator.plan(small_wafer_config).summary()
    assert set(summary) == {"synapse_drivers", "synapse_driver_locking"}


def test_modes_skip_and_force(small_wafer_config):
    configurator, sink = applied(small_wafer_config)
    small_wafer_config.hicann(H).set_weights(1, rows=0, columns=0)
    skipping = Configurator(modes={"synapse_array": "skip"})
    skipping._applied = configurator.applied
    assert len(skipping.plan(small_wafer_config)) == 0
    forcing = Configurator(modes={"neurons": Mode.FORCE})
    forcing._applied = configurator.applied
    summary = forcing.plan(small_wafer_config).summary()
    assert summary["neurons"]["neuron"] == 2 * 512  # both HICANNs, every neuron word
    with pytest.raises(UnknownNameError, match="unknown subsystem 'neuron'; did you mean 'neurons'"):
        Configurator(modes={"neuron": "skip"})
    with pytest.raises(ConfigError, match="mode of subsystem neurons: 'sometimes' is not valid; valid: skip, only_changed, force"):
        Configurator(modes={"neurons": "sometimes"})


def test_explicit_invalidation(small_wafer_config):
    configurator, _ = applied(small_wafer_config)
    configurator.invalidate("l1_routing", chips=[H])
    summary = configurator.plan(small_wafer_config).summary()
    assert summary["l1_routing"]["h_repeater"] == 64  # forced: every word of that HICANN
    assert summary["repeater_locking"]["repeater_block_control"] == 2 * 6  # reset then lock
    with pytest.raises(UnknownNameError):
        configurator.invalidate("bogus")


def test_removed_chip_is_written_back_to_reset(small_wafer_config):
    configurator, sink = applied(small_wafer_config)
    small_wafer_config.remove_hicann(C.HICANNOnWafer(101))
    configurator.apply(small_wafer_config, sink)
    assert sink.chip_config(C.HICANNOnWafer(101)).is_reset()


class FailingSink(RegisterImageSink):
    def __init__(self, fail_at_register: str):
        super().__init__()
        self.fail_at = fail_at_register

    def write_registers(self, write):
        if write.register == self.fail_at:
            raise OSError("link down")
        super().write_registers(write)


def test_failure_mid_stream_leaves_no_recorded_state(small_wafer_config):
    configurator, sink = applied(small_wafer_config)
    before = configurator.applied
    small_wafer_config.hicann(H).set_weights(2, rows=1)
    small_wafer_config.hicann(H).neurons.update(0, l1_address=1)
    failing = FailingSink("neuron")
    with pytest.raises(ConfiguratorError, match="link down"):
        configurator.apply(small_wafer_config, failing)
    assert configurator.applied is None  # unknown now: the next apply writes everything
    assert before is not None
    stream = configurator.plan(small_wafer_config)
    assert "synapse_weight" in stream.registers() and "pll" in stream.registers()


class CorruptingSink(RegisterImageSink):
    def write_registers(self, write):
        super().write_registers(write)
        if write.register == "synapse_weight":
            self._image(write.chip)["synapse_weight"][write.indices[:1]] ^= 1


def test_readback_verification(small_wafer_config):
    with pytest.raises(VerificationError, match=r"synapse_weight\[0xa000\]: wrote 0x0, read 0x1"):
        Configurator().apply(small_wafer_config, CorruptingSink())
    configurator = Configurator()
    with capture_events() as logs:
        configurator.apply(small_wafer_config, CorruptingSink(), verify="warn")
    assert any(e["event"] == "readback_mismatched" for e in logs)
    assert configurator.applied is not None
    Configurator().apply(small_wafer_config, CorruptingSink(), verify=Verify.SKIP)
    with pytest.raises(ConfigError, match="verify: 'maybe' is not valid"):
        Configurator().apply(small_wafer_config, RegisterImageSink(), verify="maybe")


def test_stream_is_inspectable_savable_and_replayable(small_wafer_config, tmp_path):
    stream = Configurator().plan(small_wafer_config)
    words = list(stream.word_writes())
    assert len(words) == stream.word_count
    assert words[0].stage == "init"
    path = tmp_path / "stream.hal"
    stream.save(path)
    loaded = WriteStream.load(path)
    assert loaded == stream
    replayed = RegisterImageSink()
    loaded.replay(replayed)
    for chip, cfg in small_wafer_config.hicanns():
        assert replayed.chip_config(chip) == cfg
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(FileFormatError, match="truncated"):
        WriteStream.load(path)


def test_plan_rejects_non_configs():
    with pytest.raises(ConfigError, match="expected a WaferConfig, got dict"):
        Configurator().plan({})


@given(before=wafer_configs(), after=wafer_configs())
def test_applying_the_plan_reaches_the_new_state_with_only_changed_words(before, after):
    after = WaferConfig(before.wafer, hicanns=dict(after._hicanns), fpgas=dict(after._fpgas))
    configurator, sink = applied(before)
    snapshot = {chip: {k: v.copy() for k, v in img.items()} for chip, img in sink.images.items()}
    stream = configurator.apply(after, sink)
    for write in stream:
        if write.register.endswith("_control"):
            continue
        old = snapshot.get(write.chip)
        if old is not None:
            # Every state word written really changed.
            assert np.all(old[write.register][write.indices] != write.words)
    for chip, cfg in after.chips():
        assert sink.chip_config(chip) == cfg
    for chip in snapshot:
        if not (after.has_hicann(chip) if isinstance(chip, C.HICANNOnWafer) else after.has_fpga(chip)):
            assert sink.chip_config(chip).is_reset()
