"""Benchmark: the synfire chain of BrainScaleS-1's 2020 wafer record, mapped and run on the emulator (issue 17, item 7).

The network is :func:`mapping_wafer.synfire` (190 links of 80 excitatory + 20 inhibitory neurons,
each neuron of link i + 1 drawing 60 inputs from link i's excitatory neurons, each link's
inhibitory neurons inhibiting its excitatory ones; a source population of 80 stimulates link 0).
This module only chooses its neuron parameters, weights and stimulus (:data:`PARAMETER_SETS`: ``fast``,
outside what a calibration covers, and ``calibrated``, inside every used circuit's calibrated range;
docs/mapping.md, "Synfire chain", says why), maps it with nothing lost, plays one synchronous
packet into link 0 and runs it on the emulator with its fixed-pattern mismatch -- the chip as
manufactured, the parameters translated through a calibration database's latest set if ``--db``
is given, else nominally.

What is measured, per link: the spikes of its excitatory and inhibitory neurons, the fraction of
excitatory neurons that fired, the mean time and the temporal spread (sd) of the excitatory
spikes. The spikes are taken on the wafer (through the emulator's perturbation interface, which
sees every neuron's spikes before the FPGA links): a HICANN's link carries one event per 56 ns,
1.8 events per biological ms, so the FPGA trace of a packet of 100 spikes in a millisecond
keeps about a third of them. What the trace kept and lost is reported beside.

Run: python benchmarks/synfire.py --out OUT_DIR [--links 190] [--db calibration.sqlite] [--parameters fast|calibrated]
Writes OUT_DIR/report.json and OUT_DIR/raster.png (both checked before any work, written atomically)
and prints a one-line summary.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import os
import resource
import sys
import time
from pathlib import Path

import attrs
import numpy as np

from hal import coordinates as C
from hal.errors import ConfigError, HalError
from hal.files import atomic_write, existing_file, writable_output
from hal.logging import get_logger
from hal.network import LIFParameters, Network

log = get_logger(__name__)


def _load_mapping_wafer():
    """benchmarks/mapping_wafer.py (its network builders), found beside this file whatever the working directory."""
    spec = importlib.util.spec_from_file_location("mapping_wafer_benchmark", Path(__file__).with_name("mapping_wafer.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


mapping_wafer = _load_mapping_wafer()

EXCITATORY, INHIBITORY = 80, 20
#: Links the builder makes at most here: one HICANN per link (400 of its 512 circuits), the wafer's 384.
MAX_LINKS = 384
#: Every population's neurons: leak well below threshold (10 mV: the chip's offsets of ~1.5 mV do not
#: make a neuron fire by itself), a 10 ms refractory period (one spike per packet), fast synapses.
NEURON = LIFParameters(e_l_mv=-65.0, v_th_mv=-55.0, v_reset_mv=-70.0, e_rev_e_mv=0.0, e_rev_i_mv=-80.0,
                       tau_m_ms=10.0, tau_syn_e_ms=2.0, tau_syn_i_ms=2.0, t_ref_ms=10.0)
#: 4-bit weights: E(i) -> E(i+1), E(i) -> I(i+1), I(i) -> E(i); the stimulus keeps the builder's 15.
WEIGHTS = {"ee": 6, "ei": 8, "ie": 10}
#: Parameters inside what every circuit's calibration covers (docs/mapping.md, "Synfire chain", says how they were
#: chosen): the calibrated ranges' intersection over the 76,000 circuits the 190-link chain uses on /tmp/D/cal190full.db's
#: HICANNs (biological) is E_l -65.5..-26.8, V_th -51.1..-33.5, V_reset -80.7..-46.9, E_rev_e -47.8..-25.4,
#: E_rev_i -78.0..-51.4 mV, tau_m 13.6..21.0, tau_syn_e 3.67..4.84, tau_syn_i 3.90..5.15, t_ref 3.28..5.20 ms; each value
#: below lies at least 1.5 mV / 0.4 ms inside it. The drive at threshold is 22 mV instead of the fast set's 55 mV, so
#: the synapses are slower and the weights stronger; the reset far below threshold and the inhibition stop second spikes.
NEURON_CALIBRATED = LIFParameters(e_l_mv=-57.0, v_th_mv=-49.0, v_reset_mv=-78.0, e_rev_e_mv=-27.0, e_rev_i_mv=-75.0,
                                  tau_m_ms=20.0, tau_syn_e_ms=4.3, tau_syn_i_ms=4.3, t_ref_ms=4.8)
WEIGHTS_CALIBRATED = {"ee": 12, "ei": 15, "ie": 10}
#: The calibrated set's conductance per weight bit (nS; the network's default is 0.68): the gmax target it asks of every
#: quadrant (136 per mille per event) lies below what the weakest quadrant the chain uses reaches (145); 0.68 asks 230,
#: which 485 of those 760 quadrants do not reach.
NS_PER_WEIGHT_BIT_CALIBRATED = 0.38


@attrs.frozen
class ParameterSet:
    """What ``--parameters`` chooses: every population's neuron parameters, the 4-bit weights (keys ``ee``, ``ei``,
    ``ie``), the conductance of weight 1 (nS, the network's ``ns_per_weight_bit``) and the stimulus sources that fire."""

    neuron: LIFParameters
    weights: dict
    ns_per_weight_bit: float
    stimulus_sources: int


#: Stimulus sources that fire, once each: the stimulus enters through the FPGA links of link 0's HICANNs,
#: 1.8 events per ms each, so all 80 would arrive over ~25 ms and their tail start a second packet.
STIMULUS_SOURCES = 32
#: ``--parameters``: name -> set. The calibrated set's weaker conductance per bit needs 40 sources to fire link 0 whole.
PARAMETER_SETS = {
    "fast": ParameterSet(NEURON, WEIGHTS, 0.68, STIMULUS_SOURCES),
    "calibrated": ParameterSet(NEURON_CALIBRATED, WEIGHTS_CALIBRATED, NS_PER_WEIGHT_BIT_CALIBRATED, 40),
}


def network(links: int, *, neuron: LIFParameters = NEURON, weights: dict | None = None, ns_per_weight_bit: float | None = None,
            seed: int = 0) -> Network:
    """mapping_wafer's synfire chain of ``links`` links with this benchmark's neuron parameters and weights.

    ``ns_per_weight_bit``: the network's conductance of weight 1 (None: the builder's).
    """
    weights = {**WEIGHTS, **(weights or {})}
    net = mapping_wafer.synfire(links, EXCITATORY, INHIBITORY, seed=seed)
    populations = [attrs.evolve(p, params=neuron) for p in net.populations]
    projections = []
    for p in net.projections:
        if p.pre == "stimulus":
            projections.append(p)
        elif p.receptor == "inhibitory":
            projections.append(attrs.evolve(p, weight_bits=weights["ie"]))
        else:
            projections.append(attrs.evolve(p, weight_bits=weights["ei" if p.post.startswith("I") else "ee"]))
    scale = {} if ns_per_weight_bit is None else {"ns_per_weight_bit": ns_per_weight_bit}
    return attrs.evolve(net, populations=populations, projections=projections, **scale)


def _calibration(db: str | None, wafer: int):
    """(calibration store or None, a description): the database's latest set of ``wafer``, or none (nominal translation)."""
    if db is None:
        return None, "none: nominal translation (the emulator's chip uncorrected)"
    from hal.calibration import open_store

    store = open_store(existing_file(db), create=False, read_only=True)
    if not store.sets(wafer):
        raise ConfigError(f"--db {db}: no calibration set for wafer {wafer}; valid a database calibrated for it "
                          "(hal calibrate), or leave --db out for the nominal translation")
    return store, f"{db}: set {store.latest_set(wafer).id} of wafer {wafer}"


def _ranges(numbers) -> str:
    """Sorted integers as ``0-5,8,10-12`` (what ``hal calibrate --hicann`` takes)."""
    numbers = sorted(numbers)
    parts, start = [], None
    for k, n in enumerate(numbers):
        if start is None:
            start = n
        if k + 1 == len(numbers) or numbers[k + 1] != n + 1:
            parts.append(str(start) if start == n else f"{start}-{n}")
            start = None
    return ",".join(parts)


def check_calibrated(store, wafer: int, db: str, used) -> int:
    """The latest set's id, after checking that it calibrates every HICANN in ``used``.

    The mapping falls back to the nominal translation for what a set lacks (gmax, which the
    routines do not calibrate, is logged); a HICANN missing from the set altogether would run
    uncorrected while the report says "calibrated", so that is refused with the list to calibrate.
    """
    from hal.calibration import CalibrationMissingError

    info = store.latest_set(wafer)
    calibrated = {h for h, _ in store.entries(info.id)}
    missing = sorted({h.enum for h in used} - calibrated)
    if missing:
        raise CalibrationMissingError(
            f"--db {db}: set {info.id} of wafer {wafer} does not calibrate {len(missing)} of the {len(used)} HICANNs the mapping uses "
            f"({_ranges(missing)}); valid a set that calibrates all of them (hal calibrate --wafer {wafer} --hicann "
            f"{_ranges(h.enum for h in used)} --db ...), or leave --db out for the nominal translation")
    return info.id


def map_chain(net: Network, wafer: int = 0, store=None, clip: bool = False):
    """(config, mapping result, seconds): the chain on the whole wafer, partition placement, no loss allowed.

    ``clip``: a calibrated circuit whose range does not reach a parameter gets the nearest value it
    reaches (logged by the mapping) instead of an error.
    """
    from hal.mapping import MappingOptions, map_network

    kwargs = {"hicanns": C.HICANNOnWafer.all(), "source_rate_hz": 1.0, "placement": "partition", "spread_sources": True}
    if store is not None:
        from hal.calibration import Calibration

        options = MappingOptions.with_defects(store, wafer, calibration=Calibration(store, store.latest_set(wafer).id, fallback="nominal"),
                                              calibration_clip=clip, **kwargs)
    else:
        options = MappingOptions(**kwargs)
    start = time.perf_counter()
    config, result = map_network(net, C.Wafer(wafer), options)
    return config, result, time.perf_counter() - start


def stimulus_times(sources: int, at_ms: float, sd_ms: float, seed: int) -> list[np.ndarray]:
    """One spike per stimulus source (the first ``sources`` of 80), Gaussian around ``at_ms``."""
    rng = np.random.default_rng(seed)
    return [np.array([max(0.0, at_ms + rng.normal(0.0, sd_ms))]) if k < sources else np.zeros(0) for k in range(EXCITATORY)]


def _spike_probe():
    """An emulator perturbation that changes nothing and keeps the neurons' spikes of the last run (before the FPGA links)."""
    from hal_plugins.emulator.perturbation import Perturbation, Trial

    class SpikeProbe(Perturbation):
        spikes = None
        domains = None

        def trial(self, run):
            self.domains = run.domains

            def keep(events):
                self.spikes = events
                return events

            return Trial(output_spikes=keep)

    return SpikeProbe()


def run_chain(config, result, *, duration_ms: float, stimulus: list, mismatch: str = "uncalibrated", dt_ms: float | None = None):
    """Run on the emulator; (recording, per-population {name: (times ms, index)} taken on the wafer, seconds)."""
    import hal
    from hal.experiment import Experiment, PopulationMap
    from hal.netlist.neurons import read_neurons

    populations = PopulationMap(result)
    experiment = Experiment(config, duration_ms, [populations.spike_input("stimulus", stimulus)])
    probe = _spike_probe()
    options = {"mismatch": mismatch, "perturbation": probe}
    if dt_ms is not None:
        options["dt_ms"] = dt_ms
    backend = hal.get_backend("emulator", wafer=config.wafer, **options)
    start = time.perf_counter()
    recording = hal.run(experiment, backend)
    seconds = time.perf_counter() - start
    # The emulator numbers neurons as the register readout lists them (hal.netlist.wiring.extract_wiring).
    neurons = read_neurons(dict(config.hicanns())).neurons
    if len(neurons) != recording.hardware.info.get("neurons"):
        raise HalError(f"synfire: {len(neurons)} neurons read from the registers, the emulator ran {recording.hardware.info.get('neurons')}")
    owner = [populations.locate(n.hicann, n.firing) for n in neurons]
    spikes = probe.spikes
    keep = spikes.delivered & (spikes.sample == 0)
    times = np.asarray(probe.domains.ticks_to_ms(spikes.tick[keep]), dtype=float)
    by: dict[str, tuple[list, list]] = {}
    for t, i in zip(times, spikes.index[keep]):
        name, index = owner[int(i)]
        by.setdefault(name, ([], []))[0].append(t)
        by[name][1].append(index)
    on_wafer = {name: (np.array(t), np.array(k, dtype=np.int64)) for name, (t, k) in by.items()}
    return recording, on_wafer, seconds


def link_table(on_wafer: dict, links: int) -> list[dict]:
    """Per link: spikes, fraction fired, mean time and spread (sd) of its excitatory neurons; its inhibitory ones' spikes."""
    empty = (np.zeros(0), np.zeros(0, dtype=np.int64))
    rows = []
    for i in range(links):
        t, k = on_wafer.get(f"E{i}", empty)
        ti, ki = on_wafer.get(f"I{i}", empty)
        rows.append({
            "link": i, "spikes": int(t.size), "fired": round(np.unique(k).size / EXCITATORY, 4),
            "mean_ms": round(float(t.mean()), 3) if t.size else None, "sd_ms": round(float(t.std()), 3) if t.size else None,
            "inhibitory_spikes": int(ti.size), "inhibitory_fired": round(np.unique(ki).size / INHIBITORY, 4),
            "inhibitory_mean_ms": round(float(ti.mean()), 3) if ti.size else None,
        })
    return rows


def summary(rows: list[dict]) -> dict:
    """The packet's fate: links where >= 90 % of the E neurons fired, the last link's numbers, the widest spread after link 0."""
    reached = [r for r in rows if r["fired"] >= 0.9]
    later = [r["sd_ms"] for r in rows[1:] if r["sd_ms"] is not None]
    return {
        "links_with_packet": len(reached), "reaches_last_link": rows[-1]["fired"] >= 0.9,
        "last_link": rows[-1], "min_fired": min(r["fired"] for r in rows),
        "max_sd_ms_after_link0": max(later) if later else None,
        "spikes_per_excitatory_neuron": round(sum(r["spikes"] for r in rows) / (EXCITATORY * len(rows)), 3),
        "ms_per_link": round((rows[-1]["mean_ms"] - rows[0]["mean_ms"]) / (len(rows) - 1), 3)
        if len(rows) > 1 and rows[-1]["mean_ms"] is not None and rows[0]["mean_ms"] is not None else None,
    }


def plot_raster(on_wafer: dict, rows: list[dict], path: Path, title: str) -> None:
    """The whole chain's raster, the first (up to) ten links enlarged, and the per-link fraction fired and spread."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, zoom, side) = plt.subplots(1, 3, figsize=(13, 6), gridspec_kw={"width_ratios": [3, 2, 1]})
    first = min(10, len(rows))
    for name, (t, k) in on_wafer.items():
        if name == "stimulus":
            continue
        link = int(name[1:])
        base = link * (EXCITATORY + INHIBITORY) + (EXCITATORY if name[0] == "I" else 0)
        colour = "tab:red" if name[0] == "I" else "black"
        ax.scatter(t, base + k, s=0.3, c=colour, linewidths=0, rasterized=True)
        if link < first:
            zoom.scatter(t, base + k, s=1.5, c=colour, linewidths=0, rasterized=True)
    ax.set_xlabel("time (biological ms)")
    ax.set_ylabel(f"neuron (link x {EXCITATORY + INHIBITORY}; black excitatory, red inhibitory)")
    ax.set_title(title, fontsize=9, loc="left")
    zoom.set_xlabel("time (biological ms)")
    zoom.set_title(f"links 0..{first - 1}", fontsize=9)
    links = [r["link"] for r in rows]
    side.plot([r["fired"] for r in rows], links, ".", ms=2, label="fraction of E fired")
    side.plot([r["sd_ms"] if r["sd_ms"] is not None else np.nan for r in rows], links, ".", ms=2, label="spread sd (ms)")
    side.set_xlabel("per link")
    side.set_ylabel("link")
    side.legend(fontsize=7, loc="lower right")
    side.grid(alpha=0.3)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    atomic_write(path, lambda f: f.write(buffer.getvalue()))


def _links(text: str) -> int:
    from hal.cli._common import _ranged_int

    return _ranged_int(text, 1, MAX_LINKS, f"integers 1..{MAX_LINKS} (one HICANN per link)")


def main(argv: list[str] | None = None) -> int:
    from hal.cli._common import non_negative_float, positive_float, wafer_id

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="output folder: report.json and raster.png are written there")
    parser.add_argument("--links", type=_links, default=190, help="links of the chain (default 190, the 2020 record)")
    parser.add_argument("--wafer", type=wafer_id, default=0, help="wafer id (the emulator's mismatch pattern; default 0)")
    parser.add_argument("--db", help="calibration database: its latest set of the wafer translates the parameters")
    parser.add_argument("--calibration-clip", action="store_true",
                        help="with --db: clip parameters outside a circuit's calibrated range (logged) instead of stopping")
    parser.add_argument("--parameters", choices=tuple(PARAMETER_SETS), default=None,
                        help="neuron parameters and weights: fast (narrowest packet; outside the calibrated ranges) or calibrated "
                             "(inside every circuit's calibrated range); default: calibrated with --db, else fast")
    parser.add_argument("--mismatch", choices=("uncalibrated", "table2", "none"), default="uncalibrated",
                        help="the emulator's fixed pattern (default uncalibrated: the chip as manufactured)")
    parser.add_argument("--stimulus-sources", type=_sources, default=None,
                        help=f"stimulus sources that fire (1..{EXCITATORY}; default the parameter set's: "
                             + ", ".join(f"{k} {v.stimulus_sources}" for k, v in PARAMETER_SETS.items()) + "; two HICANN links deliver 40 in ~11 ms)")
    parser.add_argument("--stimulus-sd-ms", type=non_negative_float, default=0.5, help="spread of the stimulus packet (default 0.5 ms)")
    parser.add_argument("--dt-ms", type=positive_float, help="the emulator's integration step (default its own)")
    args = parser.parse_args(argv)
    try:
        return _main(args, sys.argv if argv is None else ["benchmarks/synfire.py", *argv])
    except HalError as exc:
        print(f"synfire: error: {exc}", file=sys.stderr)
        return 2


def _sources(text: str) -> int:
    from hal.cli._common import _ranged_int

    return _ranged_int(text, 1, EXCITATORY, f"integers 1..{EXCITATORY}")


def _main(args, argv: list[str]) -> int:
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out}: is not a directory; valid a folder (created if missing)")
    report_path = writable_output(out / "report.json", what="report")
    raster_path = writable_output(out / "raster.png", what="raster figure")
    store, calibration = _calibration(args.db, args.wafer)
    wall = time.perf_counter()
    chosen = args.parameters or ("calibrated" if args.db else "fast")
    chosen_set = PARAMETER_SETS[chosen]
    neuron, weights = chosen_set.neuron, chosen_set.weights
    sources = chosen_set.stimulus_sources if args.stimulus_sources is None else args.stimulus_sources
    net = network(args.links, neuron=neuron, weights=weights, ns_per_weight_bit=chosen_set.ns_per_weight_bit)
    config, result, map_s = map_chain(net, args.wafer, store, clip=args.calibration_clip)
    set_id = check_calibrated(store, args.wafer, args.db, result.hicanns_used) if store is not None else None
    log.info("synfire_mapped", links=args.links, hicanns=len(result.hicanns_used), synapses=result.synapses, lost=result.synapses_lost,
             seconds=round(map_s, 1))
    at_ms = 5.0
    duration = at_ms + 40.0 + 2.0 * args.links  # the packet needs < 1 ms per link; the stimulus's links up to ~20 ms
    recording, on_wafer, run_s = run_chain(config, result, duration_ms=duration, mismatch=args.mismatch, dt_ms=args.dt_ms,
                                           stimulus=stimulus_times(sources, at_ms, args.stimulus_sd_ms, seed=1))
    rows = link_table(on_wafer, args.links)
    report = {
        "command": " ".join(argv), "links": args.links, "wafer": args.wafer,
        "network": {"excitatory": EXCITATORY, "inhibitory": INHIBITORY, "fan_in": 60, "neurons": net.n_neurons,
                    "parameters": chosen, "neuron": attrs.asdict(neuron), "weight_bits": {**weights, "stimulus": 15},
                    "ns_per_weight_bit": net.ns_per_weight_bit},
        "stimulus": {"sources": sources, "at_ms": at_ms, "sd_ms": args.stimulus_sd_ms, "duration_ms": duration},
        "mapping": {"hicanns": len(result.hicanns_used), "hicann_enums": _ranges(h.enum for h in result.hicanns_used),
                    "fpgas": len(result.fpgas_used), "synapses": result.synapses,
                    "lost": result.synapses_lost, "lost_reasons": result.lost_reasons, "seconds": round(map_s, 1)},
        "emulator": {"mismatch": args.mismatch, "calibration": calibration, "calibration_set": set_id, "calibration_clip": args.calibration_clip, "dt_ms": recording.hardware.info.get("dt_ms"),
                     "seconds": round(run_s, 1)},
        "summary": summary(rows),
        "fpga_trace": {"spikes_on_wafer": int(sum(t.size for t, _ in on_wafer.values())),
                       "spikes_in_trace": int(recording.spikes(0)[0].size), "lost": recording.lost_events},
        "per_link": rows,
        "wall_s": round(time.perf_counter() - wall, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    atomic_write(report_path, lambda f: f.write(json.dumps(report, indent=1)), mode="w")
    s = report["summary"]
    plot_raster(on_wafer, rows, raster_path,
                f"synfire chain, {args.links} links on {len(result.hicanns_used)} HICANNs ({result.synapses:,} synapses, "
                f"{result.synapses_lost} lost),\nemulator mismatch {args.mismatch}; packet (>= 90 % of E fired) in "
                f"{s['links_with_packet']} of {args.links} links")
    print(json.dumps({k: report[k] for k in ("links", "mapping", "summary", "wall_s", "peak_rss_mib")} | {"out": str(out)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
