"""Trial-to-trial variation of the analog chip, as a perturbation of the emulator.

Two kinds of variation, after Schmitt et al. 2017 (trial-to-trial variation of
the analog storage is the main variability left after calibration):

* **per floating-gate programming**: each write to the floating-gate cells hits
  its target only up to a variation, which then holds until the next write.
  Membrane voltages (E_l, V_t, V_reset, E_syn) get offsets, the leak
  conductance and the synaptic time constants log-normal gains, drawn from
  ``numpy.random.default_rng([seed, wafer, programming, 0xF6])``;
* **per run**: every synaptic weight gets a small log-normal gain and every
  input event and output spike a Gaussian time jitter (clock-domain crossing,
  18 ns hardware std), drawn in that order from
  ``numpy.random.default_rng([seed, wafer, request seed, run])``, where ``run`` counts the
  earlier runs with the same request seed: a run's noise depends on its seed and how often
  that seed ran before, not on other runs (so a training resumed from a checkpoint, whose
  runs have seeds of their own, draws what the uninterrupted run drew).

:class:`TrialNoise` holds the magnitudes, :class:`TrialToTrialNoise` applies them
through the emulator's public :class:`~hal_plugins.emulator.Perturbation` interface.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs
import numpy as np

from hal.analog.domains import TICK_HW_S
from hal.configuration.configurator import RegisterWrite
from hal.errors import ConfigError
from hal_plugins.emulator import TABLE_II_VOLTAGE_SPREAD_BIO_MV, Events, Perturbation, RunContext, Trial

__all__ = ["TrialNoise", "PAPER_TRIAL_NOISE", "TrialToTrialNoise"]


@attrs.frozen
class TrialNoise:
    """Magnitudes of the trial-to-trial variation.

    ``voltage_bio_mv``: standard deviation of the offset per membrane voltage, biological mV
    (converted to hardware with the backend's alpha); ``g_l``, ``tau_syn``, ``synapse``:
    standard deviations of log-normal gains; ``spike_jitter_hw_s``: standard deviation of
    the event time jitter in hardware seconds.
    """

    voltage_bio_mv: dict = attrs.field(factory=lambda: {k: 0.3 * v for k, v in TABLE_II_VOLTAGE_SPREAD_BIO_MV.items()})
    g_l: float = 0.03
    tau_syn: float = 0.03
    synapse: float = 0.02
    spike_jitter_hw_s: float = 18e-9  # clock-domain crossing (HARDWARE_FACTS.md section 7)

    def draw(self, rng: np.random.Generator, n: int, alpha: float) -> tuple[dict, dict]:
        """Voltage offsets (hardware mV) and gains for ``n`` neurons, one programming's worth."""
        offsets = {k: rng.standard_normal(n) * s * alpha for k, s in self.voltage_bio_mv.items()}
        gains = {
            "g_l_ns": np.exp(self.g_l * rng.standard_normal(n)),
            "tau_syn_e_us": np.exp(self.tau_syn * rng.standard_normal(n)),
            "tau_syn_i_us": np.exp(self.tau_syn * rng.standard_normal(n)),
        }
        return offsets, gains


#: Default trial-to-trial noise: 30% of Table II's spreads per run, 18 ns hardware spike jitter.
PAPER_TRIAL_NOISE = TrialNoise()

# Gains drawn for hardware parameters -> the biological parameters they scale.
_GAIN_TARGETS = {"g_l_ns": "g_l_ns", "tau_syn_e_us": "tau_syn_e_ms", "tau_syn_i_us": "tau_syn_i_ms"}


class TrialToTrialNoise(Perturbation):
    """The emulator perturbation that applies :class:`TrialNoise`, seeded.

    The same ``seed`` and the same sequence of floating-gate writes, resets and runs
    give the same results. ``programmings`` counts floating-gate writes since the last
    reset, ``runs`` the runs with neurons since construction (per request seed in
    ``runs_per_seed``, which keys the per-run draws).
    """

    def __init__(self, noise: TrialNoise = PAPER_TRIAL_NOISE, seed: int = 0):
        if not isinstance(noise, TrialNoise):
            raise ConfigError(f"noisy backend noise: {noise!r} is not valid; valid a hal_plugins.noisy.model.TrialNoise")
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise ConfigError(f"noisy backend seed: {seed!r} out of range; valid an integer >= 0")
        self.noise = noise
        self.seed = seed
        self.programmings = 0
        self.runs = 0
        self.runs_per_seed: dict[int, int] = {}

    def floating_gates_programmed(self, write: RegisterWrite) -> None:
        self.programmings += 1

    def reset(self) -> None:
        self.programmings = 0

    def trial(self, run: RunContext) -> Trial:
        earlier = self.runs_per_seed.get(run.seed, 0)
        rng = np.random.default_rng([self.seed, run.wafer, run.seed, earlier])
        self.runs_per_seed[run.seed] = earlier + 1
        self.runs += 1
        programming = np.random.default_rng([self.seed, run.wafer, self.programmings, 0xF6])
        jitter_ticks = self.noise.spike_jitter_hw_s / TICK_HW_S

        def neuron_parameters(params: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
            # The deviations belong to the last floating-gate programming, not to the run.
            offsets, gains = self.noise.draw(programming, params["c_m_pf"].size, run.domains.alpha)
            out = dict(params)
            for key, offset in offsets.items():
                out[key] = out[key] + run.domains.voltage_difference_to_bio(offset)
            for key, gain in gains.items():
                out[_GAIN_TARGETS[key]] = out[_GAIN_TARGETS[key]] * gain
            return out

        def synapse_weights(weights_ns: np.ndarray) -> np.ndarray:
            return weights_ns * np.exp(self.noise.synapse * rng.standard_normal(weights_ns.size))

        def input_events(events: Events) -> Events:
            jitter = rng.normal(0.0, jitter_ticks, size=len(events))
            return events.shifted(np.clip(np.rint(events.tick + jitter), 0, run.duration - 1).astype(np.int64))

        def output_spikes(events: Events) -> Events:
            jitter = rng.normal(0.0, jitter_ticks, size=len(events))
            return events.shifted(np.rint(events.tick + jitter).astype(np.int64))

        return Trial(neuron_parameters, synapse_weights, input_events, output_spikes)

    def __repr__(self) -> str:
        return f"<TrialToTrialNoise seed={self.seed} programmings={self.programmings} runs={self.runs}>"
