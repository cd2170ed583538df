"""Fuzzing every command and option of ``hal``: any argv ends in exit status 0, 1 or 2, never a traceback (issue 13).

For every leaf command found by walking ``build_parser()`` (so that new commands are fuzzed
without a change here), hypothesis draws argvs (``cli_cases.argv_for``: valid and invalid
numbers, paths, names and choices, missing and stray arguments) and runs ``hal.cli.main.main``
in-process, in a fresh folder holding one valid file of every kind hal writes and the usual bad
inputs. The expensive work of each command (a backend's run, calibration measurements, the
benchmark, downloads, the reproductions' trials) is held back: reaching it raises ``Reached``,
which counts as "the arguments were accepted" (``cli_cases.HEAVY``).

The property: ``main`` returns or exits with 0, 1 or 2, or reaches the heavy work; nothing else
escapes; standard error never shows a traceback; an exit status 2 ends standard error with one
``hal ...: error: ...`` line naming the option, value or file the user gave.

The last reader without a fuzz of its own, :meth:`hal.configuration.WriteStream.load`, is fuzzed
here too, with ``test_readers_fuzz``'s mutations. The default run is small; ``-m slow`` runs
the same properties with more examples.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from hal.cli.main import build_parser
from hal.configuration import WriteStream
from hal.errors import HalError

HERE = Path(__file__).parent


def _load(name: str, alias: str):
    """A module beside this file (the suite imports in importlib mode, without this folder on sys.path)."""
    spec = importlib.util.spec_from_file_location(alias, HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[alias] = module
    spec.loader.exec_module(module)
    return module


cases = _load("cli_cases", "hal_tests_cli_cases")
readers = _load("test_readers_fuzz", "hal_tests_readers_fuzz")  # its mutations, not its tests

COMMANDS = cases.commands(build_parser())

FAST = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
SLOW = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    return cases.make_inputs(tmp_path_factory.mktemp("cli-fuzz") / "inputs")


@pytest.fixture
def held_back(monkeypatch) -> None:
    cases.hold_back_heavy_work(monkeypatch)


def _fuzz(command, inputs: Path, data) -> None:
    argv = data.draw(cases.argv_for(command), label="argv")
    outcome = cases.run_hal(argv, inputs, data.draw(st.binary(max_size=64), label="random.bin"))
    event(f"{command.name}: {'reached the heavy work' if outcome.status is None else f'exit {outcome.status}'}")
    cases.check_outcome(outcome, command)


# -- the walk and the held-back work -----------------------------------------------------------------

CORE = {"info wafer", "info registers", "config show", "config diff", "calibrate", "calib show", "calib diff", "calib export",
        "calib import", "map", "defects", "plugins", "run"}
REGISTERED = {"bench", "data download", "reproduce schmitt2017", "reproduce cramer2020"}


def test_the_walk_finds_every_command_and_draws_for_every_option():
    names = {c.name for c in COMMANDS}
    assert CORE | REGISTERED <= names
    options = {(c.name, o) for c in COMMANDS for a in c.actions for o in a.option_strings}
    assert {("map", "--hicann"), ("bench", "--wafer-hicanns"), ("data download", "--mirror"), ("defects", "--item"),
            ("reproduce cramer2020", "--option"), ("run", "--log-level")} <= options
    for command in COMMANDS:
        for action in command.actions:
            cases.value_strategy(action).validate()
            cases.valid_strategy(action).validate()


#: A valid argv per held-back entry point: each must get there, or the fuzz would only ever see refusals.
ACCEPTED = [
    ["run", "experiment.hal", "--backend", "reference", "--out", "new.hal"],
    ["calibrate", "--backend", "emulator", "--wafer", "0", "--hicann", "0", "--db", "new.db"],
    ["bench", "--quick", "--no-simulators"],
    ["data", "download", "mnist", "--dir", "new-folder"],
    ["reproduce", "schmitt2017", "--trials", "1", "--out", "new-folder"],
    ["reproduce", "cramer2020", "--trials", "1", "--out", "new-folder"],
]


@pytest.mark.parametrize("argv", ACCEPTED, ids=[" ".join(a[:2]) for a in ACCEPTED])
def test_a_valid_command_reaches_its_held_back_work(inputs, held_back, argv):
    outcome = cases.run_hal(argv, inputs, b"")
    assert outcome.status is None, f"{outcome.shown} ended with exit status {outcome.status}:\n{outcome.err}"
    assert "Traceback" not in outcome.err


def test_the_check_refuses_what_the_property_forbids():
    """The property itself: a traceback, a stray exit status, two error lines or a message naming nothing fail it."""
    run = next(c for c in COMMANDS if c.name == "run")
    good = cases.Outcome(("run", "x.hal", "--backend", "ref"), 2, "", "hal: error: x.hal: no such file\n")
    cases.check_outcome(good, run)
    for err, status in (("Traceback (most recent call last):\n  ...\nValueError: x\n", 1),
                        ("hal: error: x.hal: no such file\n", 3),
                        ("hal: error: x.hal: no such file\nhal: error: again x.hal\n", 2),
                        ("hal: error: x.hal:\nno such file\n", 2),
                        ("hal: error: something went wrong\n", 2)):
        with pytest.raises(AssertionError):
            cases.check_outcome(cases.Outcome(good.argv, status, "", err), run)


# -- findings of the fuzz, fixed: each argv once, as a regression test -------------------------------

_DASK = ("hal_trainers.schmitt2017.reproduce._client", "hal_trainers.cramer2020.reproduce._run_trials")
_RUN = ("hal.extension.manager.Plugins.before_run",)
FIXED = [
    # an empty path was named '.' ("'.': no such file", "'.': is a directory")
    (["config", "show", ""], ()),
    (["calib", "show", "--db", ""], ()),
    # a control character in a path split the one-line message
    (["config", "show", "two\nlines.hal"], ()),
    (["config", "diff", "config.hal", "a\rb.hal"], ()),
    # --scheduler nonsense: a ValueError traceback from Dask after the data set loaded
    (["reproduce", "schmitt2017", "--scheduler", "nonsense", "--trials", "1", "--out", "new-folder"], _DASK),
    (["reproduce", "cramer2020", "--scheduler", "nonsense", "--trials", "1", "--out", "new-folder"], _DASK),
    # dt_ms without a lower bound: ring buffers of delay/dt_ms slots (ValueError traceback)
    (["run", "experiment.hal", "--backend", "reference", "--option", "dt_ms=1e-300"], _RUN),
    (["run", "experiment.hal", "--backend", "emulator", "--option", "dt_ms=1e-300"], _RUN),
]


@pytest.mark.parametrize(("argv", "keep"), [pytest.param(argv, keep, id=" ".join(argv)[:60]) for argv, keep in FIXED])
def test_a_fixed_finding_keeps_the_property(inputs, monkeypatch, argv, keep):
    cases.hold_back_heavy_work(monkeypatch, keep=keep)
    command = next(c for c in COMMANDS if tuple(argv[:len(c.words)]) == c.words)
    outcome = cases.run_hal(argv, inputs, b"")
    cases.check_outcome(outcome, command)
    assert outcome.status == 2


# -- the fuzz --------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS, ids=[c.name for c in COMMANDS])
@FAST
@given(data=st.data())
def test_any_argv_ends_in_status_0_1_2_with_a_one_line_error(inputs, held_back, command, data):
    _fuzz(command, inputs, data)


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS, ids=[c.name for c in COMMANDS])
@SLOW
@given(data=st.data())
def test_any_argv_ends_in_status_0_1_2_with_a_one_line_error_long(inputs, held_back, command, data):
    _fuzz(command, inputs, data)


# -- the write-stream reader -----------------------------------------------------------------------


def _read_stream(inputs: Path, tmp: Path, data) -> None:
    path = tmp / "case.hal"
    base = (inputs / "stream.hal").read_bytes()
    path.write_bytes(data.draw(st.one_of(readers.mutated_archive(base), readers._ANY_BYTES), label="file"))
    try:
        WriteStream.load(path)
    except HalError:
        pass


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_the_write_stream_reader_on_mutated_files(inputs, tmp_path, data):
    _read_stream(inputs, tmp_path, data)


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_the_write_stream_reader_on_mutated_files_long(inputs, tmp_path, data):
    _read_stream(inputs, tmp_path, data)


def test_the_unmutated_stream_loads(inputs):
    assert len(WriteStream.load(inputs / "stream.hal")) > 0
