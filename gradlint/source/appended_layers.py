"""Layers a class adds to a container attribute (or a function to a local list) after building it empty:
``self.blocks = nn.ModuleList()`` then ``self.blocks.append(vgg_features[a:b])`` (a
perceptual loss over slices of a BatchNorm network), ``.extend([...])`` or
``.add_module(name, layer)``."""

from __future__ import annotations

import ast

from gradlint.source.names import dotted


def appended(cls: ast.ClassDef, attr: str) -> list[ast.expr]:
    """What ``cls`` appends, extends or adds to ``self.<attr>``."""
    return appended_to(cls, f"self.{attr}")


def appended_to(scope: ast.AST, name: str) -> list[ast.expr]:
    """What ``scope`` appends, extends or adds to ``name`` (``self.blocks``, or a local list
    ``blocks`` later handed to ``nn.ModuleList(blocks)``)."""
    found: list[ast.expr] = []
    for node in ast.walk(scope):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args
                and dotted(node.func.value) == name):
            continue
        if node.func.attr == "append":
            found.append(node.args[0])
        elif node.func.attr == "add_module" and len(node.args) == 2:
            found.append(node.args[1])
        elif node.func.attr == "extend" and isinstance(node.args[0], (ast.List, ast.Tuple)):
            found.extend(node.args[0].elts)
    return found
