"""Architecture rules that a test can check: what hal may import, and in which direction.

The layer order is the one DESIGN.md draws ("Layers and what each may import"). A module may
import modules of its own package and of the same or a lower layer; packages import each other
without circles; the facade (``hal/__init__.py``) is imported only by ``hal.cli`` and
``hal.testing``. Imports are read from the source with :mod:`ast`, so imports inside functions
and under ``TYPE_CHECKING`` count as well.
"""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys
from collections.abc import Iterable, Mapping


ROOT = pathlib.Path(__file__).resolve().parents[1]

#: the facade, ``hal/__init__.py``, as a unit of its own
FACADE = "hal"

#: the units of hal (top-level modules and subpackages), lowest layer first
LAYERS: tuple[frozenset[str], ...] = tuple(
    frozenset(layer)
    for layer in (
        {"hal.errors", "hal.registers", "hal.validators", "hal.files", "hal.logging", "hal.progress", "hal._version"},
        {"hal.coordinates"},
        {"hal.hardware", "hal.network"},
        {"hal.analog", "hal.configuration"},
        {"hal.backend", "hal.calibration"},
        {"hal.mapping", "hal.netlist", "hal.extension"},
        {"hal.experiment"},
        {FACADE},
        {"hal.cli", "hal.testing", "hal.pynn", "hal.nir"},
    )
)
LAYER_OF: dict[str, int] = {unit: rank for rank, layer in enumerate(LAYERS) for unit in layer}

#: who may import the facade
FACADE_IMPORTERS = {"hal.cli", "hal.testing", "hal.pynn", "hal.nir"}


# ---------------------------------------------------------------------------------------------
# The checker: reading imports, and judging them
# ---------------------------------------------------------------------------------------------


def module_name(path: pathlib.Path, root: pathlib.Path) -> str:
    """``hal/a/b.py`` -> ``hal.a.b``; ``hal/a/__init__.py`` -> ``hal.a``."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def unit_of(module: str) -> str:
    """The layer unit a module belongs to: its subpackage of hal (``hal.coordinates`` for
    ``hal.coordinates.l1``), a top-level module (``hal.errors``), or the facade (``hal``)."""
    return ".".join(module.split(".")[:2])


def _import_module_target(node: ast.Call) -> str | None:
    """``importlib.import_module("hal.x")`` / ``__import__("hal.x")`` with a literal name."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if name not in ("import_module", "__import__") or not node.args:
        return None
    arg = node.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value.split(".")[0] == "hal":
        return arg.value
    return None


def imports_in_source(source: str, module: str, is_package: bool, known_modules: set[str]) -> list[tuple[str, int]]:
    """Every hal module that ``module`` imports, with the line, wherever the import stands.

    ``from A import n`` names the module ``A.n`` when that is a module, else ``A`` itself
    (``from hal import coordinates`` -> ``hal.coordinates``, ``from hal import run`` -> ``hal``).
    Relative imports are resolved against ``module``.
    """
    found: list[tuple[str, int]] = []
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names if alias.name.split(".")[0] == "hal"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                if node.level > 1:
                    base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            if base.split(".")[0] != "hal":
                continue
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.append((candidate if candidate in known_modules else base, node.lineno))
        elif isinstance(node, ast.Call):
            target = _import_module_target(node)
            if target is not None:
                found.append((target, node.lineno))
    return sorted(found, key=lambda item: item[1])  # ast.walk goes breadth first


def collect_imports(root: pathlib.Path) -> dict[str, list[tuple[str, str, int]]]:
    """module -> [(imported hal module, file, line)] for every module of ``root/hal``."""
    paths = sorted((root / "hal").rglob("*.py"))
    known = {module_name(p, root) for p in paths}
    result: dict[str, list[tuple[str, str, int]]] = {}
    for path in paths:
        module = module_name(path, root)
        rel = str(path.relative_to(root))
        imports = imports_in_source(path.read_text(), module, path.name == "__init__.py", known)
        result[module] = [(target, rel, line) for target, line in imports]
    return result


def layer_violations(
    imports: Mapping[str, Iterable[tuple[str, str, int]]],
    layer_of: Mapping[str, int],
) -> list[str]:
    """Imports that go to a higher layer, and modules whose unit has no layer."""
    problems = []
    for module, targets in imports.items():
        source_unit = unit_of(module)
        if source_unit not in layer_of:
            problems.append(f"{module}: unit {source_unit} has no layer in LAYERS")
            continue
        for target, where, line in targets:
            target_unit = unit_of(target)
            if target_unit == source_unit:
                continue  # a module may import the modules of its own package
            if target_unit not in layer_of:
                problems.append(f"{where}:{line}: {module} imports {target}, whose unit {target_unit} has no layer")
            elif layer_of[target_unit] > layer_of[source_unit]:
                problems.append(
                    f"{where}:{line}: {module} (layer {layer_of[source_unit]}, {source_unit}) imports {target} "
                    f"(layer {layer_of[target_unit]}, {target_unit})"
                )
    return problems


def unit_graph(imports: Mapping[str, Iterable[tuple[str, str, int]]]) -> dict[str, set[str]]:
    """The import graph between units (self-imports left out)."""
    graph: dict[str, set[str]] = {}
    for module, targets in imports.items():
        source = unit_of(module)
        edges = graph.setdefault(source, set())
        for target, _where, _line in targets:
            target_unit = unit_of(target)
            if target_unit != source:
                edges.add(target_unit)
                graph.setdefault(target_unit, set())
    return graph


def find_cycle(graph: Mapping[str, Iterable[str]]) -> list[str] | None:
    """One circle of ``graph`` as ``[a, b, ..., a]``, or None when it has none."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour = dict.fromkeys(graph, WHITE)
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        colour[node] = GREY
        stack.append(node)
        for succ in sorted(graph.get(node, ())):
            state = colour.get(succ, WHITE)
            if state == GREY:
                return stack[stack.index(succ):] + [succ]
            if state == WHITE:
                cycle = visit(succ)
                if cycle:
                    return cycle
        stack.pop()
        colour[node] = BLACK
        return None

    for node in sorted(graph):
        if colour[node] == WHITE:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def _hal_imports():
    return collect_imports(ROOT)


# ---------------------------------------------------------------------------------------------
# The rules, on hal itself
# ---------------------------------------------------------------------------------------------


def test_every_hal_module_belongs_to_a_layer():
    units = {unit_of(module) for module in _hal_imports()}
    assert units - set(LAYER_OF) == set(), "add the new unit to LAYERS (DESIGN.md draws the order)"


def test_hal_imports_only_the_same_or_lower_layers():
    assert layer_violations(_hal_imports(), LAYER_OF) == []


def test_hal_packages_import_each_other_without_circles():
    assert find_cycle(unit_graph(_hal_imports())) is None


def test_the_facade_is_imported_only_by_cli_and_testing():
    importers = {
        f"{where}:{line}: {module}"
        for module, targets in _hal_imports().items()
        for target, where, line in targets
        if unit_of(target) == FACADE and unit_of(module) not in FACADE_IMPORTERS | {FACADE}
    }
    assert importers == set()


def test_the_reader_sees_imports_in_functions_and_from_hal_forms():
    """The reader is run on hal's own tree: a few imports known to be there must be found."""
    imports = _hal_imports()
    # imports made inside a function body
    assert any(target == "hal.experiment.run" for target, _, _ in imports["hal.experiment.model"])
    # ``from hal import coordinates as C`` names the coordinates package, not the facade
    assert any(target == "hal.coordinates" for target, _, _ in imports["hal.hardware.hicann"])
    assert all(target != FACADE for target, _, _ in imports["hal.hardware.hicann"])


# ---------------------------------------------------------------------------------------------
# The checker on small synthetic examples: it must find what is wrong
# ---------------------------------------------------------------------------------------------

SYNTHETIC_LAYERS = {"hal.errors": 0, "hal.low": 1, "hal.mid": 2, "hal.high": 2, "hal": 3, "hal.cli": 4}


def test_checker_accepts_downward_and_same_package_imports():
    imports = {
        "hal.mid.a": [("hal.low.x", "hal/mid/a.py", 3), ("hal.mid.b", "hal/mid/a.py", 4), ("hal.errors", "hal/mid/a.py", 5)],
        "hal.mid.b": [("hal.low", "hal/mid/b.py", 1)],
        "hal.high": [("hal.mid.a", "hal/high/__init__.py", 1)],  # same layer, other package
        "hal": [("hal.mid", "hal/__init__.py", 1)],
        "hal.cli.main": [("hal", "hal/cli/main.py", 2)],
    }
    assert layer_violations(imports, SYNTHETIC_LAYERS) == []
    assert find_cycle(unit_graph(imports)) is None


def test_checker_reports_an_upward_import_with_file_and_line():
    imports = {
        "hal.low.x": [("hal.mid.a", "hal/low/x.py", 17)],
        "hal.mid.a": [("hal", "hal/mid/a.py", 9)],  # the facade from below
    }
    problems = layer_violations(imports, SYNTHETIC_LAYERS)
    assert len(problems) == 2
    assert problems[0].startswith("hal/low/x.py:17: hal.low.x (layer 1, hal.low) imports hal.mid.a (layer 2, hal.mid)")
    assert problems[1].startswith("hal/mid/a.py:9: ")


def test_checker_reports_modules_and_targets_without_a_layer():
    imports = {"hal.stray.m": [], "hal.low.x": [("hal.nowhere", "hal/low/x.py", 2)]}
    problems = layer_violations(imports, SYNTHETIC_LAYERS)
    assert problems == [
        "hal.stray.m: unit hal.stray has no layer in LAYERS",
        "hal/low/x.py:2: hal.low.x imports hal.nowhere, whose unit hal.nowhere has no layer",
    ]


def test_checker_finds_a_circle_between_packages_of_one_layer():
    # mid and high share a layer, so the layer rule allows both edges; the circle rule does not.
    imports = {
        "hal.mid.a": [("hal.high.b", "hal/mid/a.py", 1)],
        "hal.high.b": [("hal.low", "hal/high/b.py", 1)],
        "hal.low": [],
        "hal.high.c": [("hal.mid", "hal/high/c.py", 5)],
    }
    assert layer_violations(imports, SYNTHETIC_LAYERS) == []
    cycle = find_cycle(unit_graph(imports))
    assert cycle is not None and cycle[0] == cycle[-1]
    assert set(cycle) == {"hal.mid", "hal.high"}


def test_find_cycle_on_plain_graphs():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"a"}}) == ["a", "a"]


def test_reader_resolves_every_import_form():
    known = {"hal", "hal.low", "hal.low.x", "hal.low.y", "hal.mid", "hal.mid.a", "hal.mid.b", "hal.errors"}
    source = '''
import numpy
import hal.low.x
from hal import low
from hal import run_something
from hal.low import x, helper
from . import b
from .b import thing
from .. import errors
from ..low.y import z
import importlib

def later():
    from hal.errors import HalError
    importlib.import_module("hal.low.y")

if TYPE_CHECKING:
    from hal.low.x import T
'''
    found = imports_in_source(source, "hal.mid.a", is_package=False, known_modules=known)
    assert found == [
        ("hal.low.x", 3),
        ("hal.low", 4),
        ("hal", 5),  # not a submodule: the facade
        ("hal.low.x", 6),
        ("hal.low", 6),  # ``helper`` is a name in hal.low
        ("hal.mid.b", 7),
        ("hal.mid.b", 8),
        ("hal.errors", 9),
        ("hal.low.y", 10),
        ("hal.errors", 14),
        ("hal.low.y", 15),
        ("hal.low.x", 18),
    ]


def test_reader_resolves_relative_imports_in_a_package_init():
    known = {"hal", "hal.low", "hal.low.x"}
    found = imports_in_source("from . import x\nfrom .x import y\n", "hal.low", is_package=True, known_modules=known)
    assert found == [("hal.low.x", 1), ("hal.low.x", 2)]


def test_reader_on_a_synthetic_tree_finds_the_upward_import_in_a_function(tmp_path):
    (tmp_path / "hal" / "low").mkdir(parents=True)
    (tmp_path / "hal" / "mid").mkdir()
    (tmp_path / "hal" / "__init__.py").write_text("from hal.mid import a\n")
    (tmp_path / "hal" / "errors.py").write_text("")
    (tmp_path / "hal" / "low" / "__init__.py").write_text("")
    (tmp_path / "hal" / "low" / "x.py").write_text("import os\n\n\ndef f():\n    from hal.mid.a import g\n    return g\n")
    (tmp_path / "hal" / "mid" / "__init__.py").write_text("")
    (tmp_path / "hal" / "mid" / "a.py").write_text("from hal.low import x\n")
    imports = collect_imports(tmp_path)
    problems = layer_violations(imports, SYNTHETIC_LAYERS)
    assert problems == ["hal/low/x.py:5: hal.low.x (layer 1, hal.low) imports hal.mid.a (layer 2, hal.mid)"]
    cycle = find_cycle(unit_graph(imports))
    assert cycle is not None and cycle[0] == cycle[-1] and set(cycle) == {"hal.low", "hal.mid"}


# ---------------------------------------------------------------------------------------------
# What hal may import from outside
# ---------------------------------------------------------------------------------------------


def test_importing_hal_pulls_in_neither_torch_nor_plugins_nor_trainers_nor_optional_packages():
    code = (
        "import sys, hal, hal.cli, hal.cli.main, hal.configuration, hal.mapping, hal.netlist, hal.experiment, hal.calibration, hal.coordinates;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('torch', 'plugins', 'trainers', 'hal_plugins', 'hal_trainers', 'hypothesis', 'pyNN', 'neo', 'nir', 'quantities', 'nixio')];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


ALLOWED_THIRD_PARTY = {"numpy", "attrs", "cattrs", "pluggy", "structlog", "tqdm"}

#: the optional extra ``interop``: only the front-ends that exist for these packages import them
#: (hal.experiment only inside the functions of its Neo export, see the test below)
OPTIONAL_THIRD_PARTY = {
    "hal.pynn": {"pyNN", "neo", "quantities"},
    "hal.nir": {"nir"},
    "hal.experiment": {"neo", "quantities", "nixio"},
}


def test_hal_imports_only_its_declared_dependencies():
    stdlib = set(sys.stdlib_module_names)
    for path in (ROOT / "hal").rglob("*.py"):
        if "testing" in path.parts:
            continue  # test helpers may use hypothesis/pytest
        unit = ".".join(path.relative_to(ROOT).with_suffix("").parts[:2])
        allowed = ALLOWED_THIRD_PARTY | OPTIONAL_THIRD_PARTY.get(unit, set())
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top in stdlib or top in allowed or top == "hal", f"{path.relative_to(ROOT)} imports {name}"


def test_every_public_hal_module_declares_all():
    for path in (ROOT / "hal").rglob("*.py"):
        if path.name.startswith("_") and path.name != "__init__.py":
            continue
        tree = ast.parse(path.read_text())
        names = {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)}
        names |= {node.target.id for node in tree.body if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)}
        assert "__all__" in names, f"{path.relative_to(ROOT)} has no __all__"
