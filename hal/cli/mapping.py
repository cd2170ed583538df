"""``hal map``: mapping a network file onto the wafer."""

from __future__ import annotations

import argparse

from hal.cli._common import print_json

__all__ = ["add_parsers"]


def _cmd_map(args: argparse.Namespace) -> int:
    from hal import coordinates as C
    from hal.mapping import MappingOptions, map_network
    from hal.network import load_network
    from hal.configuration.io import save_config

    network = load_network(args.network)
    kwargs = {"circuits_per_neuron": args.circuits, "source_rate_hz": args.source_rate_hz, "allow_loss": args.allow_loss,
              "placement": args.placement, "seed": args.seed}
    if args.db:
        from hal.calibration import Calibration, open_store

        store = open_store(args.db, create=False)
        options = MappingOptions.with_defects(store, args.wafer, calibration=Calibration(store, store.latest_set(args.wafer).id, fallback="nominal")
                                              if store.sets(args.wafer) else None, **kwargs)
    else:
        options = MappingOptions(**kwargs)
    config, result = map_network(network, C.Wafer(args.wafer), options)
    summary = result.summary()
    if args.out:
        save_config(config, args.out)
        summary["config"] = args.out
    if args.json:
        print_json(summary)
        return 0
    print(f"{network.n_neurons} neurons on {summary['hicanns']} HICANN(s) and {summary['fpgas']} FPGA(s); "
          f"{summary['synapses']} synapses realised, {summary['synapses_lost']} lost")
    for h, use in summary["per_hicann"].items():
        load = summary["input_load_hz"].get(h)
        extra = f", input {load:.0f} of {summary['input_budget_hz']:.0f} Hz" if load else ""
        print(f"  HICANN {h:>3}: {use['neurons']} neurons ({use['circuits']} circuits), {use['drivers']} drivers "
              f"({use['chained_drivers']} chained), {use['l1_lines']} horizontal and {use.get('vertical_lines', 0)} vertical L1 lines{extra}")
    return 0


def add_parsers(sub) -> None:
    """Add this module's commands to ``hal``'s sub-parsers."""
    mapper = sub.add_parser("map", help="map a network file onto the wafer and print the resource use")
    mapper.add_argument("network", help="a network file (hal.network.save_network)")
    mapper.add_argument("--wafer", type=int, default=0)
    mapper.add_argument("--circuits", type=int, default=4, help="circuits per logical neuron (1, 2 or 4)")
    mapper.add_argument("--source-rate-hz", type=float, default=25.0, help="expected rate per source, for the link budget")
    mapper.add_argument("--db", help="calibration database: its defects are avoided and its latest set translates parameters")
    mapper.add_argument("--allow-loss", action="store_true", help="accept synapses that cannot be realised (counted)")
    mapper.add_argument("--placement", default="compact",
                        help="compact (default), random (shuffled columns in the blocks used) or random_hicanns (neurons on random HICANNs)")
    mapper.add_argument("--seed", type=int, default=0, help="seed of the random placements")
    mapper.add_argument("--out", help="write the wafer configuration here")
    mapper.add_argument("--json", action="store_true")
    mapper.set_defaults(func=_cmd_map)
