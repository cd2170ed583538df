"""Running an experiment on a backend: configure (only what changed), play back, record."""

from __future__ import annotations

import numpy as np

from hal.backend import Backend, RunRequest
from hal.errors import ConfigError
from hal.experiment.model import LINK_EVENTS_PER_HW_S, Experiment, Recording, check_inputs
from hal.extension.manager import default_plugins
from hal.logging import get_logger
from hal.netlist.wiring import WiringCache

__all__ = ["run", "predicted_link_load", "LINK_CAPACITY_HZ"]

log = get_logger(__name__)


#: One event per 56 ns hardware per HICANN link, in biological Hz at the default speed-up 10^4.
LINK_CAPACITY_HZ = LINK_EVENTS_PER_HW_S / 1e4


def predicted_link_load(experiment: Experiment, request: RunRequest | None = None) -> dict[int, float]:
    """Mean input rate (biological Hz) per HICANN link, over samples, of the experiment's playback."""
    request = request or experiment.request()
    pb = request.playback
    if not len(pb):
        return {}
    hicanns, counts = np.unique(pb.hicann, return_counts=True)
    seconds = experiment.duration_ms * 1e-3 * request.n_samples
    return {int(h): float(c / seconds) for h, c in zip(hicanns, counts)}


def _warn_about_link_load(experiment: Experiment, request: RunRequest) -> None:
    for hicann, rate in predicted_link_load(experiment, request).items():
        if rate > LINK_CAPACITY_HZ:
            log.warning("input_link_overload_predicted", hicann=hicann, rate_hz=round(rate, 1), capacity_hz=round(LINK_CAPACITY_HZ, 1),
                        note="events beyond the link's capacity will be dropped (and counted) on backends that model the links")


#: The key under which :func:`run` keeps its :class:`WiringCache` in ``backend.caches``.
_CACHE_KEY = "hal.experiment.run.wiring"


def _wiring_cache(backend: Backend) -> WiringCache:
    """The cache of :func:`run`'s readings for this backend instance (a fresh one for a backend without ``caches``).

    It lives on the backend so that consecutive runs on it (an in-the-loop training's steps,
    which change only weights) read the configuration once; nothing is shared between backends.
    """
    caches = getattr(backend, "caches", None)
    if not isinstance(caches, dict):  # a subclass that did not call Backend.__init__
        return WiringCache()
    cache = caches.get(_CACHE_KEY)
    if not isinstance(cache, WiringCache):
        cache = caches[_CACHE_KEY] = WiringCache()
    return cache


def run(experiment: Experiment, backend: Backend, *, plugins=None) -> Recording:
    """Configure ``backend`` for ``experiment`` (only what changed), run it, return the recording."""
    if not isinstance(backend, Backend):
        raise ConfigError(f"run: expected a hal Backend, got {type(backend).__name__}")
    plugins = plugins or default_plugins()
    # Without synapses: the recording needs only neurons, origins and what reaches the trace, and
    # the backend reads its own synapse table (on a full wafer a second one would be 1.1 GB).
    # Reused while only weights changed since the last run on this backend (see _wiring_cache).
    cache = _wiring_cache(backend)
    wiring = cache.read(experiment.config, synapses=False)
    cache.derived("inputs_checked", (tuple(inp.targets for inp in experiment.inputs), experiment.record_membrane),
                  lambda: check_inputs(experiment, wiring))
    if not any(wiring.recorded) and not experiment.record_membrane:
        # Not an error: an empty configuration runs and records nothing, which is worth saying once.
        log.warning("nothing_to_record", wafer=experiment.config.wafer.id,
                    reason="no neuron's spikes reach the FPGA trace and no membrane is recorded; the recording will be empty")
    request = experiment.request()
    _warn_about_link_load(experiment, request)
    backend.check(request)  # before touching the backend's state
    backend.configurator.apply(experiment.config, backend, verify=experiment.verify)
    plugins.before_run(backend=backend, request=request)
    result = backend.run(request)
    plugins.after_run(backend=backend, request=request, result=result)
    recording = Recording.from_result(experiment, wiring, result)
    counts = recording.spike_counts
    # debug: calibration and training run thousands of experiments; their own events summarise them
    log.debug(
        "experiment_finished",
        backend=backend.name,
        wafer=experiment.config.wafer.id,
        samples=recording.n_samples,
        neurons=len(recording.neurons),
        spikes=int(counts.sum()),
        lost=recording.lost_events["total"],
    )
    return recording
