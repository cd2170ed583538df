"""tests/conftest.py turns ``needs_extension`` / ``needs_torch`` into skips with a reason."""

from __future__ import annotations

import importlib
import importlib.util
import pathlib

CONFTEST = (pathlib.Path(__file__).resolve().parents[1] / "conftest.py").read_text()

TESTS = """
import pytest

@pytest.mark.needs_extension
def test_kernel():
    import hal_plugins.emulator._kernel

@pytest.mark.needs_torch
def test_torch():
    import torch

def test_plain():
    pass

@pytest.mark.parametrize("backend", ["reference", "emulator"])
def test_backend(backend):
    if backend == "emulator":
        import hal_plugins.emulator._kernel
"""


def _available(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None and importlib.import_module(name) is not None
    except ImportError:
        return False


def test_missing_kernel_and_torch_skip_with_the_reason(pytester):
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_marked=TESTS)
    pytester.makepyfile(blocker="import sys\nsys.modules['hal_plugins.emulator._kernel'] = None\nsys.modules['torch'] = None\n")
    result = pytester.runpytest_subprocess("-p", "blocker", "-rs")
    result.assert_outcomes(passed=2, skipped=3)
    result.stdout.fnmatch_lines(["*SKIPPED*compiled emulator kernel (hal_plugins.emulator._kernel) cannot be imported*pip install -e .*",
                                 "*SKIPPED*torch is not installed*"], consecutive=False)
    result.stdout.fnmatch_lines(["*SKIPPED*test_marked.py*compiled emulator kernel*"])


def test_present_kernel_and_torch_run_the_tests(pytester):
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_marked=TESTS)
    result = pytester.runpytest_subprocess("-rs")
    kernel, torch = _available("hal_plugins.emulator._kernel"), _available("torch")
    result.assert_outcomes(passed=2 + 2 * kernel + torch, skipped=3 - 2 * kernel - torch)
