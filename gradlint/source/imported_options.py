"""Command-line defaults a script takes from a project module of its own: ``from parser_
import parse_args`` ... ``args = parse_args()`` with ``parser.add_argument("--freeze_resnet",
default=20)`` in ``parser_.py``, or the parsed options themselves (``from args import args``
with ``args = parser.parse_args()`` in ``args.py``). The file's own ``add_argument`` calls win
over the module's."""

from __future__ import annotations

import ast
from pathlib import Path

from gradlint.source.call_flags import parsed_names
from gradlint.source.chosen_names import option_values
from gradlint.source.project_functions import project_import_list
from gradlint.source.unit import SourceUnit


def script_option_values(tree: ast.Module, path: Path) -> dict[str, object]:
    """``option_values`` of the file, and of each project module it imports a function
    from and calls (the argument parser it keeps elsewhere) or the options it parsed."""
    called = {node.func.id for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    found: dict[str, object] = {}
    for imported in project_import_list(tree, path):
        if imported.name in (".", "*"):
            continue
        read = SourceUnit.read_parsed(str(imported.path))  # (parsed once per change of the file)
        module = read.tree if read is not None else None
        if module is not None and (imported.local in called and any(
                isinstance(node, ast.FunctionDef) and node.name == imported.name for node in module.body)
                or imported.name in parsed_names(module)):
            found.update(option_values(module))
    found.update(option_values(tree))
    return found
