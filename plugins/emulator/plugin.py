"""Registers the emulator backend with hal (entry point ``hal: emulator``)."""

from __future__ import annotations

import hal


def _create(**options):
    # The compiled kernel is imported here, not at module level, so listing plugins works without a build.
    from hal_plugins.emulator.backend import EmulatorBackend

    return EmulatorBackend(**options)


@hal.hookimpl
def hal_register_backends(registry) -> None:
    registry.add(
        "emulator",
        _create,
        description="Cython emulation of the analog chip: per-circuit fixed-pattern mismatch from the wafer seed, FPGA link limits, batches on all cores",
    )
