"""The optional packages of hal's NIR support, imported when first needed.

``nir`` is not a dependency of hal: it comes with the optional extra ``interop``
(``pip install 'wafer-hal[interop]'``). Without it, :func:`require_nir` raises
:class:`MissingExtraError` naming the package and the extra, not an ImportError from deep inside.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from hal.errors import MissingExtraError

__all__ = ["MissingExtraError", "require"]


def require(package: str, feature: str) -> ModuleType:
    """``import package``, or :class:`MissingExtraError` naming ``feature`` and the extra ``interop``."""
    try:
        return importlib.import_module(package)
    except ImportError:
        raise MissingExtraError(package, feature) from None
