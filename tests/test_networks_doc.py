"""docs/networks.md's example runs as written (the network-level workflow users start from)."""

from __future__ import annotations

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_networks_page_example_runs():
    pytest.importorskip("hal_plugins.emulator._kernel", reason="the emulator's compiled kernel is not built")
    text = (ROOT / "docs" / "networks.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) == 1
    namespace: dict = {}
    exec(compile(blocks[0], "docs/networks.md", "exec"), namespace)
    assert namespace["mapping"].synapses_lost == 0
    assert namespace["times"].shape == namespace["v"].shape[-1:] and namespace["v"].size > 0


def test_the_facade_exports_the_network_level_names():
    import hal

    for name in ("Network", "Population", "SourcePopulation", "Projection", "map_network", "MappingOptions",
                 "MappingResult", "PopulationMap", "load_network", "save_network"):
        assert name in hal.__all__ and getattr(hal, name) is not None
