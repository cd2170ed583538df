"""Registers the reference backend with hal (entry point ``hal: reference``)."""

from __future__ import annotations

import hal


def _create(**options):
    from hal_plugins.reference.backend import ReferenceBackend

    return ReferenceBackend(**options)


@hal.hookimpl
def hal_register_backends(registry) -> None:
    registry.add(
        "reference",
        _create,
        description="ideal chip: nominal transfer functions, no mismatch or noise, lossless links; iaf_cond_exp integrator validated against NEST",
    )
