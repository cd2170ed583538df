"""The hal command line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from hal import coordinates as C
from hal.cli import main
from hal.configuration.io import save_config


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_info_wafer_json(capsys):
    code, out, _ = run(capsys, "info", "wafer", "--json")
    data = json.loads(out)
    assert code == 0
    assert {k: data[k] for k in ("reticles", "hicanns", "fpgas", "neuron_circuits", "synapses", "synapse_drivers")} == {
        "reticles": 48,
        "hicanns": 384,
        "fpgas": 48,
        "neuron_circuits": 196_608,
        "synapses": 44_040_192,
        "synapse_drivers": 86_016,
    }
    assert data["synapses_usable_paper"] == 43_253_760
    assert "220" in data["synapses_note"]


def test_info_wafer_text(capsys):
    code, out, _ = run(capsys, "info", "wafer")
    assert code == 0 and "44,040,192" in out and "43,253,760" in out and "196,608" in out


def test_config_show_and_diff(capsys, tmp_path, small_wafer_config):
    a, b = tmp_path / "a.hal", tmp_path / "b.hal"
    save_config(small_wafer_config, a)
    small_wafer_config.hicann(C.HICANNOnWafer(100)).neurons.update(C.NeuronOnHICANN(x=4, y=0), l1_address=18)
    small_wafer_config.hicann(C.HICANNOnWafer(100)).set_weights(15, rows=3, columns=8)
    save_config(small_wafer_config, b)

    code, out, _ = run(capsys, "config", "show", str(a))
    assert code == 0
    assert "neuron[4]: l1_address=17, activate_firing=True" in out
    assert "synapse_weight: shape (448, 256)" in out

    code, out, _ = run(capsys, "config", "show", str(a), "--json")
    assert json.loads(out)["hicanns"]["100"]["arrays"]["synapse_weight"]["max"] == 15

    code, out, _ = run(capsys, "config", "diff", str(a), str(b))
    assert code == 1
    assert "HICANNOnWafer(100) neuron[4] @0x2004: 0xd1 -> 0xd2 (l1_address 17 -> 18)" in out
    assert "synapse_weight[97]" in out and "weight[row 3, column 8] 0 -> 15" in out
    assert "2 register word(s) differ" in out

    code, out, _ = run(capsys, "config", "diff", str(a), str(a), "--json")
    assert code == 0 and json.loads(out)["differences"] == 0


def test_errors_are_one_line_with_exit_status_2(capsys, tmp_path):
    bad = tmp_path / "bad.hal"
    bad.write_text("hello")
    code, out, err = run(capsys, "config", "show", str(bad))
    assert code == 2 and out == ""
    assert err.startswith("hal: error: ") and "not a hal hal-wafer-config file" in err and "Traceback" not in err


def test_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2
    assert "invalid choice: 'frobnicate'" in capsys.readouterr().err


def test_log_json_writes_json_lines_to_stderr(tmp_path, small_wafer_config):
    path = tmp_path / "a.hal"
    save_config(small_wafer_config, path)
    # The console script as installed, in a fresh process.
    proc = subprocess.run(
        [sys.executable, "-m", "hal.cli", "--log-json", "--log-level", "debug", "info", "wafer", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(proc.stdout)["hicanns"] == 384
    for line in proc.stderr.splitlines():
        json.loads(line)


def test_register_reference_page_is_current(capsys):
    import pathlib

    code, out, _ = run(capsys, "info", "registers", "--markdown")
    page = pathlib.Path(__file__).resolve().parents[3] / "docs" / "registers.md"
    assert code == 0
    assert out == page.read_text(), "regenerate with: hal info registers --markdown > docs/registers.md"
    assert "### `neuron` (`DenmemConfig`)" in out and "| `l1_address` | 5:0 | 0 | rw |" in out


def test_plugins_json_lists_reference(capsys):
    code, out, _ = run(capsys, "plugins", "--json")
    data = json.loads(out)
    assert code == 0
    assert {"name": "reference", "distribution": "wafer-hal"}.items() <= next(b for b in data["backends"] if b["name"] == "reference").items()
    assert set(data) == {"backends", "trainers", "calibration_routines", "commands"}


def test_run_a_saved_experiment(capsys, tmp_path):
    import numpy as np

    from hal.experiment.io import load_recording_summary, save_experiment
    from hal.testing.networks import layered_network, poisson_experiment

    net = layered_network((2, 1), [np.array([[9, 9]])])
    exp = poisson_experiment(net, np.full((2, 2), 40.0), record_membrane=[net.neuron(1, 0)])
    path = tmp_path / "exp.hal"
    save_experiment(exp, path)
    code, out, err = run(capsys, "run", str(path), "--backend", "reference", "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["samples"] == 2 and summary["neurons"] == 3
    manifest, arrays = load_recording_summary(summary["recording"])
    assert arrays["spike_counts.npy"].shape == (2, 3)
    assert arrays["membrane/0/v_mv.npy"].shape[0] == 2
    assert manifest["lost_events"]["total"] == 0

    code, _, err = run(capsys, "run", str(path), "--backend", "nope")
    assert code == 2 and "unknown backend 'nope'" in err
    code, _, err = run(capsys, "run", str(path), "--backend", "reference", "--option", "dt_ms=5")
    assert code == 2 and "dt_ms: 5 out of range" in err


def test_info_registers_json_lists_registers_and_fields(capsys):
    from hal.hardware.fpga import FPGA_REGISTERS
    from hal.hardware.hicann import HICANN_REGISTERS

    code, out, _ = run(capsys, "info", "registers", "--chip", "hicann", "--json")
    registers = json.loads(out)
    assert code == 0 and len(registers) == len(list(HICANN_REGISTERS)) and {r["chip"] for r in registers} == {"hicann"}
    neuron = next(r for r in registers if r["name"] == "neuron")
    assert {"name": "l1_address", "lsb": 0, "width": 6, "reset": 0, "access": "rw"}.items() <= neuron["fields"][0].items()
    assert neuron["address"].startswith("0x")
    code, out, _ = run(capsys, "info", "registers", "--json")
    assert len(json.loads(out)) == len(list(HICANN_REGISTERS)) + len(list(FPGA_REGISTERS))
    with pytest.raises(SystemExit) as stop:
        main(["info", "registers", "--json", "--markdown"])
    assert stop.value.code == 2 and "not allowed with argument" in capsys.readouterr().err
