"""A one-line progress bar on standard error, shown only when it is a terminal."""

from __future__ import annotations

import sys
import time

__all__ = ["ProgressBar"]


class ProgressBar:
    """``bar = ProgressBar(total, "in-the-loop"); bar.update(step, "train 0.93"); bar.close()``."""

    def __init__(self, total: int, label: str, *, stream=None, width: int = 28):
        self.total = max(1, int(total))
        self.label = label
        self.stream = stream or sys.stderr
        self.width = width
        self.started = time.perf_counter()
        self.enabled = hasattr(self.stream, "isatty") and self.stream.isatty()

    def update(self, done: int, info: str = "") -> None:
        if not self.enabled:
            return
        filled = int(self.width * min(done, self.total) / self.total)
        elapsed = time.perf_counter() - self.started
        eta = elapsed / done * (self.total - done) if done else 0.0
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {done}/{self.total} "
                          f"{elapsed:5.0f}s (eta {eta:4.0f}s) {info}   ")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
