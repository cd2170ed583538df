"""Fake backends for tests."""

from __future__ import annotations

from hal.backend import Backend, Capabilities, RunRequest, RunResult
from hal.backend.events import HardwareEvents

__all__ = ["RecordingBackend"]


class RecordingBackend(Backend):
    """Captures the register-write stream (:attr:`write_log`) and the run requests; simulates nothing.

    Every run returns an empty trace, so code under test sees a silent chip.
    """

    name = "recording"
    capabilities = Capabilities(membrane_readout=True)

    def __init__(self, wafer=0, **options):
        super().__init__(wafer, **options)
        self.requests: list[RunRequest] = []

    def _run(self, request: RunRequest) -> RunResult:
        self.requests.append(request)
        return RunResult(HardwareEvents.empty(), info={"recorded_writes": len(self.write_log)})
