"""Small position helpers over ast nodes, shared by the loop summary and the
recurrent-model reader (which must not import the loop summary: it builds on them)."""

from __future__ import annotations

from typing import Optional, Protocol


class Located(Protocol):
    """An ast node with a place in the source: a statement, an expression, an argument...
    (``ast.AST`` as such has none: a module does not)."""

    lineno: int
    col_offset: int
    end_lineno: Optional[int]
    end_col_offset: Optional[int]


def contains(outer: Located, inner: Located) -> bool:
    """Whether ``inner`` starts on a line inside ``outer``."""
    return outer.lineno <= inner.lineno <= (outer.end_lineno or outer.lineno)
