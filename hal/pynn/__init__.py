"""PyNN on hal: ``import hal.pynn as sim``.

A PyNN 0.13 backend (built on :mod:`pyNN.common`, as PyNN's own backends are) whose networks
run on any hal backend: ``sim.setup(backend="emulator" | "noisy" | "reference" | any
registered name, wafer=..., calibration=...)``, populations of :class:`IF_cond_exp`,
:class:`SpikeSourceArray` and :class:`SpikeSourcePoisson`, projections with PyNN's connectors
and :class:`StaticSynapse` weights in uS, ``record("spikes")`` and ``record("v")``, and
``get_data()`` returning Neo (built by :func:`hal.experiment.neo.to_neo`). The network is mapped
at ``run()`` with :func:`hal.mapping.map_network`; what the hardware cannot do is a
:class:`~hal.errors.CapabilityError` naming it. ``docs/pynn.md`` has the details and the
validation against PyNN's own scenarios and against NEST.

Needs the optional extra ``interop`` (PyNN, Neo).
"""

import pyNN.connectors as _connectors
from pyNN import errors, random, space
from pyNN.connectors import *
from pyNN.network import Network
from pyNN.random import GSLRNG, NumpyRNG, RandomDistribution
from pyNN.recording import *
from pyNN.space import Space
from pyNN.standardmodels import StandardCellType

from hal.pynn import standardmodels as _standardmodels
from hal.pynn.control import (
    end,
    get_current_time,
    get_max_delay,
    get_min_delay,
    get_time_step,
    initialize,
    num_processes,
    rank,
    reset,
    run,
    run_for,
    run_until,
    setup,
)
from hal.pynn.populations import Assembly, Population, PopulationView
from hal.pynn.procedural_api import connect, create, record, record_gsyn, record_v
from hal.pynn.projections import Projection
from hal.pynn.realised import realised_parameters, realised_weights
from hal.pynn.standardmodels import *
from hal.pynn.standardmodels import (
    UNSUPPORTED,
    IF_cond_exp,
    SpikeSourceArray,
    SpikeSourcePoisson,
    StaticSynapse,
)

__all__ = [
    "setup", "end", "run", "run_until", "run_for", "reset", "initialize", "get_current_time", "get_time_step",
    "get_min_delay", "get_max_delay", "num_processes", "rank",
    "Population", "PopulationView", "Assembly", "Projection", "realised_parameters", "realised_weights", "create", "connect", "record", "record_v", "record_gsyn",
    "IF_cond_exp", "SpikeSourceArray", "SpikeSourcePoisson", "StaticSynapse", "UNSUPPORTED",
    "Network", "Space", "NumpyRNG", "GSLRNG", "RandomDistribution", "errors", "random", "space", "list_standard_models",
    *(name for name in dir(_connectors) if name.endswith("Connector")),
    *_standardmodels.UNSUPPORTED,
]


def list_standard_models():
    """The standard cell types this backend realises."""
    return [obj.__name__ for obj in (IF_cond_exp, SpikeSourceArray, SpikeSourcePoisson) if issubclass(obj, StandardCellType)]
