"""The in-the-loop scheme follows the backend's capabilities: "membrane" where every membrane is recorded,
"spikes" where few are (BrainScaleS-1: two analog outputs per HICANN)."""

from __future__ import annotations

import attrs
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the trainer API needs torch (pip install -e '.[train]')")

from hal.backend import Capabilities  # noqa: E402
from hal.errors import ConfigError  # noqa: E402
from hal.testing.fakes import RecordingBackend  # noqa: E402
from hal_plugins.emulator.backend import EmulatorBackend  # noqa: E402
from hal_plugins.reference.backend import ReferenceBackend  # noqa: E402
from hal_trainers.snn import SCHEMES, MappedModel, Trainer  # noqa: E402

pytestmark = pytest.mark.needs_torch


def limited(base: type, traces: int | None, membrane_readout: bool = True) -> type:
    """``base`` with another membrane capability (as a backend plugin would declare it)."""
    caps = attrs.evolve(base.capabilities, membrane_readout=membrane_readout, max_membrane_traces=traces)
    return type(f"Limited{base.__name__}", (base,), {"name": f"{base.name}-{traces}-traces", "capabilities": caps})


def test_two_traces_choose_the_spikes_scheme(build_model, digits):
    backend = limited(ReferenceBackend, 2)(dt_ms=0.1)
    mapped = MappedModel(build_model(), backend)
    assert SCHEMES == ("membrane", "spikes")
    assert mapped.scheme == "spikes"
    assert mapped.readout_source == "twin driven by measured spikes"
    measured, grid, _ = mapped.run(digits.x_train[:20])  # records no membrane: within the two traces
    assert measured.v == (None, None)
    assert measured.spikes[1] is None and measured.spikes[0].shape == (20, mapped.model.steps, 32)
    assert measured.spikes[0].sum() > 0


def test_asking_for_the_membrane_scheme_there_is_refused(build_model):
    backend = limited(ReferenceBackend, 2)()
    with pytest.raises(ConfigError, match=r"scheme 'membrane' needs all 42 membranes recorded; backend 'reference-2-traces' "
                                          r"has membrane_readout=True, max_membrane_traces=2; use scheme 'spikes'"):
        MappedModel(build_model(), backend, scheme="membrane")
    with pytest.raises(ConfigError, match=r"MappedModel.scheme: 'voltage' not valid; valid membrane, spikes"):
        MappedModel(build_model(), backend, scheme="voltage")


@pytest.mark.parametrize(("caps", "scheme", "readout"), [
    (Capabilities(membrane_readout=True), "membrane", "measured membrane"),
    (Capabilities(membrane_readout=True, max_membrane_traces=42), "membrane", "measured membrane"),
    (Capabilities(membrane_readout=True, max_membrane_traces=41), "spikes", "measured membrane"),
    (Capabilities(membrane_readout=True, max_membrane_traces=10), "spikes", "measured membrane"),
    (Capabilities(membrane_readout=True, max_membrane_traces=9), "spikes", "twin driven by measured spikes"),
    (Capabilities(membrane_readout=False), "spikes", "twin driven by measured spikes"),
])
def test_scheme_and_readout_follow_the_capabilities(build_model, caps, scheme, readout):
    backend = type("Fake", (RecordingBackend,), {"capabilities": caps})()
    mapped = MappedModel(build_model(), backend)
    assert (mapped.scheme, mapped.readout_source) == (scheme, readout)
    mapped.run(np.zeros((1, 64)))
    expected_traces = {"membrane": 42, "spikes": 10 if readout == "measured membrane" else 0}[scheme]
    assert len(backend.requests[-1].membrane) == expected_traces


def test_spikes_scheme_may_be_chosen_where_membranes_are_recorded(build_model):
    mapped = MappedModel(build_model(), RecordingBackend(), scheme="spikes")
    assert (mapped.scheme, mapped.readout_source) == ("spikes", "measured membrane")


def test_ten_traces_measure_the_readout_only(build_model, digits):
    mapped = MappedModel(build_model(), limited(ReferenceBackend, 10)(dt_ms=0.1))
    measured, _, _ = mapped.run(digits.x_train[:10])
    assert measured.v[0] is None and measured.v[1].shape == (10, mapped.model.steps, 10)


@pytest.mark.needs_extension
def test_training_in_the_spikes_scheme_learns(build_model, small, fast):
    """The forward values are the chip's spikes; the twin, driven by them, supplies the gradient."""
    x, y = small
    model = build_model()
    mapped = MappedModel(model, limited(EmulatorBackend, 2)())
    assert mapped.scheme == "spikes"
    trainer = Trainer(model, **fast)
    out, _ = trainer.forward(mapped, x[:50], seed=4, train=False)
    measured, _, _ = mapped.run(x[:50], seed=4)
    assert torch.equal(out.spikes[0], measured.spikes[0])  # the hidden spikes are the measured ones
    before = trainer.evaluate(mapped, x, y)
    trainer.fit(mapped, x, y, epochs=2)
    after = trainer.evaluate(mapped, x, y)
    assert after.accuracy >= before.accuracy + 0.12
