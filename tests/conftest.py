"""Shared fixtures for the whole suite."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from hal import coordinates as C
from hal.hardware.wafer import WaferConfig
from hal.logging import configure as configure_logging

# Keep test output readable; tests that check logs use structlog.testing.capture_logs.
configure_logging(level="warning")

# Property tests build numpy-backed configurations; keep them quick and deterministic in CI.
settings.register_profile("ci", max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture
def small_wafer_config() -> WaferConfig:
    """Two HICANNs and their FPGA with a little of everything set."""
    config = WaferConfig(C.Wafer(7))
    for enum in (100, 101):
        hicann = config.hicann(C.HICANNOnWafer(enum))
        hicann.set_weights(np.arange(16, dtype=np.uint8).repeat(16).reshape(1, 256) % 16, rows=slice(0, 8))
        hicann.set_decoders(3, rows=slice(0, 8))
        hicann.neurons.update(C.NeuronOnHICANN(x=4, y=0), l1_address=17, activate_firing=True, enable_spl1_output=True)
        hicann.set_neuron_parameter("E_l", 420)
        hicann.synapse_drivers.update(C.SynapseDriverOnHICANN(0), enable=True, locin=True)
        hicann.synapse_rows.update(C.SynapseRowOnHICANN(0), input_excitatory=True, sel_gmax=2)
    fpga = C.HICANNOnWafer(100).to_fpga()
    config.fpga(fpga).links.update(C.HICANNOnWafer(100).to_highspeed_link(), enable=True)
    return config
