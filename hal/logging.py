"""One place that configures structlog: readable console lines, or JSON lines on request.

Library modules only do ``log = structlog.get_logger(__name__)``; only the CLI
(or an application embedding hal) calls :func:`configure`.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog

__all__ = ["configure", "LEVELS"]

LEVELS = ("debug", "info", "warning", "error")


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is at the time of writing (it may be replaced later)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure(*, json: bool = False, level: str = "info", stream: TextIO | None = None) -> None:
    """Configure structlog for the process.

    Parameters
    ----------
    json:
        Emit one JSON object per line (for log collectors) instead of readable console lines.
    level:
        Minimum level: one of ``debug``, ``info``, ``warning``, ``error``.
    stream:
        Where to write; standard error by default, so that command output on
        standard output stays machine-readable.
    """
    if level not in LEVELS:
        from hal.errors import ConfigError

        raise ConfigError(f"log level {level!r} is not valid; valid: {', '.join(LEVELS)}")
    renderer = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=stream or _CurrentStderr()),
        cache_logger_on_first_use=False,
    )
