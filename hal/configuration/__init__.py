"""The register-level configuration of a wafer: the configurator that writes it, diffs, and files."""

from hal.configuration.configurator import Configurator, Mode, RegisterImageSink, RegisterSink, Verify, WriteStream
from hal.configuration.diff import RegisterDiff, diff_configs
from hal.configuration.io import config_from_dict, config_to_dict, load_config, save_config

__all__ = [
    "Configurator", "Mode", "RegisterImageSink", "RegisterSink", "Verify", "WriteStream",
    "RegisterDiff", "diff_configs",
    "config_from_dict", "config_to_dict", "load_config", "save_config",
]
