"""PyNN's procedural functions (``create``, ``connect``, ``record``) over :mod:`hal.pynn`'s classes."""

from pyNN import common
from pyNN.connectors import FixedProbabilityConnector

from hal.pynn import simulator
from hal.pynn.populations import Population
from hal.pynn.projections import Projection
from hal.pynn.standardmodels import StaticSynapse

__all__ = ["create", "connect", "record", "record_v"]

create = common.build_create(Population)
connect = common.build_connect(Projection, FixedProbabilityConnector, StaticSynapse)
record = common.build_record(simulator)


def record_v(source, filename):
    return record(["v"], source, filename)
