"""Registers the torch backend with hal (entry point ``hal: torch``).

torch is imported by the factory, not here, so ``hal plugins list`` works without it.
"""

from __future__ import annotations

import hal


def _create(**options):
    from hal_plugins.torch.backend import TorchBackend

    return TorchBackend(**options)


@hal.hookimpl
def hal_register_backends(registry) -> None:
    registry.add(
        "torch",
        _create,
        description="the trainers' software twin: ideal chip (nominal, no mismatch or noise, lossless) integrated on a "
        "fixed grid in torch, all samples at once; CUDA when torch sees a GPU",
    )
