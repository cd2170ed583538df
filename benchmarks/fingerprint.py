"""Fingerprint of hal's results, to prove that a restructuring changed no result.

Prints one JSON object: a SHA-256 of the paper network's mapping (every register of the
WaferConfig and the mapping's placement/addresses), and of its spike output on the
``reference``, ``emulator`` and ``noisy`` backends for 20 samples of fixed random pixel rates.
Run it before and after a change and compare::

    python benchmarks/fingerprint.py > before.json   # on the old commit
    python benchmarks/fingerprint.py > after.json    # on the new one
    diff before.json after.json
"""

from __future__ import annotations

import hashlib
import json
import sys

import numpy as np

import hal

try:  # the layout after the restructuring
    from hal.configuration.io import config_to_dict
    from hal.mapping import MappingOptions, map_network
    from hal.network import paper_network_description
except ImportError:  # the flat layout before it
    from hal.mapping import MappingOptions, map_network
    from hal.network import paper_network_description
    from hal.serialization import config_to_dict


def _digest(*parts) -> str:
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            h.update(str(part.dtype).encode() + str(part.shape).encode())
            h.update(np.ascontiguousarray(part).tobytes())
        else:
            h.update(json.dumps(part, sort_keys=True, default=str).encode())
    return h.hexdigest()[:16]


def main() -> None:
    network = paper_network_description(seed=0)
    config, mapping = map_network(network, hal.coordinates.Wafer(3), MappingOptions())
    manifest, arrays = config_to_dict(config)
    out = {
        "mapping_registers": _digest(manifest, *[arrays[k] for k in sorted(arrays)]),
        "mapping_placement": _digest({k: [repr(x) for x in v] for k, v in mapping.placement.items()},
                                     {k: [repr(x) for x in v] for k, v in mapping.source_address.items()}),
        "mapping_summary": mapping.summary(),
    }
    rng = np.random.default_rng(7)
    rates = rng.uniform(0, 50, size=(20, 100))
    for name in ("reference", "emulator", "noisy"):
        backend = hal.get_backend(name, wafer=3)
        exp = hal.Experiment(config, 200.0, [hal.PoissonInput(mapping.source_address["pixels"], rates, stop_ms=180.0, seed=11)])
        rec = hal.run(exp, backend)
        spikes = [rec.spikes(s) for s in range(rates.shape[0])]
        out[name] = {
            "spikes": int(sum(len(t) for t, _ in spikes)),
            "digest": _digest(*[a for t, c in spikes for a in (np.asarray(t), np.asarray(c))]),
        }
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    from hal.logging import configure

    configure(level="warning")  # the JSON alone on standard output
    main()
