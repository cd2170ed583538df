"""The same PyNN script on ``pyNN.nest`` and on ``hal.pynn`` (reference backend): spike counts compared.

Two PyNN scripts, written once against the ``sim`` module (this file's :func:`psp` and :func:`network`):

* ``psp``: one input spike onto one ``IF_cond_exp`` cell (cm 0.2 nF and 1.0 nF); the peak of
  the membrane's response (mV above rest) -- checks the weight and capacitance translation;
* ``network``: 200 sources playing fixed Poisson trains (15 Hz, drawn once with numpy, the same
  for both simulators) onto 80 excitatory and 20 inhibitory ``IF_cond_exp`` cells through
  ``FixedProbabilityConnector`` (p = 0.3, seeded ``NumpyRNG``: the same connections on both), and the
  inhibitory cells onto the excitatory ones; 2 s. Weights lie on the 4-bit grid of hal's scale,
  so quantisation is not what is compared. Delays are the wafer's 0.1 ms, and ``min_delay`` is
  set to it: with ``min_delay="auto"`` pyNN.nest moves source spikes by the timestep instead
  of the delay it later uses, which delivers them 0.09 ms late.

Usage::

    python benchmarks/pynn_vs_nest.py --nest-python /tmp/benchenv/bin/python [--json OUT]

runs each script under both simulators in subprocesses (``--simulator nest|hal`` runs one, in
the interpreter that runs this file), then once more on NEST with the parameters and weights
the chip realised (:func:`hal.pynn.realised_parameters`, :func:`hal.pynn.realised_weights`:
10-bit floating gates, 4-bit weights), and prints the spike counts and relative differences
to both; the exit status is 1 when a count differs by more than ``--tolerance`` (default 1 %)
from NEST with the realised values, or a population's count from plain NEST.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

DURATION_MS = 2000.0
DELAY_MS = 0.1
#: NEST integrates on this grid (spikes fall on it); hal.pynn samples membranes at it
TIMESTEP_MS = 0.01
CELL = dict(tau_m=20.0, tau_refrac=2.0, v_rest=-65.0, v_thresh=-52.0, v_reset=-65.0, e_rev_E=0.0, e_rev_I=-75.0,
            tau_syn_E=5.0, tau_syn_I=5.0, cm=0.2, i_offset=0.0)
#: on hal's grid with the default 4 circuits per neuron: 0.34 nS per bit at cm 0.2 nF
#: (hal.pynn.network.NF_PER_CIRCUIT); 10 and 15 bits
W_EXC_US = 0.0034
W_INH_US = 0.0051


def psp(sim, cm: float, cell_parameters: dict = CELL, w_exc: float = W_EXC_US) -> dict:
    """Peak depolarisation (mV above the first sample) after one input spike of weight ``w_exc * cm / 0.2`` onto a cell of ``cm`` nF."""
    sim.setup(timestep=0.01, min_delay=DELAY_MS, **_extra(sim))
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=[10.0]), label="src")
    cell = sim.Population(1, sim.IF_cond_exp(**{**cell_parameters, "cm": cm, "v_thresh": -40.0}), label="cell",
                          initial_values={"v": cell_parameters["v_rest"]})
    sim.Projection(src, cell, sim.AllToAllConnector(), sim.StaticSynapse(weight=w_exc * cm / 0.2, delay=DELAY_MS),
                   receptor_type="excitatory")
    cell.record("v")
    sim.run(60.0)
    v = cell.get_data().segments[0].analogsignals[0]
    values = np.asarray(v.magnitude).ravel()
    times = np.asarray(v.times.rescale("ms").magnitude)
    sim.end()
    peak = int(np.argmax(values))
    return {"peak_mv": float(values[peak] - values[0]), "peak_ms": float(times[peak])}


def _extra(sim) -> dict:
    return {"backend": "reference", "backend_options": {"dt_ms": 0.01}} if sim.__name__ == "hal.pynn" else {}


def network(sim, seed: int = 7, cell_parameters: dict = CELL, w_exc: float = W_EXC_US, w_inh: float = W_INH_US) -> dict:
    """Spike counts of the feed-forward network with inhibition (see the module docstring)."""
    sim.setup(timestep=TIMESTEP_MS, min_delay=DELAY_MS, **_extra(sim))
    rng = np.random.default_rng(seed)
    trains = [np.sort(np.round(rng.random(rng.poisson(15.0 * DURATION_MS / 1000)) * (DURATION_MS - 1), 1)) for _ in range(200)]
    sources = sim.Population(200, sim.SpikeSourceArray(spike_times=[t.tolist() for t in trains]), label="sources")
    start = {"v": cell_parameters["v_rest"]}
    exc = sim.Population(80, sim.IF_cond_exp(**cell_parameters), label="exc", initial_values=start)
    inh = sim.Population(20, sim.IF_cond_exp(**cell_parameters), label="inh", initial_values=start)
    connect = sim.FixedProbabilityConnector(0.3, rng=sim.NumpyRNG(seed=seed))
    projections = [
        sim.Projection(sources, exc, connect, sim.StaticSynapse(weight=w_exc, delay=DELAY_MS), receptor_type="excitatory"),
        sim.Projection(sources, inh, sim.FixedProbabilityConnector(0.3, rng=sim.NumpyRNG(seed=seed + 1)),
                       sim.StaticSynapse(weight=w_exc, delay=DELAY_MS), receptor_type="excitatory"),
        sim.Projection(inh, exc, sim.FixedProbabilityConnector(0.5, rng=sim.NumpyRNG(seed=seed + 2)),
                       sim.StaticSynapse(weight=w_inh, delay=DELAY_MS), receptor_type="inhibitory"),
    ]
    exc.record("spikes")
    inh.record("spikes")
    started = time.perf_counter()
    sim.run(DURATION_MS)
    wall = time.perf_counter() - started
    counts = {p.label: int(sum(len(t) for t in p.get_data().segments[0].spiketrains)) for p in (exc, inh)}
    per_cell = [len(t) for t in exc.get_data().segments[0].spiketrains]
    out = {"counts": counts, "exc_per_cell": per_cell, "run_s": round(wall, 3)}
    if sim.__name__ == "hal.pynn":  # what the chip realised of the asked values, for NEST to run too
        realised = {k: v for k, v in sim.realised_parameters(exc).items()}
        weights = [sim.realised_weights(p) for p in projections]
        out["realised"] = {"cell": {k: float(np.mean(v)) for k, v in realised.items()},
                           "w_exc": float(np.mean(weights[0])), "w_inh": float(np.mean(weights[2])),
                           "spread": float(max(np.ptp(w) / np.mean(w) for w in weights))}
    sim.end()
    return out


def run_one(simulator: str, realised: dict | None = None) -> dict:
    if simulator == "nest":
        import pyNN.nest as sim
    else:
        import hal.pynn as sim
    if realised is not None:  # NEST with the values the chip realised: quantisation out of the comparison
        cell = {**CELL, **{k: v for k, v in realised["cell"].items() if k in CELL}}
        w_exc, w_inh = realised["w_exc"], realised["w_inh"]
        return {"psp_cm0.2": psp(sim, 0.2, cell, w_exc), "psp_cm1.0": psp(sim, 1.0, cell, w_exc),
                "network": network(sim, cell_parameters=cell, w_exc=w_exc, w_inh=w_inh)}
    return {"psp_cm0.2": psp(sim, 0.2), "psp_cm1.0": psp(sim, 1.0), "network": network(sim)}


def _child(python: str, simulator: str, realised: dict | None = None) -> dict:
    extra = ["--realised", json.dumps(realised)] if realised is not None else []
    out = subprocess.run([python, __file__, "--simulator", simulator, *extra], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{simulator} run under {python} failed (status {out.returncode}):\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def compare(nest: dict, hal: dict, tolerance: float, nest_realised: dict) -> tuple[dict, bool]:
    """Rows of (NEST, hal, relative difference, NEST with the realised values, hal's difference to that); ok if within tolerance."""
    rows, ok = {}, True
    for key in ("psp_cm0.2", "psp_cm1.0"):
        a, b = nest[key]["peak_mv"], hal[key]["peak_mv"]
        c = nest_realised[key]["peak_mv"]
        rows[key + " peak_mv"] = {"nest": a, "hal": b, "relative": (b - a) / a, "nest_realised": c, "relative_realised": (b - c) / c}
    for name in nest["network"]["counts"]:
        a, b = nest["network"]["counts"][name], hal["network"]["counts"][name]
        c = nest_realised["network"]["counts"][name]
        rel = (b - a) / a if a else float(b != 0)
        ok &= abs(rel) <= tolerance
        rows[f"spikes {name}"] = {"nest": a, "hal": b, "relative": rel, "nest_realised": c, "relative_realised": (b - c) / c}
    a, b = sum(nest["network"]["counts"].values()), sum(hal["network"]["counts"].values())
    c = sum(nest_realised["network"]["counts"].values())
    rows["spikes total"] = {"nest": a, "hal": b, "relative": (b - a) / a, "nest_realised": c, "relative_realised": (b - c) / c}
    ok &= abs(rows["spikes total"]["relative"]) <= tolerance
    # the simulation itself: hal against NEST given the values the chip realised
    ok_realised = all(abs(r["relative_realised"]) <= tolerance for k, r in rows.items() if k.startswith("spikes"))
    return rows, bool(ok), ok_realised


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--simulator", choices=("nest", "hal"), help="run one simulator here and print its JSON")
    parser.add_argument("--nest-python", default="/tmp/benchenv/bin/python", help="interpreter with NEST and pyNN.nest")
    parser.add_argument("--hal-python", default=sys.executable, help="interpreter with hal and PyNN (default: this one)")
    parser.add_argument("--tolerance", type=float, default=0.01, help="largest relative spike-count difference (default 0.01)")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--realised", help=argparse.SUPPRESS)  # internal: JSON of the realised values (with --simulator)
    args = parser.parse_args(argv)
    if args.simulator:
        print(json.dumps(run_one(args.simulator, json.loads(args.realised) if args.realised else None)))
        return 0
    nest, hal = _child(args.nest_python, "nest"), _child(args.hal_python, "hal")
    nest_realised = _child(args.nest_python, "nest", hal["network"]["realised"])
    rows, ok, ok_realised = compare(nest, hal, args.tolerance, nest_realised)
    print(f"{'':<22} {'nest':>10}  {'hal':>10}  {'hal-nest':>9}  {'nest(realised)':>14}  {'hal-that':>9}")
    for key, row in rows.items():
        print(f"{key:<22} {row['nest']:>10.4g}  {row['hal']:>10.4g}  {100 * row['relative']:+8.2f}%  "
              f"{row['nest_realised']:>14.4g}  {100 * row['relative_realised']:+8.2f}%")
    print(f"realised on the chip: {json.dumps(hal['network']['realised'])}")
    print(f"run time of the network: nest {nest['network']['run_s']} s, hal (reference) {hal['network']['run_s']} s")
    print("spike counts within {:.0%} of NEST: {}; of NEST with the realised values: {}".format(
        args.tolerance, "yes" if ok else "NO", "yes" if ok_realised else "NO"))
    if args.json:
        args.json.write_text(json.dumps({"nest": nest, "hal": hal, "nest_realised": nest_realised, "comparison": rows,
                                         "within_tolerance": ok,
                                         "within_tolerance_realised": ok_realised}, indent=1))
    return 0 if ok and ok_realised else 1


if __name__ == "__main__":
    sys.exit(main())
