"""Logging by the book for a library: structured events through the standard :mod:`logging` module.

Modules log with ``log = get_logger(__name__)`` and structlog's keyword style
(``log.info("network_mapped", hicanns=11)``). Every event becomes a standard
:class:`logging.LogRecord` of the logger ``__name__`` (``hal.mapping.api``,
``hal_plugins.noisy...``): its message reads ``network_mapped hicanns=11`` and the event's
fields ride along as ``record.hal_event``. hal configures neither structlog nor the root
logger, so an application decides what is shown: by default Python prints warnings and errors
to standard error and nothing below; ``logging.basicConfig(level=logging.INFO)`` shows info
lines, ``logging.getLogger("hal").setLevel(logging.ERROR)`` silences warnings.

:func:`configure` is that decision for the ``hal`` command line (and for applications that
like its format): one handler on standard error, readable lines or JSON lines, the level set
on hal's own loggers only.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json as _json
import logging
import sys
from collections.abc import Iterator
from typing import TextIO

import structlog

__all__ = ["configure", "get_logger", "capture_events", "LEVELS", "PACKAGES"]

LEVELS = ("debug", "info", "warning", "error")

#: The top-level loggers of hal's distribution: the core, its plugins and its trainers.
PACKAGES = ("hal", "hal_plugins", "hal_trainers")


def _to_stdlib(logger: logging.Logger, method: str, event_dict: dict) -> tuple[tuple, dict]:
    """Last processor: the event as a one-line message, its fields as ``record.hal_event``."""
    exc_info = event_dict.pop("exc_info", None)
    event = dict(event_dict)
    message = " ".join([str(event.get("event", ""))] + [f"{k}={v!r}" for k, v in event.items() if k != "event"])
    kwargs = {"extra": {"hal_event": event}}
    if exc_info:
        kwargs["exc_info"] = exc_info
    return (message,), kwargs


def get_logger(name: str):
    """A structlog logger that emits through ``logging.getLogger(name)``; see the module docstring."""
    return structlog.wrap_logger(
        logging.getLogger(name),
        processors=[structlog.stdlib.filter_by_level, structlog.contextvars.merge_contextvars, _to_stdlib],
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is at the time of writing (it may be replaced later)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


class _EventFormatter(logging.Formatter):
    """hal's line format: ``time [level] event key=value ...``, or one JSON object per line."""

    def __init__(self, json: bool):
        super().__init__()
        self.json = json

    def format(self, record: logging.LogRecord) -> str:
        event = dict(getattr(record, "hal_event", None) or {"event": record.getMessage()})
        stamp = _dt.datetime.fromtimestamp(record.created, _dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        level = record.levelname.lower()
        if self.json:
            line = _json.dumps({"timestamp": stamp, "level": level, "logger": record.name, **event}, default=str)
        else:
            fields = " ".join(f"{k}={v!r}" if not isinstance(v, (int, float)) else f"{k}={v}" for k, v in event.items() if k != "event")
            line = f"{stamp} [{level:<7}] {event.get('event', '')} {fields}".rstrip()
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class _HalHandler(logging.StreamHandler):
    """The handler :func:`configure` installs (recognised so that a second call replaces it).

    It shows hal's events at the configured level and other libraries' warnings and errors:
    Dask, for one, logs every connection at info, which would bury hal's lines.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        ours = record.name.split(".", 1)[0] in PACKAGES
        return (ours or record.levelno >= logging.WARNING) and super().filter(record)


def configure(*, json: bool = False, level: str = "info", stream: TextIO | None = None) -> None:
    """Show hal's events at ``level`` and above on ``stream`` (standard error by default).

    Parameters
    ----------
    json:
        One JSON object per line (for log collectors) instead of readable lines.
    level:
        Minimum level: one of ``debug``, ``info``, ``warning``, ``error``.
    stream:
        Where to write; standard error by default, so that command output on standard output
        stays machine-readable.

    Installs one handler on the root logger (replacing the one an earlier call installed) and
    sets the level of hal's loggers (:data:`PACKAGES`); other libraries' loggers keep theirs.
    """
    if level not in LEVELS:
        from hal.errors import ConfigError

        raise ConfigError(f"log level {level!r} is not valid; valid: {', '.join(LEVELS)}")
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _HalHandler)]:
        root.removeHandler(old)
    handler = _HalHandler(stream or _CurrentStderr())
    handler.setFormatter(_EventFormatter(json))
    root.addHandler(handler)
    for name in PACKAGES:
        logging.getLogger(name).setLevel(getattr(logging, level.upper()))


class _Capture(logging.Handler):
    def __init__(self, events: list):
        super().__init__(logging.DEBUG)
        self.events = events

    def emit(self, record: logging.LogRecord) -> None:
        event = dict(getattr(record, "hal_event", None) or {"event": record.getMessage()})
        self.events.append({**event, "log_level": record.levelname.lower(), "logger": record.name})


@contextlib.contextmanager
def capture_events(level: int = logging.DEBUG) -> Iterator[list[dict]]:
    """Collect hal's events (dicts with ``event``, ``log_level``, ``logger`` and the fields) while inside.

    For tests and notebooks; the events still reach whatever handlers the application installed.
    """
    events: list[dict] = []
    handler = _Capture(events)
    loggers = [logging.getLogger(name) for name in PACKAGES]
    saved = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(level)
    try:
        yield events
    finally:
        for lg, old in zip(loggers, saved):
            lg.removeHandler(handler)
            lg.setLevel(old)
