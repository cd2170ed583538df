"""``setup``, ``run``, ``reset``, ``end`` and the state queries of :mod:`hal.pynn`.

``setup()`` takes PyNN's arguments and hal's hardware options as keywords:

``backend``
    a registered hal backend: ``"emulator"`` (default), ``"noisy"``, ``"reference"`` or any
    plugin's name (``hal plugins``);
``wafer``
    the wafer number (the emulator's fixed pattern is the wafer's);
``calibration``
    a :class:`hal.calibration.Calibration`, or the path of a calibration database (its latest
    set for the wafer, nominal where it has no entry, as ``hal map --db`` uses it); None: nominal;
``circuits_per_neuron``, ``hicanns``, ``placement``, ``allow_loss``, ``source_rate_hz``
    the mapping's options (:class:`hal.mapping.MappingOptions`); ``mapping_options`` gives a
    whole :class:`~hal.mapping.MappingOptions` instead;
``backend_options``
    keyword arguments of the backend (e.g. ``{"dt_ms": 0.01}``);
``seed``
    seed of the Poisson sources and of the backend's noise.

``timestep`` is the default membrane sampling interval; the backends choose their own
integration step. ``min_delay``/``max_delay`` are the wafer's one delay whatever is asked
(``get_min_delay()`` says it); synapses with another delay are refused at ``run()``.
"""

from __future__ import annotations

from pathlib import Path

import attrs
from pyNN import common
from pyNN.common.control import DEFAULT_MIN_DELAY, DEFAULT_TIMESTEP
from pyNN.recording import get_io

import hal
from hal.errors import ConfigError
from hal.mapping import MappingOptions
from hal.pynn import simulator
from hal.pynn.execute import Session, hardware_delay_ms

__all__ = ["setup", "end", "run", "run_until", "run_for", "reset", "initialize", "get_current_time", "get_time_step",
           "get_min_delay", "get_max_delay", "num_processes", "rank", "MAPPING_KEYWORDS"]

#: setup() keywords of PyNN or of other PyNN backends, ignored here (as PyNN's backends ignore each other's)
OTHER_SIMULATORS_KEYWORDS = ("max_delay", "rank", "num_processes", "verbosity", "spike_precision", "t_flush", "threads",
                             "rng_seeds", "rng_seeds_seed", "grng_seed", "recording_precision", "use_cvode", "rtol", "atol",
                             "default_maxstep", "returned_spike_precision", "allow_offgrid_spikes", "build_dir")

#: setup() keywords that go to :class:`hal.mapping.MappingOptions`
MAPPING_KEYWORDS = ("circuits_per_neuron", "hicanns", "placement", "router", "merge_blocks", "allow_loss", "source_rate_hz", "max_neurons_per_hicann",
                    "spread_sources")


def _calibration(calibration, wafer: int):
    from hal.calibration import Calibration, open_store

    if calibration is None or isinstance(calibration, Calibration):
        return calibration
    if isinstance(calibration, (str, Path)):
        from hal.files import existing_file

        store = open_store(existing_file(calibration), create=False, read_only=True)
        if not store.sets(wafer):
            raise ConfigError(f"hal.pynn setup: calibration database {str(calibration)!r} has no set for wafer {wafer}")
        return Calibration(store, store.latest_set(wafer).id, fallback="nominal")
    raise ConfigError(f"hal.pynn setup: calibration {calibration!r} not valid; valid None, a hal.calibration.Calibration "
                      "or the path of a calibration database")


def setup(timestep=DEFAULT_TIMESTEP, min_delay=DEFAULT_MIN_DELAY, *, backend: str = "emulator", wafer: int = 0,
          calibration=None, mapping_options: MappingOptions | None = None, backend_options: dict | None = None,
          seed: int = 0, **extra_params):
    """Start a new model on a hal backend (see the module docstring for the keywords)."""
    mapping = {k: extra_params.pop(k) for k in MAPPING_KEYWORDS if k in extra_params}
    for ignored in OTHER_SIMULATORS_KEYWORDS:
        extra_params.pop(ignored, None)  # PyNN's convention: a backend ignores the keywords of other backends
    if extra_params:
        raise ConfigError(f"hal.pynn setup: unknown keyword(s) {', '.join(sorted(extra_params))}; valid backend, wafer, calibration, "
                          f"mapping_options, backend_options, seed, {', '.join(MAPPING_KEYWORDS)}")
    if not (isinstance(timestep, (int, float)) and timestep > 0):
        raise ConfigError(f"hal.pynn setup: timestep {timestep!r} out of range; valid > 0 ms")
    if not isinstance(wafer, int) or isinstance(wafer, bool) or wafer < 0:
        raise ConfigError(f"hal.pynn setup: wafer {wafer!r} out of range; valid an integer >= 0")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ConfigError(f"hal.pynn setup: seed {seed!r} out of range; valid an integer >= 0")
    calibration = _calibration(calibration, wafer)
    if mapping_options is not None:
        if not isinstance(mapping_options, MappingOptions):
            raise ConfigError(f"hal.pynn setup: mapping_options {mapping_options!r} is not a hal.mapping.MappingOptions")
        if mapping:
            raise ConfigError(f"hal.pynn setup: give either mapping_options or {', '.join(sorted(mapping))}, not both")
        options = mapping_options if calibration is None else attrs.evolve(mapping_options, calibration=calibration)
    else:
        if "hicanns" in mapping:
            from hal import coordinates as C

            mapping["hicanns"] = tuple(h if isinstance(h, C.HICANNOnWafer) else C.HICANNOnWafer(h) for h in mapping["hicanns"])
        options = MappingOptions(calibration=calibration, seed=seed, **mapping)
    if backend_options is not None and not isinstance(backend_options, dict):
        raise ConfigError(f"hal.pynn setup: backend_options {backend_options!r} is not a dict of keyword arguments")
    chip = hal.get_backend(backend, wafer=wafer, **(backend_options or {}))
    state = simulator.state
    state.hardware = Session(backend, chip, wafer, options, seed)
    state.clear()
    state.dt = float(timestep)
    state.min_delay = state.max_delay = hardware_delay_ms(options.domains)
    state.write_on_end = []
    return rank()


def end(compatible_output=True):
    """Write what ``record(..., to_file=...)`` asked for; the backend stays usable for the next ``setup()``."""
    state = simulator.state
    for population, variables, filename in state.write_on_end:
        population.write_data(get_io(filename), variables)
    state.write_on_end = []


run, run_until = common.build_run(simulator)
run_for = run
reset = common.build_reset(simulator)
initialize = common.initialize
get_current_time, get_time_step, get_min_delay, get_max_delay, num_processes, rank = common.build_state_queries(simulator)
