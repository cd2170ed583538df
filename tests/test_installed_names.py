"""The installed package names: hal's plugins and trainers cannot be shadowed by a user's own
``plugins``/``trainers`` folders, and one broken third-party entry point does not take the
others down."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

LIST = "import hal, json; print(json.dumps({'backends': hal.list_backends(), 'trainers': hal.list_trainers()}))"


def _run(code: str, cwd, env_path: str | None = None) -> subprocess.CompletedProcess:
    import os

    env = dict(os.environ)
    if env_path is not None:
        env["PYTHONPATH"] = env_path + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, env=env, timeout=120)


def test_a_users_own_plugins_and_trainers_folders_do_not_shadow_hals(tmp_path):
    # A research repository with folders of the same generic names, first on sys.path (as in Jupyter).
    for name in ("plugins", "trainers"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("raise ImportError('the user\\'s own package was imported')\n")
    done = _run(LIST, cwd=tmp_path, env_path=str(tmp_path))
    assert done.returncode == 0, done.stderr
    listing = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"emulator", "noisy", "reference"} <= set(listing["backends"])
    assert "in_the_loop" in listing["trainers"]


def test_a_broken_entry_point_is_skipped_with_a_warning_naming_it(tmp_path):
    # A third-party distribution whose plugin module fails on import.
    dist = tmp_path / "broken_hal_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-hal-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[hal]\nbrokenthing = broken_hal_plugin_module\n")
    (tmp_path / "broken_hal_plugin_module.py").write_text("raise RuntimeError('boom at import')\n")
    code = textwrap.dedent(
        """
        import logging, sys
        logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
        from hal.logging import configure
        configure(level="warning")
        """
    ) + LIST
    done = _run(code, cwd=tmp_path, env_path=str(tmp_path))
    assert done.returncode == 0, done.stderr
    listing = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"emulator", "noisy", "reference"} <= set(listing["backends"])
    output = done.stdout + done.stderr
    assert "plugin_skipped" in output and "brokenthing" in output and "boom at import" in output
