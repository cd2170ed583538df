"""The recorder: PyNN's :class:`pyNN.recording.Recorder`, its segments built from hal's Neo export.

A run's :class:`~hal.experiment.Recording` becomes a Neo block through
:func:`hal.experiment.neo.to_neo` (trains annotated with population and index); the recorder of
a population takes its trains and membranes from there and adds PyNN's annotations
(``source_population``, ``channel_id``, ``source_index``; for signals ``channel_ids`` and the
``channel_index`` array annotation). Sources' spikes are the stimulus that was played.

Membranes are sampled by the chip on whole FPGA ticks (4 ns: 0.04 ms biological at speed-up
10^4) and given on PyNN's grid (``sampling_interval``, both ends included), interpolated
linearly where a grid point falls between two ticks (see :meth:`hal.pynn.execute.LastRun.membranes`).
"""

from __future__ import annotations

from datetime import datetime

import neo
import numpy as np
import quantities as pq
from pyNN import recording

from hal.errors import CapabilityError
from hal.pynn import simulator

__all__ = ["Recorder"]


class Recorder(recording.Recorder):
    _simulator = simulator

    def _record(self, variable, new_ids, sampling_interval=None):
        if variable.name not in ("spikes", "v"):
            raise CapabilityError(f"hal.pynn: recording {variable.name!r} is not available; valid spikes, v "
                                  "(the analog readout carries the membrane only)")
        if sampling_interval is not None:
            self.sampling_interval = sampling_interval
        if variable.name == "v":
            hardware = simulator.state.hardware
            if hardware is not None:
                hardware.check_membranes(self._simulator.state)

    def _get_current_segment(self, filter_ids=None, variables="all", clear=False):
        state = self._simulator.state
        segment = neo.Segment(name=f"segment{state.segment_counter:03d}", description=self.population.describe(),
                              rec_datetime=datetime.now())
        last = state.last
        if last is None:
            return segment
        hal_block = last.block().annotations  # what the run lost travels with the data
        segment.annotate(**{k: hal_block[k] for k in ("lost_input", "lost_output", "unattributed")})
        wanted = set(self.recorded) if variables == "all" else set(self.recorded).intersection(variables)
        t_stop = state.t * pq.ms
        for variable in wanted:
            ids = sorted(self.filter_recorded(variable, filter_ids))
            if not ids:
                continue
            index = np.array([self.population.id_to_index(int(i)) for i in ids], dtype=np.int64)
            start = float(pq.Quantity(self._recording_start_time, pq.ms).magnitude)
            if variable.name == "spikes":
                trains = last.spike_trains(self.population)
                for cell, i in zip(ids, index):
                    times = trains[i][trains[i] >= start]  # after get_data(clear=True): only what came since
                    train = neo.SpikeTrain(times * pq.ms, t_start=start * pq.ms, t_stop=t_stop,
                                           source_population=self.population.label, channel_id=int(cell), source_index=int(i),
                                           **last.hardware_notes(self.population, int(i)))
                    train.segment = segment
                    segment.spiketrains.append(train)
            else:
                times, values = last.membranes(self.population, index, self.sampling_interval, start)
                signal = neo.AnalogSignal(values * pq.mV, t_start=start * pq.ms, sampling_period=self.sampling_interval * pq.ms,
                                          name=variable.name,
                                          channel_ids=np.array(ids, dtype=int), source_population=self.population.label,
                                          array_annotations={"channel_index": index})
                signal.segment = segment
                segment.analogsignals.append(signal)
        return segment

    def _local_count(self, variable, filter_ids=None):
        last = self._simulator.state.last
        trains = last.spike_trains(self.population) if last is not None else None
        return {int(i): (trains[self.population.id_to_index(int(i))].size if trains is not None else 0)
                for i in self.filter_recorded(variable, filter_ids)}

    def _clear_simulator(self):
        pass

    def _reset(self):
        pass
