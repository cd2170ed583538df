"""pytest plugin (entry point ``pytest11: hal``): backend fixtures for hal users' own test suites.

* ``--hal-backend NAME`` (repeatable): which registered backends the
  ``hal_backend`` fixture runs over (default: all registered).
* ``hal_backend``: a fresh backend instance, parametrized over those names (test id = name).
* ``hal_recording_backend``: a :class:`hal.testing.fakes.RecordingBackend` that only records the
  register writes, for testing configuration code without simulating anything.
"""

from __future__ import annotations

import pytest

__all__ = ["pytest_addoption", "pytest_generate_tests", "hal_backend", "hal_recording_backend"]


def pytest_addoption(parser):
    group = parser.getgroup("hal")
    group.addoption("--hal-backend", action="append", default=None, metavar="NAME",
                    help="run hal_backend tests on this registered backend (repeatable; default: all)")


def _backend_names(config) -> list[str]:
    from hal.errors import UnknownPluginError
    from hal.extension.manager import default_plugins

    known = default_plugins().names("backend")
    chosen = config.getoption("--hal-backend") or known
    for name in chosen:
        if name not in known:
            raise UnknownPluginError("backend", name, known)
    return list(chosen)


def pytest_generate_tests(metafunc):
    if "hal_backend_name" in metafunc.fixturenames:
        metafunc.parametrize("hal_backend_name", _backend_names(metafunc.config), ids=str)


@pytest.fixture
def hal_backend(hal_backend_name):
    """A fresh instance of each selected backend."""
    from hal.extension.manager import default_plugins

    return default_plugins().create("backend", hal_backend_name)


@pytest.fixture
def hal_recording_backend():
    """A backend that records register writes and runs nothing."""
    from hal.testing.fakes import RecordingBackend

    return RecordingBackend()
