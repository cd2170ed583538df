"""Commands that plugins register through ``hal_register_commands``."""

from __future__ import annotations

import pytest
from hal.logging import capture_events

import hal
from hal.cli import build_parser
from hal.errors import PluginRegistrationError
from hal.extension.manager import Plugins, get_plugin_manager


def _plugins_with(*registrations) -> Plugins:
    class _Plugin:
        @hal.hookimpl
        def hal_register_commands(self, registry):
            for name, configure in registrations:
                registry.add(name, configure, description=f"test command {name}")

    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(_Plugin(), name="test-commands")
    return Plugins(pm)


def _configure(parser):
    parser.add_argument("--times", type=int, default=1)
    return lambda args: 10 + args.times


def test_a_grouped_command_is_parsed_and_runs_its_handler():
    parser = build_parser(_plugins_with(("reproduce mypaper", _configure), ("tool", _configure)))
    args = parser.parse_args(["reproduce", "mypaper", "--times", "3"])
    assert args.func(args) == 13
    args = parser.parse_args(["tool"])
    assert args.func(args) == 11


def test_a_command_that_would_hide_a_core_command_is_skipped_with_a_warning():
    with capture_events() as logs:
        parser = build_parser(_plugins_with(("map", _configure), ("run extra", _configure)))
    skipped = sorted(e["command"] for e in logs if e["event"] == "command_skipped")
    assert skipped == ["map", "run extra"]
    # the core's own commands are untouched
    args = parser.parse_args(["map", "net.json"])
    assert args.network == "net.json"


@pytest.mark.parametrize("name", ["Bench", "reproduce  double-space", "", "reproduce 2020"])
def test_an_invalid_command_name_is_refused_naming_it(name):
    with pytest.raises(PluginRegistrationError, match="command name") as info:
        _plugins_with((name, _configure)).registrations("command")
    assert repr(name) in str(info.value)
