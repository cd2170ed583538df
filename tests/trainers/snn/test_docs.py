"""docs/training.md: its code runs as written (slow), and on a subset of the data in the default suite."""

from __future__ import annotations

import pathlib
import re

import attrs
import pytest

torch = pytest.importorskip("torch", reason="the trainer API needs torch (pip install -e '.[train]')")

import hal_trainers.datasets  # noqa: E402
from hal_trainers.snn import Evaluation  # noqa: E402

pytestmark = [pytest.mark.needs_torch, pytest.mark.needs_extension]  # the example runs on the noisy backend

DOC = pathlib.Path(__file__).resolve().parents[3] / "docs" / "training.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)


def run_doc(monkeypatch, tmp_path) -> dict:
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "training_md"}
    for block in python_blocks():
        exec(compile(block, str(DOC), "exec"), namespace)
    return namespace


def test_the_doc_has_the_example_the_scheme_and_the_rate_snippets():
    blocks = python_blocks()
    assert len(blocks) == 3
    assert "estimator=RateBased(" in blocks[2]
    example = blocks[0]
    assert 'load_dataset("digits10")' in example
    assert "SpikingModel(LatencyCoding(64)" in example and "dt_ms=0.5" in example
    assert len([line for line in example.splitlines() if line.strip()]) <= 20


def check(namespace: dict, tmp_path, capsys, n_test: int) -> None:
    result = namespace["result"]
    assert isinstance(result, Evaluation) and result.samples == n_test
    assert result.confusion.sum() == n_test
    assert namespace["mapped"].scheme == "membrane"
    assert (tmp_path / "in_the_loop.pt").is_file()
    out = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in out[:3]] == ["twin", "chip, mock-trained", "chip, in the loop (membrane scheme)"]
    assert out[3] == "spikes"
    assert "needs all 42 membranes recorded" in out[4] and "max_membrane_traces=2; use scheme 'spikes'" in out[4]


def test_the_doc_runs_on_a_subset(monkeypatch, tmp_path, capsys):
    load = hal_trainers.datasets.load_dataset

    def subset(name, *args, **kwargs):
        data = load(name, *args, **kwargs)
        return attrs.evolve(data, x_train=data.x_train[:150], y_train=data.y_train[:150],
                            x_test=data.x_test[:100], y_test=data.y_test[:100])

    monkeypatch.setattr(hal_trainers.datasets, "load_dataset", subset)
    namespace = run_doc(monkeypatch, tmp_path)
    check(namespace, tmp_path, capsys, 100)
    assert namespace["trainer"].estimator.name == "rate" and namespace["model"].layers[-1].spiking  # the rate snippet ran last


@pytest.mark.slow
def test_the_doc_runs_as_written(monkeypatch, tmp_path, capsys, digits):
    namespace = run_doc(monkeypatch, tmp_path)
    check(namespace, tmp_path, capsys, len(digits.y_test))
    assert namespace["result"].accuracy > 0.5  # chance is 0.1
