"""What the benchmark counts: synaptic events from a netlist's fan-out, spikes, losses, memory, rates.

Synaptic events are spikes arriving at synapses: each input (or background) event times the
number of connections of its source, each neuron spike times the number of connections of its
neuron. Input events the link model drops are not counted; spikes lost only on the way to the
FPGA trace are (they reach their synapses on the wafer).
"""

from __future__ import annotations

import resource

__all__ = ["fan_out", "lost_summary", "peak_rss_bytes", "rates", "recorded_spikes", "synaptic_events"]


def fan_out(net):
    """Connections per source and per neuron of a netlist (two arrays)."""
    import numpy as np

    from_source = net.pre < net.n_sources
    sources = np.bincount(net.pre[from_source], minlength=net.n_sources)
    neurons = np.bincount(net.pre[~from_source] - net.n_sources, minlength=net.n_neurons)
    return sources, neurons


def synaptic_events(net, neuron_spikes, lost_input: int = 0, total_spikes: int | None = None) -> int:
    """Input events times their sources' fan-out (less the share lost on the links) plus neuron spikes times theirs.

    ``neuron_spikes`` counts spikes per wiring neuron as recorded. Lost input
    events are taken off at the mean fan-out of the input events (exact when
    all sources have the same fan-out, as in the paper network). Spikes the
    FPGA trace lost still reached their synapses on the wafer: given the
    backend's ``total_spikes``, the recorded ones are scaled up to it.
    """
    import numpy as np

    sources, neurons = fan_out(net)
    from_inputs = int(sources[net.in_source].sum()) if net.in_source.size else 0
    if lost_input and net.in_source.size:
        from_inputs = int(round(from_inputs * (1 - lost_input / net.in_source.size)))
    spikes = np.asarray(neuron_spikes, dtype=np.int64)
    from_neurons = float(np.dot(spikes, neurons))
    if total_spikes is not None and spikes.sum() > 0:
        from_neurons *= total_spikes / spikes.sum()
    return from_inputs + int(round(from_neurons))


def recorded_spikes(wiring, recording):
    """Spikes per wiring neuron from a recording (neurons not recorded: 0)."""
    import numpy as np

    spikes = np.zeros(len(wiring.neurons), dtype=np.int64)
    spikes[np.flatnonzero(wiring.recorded)] = recording.spike_counts.sum(axis=0)
    return spikes


def lost_summary(recording) -> dict[str, int]:
    """Events the links lost: input, output and unattributed totals."""
    lost = recording.lost_events
    return {"input": sum(lost["input"].values()), "output": sum(lost["output"].values()), "unattributed": lost["unattributed"]}


def peak_rss_bytes() -> int:
    """Peak resident set size of this process."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024  # Linux: KiB


def rates(bio_s: float, wall_s: float, events: int) -> dict[str, float]:
    """Biological seconds and synaptic events per wall-clock second."""
    return {"bio_s_per_wall_s": bio_s / wall_s, "synaptic_events_per_s": events / wall_s}
