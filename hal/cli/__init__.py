"""The ``hal`` command line."""

from hal.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
