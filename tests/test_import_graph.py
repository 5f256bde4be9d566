"""The import graph of the engine (``gradlint/``) and the rules (``rules/``, installed as
``gradlint.rules``), read from the ast of every module: no cycle among module-level imports.

Function-level imports are kept apart: they run late, so they cannot deadlock the import
of a module, but one that is there only to dodge a cycle hides the same tangle, so the
graph of both kinds together is checked too, less the few imports that are lazy for a
reason of their own (listed below, each with it). Imports under ``if TYPE_CHECKING:``
never run and are left out.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
# package name -> folder, as in pyproject.toml's package-dir mapping
PACKAGES = {"gradlint": ROOT / "gradlint", "gradlint.rules": ROOT / "rules"}

Graph = dict[str, set[str]]

# function-level imports that are lazy on purpose, not to dodge a cycle: (importer, imported)
DELIBERATELY_LAZY = {
    # `import gradlint` must stay free of torch; preflight() loads its engine when called,
    # and every module that reads gradlint.__version__ would otherwise close a loop here
    ("gradlint", "gradlint.inprocess.run"): "import gradlint never imports torch",
}


def module_files() -> dict[str, Path]:
    """Every module of the project by its dotted name."""
    modules: dict[str, Path] = {}
    for package, folder in PACKAGES.items():
        for file in sorted(folder.rglob("*.py")):
            parts = list(file.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join([package, *parts])] = file
    return modules


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _resolve_from(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module.split(".") if is_package else module.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _targets(module: str, is_package: bool, node: ast.Import | ast.ImportFrom, known: set[str]) -> set[str]:
    """The project modules one import statement loads (the named module only, not its parents)."""
    found: set[str] = set()
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name in known:
                found.add(alias.name)
        return found
    source = _resolve_from(module, is_package, node)
    for alias in node.names:
        submodule = f"{source}.{alias.name}"
        if submodule in known:  # from gradlint.report import text: the submodule itself
            found.add(submodule)
        elif source in known:
            found.add(source)
    return found


def import_graphs() -> tuple[Graph, Graph]:
    """(module-level edges, function-level edges) between the project's own modules."""
    files = module_files()
    known = set(files)
    top: Graph = {name: set() for name in files}
    inner: Graph = {name: set() for name in files}

    for name, file in files.items():
        is_package = file.name == "__init__.py"
        tree = ast.parse(file.read_text(encoding="utf-8"), str(file))

        def visit(node: ast.AST, in_function: bool) -> None:
            if isinstance(node, ast.If) and _is_type_checking(node):
                for child in node.orelse:
                    visit(child, in_function)
                return
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                (inner if in_function else top)[name] |= _targets(name, is_package, node, known) - {name}
                return
            nested = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            for child in ast.iter_child_nodes(node):
                visit(child, nested)

        visit(tree, False)
    return top, inner


def find_cycle(graph: Graph) -> Optional[list[str]]:
    """One cycle of ``graph`` as a path whose last module is its first, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def walk(node: str) -> Optional[list[str]]:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state:
                cycle = walk(target)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            cycle = walk(start)
            if cycle:
                return cycle
    return None


def test_the_graph_sees_the_known_imports() -> None:
    top, inner = import_graphs()
    assert "gradlint.rules.gl206_missing_zero_grad" in top
    assert "gradlint.registry" in top["gradlint.runner"]
    assert "gradlint.inprocess.run" in inner["gradlint"]  # preflight imports it lazily
    assert "gradlint.inprocess.run" not in top["gradlint"]


def test_find_cycle_reports_the_path() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_deliberately_lazy_imports_exist() -> None:
    _, inner = import_graphs()
    assert all(target in inner[importer] for importer, target in DELIBERATELY_LAZY)


def test_no_cycle_among_module_level_imports() -> None:
    top, _ = import_graphs()
    cycle = find_cycle(top)
    assert cycle is None, "module-level import cycle: " + " -> ".join(cycle or [])


def test_no_cycle_hidden_in_function_level_imports() -> None:
    top, inner = import_graphs()
    both = {name: top[name] | {t for t in inner[name] if (name, t) not in DELIBERATELY_LAZY} for name in top}
    cycle = find_cycle(both)
    assert cycle is None, "import cycle through a function-level import: " + " -> ".join(cycle or [])
