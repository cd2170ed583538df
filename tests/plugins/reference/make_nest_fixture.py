"""Build ``data/nest_iaf_cond_exp.npz``: NEST 3.x ``iaf_cond_exp`` spikes for fixed inputs.

The fixture holds two cases, each with its inputs, parameters, synapses and
NEST's output spikes, so that ``test_nest_agreement.py`` can compare the
reference integrator with NEST without NEST being installed:

``single``
    Eight unconnected neurons, each driven by its own excitatory and
    inhibitory Poisson sources (different rates, weights, time constants and
    refractory periods, among them NEST's defaults with a 0.2 ms excitatory
    synapse). One neuron's membrane potential is stored too (0.1 ms samples).
``network``
    The layered network of Schmitt et al. 2017 (100-15-15-5, 135 neurons):
    100 Poisson sources drive the 100 input neurons one to one, and every pair
    of neurons in consecutive layers is joined by one excitatory and one
    inhibitory synapse of random weight. Neuron parameters are the paper's
    Table II with C_m = 200 pF and t_ref = 0.1 ms (the paper gives neither).
    Three samples (three random "images"), 1 s each.

Input spike times are drawn with numpy from fixed seeds and rounded to a
0.01 ms grid; delays are multiples of 0.1 ms. NEST runs at a resolution of
0.001 ms: NEST reports a spike at the end of the step in which V crossed
threshold and starts the refractory period there, and at 0.01 ms that grid
error alone changes 8% of the network's spikes by more than 0.2 ms (the
network is near threshold; see ``docs/validation.md``). This module needs only
numpy at import time (it is imported by the tests to rebuild the cases); NEST
is imported by :func:`run_nest`. NEST 3.10 needs numpy < 2.4, so run it from a
separate environment::

    python3 -m venv /tmp/nestenv
    /tmp/nestenv/bin/pip install nest-simulator==3.10.0 numpy==2.3.5
    /tmp/nestenv/bin/python tests/plugins/reference/make_nest_fixture.py   # ~80 s

``--resolution-study MS --out FILE`` instead runs only the network at another
NEST resolution and saves its spikes (used for the resolution table in
``docs/validation.md``).
"""

from __future__ import annotations

import pathlib
import sys

import numpy as np

FIXTURE = pathlib.Path(__file__).resolve().parent / "data" / "nest_iaf_cond_exp.npz"
RESOLUTION_MS = 0.001  # NEST's time step for the fixture; its spike times lie on this grid
INPUT_GRID_MS = 0.01  # input spike times lie on this grid (a multiple of RESOLUTION_MS)
DURATION_MS = 1000.0

PARAMETER_FIELDS = (
    "c_m_pf",
    "g_l_ns",
    "e_l_mv",
    "v_th_mv",
    "v_reset_mv",
    "e_rev_e_mv",
    "e_rev_i_mv",
    "tau_syn_e_ms",
    "tau_syn_i_ms",
    "t_ref_ms",
)
# our field name -> NEST iaf_cond_exp parameter
NEST_NAMES = {
    "c_m_pf": "C_m",
    "g_l_ns": "g_L",
    "e_l_mv": "E_L",
    "v_th_mv": "V_th",
    "v_reset_mv": "V_reset",
    "e_rev_e_mv": "E_ex",
    "e_rev_i_mv": "E_in",
    "tau_syn_e_ms": "tau_syn_ex",
    "tau_syn_i_ms": "tau_syn_in",
    "t_ref_ms": "t_ref",
}
# Schmitt et al. 2017, Table II (+ C_m = 200 pF, t_ref = 0.1 ms; see the module docstring)
PAPER = dict(
    c_m_pf=200.0, g_l_ns=10.0, e_l_mv=-40.0, v_th_mv=-37.5, v_reset_mv=-64.0,
    e_rev_e_mv=0.0, e_rev_i_mv=-80.0, tau_syn_e_ms=5.0, tau_syn_i_ms=5.0, t_ref_ms=0.1,
)  # fmt: skip
# NEST's iaf_cond_exp defaults
NEST_DEFAULT = dict(
    c_m_pf=250.0, g_l_ns=16.6667, e_l_mv=-70.0, v_th_mv=-55.0, v_reset_mv=-60.0,
    e_rev_e_mv=0.0, e_rev_i_mv=-85.0, tau_syn_e_ms=0.2, tau_syn_i_ms=2.0, t_ref_ms=2.0,
)  # fmt: skip


def poisson_times(rng: np.random.Generator, rate_hz: float, duration_ms: float) -> np.ndarray:
    """Poisson spike times on the input grid, unique, in [INPUT_GRID_MS, duration)."""
    n = rng.poisson(rate_hz * duration_ms / 1000.0)
    t = np.sort(rng.uniform(0.0, duration_ms, n))
    t = np.round(t / INPUT_GRID_MS) * INPUT_GRID_MS
    t = np.unique(t[(t >= INPUT_GRID_MS) & (t < duration_ms)])
    return np.round(t, 2)


def _inputs_from(trains: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per-source time arrays -> (times, source index) sorted by time."""
    times = np.concatenate(trains) if trains else np.zeros(0)
    index = np.concatenate([np.full(len(t), i, dtype=np.int64) for i, t in enumerate(trains)]) if trains else np.zeros(0, np.int64)
    order = np.lexsort((index, times))
    return times[order], index[order]


def _params(rows: list[dict]) -> dict[str, np.ndarray]:
    return {name: np.array([row[name] for row in rows], dtype=np.float64) for name in PARAMETER_FIELDS}


def single_case(seed: int = 11, duration_ms: float = DURATION_MS) -> dict:
    """Eight unconnected neurons, each with one excitatory and one inhibitory Poisson source.

    Returns a dict: ``params`` (field -> array), ``pre``/``post``/``weight_ns``/
    ``excitatory``/``delay_ms`` arrays, ``n_sources``, ``inputs`` (list of
    (times, index), one per sample) and ``duration_ms``.
    """
    rng = np.random.default_rng(seed)
    # (parameter set, exc rate Hz, exc weight nS, inh rate Hz, inh weight nS, overrides)
    rows = [
        (PAPER, 300.0, 2.0, 100.0, 2.0, {}),
        (PAPER, 800.0, 1.0, 400.0, 1.5, {"t_ref_ms": 2.0}),
        (PAPER, 150.0, 6.0, 50.0, 8.0, {"t_ref_ms": 0.5}),
        (PAPER, 2000.0, 0.5, 300.0, 0.5, {"tau_syn_e_ms": 2.0, "tau_syn_i_ms": 8.0}),
        (NEST_DEFAULT, 6000.0, 6.0, 1000.0, 2.0, {}),
        (NEST_DEFAULT, 4000.0, 10.0, 500.0, 4.0, {"t_ref_ms": 0.3}),
        (NEST_DEFAULT, 2000.0, 4.0, 400.0, 2.0, {"tau_syn_e_ms": 1.0, "tau_syn_i_ms": 5.0}),
        (PAPER, 80.0, 6.0, 0.0, 0.0, {"c_m_pf": 100.0, "g_l_ns": 20.0}),  # tau_m = 5 ms, strong single inputs
    ]
    param_rows, trains, pre, post, weight, excitatory = [], [], [], [], [], []
    for j, (base, r_e, w_e, r_i, w_i, over) in enumerate(rows):
        param_rows.append({**base, **over})
        for rate, w, exc in ((r_e, w_e, True), (r_i, w_i, False)):
            trains.append(poisson_times(rng, rate, duration_ms))
            pre.append(len(trains) - 1)
            post.append(j)
            weight.append(w)
            excitatory.append(exc)
    n_syn = len(pre)
    delay = np.round(rng.integers(1, 21, n_syn) * 0.1, 1)  # 0.1 .. 2.0 ms
    return dict(
        params=_params(param_rows),
        pre=np.array(pre, np.int64),
        post=np.array(post, np.int64),
        weight_ns=np.array(weight, np.float64),
        excitatory=np.array(excitatory, bool),
        delay_ms=delay,
        n_sources=len(trains),
        inputs=[_inputs_from(trains)],
        duration_ms=duration_ms,
    )


LAYERS = (100, 15, 15, 5)


def network_case(seed: int = 2017, n_samples: int = 3, duration_ms: float = DURATION_MS, total_rate_hz: float = 2500.0) -> dict:
    """The paper's 100-15-15-5 network; ``n_samples`` random "images" as Poisson rates.

    Every source ``i`` drives input neuron ``i`` (excitatory, 20 nS). Between
    consecutive layers, every pair has an excitatory synapse of weight
    U(0, 2.6) nS (first hidden layer), U(0, 3.2) nS (second) or U(0, 4.0) nS
    (label layer) and an inhibitory one of weight U(0, 2.4) nS; delays are
    uniform on {0.5, 0.6, ..., 1.5} ms.
    """
    rng = np.random.default_rng(seed)
    n_in = LAYERS[0]
    n = sum(LAYERS)
    starts = np.cumsum((0,) + LAYERS)
    pre, post, weight, excitatory = [np.arange(n_in)], [np.arange(n_in)], [np.full(n_in, 20.0)], [np.ones(n_in, bool)]
    exc_scale = {1: 2.6, 2: 3.2, 3: 4.0}
    inh_scale = {1: 2.4, 2: 2.4, 3: 2.4}
    for layer in range(1, len(LAYERS)):
        src = np.arange(starts[layer - 1], starts[layer])
        dst = np.arange(starts[layer], starts[layer + 1])
        p, q = np.meshgrid(src, dst, indexing="ij")
        p, q = p.ravel(), q.ravel()
        for exc, scale in ((True, exc_scale[layer]), (False, inh_scale[layer])):
            pre.append(n_in + p)  # presynaptic neurons come after the n_in sources
            post.append(q)
            weight.append(rng.uniform(0.0, scale, p.size))
            excitatory.append(np.full(p.size, exc))
    pre, post = np.concatenate(pre).astype(np.int64), np.concatenate(post).astype(np.int64)
    delay = np.round(rng.integers(5, 16, pre.size) * 0.1, 1)
    inputs = []
    for _ in range(n_samples):
        grey = rng.uniform(0.0, 1.0, n_in) ** 2  # a random "image"
        rates = grey / grey.sum() * total_rate_hz
        inputs.append(_inputs_from([poisson_times(rng, r, duration_ms) for r in rates]))
    params = _params([PAPER] * n)
    return dict(
        params=params,
        pre=pre,
        post=post,
        weight_ns=np.concatenate(weight),
        excitatory=np.concatenate(excitatory),
        delay_ms=delay,
        n_sources=n_in,
        inputs=inputs,
        duration_ms=duration_ms,
    )


def run_nest(case: dict, record_v: int | None = None, resolution_ms: float = RESOLUTION_MS):
    """Simulate ``case`` with NEST, one kernel reset per sample.

    Returns ``(spikes, v)``: per sample ``(times, neuron index)`` sorted by
    time then index, and (if ``record_v``) per sample NEST's ``V_m`` of that
    neuron sampled every 0.1 ms at ``0.1, 0.2, ...`` ms (else ``None``).
    """
    import nest

    try:
        nest.verbosity = nest.VerbosityLevel.ERROR  # NEST >= 3.9
    except AttributeError:
        nest.set_verbosity("M_ERROR")
    params = case["params"]
    n = params["c_m_pf"].shape[0]
    n_sources = case["n_sources"]
    spikes, traces = [], []
    for times, index in case["inputs"]:
        nest.ResetKernel()
        # a resolution below NEST's default tic (0.001 ms) needs finer tics
        nest.SetKernelStatus({"tics_per_ms": int(max(1000, round(1.0 / resolution_ms))), "resolution": resolution_ms})
        nest.local_num_threads = 1
        generators = nest.Create("spike_generator", n_sources)
        for i in range(n_sources):
            generators[i].spike_times = times[index == i].tolist()
        neurons = nest.Create("iaf_cond_exp", n)
        status = [{NEST_NAMES[f]: float(params[f][j]) for f in PARAMETER_FIELDS} | {"V_m": float(params["e_l_mv"][j])} for j in range(n)]
        neurons.set(status)
        ids = np.concatenate([np.array(generators.tolist()), np.array(neurons.tolist())])
        sign = np.where(case["excitatory"], 1.0, -1.0)
        nest.Connect(
            ids[case["pre"]],
            np.array(neurons.tolist())[case["post"]],
            conn_spec="one_to_one",
            syn_spec={"weight": sign * case["weight_ns"], "delay": case["delay_ms"]},
        )
        recorder = nest.Create("spike_recorder")
        nest.Connect(neurons, recorder)
        if record_v is not None:
            meter = nest.Create("multimeter", params={"record_from": ["V_m"], "interval": 0.1})
            nest.Connect(meter, neurons[record_v])
        nest.Simulate(case["duration_ms"])
        ev = recorder.get("events")
        first = neurons.tolist()[0]
        t = np.asarray(ev["times"], dtype=np.float64)
        j = np.asarray(ev["senders"], dtype=np.int64) - first
        order = np.lexsort((j, t))
        spikes.append((t[order], j[order]))
        if record_v is not None:
            mv = meter.get("events")
            order = np.argsort(mv["times"])
            traces.append(np.asarray(mv["V_m"])[order])
        else:
            traces.append(None)
    return spikes, traces


def _pack(prefix: str, case: dict, spikes: list, out: dict) -> None:
    for name in PARAMETER_FIELDS:
        out[f"{prefix}/params/{name}"] = case["params"][name]
    for name in ("pre", "post", "weight_ns", "excitatory", "delay_ms"):
        out[f"{prefix}/{name}"] = case[name]
    out[f"{prefix}/n_sources"] = np.int64(case["n_sources"])
    out[f"{prefix}/duration_ms"] = np.float64(case["duration_ms"])
    out[f"{prefix}/n_samples"] = np.int64(len(case["inputs"]))
    for k, ((t_in, i_in), (t_out, i_out)) in enumerate(zip(case["inputs"], spikes)):
        # all times lie on the 0.001 ms grid: store integer microseconds (exact, compresses well)
        out[f"{prefix}/input{k}/times_us"] = np.round(t_in * 1000.0).astype(np.int32)
        out[f"{prefix}/input{k}/index"] = i_in.astype(np.int16)
        out[f"{prefix}/nest{k}/times_us"] = np.round(t_out * 1000.0).astype(np.int32)
        out[f"{prefix}/nest{k}/index"] = i_out.astype(np.int16)


def resolution_study(resolution_ms: float, out: pathlib.Path) -> None:
    """Run only the network case at another NEST resolution; save its spikes (float ms) to ``out``."""
    import nest

    spikes, _ = run_nest(network_case(), resolution_ms=resolution_ms)
    arrays = {"nest_version": np.array(nest.__version__), "resolution_ms": np.float64(resolution_ms)}
    for k, (t, j) in enumerate(spikes):
        arrays[f"nest{k}/times_ms"] = t
        arrays[f"nest{k}/index"] = j
    np.savez_compressed(out, **arrays)
    print(f"wrote {out}: network spikes per sample {[len(t) for t, _ in spikes]} at {resolution_ms} ms", file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--resolution-study", type=float, metavar="MS", help="only run the network at this NEST resolution (ms) and save to --out")
    parser.add_argument("--out", type=pathlib.Path, help="output file of --resolution-study")
    args = parser.parse_args(argv)
    if args.resolution_study is not None:
        if args.out is None:
            parser.error("--resolution-study needs --out")
        resolution_study(args.resolution_study, args.out)
        return
    write_fixture()


def write_fixture() -> None:
    import nest

    single = single_case()
    network = network_case()
    single_spikes, single_v = run_nest(single, record_v=0)
    network_spikes, _ = run_nest(network)
    out: dict[str, np.ndarray] = {
        "nest_version": np.array(nest.__version__),
        "resolution_ms": np.float64(RESOLUTION_MS),
        "single/v_neuron": np.int64(0),
        "single/v_mv": single_v[0].astype(np.float32),  # V_m at 0.1, 0.2, ... ms
    }
    _pack("single", single, single_spikes, out)
    _pack("network", network, network_spikes, out)
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(FIXTURE, **out)
    for name, spikes in (("single", single_spikes), ("network", network_spikes)):
        counts = [len(t) for t, _ in spikes]
        print(f"{name}: NEST spikes per sample {counts}", file=sys.stderr)
    print(f"wrote {FIXTURE} ({FIXTURE.stat().st_size / 1024:.0f} kB) with NEST {nest.__version__}", file=sys.stderr)


if __name__ == "__main__":
    main()
