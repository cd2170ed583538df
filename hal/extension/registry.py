"""What plugins register: named factories of backends, trainers, calibration routines and commands."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import attrs

from hal.errors import PluginRegistrationError

__all__ = ["KINDS", "Registration", "Registry"]

#: The kinds of things plugins register, and the hook that registers each.
KINDS = {
    "backend": "hal_register_backends",
    "trainer": "hal_register_trainers",
    "calibration": "hal_register_calibrations",
    "command": "hal_register_commands",
}
_NAME = re.compile(r"^[a-z][a-z0-9_\-]*$")


@attrs.frozen
class Registration:
    """One registered backend, trainer or calibration routine."""

    kind: str
    name: str
    factory: Callable[..., Any] = attrs.field(repr=False)
    distribution: str
    version: str = ""
    description: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "distribution": self.distribution, "version": self.version, "description": self.description}


class Registry:
    """Handed to a registration hook; records what one plugin registers."""

    def __init__(self, kind: str, distribution: str, store: dict[str, Registration], version: str = ""):
        self.kind = kind
        self.distribution = distribution
        self.version = version
        self._store = store

    def add(self, name: str, factory: Callable[..., Any], *, description: str = "") -> None:
        """Register ``factory`` under ``name`` (lower case, digits, ``_`` or ``-``)."""
        words = name.split(" ") if isinstance(name, str) and self.kind == "command" else [name]
        if not isinstance(name, str) or not all(isinstance(w, str) and _NAME.match(w) for w in words):
            raise PluginRegistrationError(
                f"{self.distribution}: {self.kind} name {name!r} is not valid; use lower case letters, digits, '_' or '-', starting with a letter"
            )
        if not callable(factory):
            raise PluginRegistrationError(f"{self.distribution}: {self.kind} {name!r}: factory {factory!r} is not callable")
        existing = self._store.get(name)
        if existing is not None:
            raise PluginRegistrationError(
                f"{self.kind} name {name!r} is claimed twice: by {existing.distribution} and by {self.distribution}; "
                f"uninstall one, or block one with HAL_DISABLE_PLUGINS"
            )
        self._store[name] = Registration(self.kind, name, factory, self.distribution, self.version, description)
