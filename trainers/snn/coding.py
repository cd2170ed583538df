"""Input coding: from pixel intensities in [0, 1] to spike trains (biological ms).

* :class:`LatencyCoding`: one spike per input at a latency that falls with intensity,
  ``t = tau ln(x / (x - threshold))`` for ``x > threshold`` and none otherwise (the
  time-to-first-spike code of Cramer et al. 2022, which makes MNIST sparse and fast);
* :class:`PoissonCoding`: independent Poisson trains at ``x * max_rate_hz`` in a window
  (a rate code, as Schmitt et al. 2017 use), seeded per sample;
* :class:`StepRateCoding`: the rate code of discrete-time simulators (snnTorch's
  ``spikegen.rate``): in each of ``steps`` steps of ``step_ms`` an input spikes, at the step's
  start, with probability ``rate * x`` -- what a network trained there (and imported through
  NIR, :mod:`hal_trainers.snn.nir`) was trained on.

Both give spikes per sample as ``(times_ms, input index)``, what
:class:`hal.SpikeArrayInput` takes; :func:`spike_grid` puts them on the software twin's
time grid.
"""

from __future__ import annotations

import attrs
import numpy as np

from hal.errors import ConfigError
from hal.validators import at_least, positive

__all__ = ["LatencyCoding", "PoissonCoding", "StepRateCoding", "spike_grid", "Spikes"]

#: Spikes of one sample: (times_ms, input index), sorted by time.
Spikes = tuple[np.ndarray, np.ndarray]


def _images(x, size: int) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.shape[1] != size:
        raise ConfigError(f"input coding: images of shape {x.shape}; expected (samples, {size})")
    if x.size and (not np.all(np.isfinite(x)) or x.min() < 0 or x.max() > 1):
        bad = x[~np.isfinite(x) | (x < 0) | (x > 1)].ravel()[0]
        raise ConfigError(f"input coding: intensity {float(bad)} out of range; valid 0..1 (scale the images first)")
    return x


@attrs.frozen
class LatencyCoding:
    """One spike per input at ``t_offset + tau ln(x / (x - threshold))`` ms, none for ``x <= threshold``.

    ``from_brightest``: measure the latency from that of intensity 1, i.e. subtract
    ``tau ln(1 / (1 - threshold))``, so a full-intensity pixel spikes at ``t_offset_ms``. Cramer
    et al.'s training code shifts each batch's earliest spike to t = 0 for the same reason (a
    longer ``tau`` then spreads the intensities without delaying the image); a fixed shift keeps a
    sample's spikes independent of its batch.
    """

    size: int = attrs.field(validator=at_least(1))
    tau_ms: float = attrs.field(default=5.0, validator=positive(what="time", unit="ms"))
    threshold: float = 0.2
    t_offset_ms: float = 0.5
    from_brightest: bool = False

    def __attrs_post_init__(self):
        if not 0 <= self.threshold < 1:
            raise ConfigError(f"LatencyCoding.threshold: {self.threshold!r} out of range; valid 0 <= threshold < 1")
        if not (np.isfinite(self.t_offset_ms) and self.t_offset_ms >= 0):
            raise ConfigError(f"LatencyCoding.t_offset_ms: {self.t_offset_ms!r} out of range; valid >= 0 ms")
        if not isinstance(self.from_brightest, bool):
            raise ConfigError(f"LatencyCoding.from_brightest: {self.from_brightest!r} invalid; valid True or False")

    @property
    def _shift_ms(self) -> float:
        return self.tau_ms * float(np.log(1 / (1 - self.threshold))) if self.from_brightest else 0.0

    @property
    def latest_ms(self) -> float:
        """Latest spike time: inputs within 5 % of the threshold (whose latency diverges) are cut at 3 tau."""
        return self.t_offset_ms + 3 * self.tau_ms - self._shift_ms

    def times(self, x) -> np.ndarray:
        """(samples, inputs) spike time in ms; NaN where an input does not spike."""
        x = _images(x, self.size)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = self.t_offset_ms - self._shift_ms + self.tau_ms * np.log(x / (x - self.threshold))
        t = np.where(x > self.threshold, t, np.nan)
        return np.where(t <= self.latest_ms, t, np.nan)

    def encode(self, x, seed: int = 0) -> list[Spikes]:
        """Spikes of every sample (deterministic; ``seed`` is accepted for a common signature)."""
        t = self.times(x)
        out = []
        for row in t:
            index = np.flatnonzero(np.isfinite(row))
            order = np.argsort(row[index], kind="stable")
            out.append((row[index][order], index[order]))
        return out


@attrs.frozen
class PoissonCoding:
    """Poisson trains at ``x * max_rate_hz`` in ``[0, window_ms)``; sample ``k`` draws from ``default_rng([seed, k])``."""

    size: int = attrs.field(validator=at_least(1))
    max_rate_hz: float = attrs.field(default=100.0, validator=positive(what="rate", unit="Hz"))
    window_ms: float = attrs.field(default=20.0, validator=positive(what="time", unit="ms"))

    @property
    def latest_ms(self) -> float:
        return self.window_ms

    def encode(self, x, seed: int = 0) -> list[Spikes]:
        x = _images(x, self.size)
        out = []
        for k, row in enumerate(x):
            rng = np.random.default_rng([seed, k])
            counts = rng.poisson(row * self.max_rate_hz * self.window_ms * 1e-3)
            index = np.repeat(np.arange(self.size), counts)
            times = rng.random(index.size) * self.window_ms
            order = np.argsort(times, kind="stable")
            out.append((times[order], index[order]))
        return out


@attrs.frozen
class StepRateCoding:
    """Input ``i`` spikes at ``k * step_ms`` with probability ``rate * x_i``, ``k < steps``; sample ``k`` draws from ``default_rng([seed, k])``."""

    size: int = attrs.field(validator=at_least(1))
    steps: int = attrs.field(validator=at_least(1))
    step_ms: float = attrs.field(validator=positive(what="time", unit="ms"))
    rate: float = 1.0

    def __attrs_post_init__(self):
        if not (isinstance(self.rate, (int, float)) and 0 < self.rate <= 1):
            raise ConfigError(f"StepRateCoding.rate: {self.rate!r} out of range; valid 0 < rate <= 1 (spike probability per step at x = 1)")

    @property
    def latest_ms(self) -> float:
        """The end of the last input step."""
        return self.steps * self.step_ms

    def encode(self, x, seed: int = 0) -> list[Spikes]:
        x = _images(x, self.size)
        out = []
        for k, row in enumerate(x):
            fired = np.random.default_rng([seed, k]).random((self.steps, self.size)) < row * self.rate
            step, index = np.nonzero(fired)  # row-major: sorted by step, then input
            out.append((step * float(self.step_ms), index))
        return out


def spike_grid(spikes: list[Spikes], size: int, steps: int, dt_ms: float, delay_ms: float = 0.0):
    """(samples, steps, size) float tensor of spike counts per step; a spike at ``t`` lands in step
    ``floor((t + delay_ms) / dt_ms)`` (dropped beyond the last step)."""
    import torch

    grid = np.zeros((len(spikes), steps, size), dtype=np.float32)
    for k, (times, index) in enumerate(spikes):
        step = np.floor((np.asarray(times) + delay_ms) / dt_ms).astype(np.int64)
        keep = (step >= 0) & (step < steps)
        np.add.at(grid[k], (step[keep], np.asarray(index)[keep]), 1.0)
    return torch.from_numpy(grid)
