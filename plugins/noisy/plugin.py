"""Registers the noisy backend with hal (entry point ``hal: noisy``)."""

from __future__ import annotations

import hal


def _create(**options):
    from hal_plugins.noisy.backend import NoisyBackend

    return NoisyBackend(**options)


@hal.hookimpl
def hal_register_backends(registry) -> None:
    registry.add(
        "noisy",
        _create,
        description="emulator plus trial-to-trial variation of the analog parameters and spike-time jitter (seeded)",
    )
