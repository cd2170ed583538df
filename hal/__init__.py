"""hal: a plugin-based hardware abstraction layer for wafer-scale analog neuromorphic hardware.

The public entry points; each lives in a module named after its job:

* :mod:`hal.coordinates` -- typed addresses of everything on the wafer;
* :mod:`hal.registers` and :mod:`hal.hardware` -- registers declared once, chip and wafer configuration;
* :mod:`hal.configurator` -- configuration to a minimal, staged stream of register writes;
* :mod:`hal.serialization` -- configurations to and from files;
* :mod:`hal.errors` -- the typed errors.
"""

from hal import coordinates
from hal.configurator import Configurator, Mode, RegisterImageSink, Verify, WriteStream
from hal.hardware.wafer import WaferConfig, wafer_counts
from hal.serialization import load_config, save_config

__version__ = "0.1.0.dev0"

__all__ = [
    "coordinates",
    "WaferConfig",
    "wafer_counts",
    "Configurator",
    "Mode",
    "Verify",
    "WriteStream",
    "RegisterImageSink",
    "save_config",
    "load_config",
    "__version__",
]
