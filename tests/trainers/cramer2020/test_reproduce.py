"""`hal reproduce cramer2020` (hal_trainers.cramer2020.reproduce): a tiny run on a LocalCluster, resuming it, and its checks.

One run of two tiny trials (digits10, 16 hidden neurons, a fifth of an epoch of mock and a
tenth of in-the-loop training) is shared by the tests of this module; each test that changes
an output folder works on a copy.
"""

from __future__ import annotations

import json
import shutil

import pytest

pytest.importorskip("torch", reason="trainers need torch (pip install torch==2.13.0)")
pytest.importorskip("sklearn", reason="the digits dataset needs scikit-learn")
pytest.importorskip("distributed", reason="trials run on Dask distributed")
pytest.importorskip("matplotlib", reason="figures need matplotlib")

import hal_trainers.cramer2020.reproduce as reproduce_module  # noqa: E402
from hal.errors import ConfigError  # noqa: E402
from hal_trainers.cramer2020.figures import FIGURES  # noqa: E402
from hal_trainers.cramer2020.report import STATISTICS  # noqa: E402
from hal_trainers.cramer2020.reproduce import reproduce  # noqa: E402

pytestmark = [pytest.mark.needs_torch, pytest.mark.needs_extension]  # the noisy backend runs on the compiled kernel

#: The tiny trials: a few seconds each once torch is warm.
TINY = {"hidden": 16, "mock_epochs": 0.2, "itl_epochs": 0.1, "batch_size": 64}
RUN = {"dataset": "digits10", "backend": "noisy", "trials": 2, "test_subset": 50, **TINY}

#: The numbers of a trial that a resumed trial must reproduce exactly.
NUMBERS = ("software", "mock_on_backend", "in_the_loop", "hidden_spikes_per_image", "hidden_spikes_per_image_mock", "confusion",
           "mock_curve", "itl_curve", "init_factor", "sizes", "settings", "scheme", "example")


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """Two tiny trials on a LocalCluster of two worker processes: (output folder, report, progress lines)."""
    out = tmp_path_factory.mktemp("cramer2020") / "out"
    lines = []
    report = reproduce(**RUN, out=str(out), workers=2, progress=lines.append)
    return out, report, lines


@pytest.fixture
def no_dask(monkeypatch):
    """Fails the test if a Dask client is asked for; counts the trials run in this process."""
    calls = []

    def refuse(*args, **kwargs):
        raise AssertionError("a Dask client was started")

    def counting(*args, **kwargs):
        calls.append(kwargs)
        return run_trial(*args, **kwargs)

    run_trial = reproduce_module.run_trial
    monkeypatch.setattr(reproduce_module, "dask_client", refuse)
    monkeypatch.setattr(reproduce_module, "run_trial", counting)
    return calls


def test_the_report_has_every_trial_its_statistics_and_the_papers_numbers(tiny_run):
    out, report, _ = tiny_run
    assert json.loads((out / "report.json").read_text()) == json.loads(json.dumps(report))
    assert report["trials"] == 2 and report["seeds"] == [0, 1]
    assert (report["backend"], report["dataset"]) == ("noisy", "digits10")
    assert report["sizes"] == {"input": 64, "hidden": 16, "readout": 10}
    assert report["scheme"] and report["readout_source"]
    assert {key: report["settings"][key] for key in TINY} == TINY
    assert report["run"]["test_subset"] == 50 and report["run"]["trials_run_now"] == 2
    for name in ("software_percent", "mock_on_backend_percent", "in_the_loop_percent", "in_the_loop_gain_points",
                 "hidden_spikes_per_image", "hidden_spikes_per_neuron", "images_per_second", "wall_s_per_trial"):
        assert set(report["summary"][name]) == set(STATISTICS), name
    for key in ("software_percent", "mock_on_backend_percent", "in_the_loop_percent"):
        assert 0 <= report["summary"][key]["q25"] <= report["summary"][key]["median"] <= report["summary"][key]["q75"] <= 100
    trials = report["per_trial"]
    assert [t["seed"] for t in trials] == [0, 1]
    assert all(t["in_the_loop_gain"] == pytest.approx(t["in_the_loop"] - t["mock_on_backend"]) for t in trials)
    assert report["versus_paper"]["in_the_loop_percent"]["paper"] == 97.6
    assert {"hicanns", "synapses", "synapses_lost"} <= set(report["mapping"])
    assert report["git_revision"] is None or len(report["git_revision"]) == 40


def test_trials_checkpoints_settings_and_figures_are_in_the_output_folder(tiny_run):
    out, report, _ = tiny_run
    assert sorted(p.name for p in (out / "trials").iterdir()) == ["0.json", "1.json"]
    assert all((out / "checkpoints" / seed / "mock.pt").is_file() for seed in ("0", "1"))
    assert all((out / "checkpoints" / seed / "in_the_loop.pt").is_file() for seed in ("0", "1"))
    assert json.loads((out / "settings.json").read_text())["hidden"] == 16
    assert report["run"]["figures"] == list(FIGURES)
    for name in FIGURES:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in out.rglob("*.tmp")]  # nothing left half-written


def test_progress_lines_say_what_each_trial_reached_and_the_eta(tiny_run):
    _, _, lines = tiny_run
    finished = [line for line in lines if line.startswith("trial ") and "trials done" in line]
    assert len(finished) == 2
    assert "1/2 trials done, 1 to go, mean trial" in finished[0] and "ETA" in finished[0]
    assert "2/2 trials done, 0 to go" in finished[1]
    assert any("mock-trained twin" in line for line in lines)  # the phases, sent by the workers
    for phase in ("mock", "in-the-loop"):  # and how far each phase is, with its ETA
        assert any(f"{phase}: step " in line and "phase ETA" in line for line in lines), phase


def test_a_second_call_reuses_the_finished_trials_without_starting_dask(tiny_run, tmp_path, no_dask):
    out, report = tmp_path / "out", tiny_run[1]
    shutil.copytree(tiny_run[0], out)
    before = {p.name: p.stat().st_mtime_ns for p in (out / "trials").iterdir()}
    lines = []
    again = reproduce(**RUN, out=str(out), workers=2, progress=lines.append)
    assert no_dask == []
    assert {p.name: p.stat().st_mtime_ns for p in (out / "trials").iterdir()} == before
    assert again["per_trial"] == report["per_trial"] and again["run"]["trials_run_now"] == 0
    assert lines == [f"2 of 2 trial(s) already finished in {out} (seeds 0, 1): skipped"]
    # Fewer trials than finished: the report covers the ones asked for.
    assert reproduce(**{**RUN, "trials": 1}, out=str(out))["seeds"] == [0]


@pytest.fixture
def in_process_scheduler():
    """A Dask scheduler whose worker is a thread of this process (so the test sees the calls); torch's threads restored after."""
    import torch
    from dask.distributed import LocalCluster

    threads = torch.get_num_threads()
    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None)
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()
        torch.set_num_threads(threads)


def test_an_unfinished_trial_resumes_from_its_checkpoints(tiny_run, tmp_path, monkeypatch, in_process_scheduler):
    out = tmp_path / "out"
    shutil.copytree(tiny_run[0], out)
    finished = json.loads((out / "trials" / "1.json").read_text())
    (out / "trials" / "1.json").unlink()  # trial 1 "was killed" after its training had finished
    calls = []

    def counting(*args, **kwargs):
        calls.append(kwargs)
        return run_trial(*args, **kwargs)

    run_trial = reproduce_module.run_trial
    monkeypatch.setattr(reproduce_module, "run_trial", counting)
    import hal_trainers.reproduction as reproduction

    monkeypatch.setattr(reproduction, "_git_revision", lambda: "c" * 40)  # the resumed run is of a later commit
    report = reproduce(**RUN, out=str(out), scheduler=in_process_scheduler)
    assert [(c["seed"], c["checkpoint_dir"]) for c in calls] == [(1, str(out / "checkpoints" / "1"))]
    resumed = json.loads((out / "trials" / "1.json").read_text())
    assert {key: resumed[key] for key in NUMBERS} == {key: finished[key] for key in NUMBERS}
    assert report["seeds"] == [0, 1] and report["run"]["trials_run_now"] == 1
    # each trial names the revision of the run that finished it
    assert [t["git_revision"] for t in report["per_trial"]] == [finished["git_revision"], "c" * 40]


def test_other_settings_are_refused_before_any_work(tiny_run, tmp_path, no_dask):
    out = tmp_path / "out"
    shutil.copytree(tiny_run[0], out)
    with pytest.raises(ConfigError, match="hidden 16 there, 32 now") as error:
        reproduce(**{**RUN, "hidden": 32}, out=str(out))
    assert "holds trials run with other settings" in str(error.value)
    with pytest.raises(ConfigError, match="test_subset 50 there, None now"):
        reproduce(**{**RUN, "test_subset": None}, out=str(out))
    assert no_dask == []


def test_a_corrupt_trial_file_is_named_not_overwritten(tmp_path, no_dask):
    out = tmp_path / "out"
    (out / "trials").mkdir(parents=True)
    (out / "trials" / "0.json").write_text("{ half a trial")
    with pytest.raises(ConfigError, match="0.json: not a readable trial result"):
        reproduce(**RUN, out=str(out))
    assert (out / "trials" / "0.json").read_text() == "{ half a trial"


def test_the_report_names_the_revision_the_run_started_with(tiny_run, tmp_path, no_dask, monkeypatch):
    import hal_trainers.reproduction as reproduction

    out = tmp_path / "out"
    shutil.copytree(tiny_run[0], out)
    revision = {"now": "a" * 40}
    monkeypatch.setattr(reproduction, "_git_revision", lambda: revision["now"])
    write_figures = reproduce_module.write_figures

    def after_a_commit(*args, **kwargs):
        revision["now"] = "b" * 40  # committed while the trials ran
        return write_figures(*args, **kwargs)

    monkeypatch.setattr(reproduce_module, "write_figures", after_a_commit)
    report = reproduce(**RUN, out=str(out))
    assert report["git_revision"] == "a" * 40
    assert json.loads((out / "report.json").read_text())["git_revision"] == "a" * 40
