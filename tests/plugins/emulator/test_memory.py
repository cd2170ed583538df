"""One synapse table per run: ``hal.run`` reads the wiring without synapses and the emulator reads
the one table it integrates (issue 16: two full tables were 5 GB of the full wafer's peak)."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import hal
import hal.netlist.wiring as wiring_module
import hal_plugins.emulator.backend as emulator_module
from hal.testing.networks import paper_network, poisson_experiment
from hal_plugins.emulator.kernel import kernel_available

pytestmark = pytest.mark.skipif(not kernel_available(), reason="emulator kernel not built (pip install -e .)")


def test_a_run_reads_the_synapse_table_once_and_records_the_same(monkeypatch):
    net = paper_network(seed=1)
    exp = poisson_experiment(net, np.full((2, 100), 25.0), seed=2)
    before = hal.run(exp, hal.get_backend("emulator", wafer=3))
    tables = []
    read = wiring_module.read_synapses

    def counted(*args, **kwargs):
        tables.append(read(*args, **kwargs))
        return tables[-1]

    monkeypatch.setattr(wiring_module, "read_synapses", counted)
    after = hal.run(exp, hal.get_backend("emulator", wafer=3))
    assert len(tables) == 1 and len(tables[0]) > 1000  # the emulator's; hal.run's own reading has none
    assert after.hardware.trace == before.hardware.trace and np.array_equal(after.spike_counts, before.spike_counts)


def test_the_emulator_lets_its_synapse_table_go_before_the_kernel_runs(monkeypatch):
    # On the full wafer the table's columns the kernel does not share are 1 GB at the run's peak.
    net = paper_network(seed=1)
    exp = poisson_experiment(net, np.full((1, 100), 25.0), duration_ms=100.0, stop_ms=90.0, seed=2)
    tables, alive_at_simulate = [], []
    read, simulate = wiring_module.read_synapses, emulator_module.simulate

    def kept(*args, **kwargs):
        table = read(*args, **kwargs)
        tables.append(weakref.ref(table))
        return table

    def checked(*args, **kwargs):
        gc.collect()
        alive_at_simulate.extend(ref() is not None for ref in tables)
        return simulate(*args, **kwargs)

    monkeypatch.setattr(wiring_module, "read_synapses", kept)
    monkeypatch.setattr(emulator_module, "simulate", checked)
    hal.run(exp, hal.get_backend("emulator", wafer=3))
    assert alive_at_simulate == [False]
