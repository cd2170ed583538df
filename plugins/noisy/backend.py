"""The emulator plus trial-to-trial variation: the default backend for reproducing the paper.

On top of the emulator's fixed-pattern mismatch, the analog parameters deviate
anew whenever the floating gates are written (programming a floating-gate cell
hits its target only up to a variation; Schmitt et al. 2017 name this
trial-to-trial variation of the analog storage the main remaining variability
after calibration): a configuration write that touches ``fg_cell`` draws new
deviations, which then hold until the next such write, as they would on the
chip. The synaptic weights deviate anew at each run by a small amount, and
every spike time jitters (clock-domain crossing, 18 ns hardware std). The noise
is seeded: the same ``seed`` option and the same sequence of writes and runs
give the same results.

Options as the emulator, plus ``noise`` (a :class:`TrialNoise`) and ``seed``.
By default the fixed pattern is that of a calibrated chip (``mismatch="table2"``).
"""

from __future__ import annotations

import numpy as np

from hal.backend import Capabilities, RunRequest
from hal.errors import ConfigError
from hal_plugins.emulator.backend import EmulatorBackend
from hal_plugins.emulator.mismatch import PAPER_TRIAL_NOISE, TrialNoise

__all__ = ["NoisyBackend"]

_TICK_S = 4e-9


class NoisyBackend(EmulatorBackend):
    name = "noisy"
    capabilities = Capabilities(
        membrane_readout=True,
        adaptation_and_exponential=True,
        fixed_pattern_mismatch=True,
        trial_to_trial_noise=True,
        lossy_links=True,
        deterministic=False,
    )

    def __init__(self, wafer=0, *, noise: TrialNoise = PAPER_TRIAL_NOISE, seed: int = 0, mismatch="table2", **options):
        super().__init__(wafer, mismatch=mismatch, **options)
        if not isinstance(noise, TrialNoise):
            raise ConfigError(f"noisy backend noise: {noise!r} is not a TrialNoise")
        if not isinstance(seed, int) or seed < 0:
            raise ConfigError(f"noisy backend seed: {seed!r} out of range; valid an integer >= 0")
        self.noise = noise
        self.seed = seed
        self.runs = 0  # the n-th run of a backend with a seed: jitter and synapse noise
        self.fg_writes = 0  # the n-th floating-gate programming: parameter deviations

    def write_registers(self, write) -> None:
        super().write_registers(write)
        if write.register == "fg_cell":
            self.fg_writes += 1

    def reset(self) -> None:
        super().reset()
        self.fg_writes = 0

    def _rng(self, request: RunRequest) -> np.random.Generator:
        return np.random.default_rng([self.seed, self.wafer.id, request.seed, self.runs])

    def _trial_variation(self, request, params, weights, in_time):
        rng = self._rng(request)
        self.runs += 1
        n = params["c_m_pf"].size
        # Parameter deviations belong to the last floating-gate programming, not to the run.
        offsets, gains = self.noise.draw(np.random.default_rng([self.seed, self.wafer.id, self.fg_writes, 0xF6]), n, self.domains.alpha)
        params = dict(params)
        for key, off in offsets.items():
            params[key] = params[key] + self.domains.voltage_difference_to_bio(off)
        params["g_l_ns"] = params["g_l_ns"] * gains["g_l_ns"]
        params["tau_syn_e_ms"] = params["tau_syn_e_ms"] * gains["tau_syn_e_us"]
        params["tau_syn_i_ms"] = params["tau_syn_i_ms"] * gains["tau_syn_i_us"]
        weights = weights * np.exp(self.noise.synapse * rng.standard_normal(weights.size))
        jitter = rng.normal(0.0, self.noise.spike_jitter_hw_s / _TICK_S, size=in_time.size)
        in_time = np.clip(np.rint(in_time + jitter), 0, request.duration - 1).astype(np.int64)
        self._jitter_rng = rng
        return params, weights, in_time

    def _output_ticks(self, request, ticks):
        jitter = self._jitter_rng.normal(0.0, self.noise.spike_jitter_hw_s / _TICK_S, size=ticks.size)
        return np.rint(ticks + jitter).astype(np.int64)
