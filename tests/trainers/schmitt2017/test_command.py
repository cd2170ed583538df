"""hal_trainers.schmitt2017.command: the paper's reproduction registers `hal reproduce schmitt2017` itself, cheaply."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from hal.cli import main


def test_the_command_and_the_trainer_are_registered(capsys):
    assert main(["plugins", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    commands = {c["name"]: c for c in listing["commands"]}
    assert commands["reproduce schmitt2017"]["description"].startswith("Schmitt et al. 2017 end to end")
    assert "schmitt2017" in {t["name"] for t in listing["trainers"]}


def test_the_command_line_names_the_options(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["reproduce", "schmitt2017", "--help"])
    assert exit_.value.code == 0
    usage = capsys.readouterr().out
    for option in ("--backend", "--dataset", "--data-dir", "--trials", "--itl-steps", "--ann-steps", "--itl-batch",
                   "--test-subset", "--out", "--scheduler", "--workers"):
        assert option in usage


def test_importing_the_package_and_its_command_needs_neither_torch_dask_nor_matplotlib():
    code = ("import sys, hal_trainers.schmitt2017, hal_trainers.schmitt2017.command;"
            "print([m for m in ('torch', 'dask', 'distributed', 'matplotlib') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
