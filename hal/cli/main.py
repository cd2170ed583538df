"""The ``hal`` command line: the core's commands, and every command a plugin registers.

Command output goes to standard output (``--json`` for machines); logs and errors go to
standard error. Every :class:`~hal.errors.HalError` ends the command with exit status 2 and a
one-line message, never a traceback. Commands of plugins (``hal bench``, ``hal reproduce
schmitt2017``, ...) come through the ``hal_register_commands`` hook; this module lists them
and knows nothing about them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import structlog

from hal.cli import calibration, info, mapping, run
from hal.errors import HalError
from hal.extension.manager import Plugins, default_plugins

__all__ = ["main", "build_parser"]

log = structlog.get_logger(__name__)

#: The core's command modules, each with ``add_parsers(subparsers)``.
CORE_COMMANDS = (info, calibration, mapping, run)


def build_parser(plugins: Plugins | None = None) -> argparse.ArgumentParser:
    """The parser of the core's commands and of the commands ``plugins`` register."""
    parser = argparse.ArgumentParser(prog="hal", description="Hardware abstraction layer for wafer-scale analog neuromorphic hardware.")
    parser.add_argument("--log-json", action="store_true", help="log as JSON lines (to standard error)")
    parser.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in CORE_COMMANDS:
        module.add_parsers(sub)
    _add_registered_commands(sub, plugins or default_plugins())
    return parser


def _add_registered_commands(sub, plugins: Plugins) -> None:
    """One sub-parser per registered command; ``"a b"`` becomes ``b`` under a group ``a``."""
    groups: dict[str, argparse._SubParsersAction] = {}
    taken = set(sub.choices)
    for name, registration in sorted(plugins.registrations("command").items()):
        *group_words, leaf = name.split(" ")
        target = sub
        for depth in range(len(group_words)):
            key = " ".join(group_words[: depth + 1])
            if key not in groups:
                if depth == 0 and group_words[0] in taken:
                    log.warning("command_skipped", command=name, distribution=registration.distribution,
                                reason=f"'{group_words[0]}' is a core command")
                    break
                group = target.add_parser(group_words[depth], help=f"{group_words[depth]} commands")
                groups[key] = group.add_subparsers(dest=f"command_{depth + 1}", required=True, metavar="WHAT")
            target = groups[key]
        else:
            if target is sub and leaf in taken:
                log.warning("command_skipped", command=name, distribution=registration.distribution, reason=f"'{leaf}' is a core command")
                continue
            command = target.add_parser(leaf, help=registration.description, description=registration.description)
            command.set_defaults(func=registration.factory(command))


def main(argv: Sequence[str] | None = None) -> int:
    from hal.logging import configure

    parser = build_parser()
    args = parser.parse_args(argv)
    configure(json=args.log_json, level=args.log_level)
    try:
        return args.func(args)
    except HalError as exc:
        print(f"hal: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
