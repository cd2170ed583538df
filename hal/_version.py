"""The version of hal, without importing the rest of the package.

Read from the installed distribution's metadata (``wafer-hal``), so that it is the
version the installer recorded. A source tree on ``sys.path`` that is not installed
falls back to :data:`SOURCE_VERSION`, the version written in ``pyproject.toml``
(a test keeps the two equal).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["DISTRIBUTION", "SOURCE_VERSION", "__version__", "installed_version"]

#: The distribution name in ``pyproject.toml``.
DISTRIBUTION = "wafer-hal"

#: ``project.version`` in ``pyproject.toml``; used when hal is not installed.
SOURCE_VERSION = "0.1.0.dev0"


def installed_version(distribution: str = DISTRIBUTION) -> str:
    """The version of the installed ``distribution``, else :data:`SOURCE_VERSION`."""
    try:
        return version(distribution)
    except PackageNotFoundError:
        return SOURCE_VERSION


__version__ = installed_version()
