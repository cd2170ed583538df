"""The one simulator state of :mod:`hal.pynn` (PyNN backends keep one per process), and cell IDs.

:class:`State` holds what ``setup()`` chose (backend, wafer, calibration, hardware options),
the populations and projections made since, the time, and the last run's results.
``run()`` maps the network when it changed (:mod:`hal.pynn.network`), builds the experiment
from the sources' spikes and the recorded membranes, runs it from t = 0 to the current time on
the backend, and keeps the recording (:mod:`hal.pynn.execute`).
"""

from __future__ import annotations

from pyNN import common

__all__ = ["ID", "State", "state", "name"]

name = "hal"


class ID(int, common.IDMixin):
    def __init__(self, n):
        int.__init__(n)
        common.IDMixin.__init__(self)


class State(common.control.BaseState):
    def __init__(self):
        super().__init__()
        self.mpi_rank = 0
        self.num_processes = 1
        self.dt = 0.1
        self.min_delay = self.max_delay = 0.1
        self.hardware = None  # hal.pynn.execute.Session, made by setup()
        self.clear()

    def run(self, simtime):
        self.run_until(self.t + simtime)

    def run_until(self, tstop):
        from hal.pynn.execute import run_until  # the mapping and running live there

        run_until(self, tstop)

    def clear(self):
        self.recorders = set()
        self.populations = []
        self.projections = []
        self.id_counter = 0
        self.segment_counter = -1
        self.version = 0  # bumped by every change to neurons or synapses
        if self.hardware is not None:
            self.hardware.forget()
        self.reset()

    def changed(self):
        """Neurons or synapses changed: the next run maps again."""
        self.version += 1

    def reset(self):
        """Back to t = 0, a new segment; the network stays."""
        self.running = False
        self.t = 0.0
        self.t_start = 0.0
        self.segment_counter += 1
        self.last = None  # hal.pynn.execute.LastRun of the current segment


state = State()
