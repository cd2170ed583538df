"""The measurement set-up of a HICANN for calibration: every circuit a neuron, every membrane read out.

All 512 denmems are neurons of their own (no merging, all fire). Synaptic
input comes from the HICANN's own background generator 0 (regular, address
0), routed through DNC merger 0, its sending repeater, the crossbar and
synapse switches to one top and one bottom synapse driver; each driver's
first row is excitatory and its second inhibitory, with a weight at every
column. A routine sets the floating-gate values and weights it needs, runs,
and reads the membranes back -- exactly what it could do on a real chip.

Several harnesses may share one :class:`WaferConfig` (``config=``): :func:`measure_together`
then measures all their HICANNs in one backend run. The HICANNs of the set-up are not connected
to each other (each one's input comes from its own background generator), so each HICANN's
membranes are the ones it would give measured alone.
"""

from __future__ import annotations

import numpy as np

import hal
from hal import coordinates as C
from hal.errors import ConfigError
from hal.hardware.recipes import ChannelSource, configure_channel, feed_driver
from hal.hardware.wafer import WaferConfig
from hal.mapping.drivers import reachable_drivers

__all__ = ["Harness", "measure_together"]

_ALL = [C.NeuronOnHICANN.from_enum(i) for i in range(512)]


class Harness:
    """One HICANN prepared for measurements (see the module docstring)."""

    def __init__(self, wafer: int, hicann: C.HICANNOnWafer, *, sample_ms: float = 0.02, duration_ms: float = 100.0,
                 config: WaferConfig | None = None):
        self.hicann = hicann
        self.config = WaferConfig(C.Wafer(wafer)) if config is None else config
        self.sample_ms = sample_ms
        self.duration_ms = duration_ms
        chip = self.chip
        chip.neurons.set_column("activate_firing", True)
        # Background generator 0 -> merger 0 -> DNC merger 0 -> sending repeater -> L1.
        chip.background_generators.update(0, enable=True, random=False, address=0, period=400)
        hline = configure_channel(chip, C.DNCMergerOnHICANN(0), ChannelSource.BACKGROUND, record=False)
        heads = reachable_drivers(0)
        # One driver per quadrant (array x side): its rows use that quadrant's V_gmax (FG block x = side, y = array).
        self.quadrant_rows: dict[tuple[str, str], tuple[int, int]] = {}
        for driver, vline in heads:
            coord = C.SynapseDriverOnHICANN(driver)
            key = (coord.array, coord.side)
            if key in self.quadrant_rows:
                continue
            feed_driver(chip, coord, C.VLineOnHICANN(vline), hline=hline)
            exc_row, inh_row = coord.rows()
            chip.synapse_rows.update(exc_row, input_excitatory=True, input_inhibitory=False)
            chip.synapse_rows.update(inh_row, input_excitatory=False, input_inhibitory=True)
            self.quadrant_rows[key] = (exc_row.value, inh_row.value)
        # The default input: the first quadrant of each array found.
        self.rows = {}
        for (array, side), rows in self.quadrant_rows.items():
            self.rows.setdefault(array, rows)
        self.set_weights(0, 0)

    @property
    def chip(self):
        return self.config.hicann(self.hicann)

    def set_weights(self, excitatory: int, inhibitory: int, *, side: str | None = None) -> None:
        """Weights of the default input rows (``side=None``), or of the rows of one side's drivers only."""
        for exc_row, inh_row in self.quadrant_rows.values():
            self.chip.set_weights(0, rows=exc_row)
            self.chip.set_weights(0, rows=inh_row)
        chosen = self.rows.values() if side is None else [r for (a, s), r in self.quadrant_rows.items() if s == side]
        for exc_row, inh_row in chosen:
            self.chip.set_weights(excitatory, rows=exc_row)
            self.chip.set_weights(inhibitory, rows=inh_row)

    def set_input_period(self, cycles: int) -> None:
        """Background events every ``cycles`` PLL cycles (at 100 MHz: 400 cycles = 4 us hw = 40 ms bio)."""
        self.chip.background_generators.update(0, period=int(cycles))

    def set(self, fg_parameter: str, values) -> None:
        """One per-neuron FG parameter for all 512 circuits (scalar or per circuit)."""
        self.chip.set_neuron_parameter(fg_parameter, values)

    def set_shared(self, fg_parameter: str, values) -> None:
        self.chip.set_shared_parameter(fg_parameter, values)

    def measure(self, backend) -> tuple[np.ndarray, np.ndarray]:
        """Run and return (times_ms, membranes (512, times) in hardware mV) of this HICANN alone."""
        times, [membranes] = measure_together([self], backend)
        return times, membranes


def measure_together(harnesses: list[Harness], backend) -> tuple[np.ndarray, list[np.ndarray]]:
    """Run the HICANNs of ``harnesses`` (one shared configuration) at once: (times_ms, per harness (512, times) hardware mV).

    A backend that reads out only a few membranes at once (capability ``max_membrane_traces``,
    e.g. 2 analog outputs per reticle on the real system) is run repeatedly, a group of circuits
    at a time.
    """
    first = harnesses[0]
    if any(h.config is not first.config for h in harnesses):
        raise ConfigError("measure_together: the harnesses must share one WaferConfig (Harness(..., config=...))")
    if len({(h.duration_ms, h.sample_ms) for h in harnesses}) != 1:
        raise ConfigError("measure_together: the harnesses must have the same duration_ms and sample_ms")
    traces = [(h.hicann, n) for h in harnesses for n in _ALL]
    limit = backend.capabilities.max_membrane_traces or len(traces)
    times, parts = None, []
    for start in range(0, len(traces), limit):
        exp = hal.Experiment(first.config, first.duration_ms, record_membrane=traces[start : start + limit],
                             membrane_interval_ms=first.sample_ms)
        rec = hal.run(exp, backend)
        times = rec.experiment.domains.ticks_to_ms(rec.hardware.membrane_times)
        parts.append(rec.hardware.membrane[0])
    membranes = np.concatenate(parts, axis=0) if len(parts) > 1 else parts[0]
    return times, [membranes[k * len(_ALL) : (k + 1) * len(_ALL)] for k in range(len(harnesses))]
