"""hal: a plugin-based hardware abstraction layer for wafer-scale analog neuromorphic hardware.

The public entry points; each lives in a module named after its job:

* :mod:`hal.coordinates` -- typed addresses of everything on the wafer;
* :mod:`hal.registers` and :mod:`hal.hardware` -- registers declared once, chip and wafer configuration;
* :mod:`hal.configuration.configurator` -- configuration to a minimal, staged stream of register writes;
* :mod:`hal.configuration.io` -- configurations to and from files;
* :mod:`hal.network` -- networks in biological units; :mod:`hal.mapping` -- networks onto the wafer;
* :mod:`hal.backend` -- the backend contract; :mod:`hal.experiment` -- experiments and recordings,
  and :class:`PopulationMap` to read them per population (docs/networks.md);
* :mod:`hal.extension.manager` / :mod:`hal.extension.hookspecs` -- plugins (backends, trainers, calibrations);
* :mod:`hal.errors` -- the typed errors.
"""

from __future__ import annotations

from typing import Any

from hal import coordinates
from hal.backend import Backend, Capabilities, RunRequest, RunResult
from hal.configuration.configurator import Configurator, Mode, RegisterImageSink, Verify, WriteStream
from hal.analog.domains import PAPER_DOMAINS, Domains
from hal.coordinates import InputAddress
from hal.experiment import Experiment, PoissonInput, PopulationMap, Recording, SpikeArrayInput, run
from hal.mapping import MappingOptions, MappingResult, map_network
from hal.network import Network, Population, Projection, SourcePopulation, load_network, save_network
from hal.hardware.wafer import WaferConfig, wafer_counts
from hal.extension.hookspecs import hookimpl, hookspec
from hal.extension.manager import default_plugins
from hal.configuration.io import load_config, save_config
from hal._version import __version__

__all__ = [
    "coordinates",
    "WaferConfig",
    "wafer_counts",
    "Configurator",
    "Mode",
    "Verify",
    "WriteStream",
    "RegisterImageSink",
    "save_config",
    "load_config",
    "Backend",
    "Capabilities",
    "RunRequest",
    "RunResult",
    "Domains",
    "PAPER_DOMAINS",
    "Network",
    "Population",
    "SourcePopulation",
    "Projection",
    "load_network",
    "save_network",
    "map_network",
    "MappingOptions",
    "MappingResult",
    "PopulationMap",
    "Experiment",
    "InputAddress",
    "PoissonInput",
    "SpikeArrayInput",
    "Recording",
    "run",
    "hookimpl",
    "hookspec",
    "get_backend",
    "list_backends",
    "get_trainer",
    "list_trainers",
    "list_calibrations",
    "__version__",
]


def get_backend(name: str, **options: Any) -> Backend:
    """A new instance of the backend registered as ``name``; unknown names list the known ones."""
    return default_plugins().create("backend", name, **options)


def list_backends() -> list[str]:
    return default_plugins().names("backend")


def get_trainer(name: str, **options: Any) -> Any:
    """A new trainer registered as ``name`` (e.g. ``get_trainer("in_the_loop", backend=...)``)."""
    return default_plugins().create("trainer", name, **options)


def list_trainers() -> list[str]:
    return default_plugins().names("trainer")


def list_calibrations() -> list[str]:
    return default_plugins().names("calibration")
