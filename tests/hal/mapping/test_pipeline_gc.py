"""map_network pauses Python's cycle collector while it maps and leaves it as it found it (hal/mapping/pipeline.py)."""

from __future__ import annotations

import gc

import pytest

from hal import coordinates as C
from hal.errors import ResourceError
from hal.mapping import MappingOptions, map_network
from hal.network import Network, Population, Projection


def _net(size: int) -> Network:
    return Network([Population("a", size), Population("b", size)], [], [Projection("a", "b", connector="one_to_one", weight_bits=3)])


def test_the_collector_is_off_while_mapping_and_on_again_after(monkeypatch):
    seen = []
    import hal.mapping.pipeline as pipeline

    real = pipeline.write_synapses
    monkeypatch.setattr(pipeline, "write_synapses", lambda state: (seen.append(gc.isenabled()), real(state)))
    assert gc.isenabled()
    _, result = map_network(_net(4))
    assert seen == [False] and gc.isenabled() and result.synapses == 4


def test_the_collector_is_restored_after_an_error_and_left_off_if_it_was_off():
    one = MappingOptions(hicanns=(C.HICANNOnWafer.from_xy(12, 7),))
    with pytest.raises(ResourceError, match="do not fit the 1 allowed HICANNs"):
        map_network(_net(100), options=one)  # 200 neurons of 4 circuits: one HICANN holds 128
    assert gc.isenabled()
    gc.disable()
    try:
        map_network(_net(4))
        assert not gc.isenabled()
    finally:
        gc.enable()
