"""Registers the neuron calibration routines with hal (entry point ``hal: calibration``)."""

from __future__ import annotations

import hal


class NeuronCalibration:
    """Calibrates the given parameters (default: all, in dependency order) of every circuit."""

    def __init__(self, parameters=None):
        from hal_plugins.calibration.routines import ORDER

        self.parameters = tuple(parameters or ORDER)

    def run(self, backend, backend_name, wafer, hicanns, store, *, report=True, progress=None, batch=None) -> dict:
        """Calibrate and store one complete set; ``progress(done, total, info)`` after each measurement.

        ``batch``: HICANNs measured together in one backend run (default :data:`~hal_plugins.calibration.runner.BATCH`).
        """
        from hal_plugins.calibration.runner import BATCH, calibrate

        return calibrate(backend, backend_name, wafer, hicanns, store, parameters=self.parameters, report=report, progress=progress,
                         batch=BATCH if batch is None else batch)


@hal.hookimpl
def hal_register_calibrations(registry) -> None:
    from hal_plugins.calibration.routines import ORDER

    registry.add("neuron", NeuronCalibration, description="all Table II parameters plus t_ref, measured through the membrane readout")
    for parameter in ORDER:
        registry.add(parameter.replace("_", "-"), lambda p=parameter: NeuronCalibration((p,)),
                     description=f"only {parameter} (needs earlier parameters for some set-ups)")
