"""``hal data download --timeout-s`` is bounded: at most one day, refused by argparse before anything is fetched.

Found by the CLI fuzz (tests/hal/fuzz): ``--timeout-s 1e300`` passed the "> 0" check and reached
``socket.settimeout``, whose OverflowError ended the command with a traceback (exit status 1).
"""

from __future__ import annotations

import pytest

from hal.cli import main
from hal_trainers.datasets import download


class Fetching(BaseException):
    """The download began."""


@pytest.fixture
def held_back(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)

    def fetch(*args, **kwargs):
        raise Fetching(kwargs.get("timeout_s"))

    monkeypatch.setattr(download, "download_mnist", fetch)
    return tmp_path


@pytest.mark.parametrize(("value", "shown"), [("1e300", "1e+300"), ("86400.5", "86400.5"), ("1e10", "1e+10")])
def test_a_timeout_beyond_one_day_is_refused_before_any_download(held_back, capsys, value, shown):
    with pytest.raises(SystemExit) as stop:
        main(["data", "download", "mnist", "--dir", "d", "--mirror", "http://127.0.0.1:9/", "--timeout-s", value])
    assert stop.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[-1] == f"hal data download: error: argument --timeout-s: {shown} out of range; valid > 0 and <= 86400 (seconds; one day)"
    assert list(held_back.iterdir()) == []


@pytest.mark.parametrize("value", ["86400", "0.001", "60"])
def test_a_timeout_up_to_one_day_reaches_the_download(held_back, value):
    with pytest.raises(Fetching) as fetching:
        main(["data", "download", "mnist", "--dir", "d", "--timeout-s", value])
    assert fetching.value.args == (float(value),)
