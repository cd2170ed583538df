"""The benchmark's networks: the paper network as users map it, a full HICANN, a full wafer.

* :func:`paper_network` -- the 100-15-15-5 network of Schmitt et al. 2017
  (:func:`hal.network.paper_network_description`) mapped by :func:`hal.mapping.map_network`
  with default :class:`~hal.mapping.MappingOptions` (4 circuits per neuron over several
  HICANNs), exactly as the trainers map it; :func:`paper_experiment` drives its sources
  through ``mapping.source_address["pixels"]`` with :func:`paper_rates`.
* :func:`full_hicann` / :func:`full_wafer` -- every circuit a neuron and every synapse in use,
  built from the hardware recipes of :mod:`hal.hardware.recipes`.

hal is imported where used, so that importing this module costs only the standard library.
"""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = [
    "MAXHW_RATE_HZ",
    "PAPER_LAYERS",
    "PAPER_SAMPLE_MS",
    "PAPER_STIMULUS_MS",
    "PAPER_TOTAL_RATE_HZ",
    "PaperNetwork",
    "describe_paper_network",
    "full_hicann",
    "full_wafer",
    "paper_experiment",
    "paper_network",
    "paper_rates",
    "wiring_and_netlist",
]

PAPER_TOTAL_RATE_HZ = 2500.0
PAPER_SAMPLE_MS = 1000.0
PAPER_STIMULUS_MS = 900.0
PAPER_LAYERS = (100, 15, 15, 5)
MAXHW_RATE_HZ = 40.0


class PaperNetwork(NamedTuple):
    """The paper network as users map it: the description, the register configuration and the mapping."""

    network: Any  # hal.network.Network
    config: Any  # hal.hardware.wafer.WaferConfig
    mapping: Any  # hal.mapping.MappingResult


def paper_rates(samples: int, seed: int = 0, total_hz: float = PAPER_TOTAL_RATE_HZ):
    """(samples, 100) Poisson rates: a random "image" per sample, ``u**2`` normalised to ``total_hz``."""
    import numpy as np

    grey = np.random.default_rng([seed, 2017]).uniform(0.0, 1.0, size=(samples, PAPER_LAYERS[0])) ** 2
    return grey / grey.sum(axis=1, keepdims=True) * total_hz


def paper_network(seed: int = 0, wafer: int = 0) -> PaperNetwork:
    """The paper network with random signed 4-bit weights (``seed``), mapped with default options."""
    from hal import coordinates as C
    from hal.mapping import MappingOptions, map_network
    from hal.network import paper_network_description

    network = paper_network_description(seed=seed)
    config, mapping = map_network(network, C.Wafer(wafer), MappingOptions())
    return PaperNetwork(network, config, mapping)


def paper_experiment(paper: PaperNetwork, samples: int, seed: int):
    """``samples`` random images (:func:`paper_rates`) on the mapped sources: 0.9 s on, 0.1 s off."""
    import hal

    sources = paper.mapping.source_address["pixels"]
    inputs = hal.PoissonInput(sources, paper_rates(samples, seed), stop_ms=PAPER_STIMULUS_MS, seed=seed)
    return hal.Experiment(paper.config, PAPER_SAMPLE_MS, [inputs])


def describe_paper_network(seed: int, batch: int) -> dict[str, Any]:
    """What the benchmark reports about the paper network: sizes, input and what the mapping made of it."""
    from hal.mapping import MappingOptions

    mapping = paper_network(seed).mapping
    return {
        "neurons": mapping.network.n_neurons,
        "layers": list(PAPER_LAYERS),
        "circuits_per_neuron": MappingOptions().circuits_per_neuron,
        "mapping": "hal.mapping.map_network, default MappingOptions (as the trainers map it)",
        "hicanns": len(mapping.hicanns_used),
        "hicanns_used": [h.enum for h in mapping.hicanns_used],
        "fpgas": len(mapping.fpgas_used),
        "synapses": mapping.synapses,
        "synapses_lost": mapping.synapses_lost,
        "sources": len(mapping.source_address["pixels"]),
        "input_rate_hz_total": PAPER_TOTAL_RATE_HZ,
        "sample_ms": PAPER_SAMPLE_MS,
        "stimulus_ms": PAPER_STIMULUS_MS,
        "batch": batch,
        "seed": seed,
    }


def wiring_and_netlist(experiment):
    """The experiment's network as the reference backend sees it: the wiring read back from the
    registers (:func:`hal.netlist.wiring.extract_wiring`) and its netlist with the input events
    (:func:`hal.netlist.build_netlist`)."""
    from hal.netlist import build_netlist
    from hal.netlist.wiring import extract_wiring

    wiring = extract_wiring(experiment.config)
    request = experiment.request()
    return wiring, build_netlist(wiring, request.playback, request.n_samples, request.duration, request.seed)


def full_hicann(*, rate_hz: float = MAXHW_RATE_HZ, seed: int = 0, excitatory_rows=(True, False), gmax_div: int = 15):
    """A HICANN configuration with every circuit a neuron and every synapse in use.

    * 512 single-circuit neurons (no merges), firing, nominal Table II
      parameters (:func:`hal.calibration.apply_nominal`); the bottom denmems
      take their input from the bottom rows 224..447, as :mod:`hal.netlist.wiring` reads it.
    * Background generator ``j`` (random mode, ``rate_hz`` biological, L1 address 0)
      and neuron block ``j`` share level-0 merger ``j`` and DNC merger ``j``
      (:func:`hal.hardware.recipes.configure_channel` with
      ``NEURON_BLOCK_AND_BACKGROUND``), whose sending repeater drives its L1 line; the
      line reaches its 28 drivers through one crossbar and one synapse switch
      each (:func:`hal.hardware.recipes.feed_driver`). The 8 lines together feed all
      224 drivers, i.e. all 448 rows.
    * Every row decodes address 0 (driver decoder 0, synapse decoders 0),
      so every synapse receives its generator's Poisson events: one background
      address per block is all the wiring model lets a generator send, and only
      this way does every synapse see ``rate_hz``. Rows follow
      ``excitatory_rows`` cyclically (default alternating); weights are random
      1..15 with the largest gmax divisor (``gmax_div``), so that the neurons
      fire at about the input rate (38 Hz at 40 Hz input) instead of saturating.
    * Neuron ``i`` of a block sends address ``i`` (the one with address 0 sends
      nothing, address 0 being the background's); no synapse decodes those
      addresses, so neurons do not drive each other. Their spikes go to the
      FPGA trace (channel ``j`` towards the DNC), through the link model.
    """
    import numpy as np

    from hal import coordinates as C
    from hal.analog.domains import PAPER_DOMAINS
    from hal.calibration import apply_nominal
    from hal.hardware.hicann import HICANNConfig
    from hal.hardware.recipes import ChannelSource, configure_channel, feed_driver
    from hal.mapping.drivers import reachable_drivers
    from hal.network.parameters import SCHMITT2017

    chip = HICANNConfig()
    enum = np.arange(512)
    in_block = enum % 32 + 32 * (enum // 256)  # index of the denmem in its neuron block (enum order)
    chip.neurons.set_column("activate_firing", 1)
    chip.neurons.set_column("l1_address", in_block)
    chip.neurons.set_column("enable_spl1_output", (in_block != 0).astype(np.int64))
    apply_nominal(chip, C.NeuronOnHICANN.all(), SCHMITT2017)
    # period in PLL cycles: f_pll / rate_hw; rate_hw = rate_bio * speedup.
    period = int(round(chip.pll.value.frequency_mhz * 1e6 / (rate_hz * PAPER_DOMAINS.speedup)))
    rng = np.random.default_rng([seed, 512])
    for j in range(8):
        hline = configure_channel(chip, C.DNCMergerOnHICANN(j), ChannelSource.NEURON_BLOCK_AND_BACKGROUND, record=True)
        chip.background_generators.update(j, enable=True, random=True, address=0, seed=int(rng.integers(1, 1 << 16)), period=period)
        done = set()
        for driver, vline in reachable_drivers(j):
            if driver not in done:
                done.add(driver)
                feed_driver(chip, C.SynapseDriverOnHICANN(driver), C.VLineOnHICANN(vline), hline=hline)
    rows = np.arange(448)
    exc = np.asarray(excitatory_rows, dtype=np.int64)[rows % len(excitatory_rows)]
    chip.synapse_rows.set_column("input_excitatory", exc)
    chip.synapse_rows.set_column("input_inhibitory", 1 - exc)
    chip.synapse_rows.set_column("gmax_div_excitatory", gmax_div)
    chip.synapse_rows.set_column("gmax_div_inhibitory", gmax_div)
    chip.set_weights(rng.integers(1, 16, size=(448, 256)))
    chip.set_decoders(0)
    return chip


def full_wafer(n_hicanns: int = 384, *, rate_hz: float = MAXHW_RATE_HZ, seed: int = 0, wafer: int = 0):
    """``n_hicanns`` HICANNs (enum order) configured by :func:`full_hicann`, each with its own weights and seeds."""
    import numpy as np

    from hal import coordinates as C
    from hal.hardware.hicann import HICANNConfig
    from hal.hardware.recipes import enable_highspeed_link
    from hal.hardware.wafer import WaferConfig

    template = full_hicann(rate_hz=rate_hz, seed=seed)
    rng = np.random.default_rng([seed, 384])
    hicanns = {}
    for h in C.HICANNOnWafer.all()[:n_hicanns]:
        chip = HICANNConfig({name: words.copy() for name, words in template.image.items()})
        chip.set_weights(rng.integers(1, 16, size=(448, 256)))
        chip.background_generators.set_column("seed", rng.integers(1, 1 << 16, size=8))
        hicanns[h] = chip
    config = WaferConfig(C.Wafer(wafer), hicanns=hicanns)
    for h in hicanns:
        enable_highspeed_link(config, h)
    return config
