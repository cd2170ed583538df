"""``hal bench`` makes each backend once, with its options, before the benchmark starts.

Found by the CLI fuzz (tests/hal/fuzz): ``hal bench --backend emulator --option nonsense=1`` used to
build and map the paper network and start a scenario's worker process, which then failed; the
error came back as twelve lines with the worker's traceback. Now the option is refused first,
in one line naming the backend, the option and what is valid.
"""

from __future__ import annotations

import pytest

from hal.cli import main
from hal_plugins.bench import suite

QUICK = ["bench", "--quick", "--no-simulators", "--skip-hicann", "--skip-wafer", "--out", "results.json"]


class Started(BaseException):
    """The benchmark's work began (raised where the suite builds the paper network)."""


@pytest.fixture
def held_back(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)

    def start(*args, **kwargs):
        raise Started

    monkeypatch.setattr(suite, "describe_paper_network", start)
    return tmp_path


@pytest.mark.parametrize(("argv", "message"), [
    (["--backend", "emulator", "--option", "nonsense=1"], "hal: error: backend 'emulator': unknown option(s) nonsense"),
    (["--backend", "emulator:threads=-1"], "hal: error: emulator threads: -1 out of range; valid an integer >= 1"),
    (["--backend", "emulator", "--backend", "noisy", "--option", "dtype=float16"],
     "hal: error: emulator dtype: 'float16' not valid; valid float64, float32"),
])
def test_a_bad_backend_option_is_refused_in_one_line_before_the_benchmark_starts(held_back, capsys, argv, message):
    assert main([*QUICK, *argv]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == message and "Traceback" not in err
    assert list(held_back.iterdir()) == []


def test_valid_backend_options_reach_the_benchmark(held_back):
    with pytest.raises(Started):
        main([*QUICK, "--backend", "emulator", "--backend", "noisy:threads=1", "--option", "dtype=float32"])
