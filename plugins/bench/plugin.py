"""Registers ``hal bench`` with hal (entry point ``hal: bench``)."""

from __future__ import annotations

import hal


def _configure(parser):
    from hal_plugins.bench.bench import configure

    return configure(parser)


@hal.hookimpl
def hal_register_commands(registry) -> None:
    registry.add("bench", _configure, description="throughput benchmark: paper network, full HICANN, full wafer (docs/benchmarks.md)")
