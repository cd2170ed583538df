"""The bench's command line, sizes, options and report, without running a scenario."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from hal.errors import ConfigError
from hal_plugins.bench.command import DESCRIPTION, configure
from hal_plugins.bench.report import TARGETS, summary, targets
from hal_plugins.bench.suite import FULL, QUICK, _backend_spec, _settings, run_benchmarks


def test_hal_bench_is_registered_by_the_plugin():
    from hal.cli import build_parser

    args = build_parser().parse_args(["bench", "--quick", "--backend", "emulator:dt_ms=0.1", "--no-simulators"])
    assert args.quick and args.backends == ["emulator:dt_ms=0.1"] and args.no_simulators


def test_python_dash_m_entry_shows_the_options():
    done = subprocess.run([sys.executable, "-m", "hal_plugins.bench", "--help"], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "--skip-wafer" in done.stdout and DESCRIPTION.split(":")[0] in done.stdout


def test_sizes_come_from_the_preset_unless_given():
    assert _settings(False, {"samples": None}) == FULL
    assert _settings(True, {"samples": 3, "repeat": None}) == {**QUICK, "samples": 3}


@pytest.mark.parametrize("overrides", [{"samples": 0}, {"repeat": True}, {"wafer_hicanns": 385}, {"hicann_bio_s": 0.0}])
def test_sizes_out_of_range_are_config_errors(overrides):
    with pytest.raises(ConfigError, match="out of range"):
        _settings(True, overrides)


def test_unknown_simulator_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown; known: brian2, nest"):
        run_benchmarks(quick=True, simulators=("neuron",))


def test_backend_spec_parses_options_as_json_where_they_parse():
    assert _backend_spec("emulator") == ("emulator", {})
    assert _backend_spec("emulator:dt_ms=0.1,dtype=float32") == ("emulator", {"dt_ms": 0.1, "dtype": "float32"})
    with pytest.raises(ConfigError, match="not KEY=VALUE"):
        _backend_spec("emulator:dt_ms")


def _result(emulator_rate: float, nest_rate: float | None, wafer_hicanns: int) -> dict:
    paper = {"network": {"neurons": 135, "circuits_per_neuron": 4, "hicanns": 3, "synapses": 3700, "synapses_lost": 0, "batch": 6},
             "unavailable": {"brian2": "not requested"}, "brian2": None,
             "emulator": {"samples": 6, "bio_s_per_wall_s": emulator_rate, "synaptic_events_per_s": 1e6, "wall_s": 6 / emulator_rate,
                          "peak_rss_bytes": 2**27},
             "nest": None if nest_rate is None else {"samples": 2, "bio_s_per_wall_s": nest_rate, "synaptic_events_per_s": 1e4,
                                                      "wall_s": 2 / nest_rate, "peak_rss_bytes": 2**28},
             "speedup": {"emulator_vs_reference": None, "emulator_vs_brian2": None,
                         "emulator_vs_nest": None if nest_rate is None else emulator_rate / nest_rate,
                         "strongest_peer": None if nest_rate is None else "nest",
                         "emulator_vs_strongest_peer": None if nest_rate is None else emulator_rate / nest_rate}}
    wafer = {"hicanns": wafer_hicanns, "neurons": 512 * wafer_hicanns, "synapses": 114688 * wafer_hicanns, "bio_s": 0.1, "wall_s": 90.0,
             "build_s": 10.0, "run_s": 80.0, "peak_rss_bytes": 5 * 2**30, "synaptic_events_per_s": 1e8}
    return {"paper_network": paper, "hicann": None, "wafer": wafer, "total_wall_s": 300.0, "machine": {"cores": 2, "cpu": "test"}}


def test_targets_judge_what_was_measured():
    result = _result(emulator_rate=300.0, nest_rate=4.0, wafer_hicanns=384)
    t = targets(result)
    assert t["emulator_bio_s_per_wall_s"] == {"target": TARGETS["emulator_bio_s_per_wall_s"], "measured": 300.0, "met": False}
    assert t["emulator_vs_strongest_peer"]["met"] is True and t["emulator_vs_strongest_peer"]["measured"] == pytest.approx(75.0)
    assert t["emulator_vs_strongest_peer"]["peer"] == "nest"
    assert t["wafer_wall_s"]["met"] is False and t["wafer_peak_rss_bytes"]["met"] is False  # 90 s > 60 s, 5 GiB > 4 GiB
    assert t["total_wall_s"]["met"] is True
    assert "wafer_wall_s" not in targets(_result(300.0, None, wafer_hicanns=2))
    assert "emulator_vs_strongest_peer" not in targets(_result(300.0, None, wafer_hicanns=2))


def test_summary_names_the_mapping_and_every_backend():
    result = _result(emulator_rate=300.0, nest_rate=4.0, wafer_hicanns=2)
    result["targets"] = targets(result)
    text = summary(result)
    assert "135 neurons, 4 circuits each on 3 HICANNs, 3,700 synapses, 0 lost" in text
    assert "emulator" in text and "nest" in text and "(not requested)" in text
    assert "wafer: 2 HICANN(s)" in text and "emulator_bio_s_per_wall_s" in text and "MISSED" in text


def test_configure_returns_a_handler_for_a_standalone_parser():
    parser = argparse.ArgumentParser()
    handler = configure(parser)
    assert callable(handler) and parser.parse_args(["--repeat", "3"]).repeat == 3


def test_dt_outside_the_reference_range_is_refused(capsys):
    """--dt-ms is one step for every run, so it must suit the reference backend (0.001..0.1 ms)."""
    parser = argparse.ArgumentParser()
    configure(parser)
    assert parser.parse_args([]).dt_ms == 0.1 and parser.parse_args([]).brian2_target == "cpp_standalone"
    with pytest.raises(SystemExit):
        parser.parse_args(["--dt-ms", "0.5"])
    assert "argument --dt-ms: 0.5 out of range; valid 0.001..0.1 (biological ms)" in capsys.readouterr().err
    with pytest.raises(ConfigError, match=r"bench dt_ms: 0\.2 out of range; valid 0\.001\.\.0\.1 ms"):
        run_benchmarks(quick=True, dt_ms=0.2)
