"""The project's exception hierarchy.

Every error names the thing, the value and what would be valid, in the form
``NeuronOnHICANN.x: 270 out of range; valid 0..255``. The same facts are kept
as attributes so that programs need not parse messages.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable

__all__ = [
    "HalError",
    "CoordinateError",
    "FieldOverflowError",
    "ConfigError",
    "ConfigValueError",
    "FileFormatError",
    "MissingExtraError",
    "ConfiguratorError",
    "VerificationError",
    "CalibrationError",
    "ResourceError",
    "BackendError",
    "CapabilityError",
    "PluginError",
    "UnknownPluginError",
    "PluginRegistrationError",
    "UnknownNameError",
    "known_names_hint",
]


def known_names_hint(name: str, known: Iterable[str]) -> str:
    """Return ``"did you mean 'x'? known: a, b, c"`` for an unknown ``name``."""
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{hint}known: {', '.join(known) if known else '(none)'}"


class HalError(Exception):
    """Base of every error this project raises on purpose."""


class CoordinateError(HalError, ValueError):
    """A coordinate was built from a value outside its valid range."""

    def __init__(self, coordinate: str, field: str, value: object, valid: str):
        self.coordinate = coordinate
        self.field = field
        self.value = value
        self.valid = valid
        super().__init__(f"{coordinate}.{field}: {value!r} out of range; valid {valid}")


class FieldOverflowError(HalError, ValueError):
    """A value does not fit the register field (or typed field) it is written to."""

    def __init__(self, register: str, field: str, value: object, valid: str, where: str = ""):
        self.register = register
        self.field = field
        self.value = value
        self.valid = valid
        self.where = where
        at = f" at {where}" if where else ""
        super().__init__(f"{register}.{field}{at}: {value!r} does not fit; valid {valid}")


class UnknownNameError(HalError, KeyError):
    """A name (parameter, register, field, stage, ...) is not known."""

    def __init__(self, kind: str, name: str, known: Iterable[str]):
        self.kind = kind
        self.name = name
        self.known = tuple(sorted(known))
        self.message = f"unknown {kind} {name!r}; {known_names_hint(name, self.known)}"
        super().__init__(self.message)

    def __str__(self) -> str:  # KeyError would quote the whole message
        return self.message


class ConfigError(HalError, ValueError):
    """A configuration is invalid or inconsistent."""


class ConfigValueError(ConfigError):
    """One field of a configuration object holds a value that is not valid (wrong type or out of range)."""

    def __init__(self, owner: str, field: str, value: object, valid: str):
        self.owner = owner
        self.field = field
        self.value = value
        self.valid = valid
        super().__init__(f"{owner}.{field}: {value!r} out of range; valid {valid}")


def _printable(path: str) -> str:
    """``path`` as it can be shown on one line: quoted (Python's escapes) when empty or holding control characters."""
    if not path or any(unicodedata.category(c).startswith("C") for c in path):
        return repr(path)
    return path


class FileFormatError(ConfigError):
    """A file is corrupt, truncated, of a foreign format or of an unsupported version."""

    def __init__(self, path: object, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{_printable(self.path)}: {problem}")


class MissingExtraError(ConfigError):
    """An optional package that a feature needs is not installed.

    ``how`` says how to install it; by default hal's optional extra ``extra``.
    """

    def __init__(self, package: str, feature: str, extra: str = "interop", how: str | None = None):
        self.package, self.feature, self.extra = package, feature, extra
        how = how or f"install hal's optional extra {extra!r} (pip install 'wafer-hal[{extra}]') or {package} itself"
        super().__init__(f"{feature} needs the optional package {package!r}, which is not installed; {how}")


class ConfiguratorError(HalError):
    """Applying a configuration failed; the applied state was left unchanged."""


class VerificationError(ConfiguratorError):
    """Read-back verification found registers that differ from what was written."""

    def __init__(self, mismatches: list):
        self.mismatches = mismatches
        shown = "; ".join(str(m) for m in mismatches[:5])
        more = f" (and {len(mismatches) - 5} more)" if len(mismatches) > 5 else ""
        super().__init__(f"read-back verification failed for {len(mismatches)} register word(s): {shown}{more}")


class CalibrationError(HalError):
    """Calibration data is missing or a request lies outside a calibration's domain."""


class ResourceError(HalError):
    """A network does not fit the hardware; says what did not fit and by how much."""


class BackendError(HalError):
    """A backend failed or was used wrongly."""


class CapabilityError(BackendError):
    """A run asks for something the backend cannot do."""


class PluginError(HalError):
    """A plugin could not be loaded or registered."""


class PluginRegistrationError(PluginError):
    """Two plugins claim one name, or a registration is malformed."""


class UnknownPluginError(PluginError, UnknownNameError):
    """No plugin of that kind is registered under that name."""

    def __init__(self, kind: str, name: str, known: Iterable[str]):
        UnknownNameError.__init__(self, kind, name, known)
