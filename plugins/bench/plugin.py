"""Registers ``hal bench`` with hal (entry point ``hal: bench``)."""

from __future__ import annotations

import hal
from hal_plugins.bench.command import DESCRIPTION, configure


@hal.hookimpl
def hal_register_commands(registry) -> None:
    registry.add("bench", configure, description=DESCRIPTION)
