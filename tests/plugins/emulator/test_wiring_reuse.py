"""Runs that change only synapse weights reuse the emulator's reading of the registers (an in-the-loop
step), and give what a fresh backend gives, spike for spike; any other register change is read anew."""

from __future__ import annotations

import numpy as np
import pytest

import hal
from hal.errors import ConfigError, UnknownNameError
from hal.experiment import Experiment, PoissonInput
from hal.hardware.hicann import MergerMode
from hal.testing.networks import paper_network
from hal_plugins.emulator.kernel import kernel_available

pytestmark = pytest.mark.skipif(not kernel_available(), reason="emulator kernel not built (pip install -e .)")


@pytest.fixture(scope="module")
def net():
    return paper_network(seed=5)


def _experiment(net, config) -> Experiment:
    rates = np.random.default_rng(1).random((2, 100))
    hidden = [net.neuron(1, k) for k in (1, 2, 3)]  # not neuron 0, which an edit below switches off
    return Experiment(config, 100.0, [PoissonInput(net.inputs, rates / rates.sum(1, keepdims=True) * 1500.0, stop_ms=90.0, seed=3)],
                      record_membrane=hidden, membrane_interval_ms=1.0, seed=4)


def _same(a: hal.Recording, b: hal.Recording) -> bool:
    ha, hb = a.hardware, b.hardware
    return (ha.trace == hb.trace and np.array_equal(ha.membrane, hb.membrane) and dict(ha.lost_input) == dict(hb.lost_input)
            and dict(ha.lost_output) == dict(hb.lost_output) and np.array_equal(a.spike_counts, b.spike_counts))


def _fresh(experiment) -> hal.Recording:
    return hal.run(experiment, hal.get_backend("emulator", wafer=3))


def _new_weights(net, config, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for layer, (a, b) in enumerate(zip(net.sizes[:-1], net.sizes[1:])):
        m = rng.integers(-15, 16, size=(b, a)) * (rng.random((b, a)) < 0.7)  # zeros too: synapses go and come
        net.mapping.set_weights(config, 1 + 2 * layer, np.where(m > 0, m, 0).ravel())
        net.mapping.set_weights(config, 2 + 2 * layer, np.where(m < 0, -m, 0).ravel())


def test_weight_only_steps_read_the_registers_once_and_match_a_fresh_backend(net):
    config = net.config.copy()
    experiment = _experiment(net, config)
    backend = hal.get_backend("emulator", wafer=3)
    first = hal.run(experiment, backend)
    assert _same(first, _fresh(experiment))
    previous = first
    for step in range(3):
        _new_weights(net, config, step)
        got = hal.run(experiment, backend)
        assert _same(got, _fresh(experiment))
        assert not np.array_equal(got.spike_counts, previous.spike_counts)  # the new weights took effect
        previous = got
    assert (backend.wiring_cache.reads, backend.wiring_cache.reuses) == (1, 3)
    assert hal.run(experiment, backend).hardware.trace == previous.hardware.trace  # nothing changed: the same run


def _first_hidden(net):
    return net.circuits(1, 0)


def _threshold_down(net, config):
    h, denmems = _first_hidden(net)
    chip = config.hicann(h)
    chip.set_neuron_parameter("V_t", chip.neuron_parameter("V_t")[denmems[0].enum] - 150, [denmems[0]])


def _firing_off(net, config):
    h, denmems = _first_hidden(net)
    config.hicann(h).neurons.update(denmems[0], activate_firing=False)


def _driver_off(net, config):
    for h, chip in config.hicanns():
        on = np.flatnonzero(chip.synapse_drivers.column("enable"))
        if on.size:
            chip.synapse_drivers.update(int(on[0]), enable=False)
            return


def _gmax_divisor(net, config):
    for h, chip in config.hicanns():
        rows = np.flatnonzero(chip.synapse_rows.column("input_excitatory"))
        for row in rows[:20]:
            divisor = chip.synapse_rows[int(row)].gmax_div_excitatory
            chip.synapse_rows.update(int(row), gmax_div_excitatory=divisor + 1 if divisor < 15 else 1)


def _decoders(net, config):
    for h, chip in config.hicanns():
        rows = np.flatnonzero(chip.synapse_rows.column("input_excitatory"))[:20]
        chip.set_decoders((chip.decoders[rows] + 1) % 16, rows=rows)


def _synapse_switches_open(net, config):
    h, _ = _first_hidden(net)
    config.hicann(h).set_synapse_switches(0)


def _dnc_merger(net, config):
    for h, chip in config.hicanns():
        for j in range(8):
            if chip.dnc_mergers[j].mode is MergerMode.LEFT_ONLY:
                chip.dnc_mergers.update(j, mode=MergerMode.RIGHT_ONLY)
                return


#: Edits of each kind of non-weight register that changes the run.
EDITS = {
    "neuron parameter (fg_cell)": _threshold_down,
    "neuron configuration": _firing_off,
    "synapse driver": _driver_off,
    "synapse row (gmax divisor)": _gmax_divisor,
    "synapse decoders": _decoders,
    "synapse switches (routing)": _synapse_switches_open,
    "DNC merger": _dnc_merger,
}


@pytest.mark.parametrize("edit", list(EDITS.values()), ids=list(EDITS))
def test_a_non_weight_change_between_runs_is_read_and_matches_a_fresh_backend(net, edit):
    config = net.config.copy()
    experiment = _experiment(net, config)
    backend = hal.get_backend("emulator", wafer=3)
    before = hal.run(experiment, backend)
    hal.run(experiment, backend)  # now the weight-free table is kept too
    edit(net, config)
    after = hal.run(experiment, backend)
    assert backend.wiring_cache.reads == 2
    assert _same(after, _fresh(experiment))
    assert not _same(after, before)  # a reused reading would have given the old run


def test_reset_forgets_the_reading(net):
    experiment = _experiment(net, net.config.copy())
    backend = hal.get_backend("emulator", wafer=3)
    first = hal.run(experiment, backend)
    backend.reset()
    assert _same(hal.run(experiment, backend), first)
    assert backend.wiring_cache.reads == 2


def test_hal_run_keeps_its_own_reading_per_backend(net):
    config = net.config.copy()
    experiment = _experiment(net, config)
    a, b = hal.get_backend("emulator", wafer=3), hal.get_backend("emulator", wafer=3)
    hal.run(experiment, a)
    _new_weights(net, config, 7)
    hal.run(experiment, a)
    hal.run(experiment, b)
    cache_a, cache_b = a.caches["hal.experiment.run.wiring"], b.caches["hal.experiment.run.wiring"]
    assert (cache_a.reads, cache_a.reuses) == (1, 1)
    assert (cache_b.reads, cache_b.reuses) == (1, 0)
    # A neuron that no longer fires is no longer recorded: hal.run's reading saw the change too.
    _firing_off(net, config)
    h, denmems = _first_hidden(net)
    rec = hal.run(experiment, a)
    assert cache_a.reads == 2
    assert (h, denmems[0]) not in {(n.hicann, n.firing) for n in rec.neurons}
    assert len(rec.neurons) == len(hal.run(experiment, b).neurons)
    a.reset()  # forgets the registers, and with them every cache kept on the backend
    assert a.caches == {}


def test_a_recorded_neuron_switched_off_between_runs_is_refused_before_the_backend_is_touched(net):
    config = net.config.copy()
    h, denmems = net.circuits(1, 1)
    experiment = _experiment(net, config)
    backend = hal.get_backend("emulator", wafer=3)
    hal.run(experiment, backend)
    hal.run(experiment, backend)
    applied = backend.configurator.applied.copy()
    config.hicann(h).neurons.update(denmems[0], activate_firing=False)
    with pytest.raises(ConfigError, match=r"record_membrane\[0\]: .*belongs to no logical neuron"):
        hal.run(experiment, backend)
    assert backend.configurator.applied == applied  # nothing written


@pytest.mark.parametrize("preset", ["none", "table2"])
def test_a_new_mismatch_model_takes_effect_on_the_next_run(net, preset):
    # The fixed pattern is drawn per HICANN and the registers' reading is kept between runs: both
    # must be forgotten when the model they came from is replaced, or the old chip keeps running.
    experiment = _experiment(net, net.config.copy())
    backend = hal.get_backend("emulator", wafer=3)
    before = hal.run(experiment, backend)
    backend.mismatch = preset
    after = hal.run(experiment, backend)
    expected = hal.run(experiment, hal.get_backend("emulator", wafer=3, mismatch=preset))
    assert _same(after, expected)
    assert not _same(after, before)


def test_an_unknown_mismatch_preset_is_refused_and_the_old_model_kept(net):
    backend = hal.get_backend("emulator", wafer=3)
    old = backend.mismatch
    with pytest.raises(UnknownNameError, match="mismatch preset.*'typo'.*uncalibrated"):
        backend.mismatch = "typo"
    assert backend.mismatch is old


def test_domains_that_are_not_domains_are_refused_and_the_old_ones_kept():
    backend = hal.get_backend("emulator", wafer=3)
    old = backend.domains
    with pytest.raises(ConfigError, match=r"emulator domains: 'paper' is not valid; valid an instance of hal.analog.domains.Domains"):
        backend.domains = "paper"
    assert backend.domains is old
