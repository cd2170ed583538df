"""The optional packages of hal's NIR support, imported when first needed.

``nir`` is not a dependency of hal: it comes with the optional extra ``interop``
(``pip install 'wafer-hal[interop]'``). Without it, :func:`require_nir` raises
:class:`MissingExtraError` naming the package and the extra, not an ImportError from deep inside.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from hal.errors import ConfigError

__all__ = ["MissingExtraError", "require"]


class MissingExtraError(ConfigError):
    """An optional package that a feature needs is not installed."""

    def __init__(self, package: str, feature: str, extra: str = "interop"):
        self.package, self.feature, self.extra = package, feature, extra
        super().__init__(f"{feature} needs the package {package!r}, which is not installed; "
                         f"install hal's optional extra {extra!r} (pip install 'wafer-hal[{extra}]') or {package} itself")


def require(package: str, feature: str) -> ModuleType:
    """``import package``, or :class:`MissingExtraError` naming ``feature`` and the extra ``interop``."""
    try:
        return importlib.import_module(package)
    except ImportError:
        raise MissingExtraError(package, feature) from None
