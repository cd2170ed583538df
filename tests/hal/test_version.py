"""hal._version: the installed distribution's version, with the pyproject version as fallback."""

from __future__ import annotations

import ast
import importlib.metadata
import pathlib
import subprocess
import sys

import pytest

import hal
from hal import _version

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_version_is_the_installed_distributions():
    assert _version.__version__ == importlib.metadata.version("wafer-hal")
    assert hal.__version__ == _version.__version__


def test_source_version_matches_pyproject():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == _version.DISTRIBUTION
    assert project["version"] == _version.SOURCE_VERSION


def test_falls_back_to_the_source_version_when_not_installed(monkeypatch):
    def not_installed(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(_version, "version", not_installed)
    assert _version.installed_version() == _version.SOURCE_VERSION
    assert _version.installed_version("no-such-distribution-of-hal") == _version.SOURCE_VERSION


def test_reading_the_version_needs_no_other_hal_module():
    """Loaded on its own (not as part of the package), the module imports only the standard library."""
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('hal_version_alone', {str(ROOT / 'hal' / '_version.py')!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "assert not any(m == 'hal' or m.startswith('hal.') for m in sys.modules), sorted(sys.modules)\n"
        "print(module.__version__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == _version.__version__


def test_no_hal_module_imports_the_version_from_the_facade():
    offenders = []
    for path in sorted((ROOT / "hal").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.ImportFrom) and node.module == "hal" and any(a.name == "__version__" for a in node.names):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
