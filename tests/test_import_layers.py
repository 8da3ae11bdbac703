"""The core's packages form a one-way dependency graph, and the core never touches Qt.

Every ``.py`` under ``keepsmiling_core`` is parsed (no import is executed), and every import in it - at
module level or inside a function, absolute or relative - is mapped to the core unit it reaches: a
top-level module (``errors``, ``atomic``, ...) or a package (``data``, ``training``, ...). An import may
only point to a unit on a lower layer of ``LAYERS``; units on the same layer (``training`` and
``editing``) may not import each other. The same picture is drawn in ``docs/ARCHITECTURE.md``.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "keepsmiling_core"

# Lowest first. A unit may import units of lower layers only. Shared pieces (the mouth mask, the tone of
# an edit, the checkpoint format) live below everything that uses them: compositing/ and models/checkpoint.py.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("keepsmiling_core",),      # the package's __init__ (version only)
    ("errors",),
    ("setup_spec",),            # the setup registry; the setup modules are plugins it loads by name
    ("paths",),
    ("device",),
    ("atomic",),
    ("validation",),
    ("imageio",),
    ("detection",),
    ("data",),                  # records, sources, crops, crop caches
    ("models",),                # networks, the registry, the one checkpoint format
    ("compositing",),           # how an edit lands in a crop: mouth masks, tone
    ("training", "editing"),    # peers: neither imports the other
    ("setups",),                # one module per setup: its networks, recipe and edit backend
    ("evaluation",),
    ("cli",),
)
QT_MODULES = ("PySide6", "PySide2", "PyQt5", "PyQt6", "shiboken6", "shiboken2", "qtpy")
FRONT_ENDS = ("keepsmiling_gui",)  # above every core layer


def rank_of() -> dict[str, int]:
    return {unit: i for i, layer in enumerate(LAYERS) for unit in layer}


def module_name(path: Path) -> tuple[str, bool]:
    """Dotted module name of a file under the repository root, and whether it is a package ``__init__``."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def is_module(dotted: str) -> bool:
    path = ROOT.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute dotted target) of every import in a file, nested ones included."""
    name, package = module_name(path)
    here = name.split(".") if package else name.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:  # "from pkg import submodule" reaches the submodule
                target = f"{module}.{alias.name}"
                found.append((node.lineno, target if is_module(target) else module))
    return found


def unit_of(dotted: str) -> str | None:
    """The core unit a dotted name belongs to (None outside the core)."""
    parts = dotted.split(".")
    if parts[0] != "keepsmiling_core":
        return None
    return parts[1] if len(parts) > 1 else "keepsmiling_core"


def core_files() -> list[Path]:
    return sorted(CORE.rglob("*.py"))


def edges() -> list[tuple[str, str, str]]:
    """(importing unit, imported unit, 'file:line  import target') for every import between two core units."""
    found = []
    for path in core_files():
        source = unit_of(module_name(path)[0])
        for line, target in imports(path):
            unit = unit_of(target)
            if unit is not None and unit != source:
                found.append((source, unit, f"{path.relative_to(ROOT)}:{line}  imports {target}"))
    return found


def test_every_core_unit_has_a_layer():
    units = {unit_of(module_name(path)[0]) for path in core_files()}
    missing = sorted(units - set(rank_of()))
    assert not missing, f"add {', '.join(missing)} to LAYERS in {Path(__file__).name} (and docs/ARCHITECTURE.md)"


def test_imports_point_down_the_layers():
    rank = rank_of()
    upward = [f"{where}  ({source} may not import {target}: "
              f"{'same layer' if rank[target] == rank[source] else 'higher layer'})"
              for source, target, where in edges()
              if target in rank and source in rank and rank[target] >= rank[source]]
    assert not upward, "imports against the layer order:\n" + "\n".join(upward)


def test_no_import_cycle_between_core_units():
    graph: dict[str, dict[str, str]] = defaultdict(dict)
    for source, target, where in edges():
        graph[source].setdefault(target, where)
    cycles, state = [], {}

    def visit(stack: list[str]) -> None:
        unit = stack[-1]
        state[unit] = "open"
        for target in sorted(graph[unit]):
            if state.get(target) == "open":  # back to a unit on the stack: a cycle
                loop = [*stack[stack.index(target):], target]
                cycles.append(" -> ".join(loop) + "\n    " + "\n    ".join(
                    graph[a][b] for a, b in zip(loop, loop[1:], strict=False)))
            elif target not in state:
                visit([*stack, target])
        state[unit] = "done"

    for unit in sorted(graph):
        if unit not in state:
            visit([unit])
    assert not cycles, "import cycles between core packages:\n" + "\n".join(cycles)


def test_no_qt_and_no_front_end_in_the_core():
    found = [f"{path.relative_to(ROOT)}:{line}  imports {target}"
             for path in core_files() for line, target in imports(path)
             if target.split(".")[0] in (*QT_MODULES, *FRONT_ENDS)]
    assert not found, "keepsmiling_core must not import Qt or the GUI (front ends only):\n" + "\n".join(found)


def test_the_checker_sees_nested_and_relative_imports():
    """The parser itself: a function-level relative import of a sibling package is found and mapped."""
    trainer = CORE / "training" / "trainer.py"
    targets = {target for _, target in imports(trainer)}
    assert "keepsmiling_core.models.checkpoint" in targets      # "from ..models.checkpoint import ..."
    assert "keepsmiling_core.validation" in targets              # imported inside functions
    assert unit_of("keepsmiling_core.training.recipes.base") == "training"
    assert unit_of("numpy") is None
