"""The ``hal`` command line: the core's commands, and every command a plugin registers.

Command output goes to standard output (``--json`` for machines); logs and errors go to
standard error. Every :class:`~hal.errors.HalError` ends the command with exit status 2 and a
one-line message, never a traceback. Commands of plugins (``hal bench``, ``hal reproduce
schmitt2017``, ...) come through the ``hal_register_commands`` hook; this module lists them
and knows nothing about them.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from hal._version import __version__
from hal.cli import calibration, defects, info, mapping, run
from hal.errors import HalError
from hal.extension.manager import Plugins, default_plugins
from hal.logging import LEVELS, configure, get_logger

__all__ = ["main", "build_parser"]

log = get_logger(__name__)

#: The core's command modules, each with ``add_parsers(subparsers)``.
CORE_COMMANDS = (info, calibration, mapping, defects, run)


def build_parser(plugins: Plugins | None = None) -> argparse.ArgumentParser:
    """The parser of the core's commands and of the commands ``plugins`` register."""
    parser = argparse.ArgumentParser(prog="hal", description="Hardware abstraction layer for wafer-scale analog neuromorphic hardware.")
    parser.add_argument("--version", action="version", version=f"hal {__version__}")
    _add_logging_options(parser, defaults=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in CORE_COMMANDS:
        module.add_parsers(sub)
    _add_registered_commands(sub, plugins or default_plugins())
    for leaf in _leaf_parsers(parser):
        _add_logging_options(leaf, defaults=False)
    return parser


def _add_logging_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    """``--log-level``/``--log-json``; on a sub-command without defaults, so that ``hal --log-level debug run``
    and ``hal run --log-level debug`` both work and neither hides the other."""
    group = parser.add_argument_group("logging")
    group.add_argument("--log-json", action="store_true", default=False if defaults else argparse.SUPPRESS,
                       help="log as JSON lines (to standard error)")
    group.add_argument("--log-level", choices=LEVELS, default="info" if defaults else argparse.SUPPRESS,
                       help="show log events of this level and above (default: info)")


def _leaf_parsers(parser: argparse.ArgumentParser):
    """Every parser below ``parser`` that has no sub-commands of its own."""
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not actions:
        yield parser
        return
    for action in actions:
        for child in dict.fromkeys(action.choices.values()):  # aliases map to the same parser
            yield from _leaf_parsers(child)


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
    """Run one command; exit status 0 on success, 2 with a one-line message on any error a user can cause."""
    parser = build_parser()
    args = parser.parse_args(argv)
    configure(json=args.log_json, level=args.log_level)
    try:
        return args.func(args)
    except HalError as exc:
        print(f"hal: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (``hal ... | head``): not an error of the command. Point stdout at
        # devnull so that the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # a file or directory the command was pointed at: one line, not a traceback
        where = f" {exc.filename!r}" if exc.filename else ""
        print(f"hal: error:{where} {exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hal: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
