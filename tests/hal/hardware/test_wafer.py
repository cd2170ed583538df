"""Whole-wafer configuration: counts, lazy chips, and the memory bound of a full wafer."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from hal import coordinates as C
from hal.configuration.configurator import Configurator
from hal.errors import ConfigError
from hal.hardware.wafer import WaferConfig, wafer_counts


def test_counts_match_the_hardware_facts():
    counts = wafer_counts()
    assert counts["reticles"] == 48
    assert counts["hicanns"] == 384
    assert counts["fpgas"] == 48
    assert counts["neuron_circuits"] == 196_608
    assert counts["synapse_drivers"] == 86_016
    assert counts["synapses"] == 44_040_192
    assert counts["synapses_usable_paper"] == 43_253_760
    assert counts["fg_parameters_per_circuit"] == 23


def test_untouched_chips_cost_nothing():
    config = WaferConfig()
    assert config.nbytes() == 0
    config.hicann(C.HICANNOnWafer(5))
    assert list(dict(config.hicanns())) == [C.HICANNOnWafer(5)]
    assert config == WaferConfig()  # a touched-but-reset chip equals an absent one


def test_bad_keys():
    config = WaferConfig()
    with pytest.raises(ConfigError, match="is not a HICANNOnWafer"):
        config.hicann(5)
    with pytest.raises(ConfigError, match="is not a FPGAOnWafer"):
        config.fpga(C.HICANNOnWafer(5))
    with pytest.raises(ConfigError, match="is not a Wafer coordinate"):
        WaferConfig(wafer=3)


def test_full_wafer_with_every_synapse_set_stays_under_300_mb():
    rng = np.random.default_rng(0)
    weights = rng.integers(0, 16, size=(448, 256), dtype=np.uint8)
    decoders = rng.integers(0, 16, size=(448, 256), dtype=np.uint8)
    tracemalloc.start()
    try:
        config = WaferConfig(C.Wafer(1))
        for hicann in C.HICANNOnWafer.all():
            chip = config.hicann(hicann)
            chip.set_weights(weights)
            chip.set_decoders(decoders)
            chip.neurons.set_column("l1_address", np.arange(512) % 64)
        _, peak_config = tracemalloc.get_traced_memory()
        stream = Configurator().plan(config)
        _, peak_with_stream = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak_config < 300 * 2**20, f"building the configuration peaked at {peak_config / 2**20:.0f} MiB"
    assert config.nbytes() < 100 * 2**20
    # The first, full write stream (16 million words) fits beside it.
    assert peak_with_stream < 500 * 2**20, f"configuration plus stream peaked at {peak_with_stream / 2**20:.0f} MiB"
    assert stream.summary()["timing_uncritical"]["synapse_weight"] == 384 * 448 * 32
