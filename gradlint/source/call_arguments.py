"""The argument a call passes for one parameter of the function it calls."""
from __future__ import annotations

import ast
from typing import Optional


def argument(call: ast.Call, index: int, keyword: str) -> Optional[ast.expr]:
    """What ``call`` passes for the parameter at ``index`` named ``keyword``; ``None`` when
    it passes nothing for it, or passes it inside ``*args``."""
    for kw in call.keywords:
        if kw.arg == keyword:
            return kw.value
    return call.args[index] if index < len(call.args) and not isinstance(call.args[index], ast.Starred) else None
