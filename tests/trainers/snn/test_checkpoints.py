"""Checkpoints: a training interrupted and resumed from its checkpoint ends with exactly the weights of an
uninterrupted one (on the twin and on the noisy backend); unusable checkpoints are refused, naming the file."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch", reason="the trainer API needs torch (pip install -e '.[train]')")

import hal  # noqa: E402
from hal.errors import ConfigError, FileFormatError  # noqa: E402
from hal_trainers.snn import MappedModel, Trainer, Twin  # noqa: E402

pytestmark = pytest.mark.needs_torch

#: Curve entries that are measurements of time, not of training.
TIMING = ("wall_s", "backend_s")


class Crash(Exception):
    """Stands for the process dying in the middle of a training."""


def crash_after(step: int):
    def progress(entry: dict) -> None:
        if entry["step"] == step:
            raise Crash(step)

    return progress


def same_training(curve_a: list[dict], curve_b: list[dict]) -> bool:
    strip = [[{k: v for k, v in e.items() if k not in TIMING} for e in c] for c in (curve_a, curve_b)]
    return strip[0] == strip[1]


def assert_same_weights(a, b) -> None:
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(x, y), name


@pytest.fixture(scope="module")
def twin(build_model):
    return Twin.nominal(build_model(), ns_per_weight_bit=0.34)


@pytest.fixture(scope="module")
def uninterrupted(build_model, twin, small, fast):
    model = build_model()
    curve = Trainer(model, **fast).fit(twin, *small, epochs=1)
    assert len(curve) == 3
    return model, curve


def test_half_an_epoch_then_resumed_to_one_equals_one_epoch_on_the_twin(build_model, twin, small, fast, uninterrupted, tmp_path):
    path = tmp_path / "mock.pt"
    first = build_model()
    part = Trainer(first, **fast).fit(twin, *small, epochs=0.5, checkpoint=path)
    assert len(part) == 2 and path.is_file()
    resumed_model = build_model()  # a new process: fresh model, fresh trainer, the same checkpoint
    curve = Trainer(resumed_model, **fast).fit(twin, *small, epochs=1, checkpoint=path)
    model, reference_curve = uninterrupted
    assert_same_weights(resumed_model, model)
    assert same_training(curve, reference_curve)
    assert not all(torch.equal(a, b) for a, b in zip(first.parameters(), model.parameters()))  # it did move on


@pytest.mark.parametrize("crash_at", [1, 2, 3])
def test_a_crash_anywhere_resumes_to_the_same_weights(build_model, twin, small, fast, uninterrupted, tmp_path, crash_at):
    path = tmp_path / "mock.pt"
    with pytest.raises(Crash):
        Trainer(build_model(), **fast, checkpoint_every=1).fit(twin, *small, epochs=1, checkpoint=path, progress=crash_after(crash_at))
    # The crash came before that step's checkpoint: the file holds the step before (none for the first).
    assert path.is_file() == (crash_at > 1)
    resumed_model = build_model()
    curve = Trainer(resumed_model, **fast, checkpoint_every=1).fit(twin, *small, epochs=1, checkpoint=path)
    assert_same_weights(resumed_model, uninterrupted[0])
    assert same_training(curve, uninterrupted[1])


def test_a_finished_training_resumes_to_itself(build_model, twin, small, fast, uninterrupted, tmp_path):
    path = tmp_path / "done.pt"
    Trainer(build_model(), **fast).fit(twin, *small, epochs=1, checkpoint=path)
    again = build_model()
    curve = Trainer(again, **fast).fit(twin, *small, epochs=1, checkpoint=path)
    assert len(curve) == 3
    assert_same_weights(again, uninterrupted[0])


@pytest.mark.needs_extension
def test_half_an_epoch_then_resumed_to_one_equals_one_epoch_on_noisy(build_model, small, fast, tmp_path):
    """Each part runs on a fresh noisy backend, as a restarted process would; the noise is keyed on the run seeds."""

    def mapped(model):
        return MappedModel(model, hal.get_backend("noisy"))

    whole = build_model()
    curve_whole = Trainer(whole, **fast).fit(mapped(whole), *small, epochs=1)
    path = tmp_path / "in_the_loop.pt"
    first = build_model()
    Trainer(first, **fast).fit(mapped(first), *small, epochs=0.5, checkpoint=path)
    resumed = build_model()
    curve = Trainer(resumed, **fast).fit(mapped(resumed), *small, epochs=1, checkpoint=path)
    assert_same_weights(resumed, whole)
    assert same_training(curve, curve_whole)


def test_noisy_runs_differ_between_seeds_so_the_check_above_means_something(build_model, small):
    model = build_model()
    target = MappedModel(model, hal.get_backend("noisy"))
    a, _, _ = target.run(small[0][:20], seed=1)
    b, _, _ = target.run(small[0][:20], seed=2)
    c, _, _ = MappedModel(build_model(), hal.get_backend("noisy")).run(small[0][:20], seed=1)
    assert not torch.equal(a.v[1], b.v[1])
    assert torch.equal(a.v[1], c.v[1])


# -- unusable checkpoints ------------------------------------------------------------------------------------


def test_a_checkpoint_of_another_model_is_refused(build_model, twin, small, fast, tmp_path):
    path = tmp_path / "other.pt"
    Trainer(build_model(hidden=16), **fast).fit(Twin.nominal(build_model(hidden=16)), *small, epochs=0.5, checkpoint=path)
    with pytest.raises(FileFormatError, match="not a usable training checkpoint") as info:
        Trainer(build_model(), **fast).fit(twin, *small, epochs=1, checkpoint=path)
    assert info.value.path == str(path) and str(path) in str(info.value)


def test_a_truncated_checkpoint_is_refused(build_model, twin, small, fast, tmp_path):
    path = tmp_path / "cut.pt"
    Trainer(build_model(), **fast).fit(twin, *small, epochs=0.5, checkpoint=path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(FileFormatError, match="not a usable training checkpoint") as info:
        Trainer(build_model(), **fast).fit(twin, *small, epochs=1, checkpoint=path)
    assert info.value.path == str(path)


def test_a_foreign_torch_file_is_refused(build_model, twin, small, fast, tmp_path):
    path = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, path)
    with pytest.raises(FileFormatError, match="not a hal-snn-checkpoint") as info:
        Trainer(build_model(), **fast).fit(twin, *small, epochs=1, checkpoint=path)
    assert info.value.path == str(path)


def test_a_corrupt_checkpoint_is_refused_naming_the_path(build_model, twin, small, fast, tmp_path):
    path = tmp_path / "corrupt.pt"
    path.write_bytes(b"this is not a checkpoint\n")
    with pytest.raises(FileFormatError, match="not a usable training checkpoint") as info:
        Trainer(build_model(), **fast).fit(twin, *small, epochs=1, checkpoint=path)
    assert info.value.path == str(path)


def test_a_checkpoint_trained_with_other_settings_is_refused_naming_them(build_model, twin, small, fast, tmp_path):
    path = tmp_path / "mock.pt"
    Trainer(build_model(), **fast).fit(twin, *small, epochs=0.5, checkpoint=path)
    other = {**fast, "learning_rate": fast.get("learning_rate", 0.1) * 2}
    with pytest.raises(ConfigError, match="learning_rate") as info:
        Trainer(build_model(), **other).fit(twin, *small, epochs=1, checkpoint=path)
    assert str(path) in str(info.value) and "other settings" in str(info.value)
