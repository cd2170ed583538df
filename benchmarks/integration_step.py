"""How large a step the emulator's scheme can take inside the agreement band (issue 16, item 3).

The ideal paper network (no mismatch, lossless links: the network ``hal bench`` runs) is taken
from the emulator backend as it hands it to its kernel (the backend's ``simulate`` call is
wrapped once to catch it), then integrated by the kernel at each step and compared, per sample
and neuron, with dt = 0.01 ms: the share of (sample, neuron) counts outside 2 % (or 1 spike),
the worst difference and the total. ``--delay-ms`` replaces the synaptic delay (0.1 ms, the L1
delay in biological time) to show how much of the error is late delivery. CPU time per run.

Run: python benchmarks/integration_step.py [--samples 30] [--delay-ms D] [--dt 0.05 0.1 0.2 ...]
"""

from __future__ import annotations

import argparse
import time

import attrs
import numpy as np


def paper_network_for_the_kernel(samples: int):
    """The kernel's view of the ideal paper network with ``samples`` samples: (EmulatorNetwork, duration ms)."""
    import hal
    import hal_plugins.emulator.backend as backend
    from hal_plugins.bench.networks import paper_experiment, paper_network

    caught = {}
    real = backend.simulate

    def catch(net, n_samples, duration_ms, **options):
        caught.update(net=net, duration_ms=duration_ms)
        return real(net, n_samples, duration_ms, **options)

    backend.simulate = catch
    try:
        hal.run(paper_experiment(paper_network(0), samples, 0), hal.get_backend("emulator", mismatch="none", links="lossless", dt_ms=0.1))
    finally:
        backend.simulate = real
    return caught["net"], caught["duration_ms"]


def main(argv=None) -> int:
    from hal.cli._common import positive_float, positive_int
    from hal.logging import configure
    from hal_plugins.emulator.kernel import simulate

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=positive_int, default=30)
    parser.add_argument("--delay-ms", type=positive_float, help="replace the synaptic delay (default: the network's, 0.1 ms)")
    parser.add_argument("--dt", type=positive_float, nargs="+", default=[0.05, 0.1, 0.2, 0.25, 0.4, 0.5])
    args = parser.parse_args(argv)
    configure(level="warning")
    net, duration = paper_network_for_the_kernel(args.samples)
    if args.delay_ms:
        net = attrs.evolve(net, delay_ms=args.delay_ms)
    n = net.n_neurons

    def counts(dt, dtype=np.float64):
        t0 = time.process_time()
        r = simulate(net, args.samples, duration, dt_ms=dt, dtype=dtype)
        return np.bincount(r.spike_sample * n + r.spike_neuron, minlength=args.samples * n).reshape(args.samples, n), time.process_time() - t0

    base, _ = counts(0.01)
    print(f"delay {net.delay_ms} ms, {args.samples} samples, {base.sum()} spikes at dt 0.01 ms")
    for dt in args.dt:
        for dtype in (np.float64, np.float32):
            k, cpu = counts(dt, dtype)
            d = np.abs(k - base)
            outside = np.mean(d > np.maximum(0.02 * base, 1))
            print(f"dt {dt} ms {np.dtype(dtype).name}: CPU {cpu:.2f} s, (sample, neuron) pairs outside the band {outside:.3%}, "
                  f"worst {d.max()} spikes, total {k.sum() / base.sum() - 1:+.3%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
