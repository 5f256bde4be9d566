"""Names a module calls without writing ``name(`` (GL406's links between modules): entries of a
table it calls through (``{"resnet50": ResNet50Model}[args.model](...)``, ``_ARCHS[name](...)``),
a package's alias of another module's function (``train = func.train.train``) and a name bound
to another (``ModelClass = Resnet50Model2``, then ``ModelClass()``)."""

from __future__ import annotations

import ast
import re

from gradlint.source.names import dotted

# a module-level name for another module's function
ALIAS = re.compile(r"^(\w+)\s*=\s*(\w+(?:\.\w+)+)\s*$", re.M)
# a table entry ``"key": name`` (read from the text: the tree may hold the module's imports only)
_TABLE_VALUE = re.compile(r"""["'][\w.-]+["']\s*:\s*([A-Za-z_][\w.]*)\s*[,}\n]""")
# a registry's entry made by a decorator: ``@register("effnet_b3")`` over ``def effnet_b3(...)``
_REGISTERED = re.compile(r"""^@\w+(?:\(\s*["'][\w.-]+["']\s*\))?\s*\n(?:@.*\n)*(?:def|class)\s+(\w+)""", re.M)


def table_values(calls: str) -> set[str]:
    """The names a module's tables hold when it calls an entry of one (``](`` in ``calls``,
    the module's call spelling)."""
    return set(_TABLE_VALUE.findall(calls)) | set(_REGISTERED.findall(calls)) if "](" in calls else set()


def tabled_names(tree: ast.Module, calls: str) -> set[str]:
    """Every name :mod:`this module <gradlint.source.tabled_names>` describes, for a module whose
    call spelling is ``calls`` and whose (possibly imports-only) tree is ``tree``."""
    tabled = {name for node in ast.walk(tree) if isinstance(node, ast.Dict) for value in node.values
              if (name := dotted(value)) is not None} if "](" in calls else set()
    tabled |= table_values(calls)
    tabled |= {match[2] for match in ALIAS.finditer(calls)}
    tabled |= {node.value.id for node in ast.walk(tree) if isinstance(node, ast.Assign) and isinstance(node.value, ast.Name)
               and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)}
    return tabled
