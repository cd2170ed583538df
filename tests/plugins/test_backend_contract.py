"""Every registered backend (or those named with --hal-backend) passes hal's backend contract."""

import importlib.util

import pytest

from hal.testing.contract import *  # noqa: F401,F403

#: Backends whose runs need torch: without it they are skipped with the reason, as ``needs_torch`` tests are.
#: They run on one intra-op thread: a step's tensors are small, and torch's OpenMP threads stall
#: whenever the cores are shared (tests/plugins/torch/test_torch_backend.py says by how much).
TORCH_BACKENDS = {"torch": {"threads": 1}}


@pytest.fixture
def hal_backend(hal_backend_name, request):
    """hal's ``hal_backend`` fixture, with the torch backend's runs marked ``needs_torch`` (options above)."""
    from hal.extension.manager import default_plugins

    if hal_backend_name in TORCH_BACKENDS:
        request.applymarker(pytest.mark.needs_torch)
        if importlib.util.find_spec("torch") is None:
            pytest.skip("torch is not installed (pip install -e '.[train]')")
    return default_plugins().create("backend", hal_backend_name, **TORCH_BACKENDS.get(hal_backend_name, {}))
