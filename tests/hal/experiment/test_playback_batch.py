"""Experiment.playback builds a SpikeArrayInput's events for the whole batch in one pass: the same events,
in the same order, as one sample after another through SpikeArrayInput.spikes_of."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st

import hal
from hal import coordinates as C
from hal.backend.events import HardwareEvents
from hal.hardware.wafer import WaferConfig

TARGETS = [C.InputAddress(C.HICANNOnWafer(h), c, a) for h, c, a in ((100, 2, 5), (100, 3, 17), (101, 0, 63))]


def _sample_by_sample(experiment: hal.Experiment) -> HardwareEvents:
    """The playback as it was built before: one part per input and sample."""
    d, parts = experiment.domains, []
    for inp in experiment.inputs:
        hicann = np.array([t.hicann.enum for t in inp.targets])
        channel = np.array([t.channel for t in inp.targets])
        address = np.array([t.address for t in inp.targets])
        for k in range(experiment.batch_size):
            times, index = inp.spikes_of(k)
            ticks = d.ms_to_ticks(times)
            parts.append(HardwareEvents(np.full(ticks.size, k), ticks, hicann[index], channel[index], address[index]))
    return HardwareEvents.concatenate(parts)


# Times on a coarse grid, so that equal times (whose order the sort must keep) are common.
_spikes = st.lists(st.tuples(st.integers(0, 40).map(lambda t: t * 0.25), st.integers(0, len(TARGETS) - 1)), max_size=12)


@settings(max_examples=30, deadline=None)
@given(data=st.data(), n_samples=st.integers(1, 4), n_inputs=st.integers(1, 3))
def test_the_batched_playback_is_the_sample_by_sample_one(data, n_samples, n_inputs):
    # Each input has one entry per sample, or one entry that stands for every sample.
    inputs = [data.draw(st.lists(_spikes, min_size=n, max_size=n), label=f"input {k}")
              for k, n in enumerate(data.draw(st.lists(st.sampled_from((1, n_samples)), min_size=n_inputs, max_size=n_inputs)))]
    built = [hal.SpikeArrayInput(TARGETS, [([t for t, _ in s], [i for _, i in s]) for s in per_sample]) for per_sample in inputs]
    experiment = hal.Experiment(WaferConfig(), 11.0, built, n_samples=n_samples)
    got, want = experiment.playback(), _sample_by_sample(experiment)
    assert got == want
    assert all(getattr(got, f).dtype == getattr(want, f).dtype for f in ("sample", "time", "hicann", "channel", "address"))
    assert len(got) == sum(len(s) for p in inputs for s in (p if len(p) == n_samples else p * n_samples))
