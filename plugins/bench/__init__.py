"""``hal bench``: throughput of the backends and of NEST and Brian2 on the same networks (docs/benchmarks.md).

What it measures (each scenario in a fresh worker process, so that peak memory and library
state of one do not leak into another):

``paper_network``
    The 100-15-15-5 network of Schmitt et al. 2017 as users map it
    (:func:`hal.network.paper_network_description`, :func:`hal.mapping.map_network` with
    default options, as the trainers do: 135 logical neurons of 4 circuits each on 3 HICANNs,
    3,700 synapses of which those with a non-zero 4-bit weight are realised), driven through
    the mapped sources (``mapping.source_address["pixels"]``) by 100 Poisson sources with
    2,500 Hz in total per sample (a random "image": rates ``u**2`` normalised to the total),
    0.9 s on and 0.1 s off, for a batch of samples. Per backend: biological seconds emulated
    per wall-clock second and synaptic events per second. The ``emulator`` and ``noisy``
    backends run the whole batch; the ``reference`` backend, NEST (``iaf_cond_exp``) and
    Brian2 run the first samples of it (same seeds, hence the same input spikes), and the rate
    is reported with the subset size. NEST and Brian2 get the network as the reference backend
    sees it (:func:`hal.netlist.wiring.extract_wiring` and :func:`hal.netlist.build_netlist`,
    converted to biological units as ``plugins/reference/backend.py`` does), every sample a
    separate copy of the network in one simulation (as the emulator's batch). Timed runs
    follow a 1-sample run that configures the backend; the best of ``repeat`` runs is reported.
``hicann``
    One full HICANN (:func:`hal_plugins.bench.networks.full_hicann`): all 512 circuits
    single-circuit neurons, all 448 synapse rows driven, every synapse with a non-zero weight,
    Poisson background from the chip's own background generators. Wall time (configuration +
    run) and peak RSS.
``wafer``
    All 384 HICANNs configured like that (:func:`hal_plugins.bench.networks.full_wafer`):
    196,608 neurons and 44,040,192 synapses, each synapse receiving 40 Hz (the MaxHW point),
    for 0.1 s biological time. Wall time and peak RSS.

Synaptic events are counted from the netlist's fan-out (:mod:`hal_plugins.bench.counting`).

Modules, one job each: :mod:`~hal_plugins.bench.networks` (the networks),
:mod:`~hal_plugins.bench.counting` (what is counted), :mod:`~hal_plugins.bench.scenarios`
(timing on hal backends, the worker process), :mod:`~hal_plugins.bench.peers` (NEST, Brian2),
:mod:`~hal_plugins.bench.suite` (the whole benchmark), :mod:`~hal_plugins.bench.report`
(targets, text), :mod:`~hal_plugins.bench.command` (options, ``python -m hal_plugins.bench``),
:mod:`~hal_plugins.bench.plugin` (registers ``hal bench``). At import time they use only the
standard library and structlog; hal is imported where used, NEST and Brian2 only inside the
worker that runs them.
"""

__all__: list[str] = []
