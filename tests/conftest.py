"""Shared fixtures for the whole suite."""

from __future__ import annotations

import functools
import importlib
import importlib.util

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from hal import coordinates as C
from hal.hardware.wafer import WaferConfig
from hal.logging import configure as configure_logging

#: pytester runs pytest inside tests (the pytest plugin, the marker hooks below)
pytest_plugins = ["pytester"]

# Keep test output readable; tests that check logs use structlog.testing.capture_events.
configure_logging(level="warning")

# Property tests build numpy-backed configurations; keep them quick and deterministic in CI.
settings.register_profile("ci", max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci")

#: the compiled emulator kernel, which ``needs_extension`` tests need
KERNEL_MODULE = "hal_plugins.emulator._kernel"


@functools.cache
def kernel_missing() -> str | None:
    """Why the compiled kernel cannot be imported, or None when it can."""
    try:
        importlib.import_module(KERNEL_MODULE)
    except ImportError as error:
        return f"the compiled emulator kernel ({KERNEL_MODULE}) cannot be imported: {error}; build it with `pip install -e .`"
    return None


@functools.cache
def torch_missing() -> str | None:
    """Why torch is unavailable, or None when it is installed."""
    if importlib.util.find_spec("torch") is None:
        return "torch is not installed (pip install -e '.[train]')"
    return None


#: the built-in backends that run on the compiled kernel: a test parametrised with one of these
#: names (``hal_backend_name`` from hal's pytest plugin, or a ``backend`` parameter) needs it
EXTENSION_BACKENDS = frozenset({"emulator", "noisy"})
BACKEND_PARAMETERS = ("hal_backend_name", "backend")


def _runs_an_extension_backend(item) -> bool:
    params = getattr(getattr(item, "callspec", None), "params", {})
    return any(params.get(name) in EXTENSION_BACKENDS for name in BACKEND_PARAMETERS if isinstance(params.get(name), str))


def pytest_collection_modifyitems(config, items):
    """``needs_extension`` skips without the compiled kernel, ``needs_torch`` without torch, with the reason.

    A test parametrised with a backend that runs on the kernel (:data:`EXTENSION_BACKENDS`) is
    marked ``needs_extension`` here.
    """
    for item in items:
        if _runs_an_extension_backend(item):
            item.add_marker(pytest.mark.needs_extension)
        if item.get_closest_marker("needs_extension") is not None and kernel_missing():
            item.add_marker(pytest.mark.skip(reason=kernel_missing()))
        if item.get_closest_marker("needs_torch") is not None and torch_missing():
            item.add_marker(pytest.mark.skip(reason=torch_missing()))


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
