"""Every numeric option of hal map, hal config diff, hal reproduce, hal bench and hal data download refuses a bad
value with argparse's one-line error -- naming the option, the value and the valid range -- before any work.

These are the values a hostile first use tried (issue 13): a negative rate, negative or fractional seeds,
``--test-subset -5`` / ``0``, ``--limit -1``, ``--workers -2``; the rest are their neighbours.
"""

from __future__ import annotations

import pytest

from hal.cli import main
from hal.cli.mapping import CIRCUITS, PLACEMENTS, ROUTERS


def _refused(capsys, argv: list[str]) -> str:
    """Run ``hal argv``; it must stop in argparse with exit status 2 and one error line; returns that line."""
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    errors = [line for line in captured.err.splitlines() if ": error: " in line]
    assert len(errors) == 1 and "Traceback" not in captured.err
    return errors[0]


CASES = [
    # (command words, option, bad value, what the message says is valid)
    (["map", "NET"], "--source-rate-hz", "-5", "-5 out of range; valid >= 0"),
    (["map", "NET"], "--source-rate-hz", "inf", "'inf' is not a finite number; valid >= 0"),
    (["map", "NET"], "--seed", "-1", "-1 out of range; valid seeds 0..2**63-1"),
    (["map", "NET"], "--seed", "1.5", "'1.5' is not an integer; valid seeds 0..2**63-1"),
    (["map", "NET"], "--seed", str(2**63), f"{2**63} out of range; valid seeds 0..2**63-1"),
    (["map", "NET"], "--wafer", "-1", "-1 out of range; valid wafer ids 0..65535"),
    (["map", "NET"], "--hicann", "380-390", "390 out of range; valid HICANN enums 0..383"),
    (["map", "NET"], "--circuits", "3", "invalid choice: 3 (choose from 1, 2, 4, 8, 16, 32, 64)"),
    (["map", "NET"], "--placement", "spiral", "invalid choice: 'spiral'"),
    (["map", "NET"], "--samples", "0", "0 out of range; valid integers >= 1"),
    (["map", "NET"], "--duration-ms", "0", "0 out of range; valid > 0"),
    (["map", "NET"], "--input-seed", "-2", "-2 out of range; valid seeds 0..2**63-1"),
    (["config", "diff", "A", "B"], "--limit", "-1", "-1 out of range; valid integers >= 0"),
    (["reproduce", "schmitt2017"], "--test-subset", "-5", "-5 out of range; valid integers >= 1"),
    (["reproduce", "schmitt2017"], "--test-subset", "0", "0 out of range; valid integers >= 1"),
    (["reproduce", "schmitt2017"], "--trials", "0", "0 out of range; valid integers >= 1"),
    (["reproduce", "schmitt2017"], "--workers", "-2", "-2 out of range; valid integers >= 1"),
    (["reproduce", "schmitt2017"], "--itl-steps", "-1", "-1 out of range; valid integers >= 0"),
    (["reproduce", "schmitt2017"], "--ann-steps", "0", "0 out of range; valid integers >= 1"),
    (["reproduce", "schmitt2017"], "--itl-batch", "1.5", "'1.5' is not an integer; valid integers >= 1"),
    (["reproduce", "schmitt2017"], "--itl-leak", "1.5", "1.5 out of range; valid 0..1"),
    (["reproduce", "schmitt2017"], "--itl-leak", "nan", "'nan' is not a finite number; valid 0..1"),
    (["reproduce", "schmitt2017"], "--scheduler", "host:0", "'host:0' is not a scheduler address; valid [tcp://]HOST:PORT with PORT 1..65535"),
    (["reproduce", "cramer2020"], "--scheduler", "10.0.0.5", "'10.0.0.5' is not a scheduler address; valid [tcp://]HOST:PORT"),
    (["reproduce", "cramer2020"], "--trials", "-1", "-1 out of range; valid integers >= 1"),
    (["reproduce", "cramer2020"], "--workers", "0", "0 out of range; valid integers >= 1"),
    (["reproduce", "cramer2020"], "--test-subset", "0", "0 out of range; valid integers >= 1"),
    (["reproduce", "cramer2020"], "--hidden", "0", "0 out of range; valid integers >= 1"),
    (["reproduce", "cramer2020"], "--batch-size", "-5", "-5 out of range; valid integers >= 1"),
    (["reproduce", "cramer2020"], "--mock-epochs", "0", "0 out of range; valid > 0"),
    (["reproduce", "cramer2020"], "--itl-epochs", "nan", "'nan' is not a finite number; valid > 0"),
    (["bench"], "--seed", "-3", "-3 out of range; valid seeds 0..2**63-1"),
    (["bench"], "--seed", "2.5", "'2.5' is not an integer; valid seeds 0..2**63-1"),
    (["bench"], "--samples", "0", "0 out of range; valid integers >= 1"),
    (["bench"], "--reference-samples", "-1", "-1 out of range; valid integers >= 1"),
    (["bench"], "--repeat", "0", "0 out of range; valid integers >= 1"),
    (["bench"], "--wafer-hicanns", "385", "385 out of range; valid 1..384"),
    (["bench"], "--wafer-bio-s", "0", "0 out of range; valid > 0"),
    (["data", "download", "mnist"], "--timeout-s", "-1", "-1 out of range; valid > 0"),
    (["data", "download", "mnist"], "--mirror", "ftp://example.org/", "'ftp://example.org/' is not a base URL; valid http://"),
]


@pytest.mark.parametrize(("words", "option", "value", "valid"), CASES, ids=[f"{c[0][0]}-{c[0][-1]}{c[1]}={c[2]}" for c in CASES])
def test_a_bad_number_is_refused_naming_option_value_and_range_and_nothing_is_written(tmp_path, capsys, monkeypatch, words, option,
                                                                                      value, valid):
    monkeypatch.chdir(tmp_path)  # default outputs (schmitt2017-out/, mnist/, ...) would land here
    words = [{"NET": "net.json", "A": "a.hal", "B": "b.hal"}.get(w, w) for w in words]
    line = _refused(capsys, [*words, f"{option}={value}"])
    prog = "hal " + " ".join(w for w in words if w not in ("net.json", "a.hal", "b.hal", "mnist"))
    assert line == f"{prog}: error: argument {option}: {valid}" or line.startswith(f"{prog}: error: argument {option}: {valid}")
    assert list(tmp_path.iterdir()) == []


def test_the_choices_are_the_mappers():
    from hal.mapping import CIRCUITS_PER_NEURON, PLACEMENTS as MAPPER_PLACEMENTS, ROUTERS as MAPPER_ROUTERS

    assert tuple(CIRCUITS) == tuple(CIRCUITS_PER_NEURON) and tuple(PLACEMENTS) == tuple(MAPPER_PLACEMENTS)
    assert tuple(ROUTERS) == tuple(MAPPER_ROUTERS)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["reproduce", "schmitt2017", "--scheduler", "tcp://127.0.0.1:1", "--workers", "2"],
         "--workers 2 is for the LocalCluster; with --scheduler the scheduler's workers run the trials"),
        (["reproduce", "cramer2020", "--scheduler", "tcp://127.0.0.1:1", "--workers", "2"],
         "--workers 2 is for the LocalCluster; with --scheduler the scheduler's workers run the trials"),
        (["reproduce", "cramer2020", "--option", "threads"], "--option 'threads': expected KEY=VALUE"),
        (["bench", "--option", "dt_ms=0.1"], "--option needs --backend NAME"),
        (["bench", "--backend", "emulator", "--option", "x=1,2"], "--option 'x=1,2': a value with ',' cannot be passed"),
        (["bench", "--backend", "emulatr"], "unknown backend 'emulatr'; did you mean 'emulator'?"),
    ],
)
def test_inconsistent_options_are_typed_errors_before_any_work(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"hal: error: {message}") and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_bench_takes_the_common_backend_syntax_and_its_own(monkeypatch, capsys):
    import hal_plugins.bench.command as bench

    seen = {}

    def fake_run_benchmarks(**kwargs):
        seen.update(kwargs)
        return {"fake": True}

    monkeypatch.setattr(bench, "run_benchmarks", fake_run_benchmarks)
    assert main(["bench", "--json", "--backend", "emulator", "--backend", "noisy:threads=1", "--option", "dtype=float32",
                 "--option", "dt_ms=0.1"]) == 0
    assert seen["backends"] == ("emulator:dtype=float32,dt_ms=0.1", "noisy:threads=1,dtype=float32,dt_ms=0.1")
    assert capsys.readouterr().out.strip() == '{\n  "fake": true\n}'
    assert main(["bench", "--backend", "emulator:dtype=float32", "--json"]) == 0
    assert seen["backends"] == ("emulator:dtype=float32",)
