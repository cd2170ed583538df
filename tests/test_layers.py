"""Architecture rules that a test can check: what hal may import."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_importing_hal_pulls_in_neither_torch_nor_plugins_nor_trainers():
    code = (
        "import sys, hal, hal.cli, hal.cli.main, hal.configuration, hal.mapping, hal.netlist, hal.experiment, hal.calibration, hal.coordinates;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('torch', 'plugins', 'trainers', 'hypothesis')];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


ALLOWED_THIRD_PARTY = {"numpy", "attrs", "cattrs", "pluggy", "structlog"}


def test_hal_imports_only_its_declared_dependencies():
    stdlib = set(sys.stdlib_module_names)
    for path in (ROOT / "hal").rglob("*.py"):
        if "testing" in path.parts:
            continue  # test helpers may use hypothesis/pytest
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top in stdlib or top in ALLOWED_THIRD_PARTY or top == "hal", f"{path.relative_to(ROOT)} imports {name}"


def test_every_public_hal_module_declares_all():
    for path in (ROOT / "hal").rglob("*.py"):
        if path.name.startswith("_") and path.name != "__init__.py":
            continue
        tree = ast.parse(path.read_text())
        names = {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)}
        names |= {node.target.id for node in tree.body if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)}
        assert "__all__" in names, f"{path.relative_to(ROOT)} has no __all__"
