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

The noise model (:mod:`hal_plugins.noisy.model`) reaches the emulator through its
public perturbation interface only (:class:`hal_plugins.emulator.Perturbation`).

Options as the emulator, plus ``noise`` (a :class:`TrialNoise`) and ``seed``.
By default the fixed pattern is that of a calibrated chip (``mismatch="table2"``).
"""

from __future__ import annotations

from hal.backend import Capabilities
from hal.errors import ConfigError
from hal_plugins.emulator import EmulatorBackend
from hal_plugins.noisy.model import PAPER_TRIAL_NOISE, TrialNoise, TrialToTrialNoise

__all__ = ["NoisyBackend"]


class NoisyBackend(EmulatorBackend):
    """The emulator with a :class:`TrialToTrialNoise` perturbation and a calibrated fixed pattern."""

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
        if "perturbation" in options:
            raise ConfigError(
                f"noisy backend perturbation: {options['perturbation']!r} not accepted; the noisy backend's perturbation "
                f"is its trial-to-trial noise (options noise, seed); valid: use the emulator backend with perturbation=..."
            )
        super().__init__(wafer, mismatch=mismatch, perturbation=TrialToTrialNoise(noise, seed), **options)

    @property
    def noise(self) -> TrialNoise:
        """The magnitudes of the trial-to-trial variation."""
        return self.perturbation.noise

    @property
    def seed(self) -> int:
        """The noise's seed."""
        return self.perturbation.seed
