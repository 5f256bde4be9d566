"""Small position helpers over ast nodes, shared by the loop summary and the
recurrent-model reader (which must not import the loop summary: it builds on them)."""

from __future__ import annotations

import ast


def contains(outer: ast.AST, inner: ast.AST) -> bool:
    """Whether ``inner`` starts on a line inside ``outer``."""
    return outer.lineno <= inner.lineno <= (outer.end_lineno or outer.lineno)
