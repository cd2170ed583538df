"""The mapping applies the per-quadrant gmax calibration to the synapse drivers' V_gmax0.

The check is at register level (see docs/mapping.md, "Synaptic strength"): a calibration set
describes a chip whose quadrants are stronger or weaker than nominal by known factors; the
effective conductance of every realised synapse on that chip is the factor times the
conductance the registers give on the nominal chip (what :func:`hal.netlist.wiring.extract_wiring`
reads). Calibrated mapping must bring it to the intended value (weight x the declared
conversion); nominal mapping misses by the factor.
"""

from __future__ import annotations

import attrs
import numpy as np
import pytest
from hal.logging import capture_events

from hal import coordinates as C
from hal.calibration import Calibration, Kind, Transform, open_store
from hal.calibration import _nominal_curve as nominal_curve
from hal.calibration.transforms import CalibrationOutOfRangeError
from hal.errors import CalibrationError
from hal.mapping import MappingOptions, map_network
from hal.network import paper_network_description
from hal.analog.transfer import synaptic_unit_conductance_ns
from hal.netlist.wiring import extract_wiring

#: How much stronger than nominal each quadrant (FG block 0..3) of the modelled chip is.
STRENGTH = np.array([1.25, 1.10, 1.05, 1.30])


def _chip_transform(strength, success=(True, True, True, True)) -> Transform:
    """The gmax calibration of a chip whose quadrant b realises the nominal curve at ``strength[b]`` x the DAC value."""
    forward, _ = nominal_curve("gmax")
    dac = np.arange(100, 1024, dtype=float)
    points = np.stack([forward(dac * s) for s in strength])
    return Transform("gmax", Kind.LOOKUP, np.tile(dac, (4, 1)), points.min(1), points.max(1), np.zeros(4),
                     np.array(success), points, "per mille per event")


def _calibration(tmp_path, strength=STRENGTH, **kwargs) -> Calibration:
    store = open_store(tmp_path / "cal.db")
    set_id = store.create_set(0, backend="test", routine="synthetic gmax")
    for h in MappingOptions().hicanns[:4]:
        store.store(set_id, h.enum, _chip_transform(strength, **kwargs))
    return Calibration(store, set_id, fallback="nominal")


def _relative_error(config, strength) -> np.ndarray:
    """Per realised synapse: (effective conductance on the modelled chip) / (intended) - 1."""
    syn = extract_wiring(config).synapses
    block = np.array([(C.SynapseDriverOnHICANN(int(r) // 2).side == "right") + 2 * (int(r) >= 224) for r in syn.row])
    effective = strength[block] * syn.conductance_ns
    weights = np.array([config.hicann(C.HICANNOnWafer(int(h))).weights[r, c] for h, r, c in zip(syn.hicann, syn.row, syn.column)])
    intended = weights * synaptic_unit_conductance_ns(1000, 1)
    return effective / intended - 1


def test_calibrated_gmax_realises_the_declared_weight_where_nominal_misses(tmp_path):
    net = paper_network_description(seed=2)
    with capture_events():
        calibrated_cfg, calibrated = map_network(net, options=MappingOptions(calibration=_calibration(tmp_path)))
    nominal_cfg, nominal = map_network(net)
    assert calibrated.synapses == nominal.synapses == 3700
    for h, entry in calibrated.gmax.items():
        assert entry["source"] == "calibrated"
        for block, dac in entry["dac"].items():
            assert dac == pytest.approx(1000 / STRENGTH[block], abs=1)
            assert nominal.gmax[h]["dac"][block] == 1000
    # The written registers differ exactly in the V_gmax0 cells of the used quadrants.
    for h in calibrated.hicanns_used:
        a, b = calibrated_cfg.hicann(h), nominal_cfg.hicann(h)
        differ = np.argwhere(a.fg_cells != b.fg_cells)
        assert {(int(blk), int(col)) for blk, _, col in differ} <= {(blk, 0) for blk in range(4)}
        assert set(map(int, differ[:, 0])) == set(calibrated.gmax[h.enum]["dac"])
        assert np.array_equal(a.weights, b.weights)
    err_calibrated = np.abs(_relative_error(calibrated_cfg, STRENGTH))
    err_nominal = np.abs(_relative_error(nominal_cfg, STRENGTH))
    assert err_calibrated.max() < 0.002  # one DAC step in 800
    assert err_nominal.min() > 0.04 and err_nominal.mean() > 10 * err_calibrated.mean()


def test_a_weaker_quadrant_needs_headroom_or_clipping(tmp_path):
    weak = np.array([0.9, 1.0, 1.0, 0.9])
    net = paper_network_description(seed=2)
    calibration = _calibration(tmp_path, weak)
    with pytest.raises(CalibrationOutOfRangeError, match=r"calibration gmax: target 230\.3.* for HICANN.*FG block 0 .* is outside its calibrated range"):
        map_network(net, options=MappingOptions(calibration=calibration))
    with capture_events() as logs:
        _, clipped = map_network(net, options=MappingOptions(calibration=calibration, calibration_clip=True))
    assert any(e["event"] == "calibration_target_clipped" and e["parameter"] == "gmax" for e in logs)
    assert clipped.gmax[MappingOptions().hicanns[0].enum]["dac"][0] == 1023
    # A smaller declared conversion leaves room: every quadrant realises it exactly.
    smaller = attrs.evolve(net, ns_per_weight_bit=0.6)
    _, fits = map_network(smaller, options=MappingOptions(calibration=calibration))
    for entry in fits.gmax.values():
        for block, dac in entry["dac"].items():
            assert dac == pytest.approx(1000 * 0.6 / 0.68 / weak[block], abs=1)
    _, nominal = map_network(smaller)
    assert {dac for entry in nominal.gmax.values() for dac in entry["dac"].values()} == {round(1000 * 0.6 / 0.68)}


def test_missing_or_failed_gmax_calibration_is_said(tmp_path):
    net = paper_network_description(seed=2)
    store = open_store(tmp_path / "empty.db")
    set_id = store.create_set(0, backend="test", routine="nothing")
    with capture_events() as logs:
        _, result = map_network(net, options=MappingOptions(calibration=Calibration(store, set_id, fallback="nominal")))
    assert {entry["source"] for entry in result.gmax.values()} == {"nominal"}
    assert any(e["event"] == "gmax_calibration_missing" for e in logs)
    (tmp_path / "failed").mkdir()
    failed = _calibration(tmp_path / "failed", success=(False, True, True, True))
    with capture_events(), pytest.raises(CalibrationError, match="FG block 0 .* failed calibration"):
        map_network(net, options=MappingOptions(calibration=failed))
