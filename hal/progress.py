"""Progress with total, rate and ETA for long jobs (calibration, training, reproductions).

One small wrapper over :mod:`tqdm` (``tqdm.auto``: a widget in Jupyter, a line on a terminal).
Shown only where someone watches: on a terminal or in a notebook, never in a log file or a
pipe, where the structured log events already tell the story.
"""

from __future__ import annotations

import sys

__all__ = ["ProgressBar"]


class ProgressBar:
    """``bar = ProgressBar(total, "in-the-loop"); bar.update(step, "acc 0.93"); bar.close()``.

    ``update`` takes the number done so far (not an increment), so a resumed job starts where
    it stopped; ``info`` is shown after the counts. Also a context manager.
    """

    def __init__(self, total: int, label: str, *, unit: str = "step", stream=None, initial: int = 0):
        from tqdm.auto import tqdm

        stream = stream or sys.stderr
        watched = _in_notebook() or (hasattr(stream, "isatty") and stream.isatty())
        self._bar = tqdm(total=max(1, int(total)), desc=label, unit=unit, file=stream, initial=initial,
                         disable=not watched, dynamic_ncols=True, leave=True)
        self.enabled = watched

    def update(self, done: int, info: str = "") -> None:
        if not self.enabled:
            return
        if info:
            self._bar.set_postfix_str(info, refresh=False)
        self._bar.update(int(done) - self._bar.n)

    def close(self) -> None:
        self._bar.close()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _in_notebook() -> bool:
    """True inside a Jupyter kernel (where standard error is no terminal but someone watches)."""
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        ip = shell.get_ipython()
    except Exception:  # an IPython that is imported but not running
        return False
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"
