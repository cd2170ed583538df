"""``hal map``: mapping a network file onto the wafer; optionally an experiment ``hal run`` reads.

The outputs (``--out``: the wafer configuration; ``--experiment-out``: the configuration with
Poisson stimuli on every source, as ``hal run`` reads it) are checked before the mapping
starts and written atomically. An existing file is refused unless ``--overwrite``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from hal.cli._common import add_hicann_set, add_json, add_wafer, checked_output, count, non_negative_float, positive_float, positive_int, print_json, seed

__all__ = ["add_parsers", "CIRCUITS", "PLACEMENTS", "ROUTERS"]

#: ``hal.mapping.CIRCUITS_PER_NEURON``, ``PLACEMENTS`` and ``ROUTERS``, spelled out so that building the parser
#: does not import the mapper (a test keeps them equal).
CIRCUITS = (1, 2, 4, 8, 16, 32, 64)
PLACEMENTS = ("compact", "random", "random_hicanns", "partition")
ROUTERS = ("greedy", "negotiated")


def _outputs(args: argparse.Namespace) -> dict[str, Path]:
    """The files this run will write, checked before any work: ``{"config": path, "experiment": path}`` (those asked for)."""
    from hal.errors import ConfigError

    outputs = {what: Path(path) for what, path in (("config", args.out), ("experiment", args.experiment_out)) if path}
    if len(outputs) == 2 and outputs["config"].resolve() == outputs["experiment"].resolve():
        raise ConfigError(f"--out and --experiment-out both name {str(outputs['config'])!r}; give two files")
    for what, path in outputs.items():
        checked_output(path, what="wafer configuration" if what == "config" else what, overwrite=args.overwrite,
                       option="--out" if what == "config" else "--experiment-out")
    return outputs


def _experiment(config, result, args: argparse.Namespace):
    """The mapped network with independent Poisson trains at ``--source-rate-hz`` on every source that reaches a neuron."""
    from hal.experiment import Experiment, PoissonInput

    inputs = []
    for name, addresses in result.source_address.items():
        targets = [a for a in addresses if a is not None]  # a source without targets has no input address
        if targets:
            inputs.append(PoissonInput(targets, [args.source_rate_hz] * len(targets), seed=args.input_seed + len(inputs)))
    return Experiment(config, args.duration_ms, inputs, n_samples=args.samples)


def _hicann_set(args: argparse.Namespace) -> tuple:
    """The HICANNs the mapping may use: the union of --hicann, --rect and --reticle in that order, or by default
    the whole wafer (:func:`hal.mapping.hicanns.wafer_order`; the compact placement takes what the network needs, from
    row 7 outward); ``random_hicanns`` draws from its set, so its default stays the 12 HICANNs of row 7."""
    from hal import coordinates as C
    from hal.mapping.hicanns import DEFAULT_CHAIN, on_reticles, rectangle, wafer_order

    chosen = [C.HICANNOnWafer(h) for h in args.hicann or ()]
    if args.rect:
        chosen.extend(rectangle(*args.rect))
    if args.reticle:
        chosen.extend(on_reticles(args.reticle))
    if not chosen:
        return DEFAULT_CHAIN if args.placement == "random_hicanns" else wafer_order()
    return tuple(dict.fromkeys(chosen))


def _cmd_map(args: argparse.Namespace) -> int:
    from hal import coordinates as C
    from hal.configuration.io import save_config
    from hal.files import existing_file
    from hal.mapping import MappingOptions, map_network
    from hal.network import load_network

    network = load_network(existing_file(args.network))
    outputs = _outputs(args)
    kwargs = {"circuits_per_neuron": args.circuits, "source_rate_hz": args.source_rate_hz, "allow_loss": args.allow_loss,
              "placement": args.placement, "seed": args.seed, "merge_blocks": args.merge_blocks}
    if args.router is not None:
        kwargs["router"] = args.router
    if args.route_work is not None:
        kwargs["route_work"] = args.route_work
    kwargs["hicanns"] = _hicann_set(args)
    if args.db:
        from hal.calibration import Calibration, open_store

        store = open_store(existing_file(args.db), create=False, read_only=True)  # map only reads: a read-only share works
        options = MappingOptions.with_defects(store, args.wafer, calibration=Calibration(store, store.latest_set(args.wafer).id, fallback="nominal")
                                              if store.sets(args.wafer) else None, **kwargs)
    else:
        options = MappingOptions(**kwargs)
    config, result = map_network(network, C.Wafer(args.wafer), options)
    experiment = _experiment(config, result, args) if "experiment" in outputs else None  # built (and checked) before anything is written
    summary = result.summary()
    summary["bound"] = result.bound.to_dict()
    if "config" in outputs:
        save_config(config, outputs["config"])
        summary["config"] = str(outputs["config"])
    if experiment is not None:
        from hal.experiment.io import save_experiment

        save_experiment(experiment, outputs["experiment"])
        summary["experiment"] = str(outputs["experiment"])
        summary["stimulus"] = {"sources": sum(len(i.targets) for i in experiment.inputs), "rate_hz": args.source_rate_hz,
                               "duration_ms": args.duration_ms, "samples": args.samples, "seed": args.input_seed}
    if args.json:
        print_json(summary)
        return 0
    print(f"{network.n_neurons} neurons on {summary['hicanns']} HICANN(s) and {summary['fpgas']} FPGA(s); "
          f"{summary['synapses']} synapses realised, {summary['synapses_lost']} lost")
    bound = summary["bound"]
    print(f"  bound: at most {bound['bound']} of {bound['synapses']} synapses for this placement (drivers and rows); "
          f"realised {100 * bound['realised_of_bound']:.1f} % of it")
    for h, use in summary["per_hicann"].items():
        load = summary["input_load_hz"].get(h)
        extra = f", input {load:.0f} of {summary['input_budget_hz']:.0f} Hz" if load else ""
        print(f"  HICANN {h:>3}: {use['neurons']} neurons ({use['circuits']} circuits), {use['drivers']} drivers "
              f"({use['chained_drivers']} chained), {use['l1_lines']} horizontal and {use.get('vertical_lines', 0)} vertical L1 lines{extra}")
    for what in ("config", "experiment"):
        if what in summary:
            print(f"{'wafer configuration' if what == 'config' else 'experiment (for hal run)'} written to {summary[what]}")
    return 0


def add_parsers(sub) -> None:
    """Add this module's commands to ``hal``'s sub-parsers."""
    mapper = sub.add_parser("map", help="map a network file onto the wafer and print the resource use",
                            description="Map a network file onto the wafer, print the resource use, and write the wafer "
                                        "configuration (--out) and/or an experiment that `hal run` runs (--experiment-out).")
    mapper.add_argument("network", help="a network file (hal.network.save_network)")
    add_wafer(mapper)
    add_hicann_set(mapper, default="default: the whole wafer, taken as the network needs from row 7 x 12..23 outward; "
                                    "with --placement random_hicanns the 12 HICANNs of row 7")
    mapper.add_argument("--circuits", type=int, choices=CIRCUITS, default=4, help="circuits per logical neuron (default 4)")
    mapper.add_argument("--source-rate-hz", type=non_negative_float, default=25.0,
                        help="rate per source (Hz, >= 0): the link budget of the mapping, and the Poisson rate of the "
                             "--experiment-out stimulus (default 25)")
    mapper.add_argument("--db", help="calibration database: its defects are avoided and its latest set translates parameters")
    mapper.add_argument("--allow-loss", action="store_true", help="accept synapses that cannot be realised (counted)")
    mapper.add_argument("--placement", choices=PLACEMENTS, default="compact",
                        help="compact (default), random (shuffled columns in the blocks used), random_hicanns (neurons on random HICANNs) "
                             "or partition (connectivity-aware: populations that talk to each other placed near each other)")
    mapper.add_argument("--seed", type=seed, default=0, help="seed of the random placements (0..2**63-1; default 0)")
    mapper.add_argument("--router", choices=ROUTERS, default=None,
                        help="router for the buses the backbone router leaves unreached: greedy detours or negotiated "
                             "congestion (PathFinder); default: MappingOptions' default")
    mapper.add_argument("--route-work", type=count, default=None, metavar="LINES",
                        help="negotiated router: stop negotiating after its searches settled this many lines in all "
                             "(a count, so the result does not depend on the machine; >= 0; default: MappingOptions.route_work)")
    mapper.add_argument("--merge-blocks", action="store_true",
                        help="let neuron blocks share a DNC merger and L1 bus through the merger tree (up to 63 addresses per bus)")
    mapper.add_argument("--out", metavar="FILE", help="write the wafer configuration here")
    experiment = mapper.add_argument_group("experiment for `hal run` (--experiment-out)")
    experiment.add_argument("--experiment-out", metavar="FILE",
                            help="write the configuration with independent Poisson trains at --source-rate-hz on every source "
                                 "here; `hal run FILE --backend NAME` runs it")
    experiment.add_argument("--duration-ms", type=positive_float, default=1000.0, help="experiment duration (biological ms, > 0; default 1000)")
    experiment.add_argument("--samples", type=positive_int, default=1, help="independent samples (trials) in the batch (>= 1; default 1)")
    experiment.add_argument("--input-seed", type=seed, default=0, help="seed of the Poisson trains (0..2**63-1; default 0)")
    mapper.add_argument("--overwrite", action="store_true",
                        help="replace existing output files; without it an existing file is refused before the mapping starts")
    add_json(mapper)
    mapper.set_defaults(func=_cmd_map)
