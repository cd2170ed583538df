"""The pieces of the CLI fuzz suite (``test_cli_fuzz.py``): commands, argv, files, heavy work held back, outcomes.

* :func:`commands` walks ``hal``'s parser and returns every leaf command with its options, so a
  command a plugin adds tomorrow is fuzzed without a change here.
* :func:`argv_for` draws an argv for one command: each option present or not, each value valid
  or not (numbers: negative, zero, huge, fractions for integers, NaN/inf, words; paths: missing,
  a directory, an empty file, random bytes, a valid file of every kind hal writes; names and
  choices: known and unknown), plus now and then an unknown option or a stray word. How a value
  is drawn follows the option's argparse ``type`` (by the function's name), its ``choices``, or
  for plain strings its ``dest``; anything unknown gets every kind of value.
* :data:`HEAVY` lists the entry points where a command's expensive work starts (a backend's run,
  the calibration measurements, the benchmark scenarios, the download, the trials on Dask).
  :func:`hold_back_heavy_work` makes each raise :class:`Reached`, so that getting there counts
  as "the arguments were accepted". A new command with heavy work adds its entry point here.
* :func:`run_hal` runs ``hal.cli.main.main`` in-process in a fresh folder holding the input
  files, and :func:`check_outcome` states the property.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import importlib
import io
import re
import shlex
import shutil
import sqlite3
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path

import attrs
import numpy as np
from hypothesis import strategies as st

__all__ = ["Command", "Reached", "HEAVY", "commands", "argv_for", "hold_back_heavy_work", "make_inputs", "run_hal", "check_outcome"]


# -- the commands ----------------------------------------------------------------------------------


@attrs.frozen(eq=False)
class Command:
    """A leaf command of ``hal``: its words (``("calib", "show")``) and its parser's actions."""

    words: tuple[str, ...]
    parser: argparse.ArgumentParser

    @property
    def name(self) -> str:
        return " ".join(self.words)

    @property
    def actions(self) -> list[argparse.Action]:
        """Every option and positional a user can give (not --help)."""
        return [a for a in self.parser._actions if not isinstance(a, (argparse._HelpAction, argparse._VersionAction))]


def commands(parser: argparse.ArgumentParser, words: tuple[str, ...] = ()) -> list[Command]:
    """Every leaf command below ``parser`` (aliases once)."""
    found = []
    groups = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not groups:
        return [Command(words, parser)]
    for group in groups:
        seen = set()
        for name, child in group.choices.items():
            if id(child) not in seen:
                seen.add(id(child))
                found.extend(commands(child, (*words, name)))
    return found


# -- the values ------------------------------------------------------------------------------------

#: The inputs every example finds in its folder (made once by :func:`make_inputs`, copied per example).
VALID_FILES = ("net.json", "config.hal", "config2.hal", "experiment.hal", "recording.hal", "stream.hal", "calib.db", "set.hal")
#: Bad inputs: an empty file, random bytes (drawn per example), a foreign SQLite file, a folder, names
#: that do not exist, a path below a file, the empty string, a reproduction's folder with damaged
#: files, and a folder of MNIST files that are not MNIST.
BAD_PATHS = ("empty.bin", "random.bin", "other.db", "folder", "folder/", "missing.hal", "folder/missing/deep.hal", "net.json/child.hal",
             "", ".", "old-out", "mnist-bad")
#: Outputs that do not exist yet.
NEW_PATHS = ("new.hal", "folder/new.hal", "new-folder", "new-folder/sub")

PATHS = st.sampled_from(VALID_FILES + BAD_PATHS + NEW_PATHS)

_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=8)  # what a shell can pass

INTS = st.one_of(
    st.sampled_from(["-1", "0", "1", "2", "3", "5", "12", "47", "48", "100", "383", "384", "1000", "65535", "65536", str(2**63 - 1),
                     str(2**63), "-0", "+4", "1.5", "2.0", "1e3", "nan", "inf", "-inf", "0x10", "0b11", "1_000", " 7", "7 ", "", "abc",
                     "\u0663", "9" * 40]),
    st.integers(-(2**70), 2**70).map(str),
)
FLOATS = st.one_of(
    st.sampled_from(["0", "-0", "-0.0", "1e-320", "0.05", "1", "25", "1e9", "1e300", "1e308", "1e309", "-5", "nan", "NaN", "inf", "-inf",
                     "infinity", "1,5", "0x1p-3", "", "abc", "1_0.5"]),
    st.floats().map(repr),
)
HICANN_LISTS = st.one_of(
    st.sampled_from(["0", "3", "0,1,5", "0-7,12", "12-23", "383", "384", "-1", "5-3", "0-383", ",", "1,,2", "a", "0-", "-3", "1-2-3",
                     " 2 , 3 ", "0x10", "1.5", ""]),
    st.lists(st.integers(-2, 400), min_size=1, max_size=4).map(lambda xs: ",".join(map(str, xs))),
)
URLS = st.sampled_from(["http://example.invalid/mnist/", "https://example.invalid/", "file:///nonexistent/", "file://", "ftp://example.org/",
                        "http://", "not a url", "", "http://[::1"])
OPTIONS = st.one_of(
    st.sampled_from(["threads=1", "dt_ms=0.05", "dt_ms=1e-300", "dt_ms=0", "dtype=float32", "dtype=float16", "threads=-1", "threads=nan",
                     "threads=1e999", "nonsense=1", "seed=-1", "wafer=3", "=", "x", "=1", "k=", "x=[1,2", "a=b=c", 'threads="1"', "threads=true",
                     "threads=[]"]),
    st.builds(lambda k, v: f"{k}={v}", _TEXT, _TEXT),
)
SCHEDULERS = st.sampled_from(["tcp://127.0.0.1:1", "nonsense", "", "tcp://", "inproc://x"])
UNKNOWN_NAMES = st.sampled_from(["xyz", "", " ", "-", "emulator:dtype=float32", "noisy:threads=1", "emulator,noisy", "Emulator", "ref",
                                 "\u00fc", "all"])


def _known_names() -> st.SearchStrategy[str]:
    """Every registered name (backends, calibration routines, commands), defect components and data sets."""
    from hal.calibration.database import DEFECT_COMPONENTS
    from hal.extension.manager import default_plugins

    plugins = default_plugins()
    names = {n for kind in ("backend", "calibration", "trainer") for n in plugins.names(kind)}
    names |= set(DEFECT_COMPONENTS) | {"digits", "digits10", "mnist", "mnist16"}
    return st.sampled_from(sorted(names))


def _names() -> st.SearchStrategy[str]:
    return st.one_of(_known_names(), UNKNOWN_NAMES)


def _anything() -> st.SearchStrategy[str]:
    return st.one_of(PATHS, _names(), INTS, FLOATS, OPTIONS, _TEXT)


#: An option's values by the name of its argparse ``type``.
_BY_TYPE = {"int": INTS, "wafer_id": INTS, "hicann_id": INTS, "seed": INTS, "count": INTS, "positive_int": INTS, "_hicann_count": INTS,
            "positive_float": FLOATS, "non_negative_float": FLOATS, "float": FLOATS, "hicann_list": HICANN_LISTS, "_base_url": URLS}
#: A plain string option's values by its ``dest``.
_PATH_DESTS = {"file", "a", "b", "experiment", "network", "db", "out", "report_json", "experiment_out", "dir", "data_dir"}
_NAME_DESTS = {"backend", "backends", "routine", "component", "dataset"}


def value_strategy(action: argparse.Action) -> st.SearchStrategy[str]:
    """The hostile values drawn for ``action``: mostly of its kind, sometimes anything at all."""
    if action.choices is not None:
        primary = st.one_of(st.sampled_from([str(c) for c in action.choices]), UNKNOWN_NAMES, INTS)
    elif action.type is not None:
        primary = _BY_TYPE.get(getattr(action.type, "__name__", ""), _anything())
    elif action.dest in _PATH_DESTS:
        primary = PATHS
    elif action.dest in _NAME_DESTS:
        primary = _names()
    elif action.dest == "option":
        primary = OPTIONS
    elif action.dest == "scheduler":
        primary = SCHEDULERS
    elif action.dest == "item":
        primary = INTS
    else:
        primary = _anything()
    return st.one_of(primary, primary, primary, _anything())


#: Values that are valid (or at least plausible) for an option, by the name of its argparse ``type``.
_VALID_BY_TYPE = {"wafer_id": ["0", "3", "7"], "hicann_id": ["12", "0", "383"], "seed": ["0", "1", "42"], "count": ["0", "1", "3"],
                  "positive_int": ["1", "2", "3"], "_hicann_count": ["1", "2"], "int": ["1", "2"], "positive_float": ["0.5", "1", "20"],
                  "non_negative_float": ["0", "25"], "float": ["1.0"], "hicann_list": ["12", "12-13", "0,1,5"],
                  "_base_url": ["http://example.invalid/mnist/", "file:///nonexistent/"]}
#: ... and by the ``dest`` of a plain string option.
_VALID_BY_DEST = {"network": ["net.json"], "experiment": ["experiment.hal"], "db": ["calib.db", "new.db"],
                  "file": ["config.hal", "set.hal", "new.hal"], "a": ["config.hal"], "b": ["config.hal", "config2.hal"],
                  "out": ["new.hal", "new-folder", "old-out"], "experiment_out": ["new-experiment.hal"], "report_json": ["report.json"],
                  "dir": ["new-folder", "mnist-bad"], "data_dir": ["folder", "mnist-bad"], "backend": ["reference", "emulator", "noisy"],
                  "backends": ["reference", "emulator", "noisy"], "routine": ["neuron", "tau-m-us"], "dataset": ["digits", "digits10"],
                  "component": ["neuron", "hicann", "fpga"], "option": ["threads=1", "dt_ms=0.05"], "item": ["0", "5"],
                  "reason": ["broken"], "scheduler": ["tcp://127.0.0.1:1"]}


def valid_strategy(action: argparse.Action) -> st.SearchStrategy[str]:
    """Values ``action`` takes without complaint, as far as the option's type, choices or name tell."""
    if action.choices is not None:
        return st.sampled_from([str(c) for c in action.choices])
    if action.type is not None:
        return st.sampled_from(_VALID_BY_TYPE.get(getattr(action.type, "__name__", ""), ["1", "0"]))
    return st.sampled_from(_VALID_BY_DEST.get(action.dest, ["1", "x"]))


def _many(action: argparse.Action) -> bool:
    return action.nargs in ("*", "+") or isinstance(action.nargs, int) and action.nargs > 1


@st.composite
def argv_for(draw, command: Command) -> list[str]:
    """An argv for ``command``: every option present or not, each value valid or hostile.

    The share of hostile values is drawn per argv (none, some, all), so that argvs valid but for
    one value -- the ones that get past argparse to the files and the command's own checks -- are common.
    """
    hostile_tenths = draw(st.sampled_from([0, 1, 2, 5, 10]))

    def value(action):
        text = draw(value_strategy(action) if draw(st.integers(0, 9)) < hostile_tenths else valid_strategy(action))
        return text

    positionals, options = [], []
    for action in command.actions:
        if not action.option_strings:
            if hostile_tenths and draw(st.integers(0, 9)) == 0:
                continue  # a missing positional
            count = draw(st.integers(0, 2)) if _many(action) or action.nargs == "?" else 1
            positionals.extend(value(action) for _ in range(count))
            continue
        present = draw(st.integers(0, 9)) > (0 if hostile_tenths else -1) if action.required else draw(st.booleans())
        if not present:
            continue
        repeats = draw(st.integers(1, 2)) if isinstance(action, argparse._AppendAction) else 1
        for _ in range(repeats):
            flag = draw(st.sampled_from(action.option_strings))
            if action.nargs == 0:
                options.append([flag])
            elif _many(action):
                options.append([flag, *(value(action) for _ in range(draw(st.integers(0, 3))))])
            else:
                text = value(action)
                # "--x=-1" reaches the type; "--x -1" lets argparse decide whether -1 is a value or an option.
                options.append([f"{flag}={text}"] if draw(st.booleans()) else [flag, text])
    options = draw(st.permutations(options))
    stray = draw(st.sampled_from([[], [], [], [], ["--nonsense"], ["extra-word"], ["-x", "1"], ["--"], ["--log-level", "loud"]])) \
        if hostile_tenths else []
    tail = [*positionals, *stray] if draw(st.booleans()) else [*stray, *positionals]
    return [*command.words, *(token for option in options for token in option), *tail]


# -- the input files -------------------------------------------------------------------------------


def make_inputs(folder: Path) -> Path:
    """Write one valid file of every kind hal reads, and the bad inputs, into ``folder``; return it."""
    import hal
    from hal.calibration import Defect, nominal_transform, open_store
    from hal.configuration import Configurator
    from hal.configuration.io import save_config
    from hal.experiment.io import save_experiment, save_recording
    from hal.network import Network, Population, Projection, SourcePopulation, save_network
    from hal.testing.networks import layered_network, poisson_experiment

    folder.mkdir(parents=True, exist_ok=True)
    save_network(Network([Population("a", 3), Population("b", 2)], [SourcePopulation("s", 2)],
                         [Projection("s", "a", weight_bits=3), Projection("a", "b", weight_bits=5)]), folder / "net.json")
    mapped = layered_network((2, 1), [np.array([[4, -4]])])
    save_config(mapped.config, folder / "config.hal")
    mapped.config.hicann(next(iter(dict(mapped.config.hicanns())))).set_weights(15, rows=slice(0, 2))
    save_config(mapped.config, folder / "config2.hal")  # differs from config.hal: `hal config diff` exits 1
    experiment = poisson_experiment(mapped, np.full((1, 2), 20.0), duration_ms=20.0, stop_ms=None, seed=5)
    save_experiment(experiment, folder / "experiment.hal")
    save_recording(hal.run(experiment, hal.get_backend("reference")), folder / "recording.hal")
    Configurator().plan(mapped.config).save(folder / "stream.hal")
    with open_store(folder / "calib.db") as store:
        set_id = store.add_set(0, [(12, nominal_transform("tau_syn_e_us", 512)), (13, nominal_transform("gmax", 4))],
                               backend="reference", routine="test", seed=1, note="for the CLI fuzz")
        store.add_set(0, [(12, nominal_transform("tau_syn_e_us", 512)), (14, nominal_transform("gmax", 4))], backend="reference",
                      routine="test", seed=2, note="differs from set 1: `hal calib diff` exits 1")
        store.add_defects([Defect(0, "neuron", 12, 5, "fuzz", "test")])
        store.export_set(set_id, folder / "set.hal")
    with contextlib.closing(sqlite3.connect(folder / "other.db")) as other, other:
        other.execute("CREATE TABLE notes (text TEXT)")
    (folder / "empty.bin").write_bytes(b"")
    (folder / "folder").mkdir()
    (folder / "old-out" / "trials").mkdir(parents=True)
    (folder / "old-out" / "settings.json").write_text("{")
    (folder / "old-out" / "trials" / "0.json").write_text("not a trial")
    (folder / "mnist-bad").mkdir()
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (folder / "mnist-bad" / f"{name}.gz").write_bytes(gzip.compress(b"not MNIST"))
    return folder


# -- the heavy work, held back ---------------------------------------------------------------------


class Reached(BaseException):
    """Raised where a command's expensive work starts: its arguments were accepted.

    A BaseException, so that no ``except Exception`` of the command turns it into something else.
    """


#: (module, attribute path, what starts there) of every entry point where expensive work starts.
HEAVY = (
    ("hal.extension.manager", "Plugins.before_run", "hal run: the backend runs the experiment"),
    ("hal_plugins.calibration.plugin", "NeuronCalibration.run", "hal calibrate: the measurements"),
    ("hal_plugins.bench.suite", "describe_paper_network", "hal bench: the scenarios"),
    ("hal_trainers.datasets.download", "download_mnist", "hal data download: the transfer"),
    ("hal_trainers.schmitt2017.reproduce", "_client", "hal reproduce schmitt2017: the trials on Dask"),
    ("hal_trainers.cramer2020.reproduce", "_run_trials", "hal reproduce cramer2020: the trials on Dask"),
)
#: Data sets that ship with a dependency and are valid by construction: not resampled per example (5 s).
EMBEDDED_DATASETS = ("digits",)


def _reached(what: str) -> Callable:
    def stop(*args, **kwargs):
        raise Reached(what)

    return stop


def hold_back_heavy_work(monkeypatch, keep: tuple[str, ...] = ()) -> None:
    """Make every :data:`HEAVY` entry point (but those named in ``keep``) raise :class:`Reached`;
    skip re-preparing embedded data sets."""
    for module_name, attribute, what in HEAVY:
        if f"{module_name}.{attribute}" in keep:
            continue
        owner = importlib.import_module(module_name)
        *path, name = attribute.split(".")
        for part in path:
            owner = getattr(owner, part)
        assert hasattr(owner, name), f"{module_name}.{attribute} is gone: update HEAVY in {__file__}"
        monkeypatch.setattr(owner, name, _reached(what))
    datasets = importlib.import_module("hal_trainers.datasets")
    real = datasets.load_dataset

    def load_dataset(name, data_dir=None, **kwargs):
        if name in EMBEDDED_DATASETS and data_dir is None and not kwargs:
            return None  # the reproductions only check that it loads
        return real(name, data_dir, **kwargs)

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)


# -- running hal and judging the outcome -----------------------------------------------------------


@attrs.frozen
class Outcome:
    argv: tuple[str, ...]
    status: int | None  # None: stopped by Reached
    out: str
    err: str

    @property
    def shown(self) -> str:
        return "hal " + shlex.join(self.argv)


def run_hal(argv: list[str], inputs: Path, random_bytes: bytes) -> Outcome:
    """``hal argv`` in-process, in a fresh copy of ``inputs`` (with ``random.bin`` holding ``random_bytes``).

    Anything raised other than SystemExit and :class:`Reached` fails with the argv and the traceback.
    """
    from hal.cli.main import main
    from hal.logging import configure

    out, err = io.StringIO(), io.StringIO()
    status: int | None
    with tempfile.TemporaryDirectory(prefix="hal-cli-fuzz-") as tmp:
        work = Path(tmp) / "w"
        shutil.copytree(inputs, work)
        (work / "random.bin").write_bytes(random_bytes)
        try:
            with contextlib.chdir(work), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    status = main(argv)
                except SystemExit as stop:
                    status = 0 if stop.code is None else stop.code
                except Reached:
                    status = None
        except Exception as exc:
            raise AssertionError(f"hal {shlex.join(argv)} raised {type(exc).__name__}: {exc}\n"
                                 f"{''.join(traceback.format_exception(exc))}\nstderr:\n{err.getvalue()}") from exc
        finally:
            configure(level="warning")  # main configured logging for this argv; back to the suite's
    return Outcome(tuple(argv), status, out.getvalue(), err.getvalue())


_ERROR_LINE = re.compile(r"hal(?: [\w.-]+)*: error: (?P<message>.*)")
#: argparse's own refusals, which always name the argument.
_ARGPARSE = re.compile(r"argument |the following arguments are required: |unrecognized arguments: |ambiguous option: |one of the arguments ")


def _named(message: str, argv: tuple[str, ...], command: Command) -> bool:
    """Whether ``message`` names something the user gave: an option, a value or a file, as given."""
    if _ARGPARSE.search(message):
        return True
    given = [t.split("=", 1)[1] if t.startswith("--") and "=" in t else t for t in argv[len(command.words):]]
    given += [t.split("=", 1)[0] for t in argv if t.startswith("--")]
    for token in given:
        if token == "" and ("''" in message or '""' in message):  # an empty value, quoted
            return True
        if repr(token) in message:  # a value with control characters, shown with Python's escapes
            return True
        token = token.rstrip("/")
        if token and re.search(rf"(?<![\w.]){re.escape(token)}(?![\w])", message):
            return True
    return False


def check_outcome(outcome: Outcome, command: Command) -> None:
    """The property: exit status 0, 1 or 2 (or the heavy work reached); no traceback; an exit status 2
    ends standard error with exactly one error line that names the option, value or file."""
    assert "Traceback" not in outcome.err, f"{outcome.shown}: a traceback on standard error:\n{outcome.err}"
    assert outcome.status in (None, 0, 1, 2), f"{outcome.shown}: exit status {outcome.status!r}\n{outcome.err}"
    if outcome.status != 2:
        return
    lines = [line for line in outcome.err.splitlines() if line.strip()]
    errors = [line for line in lines if _ERROR_LINE.match(line)]
    assert lines and _ERROR_LINE.match(lines[-1]), f"{outcome.shown}: exit status 2 without an error line at the end:\n{outcome.err}"
    assert len(errors) == 1, f"{outcome.shown}: {len(errors)} error lines:\n{outcome.err}"
    message = _ERROR_LINE.match(lines[-1])["message"]
    assert _named(message, outcome.argv, command), f"{outcome.shown}: the error names nothing the user gave: {lines[-1]}"
