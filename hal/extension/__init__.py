"""Extending hal: the hook specifications, the registry plugins fill, and the plugin manager."""

from hal.extension.hookspecs import PROJECT, hookimpl, hookspec
from hal.extension.registry import KINDS, Registration, Registry

__all__ = ["PROJECT", "hookimpl", "hookspec", "KINDS", "Registration", "Registry"]
