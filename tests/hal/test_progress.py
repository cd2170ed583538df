"""The progress bar: counts, ETA and the caller's info on a terminal; nothing in a pipe or a log file."""

from __future__ import annotations

import io

from hal.progress import ProgressBar


class Tty(io.StringIO):
    def isatty(self):
        return True


def test_draws_counts_eta_and_info_on_a_terminal_only():
    tty, pipe = Tty(), io.StringIO()
    for stream in (tty, pipe):
        with ProgressBar(4, "steps", stream=stream) as bar:
            bar.update(2, "acc 0.5")
    shown = tty.getvalue()
    assert "steps" in shown and "2/4" in shown and "acc 0.5" in shown
    assert "<" in shown  # tqdm's "elapsed<remaining"
    assert pipe.getvalue() == ""


def test_update_takes_the_count_done_so_a_resumed_job_continues():
    tty = Tty()
    bar = ProgressBar(10, "resumed", stream=tty, initial=6)
    bar.update(8)
    assert bar._bar.n == 8
    bar.close()
    assert "8/10" in tty.getvalue()
