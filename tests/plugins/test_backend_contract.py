"""Every registered backend (or those named with --hal-backend) passes hal's backend contract."""

from hal.testing.contract import *  # noqa: F401,F403
