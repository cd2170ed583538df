"""The emulator backend: the analog chip as manufactured.

It reads the registers like every backend (:func:`hal.netlist.wiring.extract_wiring`),
applies this wafer's fixed-pattern deviations to every circuit and synapse
(:mod:`hal_plugins.emulator.mismatch`), passes input and output events through the
FPGA link model (:mod:`hal_plugins.emulator.links`), and integrates the network
with the compiled kernel (:mod:`hal_plugins.emulator.kernel`), all samples of a
batch side by side on all cores.

Options: ``mismatch`` (a :class:`MismatchModel`, or ``"uncalibrated"``,
``"table2"``, ``"none"``), ``links`` (a :class:`LinkModel`, or ``"lossless"``),
``dt_ms``, ``dtype`` (``"float64"`` or ``"float32"``), ``threads``, ``simd`` (the compiled
pass: ``"avx512"``, ``"avx2"`` or ``"baseline"``; default the best this CPU runs -- all give
the same numbers), and
``perturbation`` (a :class:`~hal_plugins.emulator.perturbation.Perturbation`:
trial-to-trial changes on top of the fixed pattern; ``None``, the default, for none).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np

from hal.backend import Backend, Capabilities, RunRequest, RunResult
from hal.analog.domains import PAPER_DOMAINS, Domains
from hal.configuration.configurator import RegisterWrite
from hal.errors import BackendError, ConfigError, UnknownNameError
from hal.netlist import build_netlist, trace_events
from hal.netlist.bio import L1_DELAY_HW_S, bio_parameters, integration_step, membrane_neurons
from hal.netlist.wiring import SynapseTable, Wiring, WiringCache
from hal_plugins.emulator.kernel import DEFAULT_DT_MS, EmulatorNetwork, simd_levels, simulate
from hal_plugins.emulator.links import LOSSLESS, LinkModel, pass_events
from hal_plugins.emulator.mismatch import NONE, TABLE_II, UNCALIBRATED, CircuitDeviations, MismatchModel
from hal_plugins.emulator.perturbation import FLOATING_GATE_CELLS, Events, Perturbation, RunContext, Trial

__all__ = ["EmulatorBackend"]


_MISMATCH = {"uncalibrated": UNCALIBRATED, "table2": TABLE_II, "none": NONE}
_LINKS = {"realistic": LinkModel(), "lossless": LOSSLESS}


def _choose(kind: str, value: Any, presets: dict, cls: type):
    if isinstance(value, cls):
        return value
    if isinstance(value, str) and value in presets:
        return presets[value]
    raise UnknownNameError(f"{kind} preset", str(value), presets)


class EmulatorBackend(Backend):
    """Fast emulation of the analog chip with device mismatch and link limits."""

    name = "emulator"
    capabilities = Capabilities(
        membrane_readout=True,
        adaptation_and_exponential=True,
        fixed_pattern_mismatch=True,
        lossy_links=True,
        deterministic=True,
    )

    def __init__(self, wafer=0, *, mismatch: MismatchModel | str = "uncalibrated", links: LinkModel | str = "realistic",
                 dt_ms: float = DEFAULT_DT_MS, dtype: str = "float64", threads: int | None = None,
                 domains: Domains = PAPER_DOMAINS, perturbation: Perturbation | None = None, simd: str | None = None, **options):
        super().__init__(wafer, **options)
        self._deviations: dict[int, CircuitDeviations] = {}
        #: The last run's reading of the registers, reused while only synapse weights change
        #: (an in-the-loop step); see :class:`hal.netlist.wiring.WiringCache`.
        self.wiring_cache = WiringCache()
        self.mismatch = mismatch
        self.links = _choose("links", links, _LINKS, LinkModel)
        # Below 1 us biological (0.1 ns on the chip) a step only multiplies time and memory.
        if not (isinstance(dt_ms, (int, float)) and not isinstance(dt_ms, bool) and 0.001 <= dt_ms <= 0.2):
            raise ConfigError(f"emulator dt_ms: {dt_ms!r} out of range; valid 0.001 <= dt_ms <= 0.2 (biological ms)")
        if dtype not in ("float64", "float32"):
            raise ConfigError(f"emulator dtype: {dtype!r} not valid; valid float64, float32")
        if threads is not None and (not isinstance(threads, int) or isinstance(threads, bool) or threads < 1):
            raise ConfigError(f"emulator threads: {threads!r} out of range; valid an integer >= 1")
        if simd is not None and simd not in simd_levels():
            raise ConfigError(f"emulator simd: {simd!r} not available on this CPU; valid {', '.join(simd_levels()) or 'none (kernel not built)'}")
        self.simd = simd
        self.dt_ms = float(dt_ms)
        self.dtype = np.float64 if dtype == "float64" else np.float32
        self.threads = threads
        self.domains = domains
        if perturbation is not None and not isinstance(perturbation, Perturbation):
            raise ConfigError(
                f"emulator perturbation: {perturbation!r} is not valid; valid None or an instance of "
                f"hal_plugins.emulator.Perturbation (subclass it)"
            )
        #: Trial-to-trial changes on top of the fixed pattern (:mod:`hal_plugins.emulator.perturbation`).
        self.perturbation = perturbation

    # -- what the fixed pattern is drawn from: replacing it forgets every deviation drawn so far -----

    @property
    def mismatch(self) -> MismatchModel:
        """The fixed-pattern mismatch model (a :class:`MismatchModel` or a preset's name when set)."""
        return self._mismatch

    @mismatch.setter
    def mismatch(self, value: MismatchModel | str) -> None:
        self._mismatch = _choose("mismatch", value, _MISMATCH, MismatchModel)
        self._forget_fixed_pattern()

    @property
    def table_ii_voltages(self) -> bool:
        """Whether the voltages deviate as the paper's Table II says (the ``table2`` preset)."""
        return self._mismatch is TABLE_II

    @property
    def domains(self) -> Domains:
        """The hardware <-> biology translation; the deviations are drawn in its units."""
        return self._domains

    @domains.setter
    def domains(self, value: Domains) -> None:
        if not isinstance(value, Domains):
            raise ConfigError(f"emulator domains: {value!r} is not valid; valid an instance of hal.analog.domains.Domains")
        self._domains = value
        self._forget_fixed_pattern()

    def _forget_fixed_pattern(self) -> None:
        # The deviations and the registers' reading (which holds the deviated parameters) came from the
        # old model: kept, the next run would emulate the old chip.
        self._deviations.clear()
        self.wiring_cache.clear()

    # -- register access: the perturbation hears of floating-gate programming and resets ---------

    def write_registers(self, write: RegisterWrite) -> None:
        super().write_registers(write)
        if self.perturbation is not None and write.register == FLOATING_GATE_CELLS:
            self.perturbation.floating_gates_programmed(write)

    def reset(self) -> None:
        super().reset()
        self.wiring_cache.clear()
        if self.perturbation is not None:
            self.perturbation.reset()

    # -- the chip's analog side -----------------------------------------------------------------

    def deviations(self, hicann: int) -> CircuitDeviations:
        """This wafer's fixed-pattern deviations of one HICANN (hidden from calibration routines)."""
        dev = self._deviations.get(hicann)
        if dev is None:
            dev = self._deviations[hicann] = CircuitDeviations.draw(
                self.mismatch, self.wafer.id, hicann, table_ii_voltages=self.table_ii_voltages, alpha=self.domains.alpha
            )
        return dev

    def _denmem_transform(self, hicann, per_denmem):
        if self.mismatch.is_zero and not self.table_ii_voltages:
            return per_denmem
        return self.deviations(hicann.enum).apply(per_denmem)

    def _synapse_gains(self, wiring: Wiring, net) -> np.ndarray:
        if self.mismatch.is_zero:
            return np.ones(net.n_connections)
        hicann = net.synapse_hicann
        if hicann.size == 0:  # no synapse (a calibration's lone neurons): nothing to draw
            return np.ones(net.n_connections)
        # One pass over HICANN groups (slices where the table is ordered by HICANN, as the wafer's is):
        # a mask per HICANN would scan all 44 M synapses of a wafer 384 times.
        order = None if hicann.size < 2 or bool(np.all(hicann[1:] >= hicann[:-1])) else np.argsort(hicann, kind="stable")
        ordered = hicann if order is None else hicann[order]
        bounds = np.concatenate(([0], np.flatnonzero(ordered[1:] != ordered[:-1]) + 1, [ordered.size]))
        gains = np.empty(net.n_connections)
        for a, b in zip(bounds[:-1], bounds[1:]):
            dev = self.deviations(int(ordered[a]))
            sel = slice(a, b) if order is None else order[a:b]
            rows, cols = net.synapse_row[sel], net.synapse_column[sel]
            gains[sel] = dev.driver_gain[rows // 2] * dev.synapse_gain[rows, cols]
        return gains

    # -- running -----------------------------------------------------------------------------------

    def _trial(self, request: RunRequest) -> Trial:
        if self.perturbation is None:
            return Trial()
        context = RunContext(wafer=self.wafer.id, seed=request.seed, n_samples=request.n_samples, duration=request.duration,
                             domains=self.domains)
        trial = self.perturbation.trial(context)
        if not isinstance(trial, Trial):
            raise BackendError(f"perturbation {self.perturbation!r}: trial() returned {trial!r}; valid a hal_plugins.emulator.Trial")
        return trial

    def _parameters(self, wiring: Wiring, trial: Trial) -> tuple[dict, bool]:
        """The neurons' parameters in biological units (after the fixed pattern and the trial's changes)."""
        d = self.domains
        p = wiring.parameters
        params = bio_parameters(p, d)
        adex = bool(wiring.adex_in_use)
        if adex:
            params.update(
                a_ns=p["a_ns"] / d.speedup,
                b_pa=p["b_na"] * 1e3 / d.speedup / d.alpha,  # current jump, rescaled like g * V
                tau_w_ms=d.tau_to_bio_ms(p["tau_w_us"]),
                delta_t_mv=np.where(p["exp_bias_na"] > 0, d.voltage_difference_to_bio(p["delta_t_mv"]), 0.0),
                v_exp_mv=d.hw_mv_to_mv(p["v_exp_mv"]),
            )
        changed = trial.neuron_parameters(params)
        if changed is not params:
            changed = _checked_parameters(self.perturbation, params, changed)
        return changed, adex

    def _inputs(self, net, trial: Trial, request: RunRequest) -> tuple[Events, dict]:
        """Input events through the links (events from background generators stay on the wafer), then the trial."""
        from_fpga = net.in_link >= 0
        accepted, delivered, lost_in = pass_events(self.links, net.in_sample[from_fpga], net.in_time[from_fpga], net.in_link[from_fpga], "input")
        keep = np.ones(net.in_time.size, dtype=bool)
        keep[np.flatnonzero(from_fpga)[~accepted]] = False
        in_time = net.in_time.copy()
        in_time[np.flatnonzero(from_fpga)[accepted]] = delivered[accepted]
        events = Events(net.in_sample, in_time, net.in_source, keep)
        changed = trial.input_events(events)
        if changed is not events:
            _check_events(self.perturbation, "input_events", changed, request, n_index=net.n_sources, inputs=True)
        return changed, lost_in

    def _run(self, request: RunRequest) -> RunResult:
        config = self.wafer_config()
        self.require_locked()
        wiring = self.wiring_cache.read(config, denmem_transform=self._denmem_transform)
        d = self.domains
        if not wiring.neurons:
            return RunResult(trace_events(wiring, [], [], [], config, request.duration), info={"neurons": 0})
        trial = self._trial(request)
        params, adex = self._parameters(wiring, trial)
        emulated, facts, lost_in = self._network(wiring, params, adex, trial, request)
        # The kernel has what it needs: the synapse table's columns it does not share (1 GB on a full
        # wafer) are let go before it builds its own tables, the peak of the run.
        wiring = attrs.evolve(wiring, synapses=SynapseTable.empty())
        # Which neuron each requested membrane belongs to: the same at every step of a training loop.
        record = self.wiring_cache.derived("membrane_neurons", request.membrane, lambda: membrane_neurons(wiring, request))
        dt, membrane_dt = integration_step(self.dt_ms, request, d, record is not None)
        result = simulate(emulated, request.n_samples, float(d.ticks_to_ms(request.duration)), dt_ms=dt, record=record,
                          record_every_ms=membrane_dt, dtype=self.dtype, threads=self.threads, simd=self.simd)
        trace, lost_out = self._outputs(wiring, config, result, trial, request)
        membrane = times = None
        if record is not None:
            membrane = d.mv_to_hw_mv(np.transpose(result.membrane, (1, 0, 2)))
            times = d.ms_to_ticks(result.membrane_times_ms)
        info = {"neurons": len(wiring.neurons), "synapses": facts["synapses"], "sources": facts["sources"], "dt_ms": dt,
                "input_events": facts["input_events"], "spikes": int(result.spike_time_ms.size)}
        return RunResult(trace, membrane, times, lost_input=lost_in, lost_output=lost_out, info=info)

    def _network(self, wiring: Wiring, params: dict, adex: bool, trial: Trial, request: RunRequest) -> tuple[EmulatorNetwork, dict, dict]:
        """(the network the kernel integrates, the netlist's counts for the run's info, lost input events).

        The netlist lives only here, so that its columns go once the kernel's network has what it needs.
        """
        d = self.domains
        net = build_netlist(wiring, request.playback, request.n_samples, request.duration, request.seed)
        # In place in the gains' own (fresh) array: at wafer scale each temporary is 0.35 GB.
        weights = self._synapse_gains(wiring, net)
        np.multiply(net.conductance_ns, weights, out=weights)
        weights /= d.speedup
        changed = trial.synapse_weights(weights)
        if changed is not weights:
            weights = _checked_weights(self.perturbation, weights, changed)
        inputs, lost_in = self._inputs(net, trial, request)
        on = inputs.delivered
        emulated = EmulatorNetwork(
            params=params, n_sources=net.n_sources, pre=net.pre, post=net.post, weight_ns=weights,
            excitatory=net.excitatory, delay_ms=float(d.hw_s_to_ms(L1_DELAY_HW_S)),
            in_sample=inputs.sample[on], in_time_ms=d.ticks_to_ms(inputs.tick[on]), in_source=inputs.index[on], adex=adex,
        )
        facts = {"synapses": net.n_connections, "sources": net.n_sources, "input_events": int(net.in_time.size)}
        lost_in = dict(lost_in)
        if net.unrouted:
            lost_in["unrouted"] = net.unrouted
        return emulated, facts, lost_in

    def _outputs(self, wiring: Wiring, config, result, trial: Trial, request: RunRequest):
        """The neurons' spikes, changed by the trial, as the FPGA trace after the output links."""
        spikes = Events(result.spike_sample, self.domains.ms_to_ticks(result.spike_time_ms), result.spike_neuron,
                        np.ones(result.spike_sample.size, dtype=bool))
        changed = trial.output_spikes(spikes)
        if changed is not spikes:
            _check_events(self.perturbation, "output_spikes", changed, request, n_index=len(wiring.neurons), inputs=False)
            spikes = changed
        on = spikes.delivered
        trace = trace_events(wiring, spikes.sample[on], spikes.tick[on], spikes.index[on], config, request.duration)
        ok, out_ticks, lost_out = pass_events(self.links, trace.sample, trace.time, trace.hicann, "output")
        if not np.all(ok) or not np.array_equal(out_ticks, trace.time):
            trace = trace.select(ok)
            trace = type(trace)(trace.sample, np.minimum(out_ticks[ok], request.duration - 1), trace.hicann, trace.channel, trace.address).sorted()
        return trace, lost_out


# -- what a perturbation returns is checked before it is used -------------------------------------------


def _checked_parameters(perturbation, before: dict, after) -> dict:
    if not isinstance(after, Mapping) or set(after) != set(before):
        got = sorted(after) if isinstance(after, Mapping) else type(after).__name__
        raise BackendError(f"perturbation {perturbation!r}: neuron_parameters returned {got}; valid a mapping with the names {sorted(before)}")
    out = {}
    for key, value in after.items():
        value = np.asarray(value, dtype=float)
        n = before[key].shape
        if value.shape != n or not np.all(np.isfinite(value)):
            raise BackendError(f"perturbation {perturbation!r}: neuron parameter {key} has shape {value.shape}; valid {n} finite values")
        out[key] = value
    return out


def _checked_weights(perturbation, before: np.ndarray, after) -> np.ndarray:
    after = np.asarray(after, dtype=float)
    if after.shape != before.shape or not np.all(np.isfinite(after)) or np.any(after < 0):
        raise BackendError(f"perturbation {perturbation!r}: synapse_weights returned shape {after.shape} "
                           f"(min {after.min() if after.size else None}); valid {before.shape} finite values >= 0")
    return after


def _check_events(perturbation, hook: str, events, request: RunRequest, *, n_index: int, inputs: bool) -> None:
    if not isinstance(events, Events):
        raise BackendError(f"perturbation {perturbation!r}: {hook} returned {type(events).__name__}; valid hal_plugins.emulator.Events")
    on = events.delivered
    for name, values, limit in (("sample", events.sample[on], request.n_samples), ("index", events.index[on], n_index)):
        if values.size and (values.min() < 0 or values.max() >= limit):
            bad = int(values.min()) if values.min() < 0 else int(values.max())
            raise BackendError(f"perturbation {perturbation!r}: {hook} returned {name} {bad}; valid 0..{limit - 1}")
    if inputs and on.any() and events.tick[on].min() < 0:
        raise BackendError(f"perturbation {perturbation!r}: {hook} returned tick {int(events.tick[on].min())}; "
                           f"valid >= 0 (events after the run's end are ignored)")
