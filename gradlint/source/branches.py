"""Which events of a scope can run in the same iteration, read from their ``if`` guards.

An event in the body of ``if amp:`` and one in its ``else:`` (or under ``if not amp:``)
never both run: the one a rule looks at must not be paired with the other, as in
``if amp: scaler.scale(loss).backward(); scaler.unscale_(opt) else: loss.backward()``
followed by one clip for both paths.
"""

from __future__ import annotations

import ast

from gradlint.source.loops import Event


def exclusive(one: Event, other: Event) -> bool:
    """Whether ``one`` and ``other`` sit in opposite branches of the same test."""
    return any(_opposite(a, b) for a in one.guards for b in other.guards)


def _opposite(a: ast.expr, b: ast.expr) -> bool:
    for test, negated in ((a, b), (b, a)):
        if isinstance(negated, ast.UnaryOp) and isinstance(negated.op, ast.Not):
            if negated.operand is test or ast.dump(negated.operand) == ast.dump(test):
                return True
    return False
