"""The perturbation example in docs/writing_a_backend.md runs and its assertions hold."""

from __future__ import annotations

import pathlib
import re

import pytest

from hal_plugins.emulator.kernel import kernel_available

PAGE = pathlib.Path(__file__).resolve().parents[3] / "docs" / "writing_a_backend.md"


def section(title: str) -> str:
    text = PAGE.read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:] if end < 0 else text[start:end]


@pytest.mark.skipif(not kernel_available(), reason="emulator kernel not built (pip install -e .)")
def test_the_perturbation_example_runs():
    blocks = re.findall(r"```python\n(.*?)```", section("Perturbing the emulator"), flags=re.S)
    assert len(blocks) == 1 and "Perturbation" in blocks[0] and "assert" in blocks[0]
    namespace: dict = {}
    exec(compile(blocks[0], f"{PAGE}:Perturbing the emulator", "exec"), namespace)  # noqa: S102 - the page's own example
    assert namespace["weaker"].shape == namespace["chip"].shape == (2, 135)
