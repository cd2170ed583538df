"""Library logging: nothing below WARNING unless the application asks; the CLI's --log-level anywhere."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import textwrap

import pytest

from hal.cli.main import main
from hal.errors import ConfigError
from hal.logging import capture_events, configure, get_logger

# Maps a small network (info events from the mapper) and emits one warning of hal's own.
_LIBRARY_USE = textwrap.dedent("""
    import logging, sys
    {setup}
    import hal
    from hal.logging import get_logger
    from hal.testing.networks import paper_network
    paper_network()  # maps it
    get_logger("hal.example").warning("something_odd", value=3)
    print("done")
""")


def _run_library(setup: str) -> subprocess.CompletedProcess:
    code = _LIBRARY_USE.format(setup=setup)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)


def test_library_use_prints_only_warnings_by_default():
    done = _run_library("")
    assert done.stdout == "done\n"
    assert "network_mapped" not in done.stderr  # info
    assert "something_odd value=3" in done.stderr  # Python's last-resort handler shows warnings


def test_basic_config_decides_what_is_shown():
    quiet = _run_library("logging.basicConfig(level=logging.ERROR)")
    assert quiet.stdout == "done\n" and quiet.stderr == ""
    chatty = _run_library("logging.basicConfig(level=logging.INFO)")
    assert chatty.stdout == "done\n"
    assert "INFO:hal.mapping" in chatty.stderr and "network_mapped" in chatty.stderr


def test_events_carry_their_fields():
    with capture_events() as events:
        get_logger("hal.example").info("thing_done", count=3, name="x")
    assert events == [{"event": "thing_done", "count": 3, "name": "x", "log_level": "info", "logger": "hal.example"}]


def test_configure_renders_lines_or_json_and_replaces_itself():
    stream = io.StringIO()
    configure(level="info", stream=stream)
    configure(json=True, level="info", stream=stream)  # the second call replaces the first handler
    try:
        get_logger("hal_plugins.example").info("measured", value=1.5)
        get_logger("hal_plugins.example").debug("hidden")
    finally:
        configure(level="warning")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["event"] == "measured" and record["value"] == 1.5 and record["level"] == "info"
    assert record["logger"] == "hal_plugins.example"


def test_configure_refuses_an_unknown_level():
    with pytest.raises(ConfigError, match="log level 'loud' is not valid; valid: debug, info, warning, error"):
        configure(level="loud")


def test_configure_shows_other_libraries_warnings_but_not_their_info():
    stream = io.StringIO()
    configure(level="debug", stream=stream)
    chatty = logging.getLogger("distributed.core")
    old = chatty.level
    chatty.setLevel(logging.INFO)  # as Dask configures its loggers
    try:
        chatty.info("Starting established connection")
        chatty.warning("Worker restarted")
    finally:
        chatty.setLevel(old)
        configure(level="warning")
    shown = stream.getvalue()
    assert "Worker restarted" in shown and "established connection" not in shown


def test_configure_leaves_other_libraries_levels_alone():
    other = logging.getLogger("someone.else")
    before = other.getEffectiveLevel()
    configure(level="debug", stream=io.StringIO())
    try:
        assert other.getEffectiveLevel() == before
        assert logging.getLogger("hal").level == logging.DEBUG
    finally:
        configure(level="warning")


@pytest.mark.parametrize("argv", [["--log-level", "error", "info", "wafer"], ["info", "wafer", "--log-level", "error"]])
def test_cli_log_level_before_or_after_the_command(argv, capsys):
    try:
        assert main(argv) == 0
    finally:
        configure(level="warning")
    assert capsys.readouterr().out


def test_cli_version(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.startswith("hal ")


def test_cli_survives_a_closed_pipe():
    # `hal info registers | head -1`: the reader closes early; no traceback, exit status 0.
    shell = f"{sys.executable} -m hal.cli info registers | head -1"
    done = subprocess.run(["bash", "-o", "pipefail", "-c", shell], capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr
    assert done.returncode == 0
