"""Helpers shared by the command modules."""

from __future__ import annotations

import json
from typing import Any


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, sort_keys=True))


def parse_option(text: str) -> tuple[str, Any]:
    from hal.errors import ConfigError

    key, sep, value = text.partition("=")
    if not sep or not key:
        raise ConfigError(f"--option {text!r}: expected KEY=VALUE, e.g. dt_ms=0.05")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value
