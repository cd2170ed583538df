"""PyNN's procedural functions (``create``, ``connect``, ``record``) over :mod:`hal.pynn`'s classes."""

from pyNN import common
from pyNN.connectors import FixedProbabilityConnector

from hal.errors import CapabilityError
from hal.pynn import simulator
from hal.pynn.populations import Population
from hal.pynn.projections import Projection
from hal.pynn.standardmodels import StaticSynapse

__all__ = ["create", "connect", "record", "record_v", "record_gsyn"]

create = common.build_create(Population)
connect = common.build_connect(Projection, FixedProbabilityConnector, StaticSynapse)
record = common.build_record(simulator)


def record_v(source, filename):
    return record(["v"], source, filename)


def record_gsyn(source, filename):
    raise CapabilityError("hal.pynn: recording gsyn_exc/gsyn_inh is not available; the analog readout carries the membrane "
                          "only: valid spikes, v")
