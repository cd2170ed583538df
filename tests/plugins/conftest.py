"""The plugins' tests: which backend-contract runs are slow."""

import pytest

#: The contract's longest runs on the torch backend (a dt of 0.02 ms on the CPU: 10-25 s each) run
#: under ``-m slow``; the fast suite keeps torch's driven-neuron contract, and its agreement, rerun
#: and chunking tests in tests/plugins/torch/. Every other backend runs the whole contract.
SLOW_ON_TORCH = {
    "test_contract_silent_network_stays_silent",
    "test_contract_batch_shape_and_sample_independence",
    "test_contract_deterministic_backends_repeat_exactly",
    "test_contract_membrane_capability_is_honoured",
    "test_contract_weights_only_update_reaches_the_backend_as_weight_writes",
}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec and callspec.params.get("hal_backend_name") == "torch" and item.originalname in SLOW_ON_TORCH:
            item.add_marker(pytest.mark.slow)
