"""What a backend is: the protocol every backend implements, its capabilities, and the hardware events it exchanges."""

from hal.backend.contract import Backend, Capabilities, LockState, RunRequest, RunResult
from hal.backend.events import HardwareEvents, sort_order

__all__ = ["Backend", "Capabilities", "LockState", "RunRequest", "RunResult", "HardwareEvents", "sort_order"]
