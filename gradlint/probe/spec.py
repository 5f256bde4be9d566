"""The input-spec grammar (``float32[8,3,32,32]``, ``int64[8,128](0,50257)``), without
torch, so the CLI and the config can reject a bad spec before any worker starts."""

from __future__ import annotations

import re
from typing import Any, Optional

DTYPE_NAMES = (
    "float32", "float", "float64", "double", "float16", "half", "bfloat16",
    "int64", "long", "int32", "int", "bool",
)
SPEC_RE = re.compile(r"^\s*(\w+)\s*\[([\d\s,]*)\]\s*(?:\(\s*(-?\d+)\s*(?:,\s*(-?\d+)\s*)?\))?\s*$")


def split_specs(spec: Any) -> list[str]:
    """A spec string with several inputs ("float32[8,4], int64[8]") or a list of them."""
    if isinstance(spec, (list, tuple)):
        return [s for item in spec for s in split_specs(item)]
    parts, depth, current = [], 0, ""
    for char in str(spec):
        depth += char in "[("
        depth -= char in "])"
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def spec_problem(spec: Any) -> Optional[str]:
    """Why ``spec`` is not a usable input spec, or None when it is."""
    parts = split_specs(spec)
    if not parts:
        return "the input spec is empty"
    for part in parts:
        match = SPEC_RE.match(part)
        if not match or match.group(1).lower() not in DTYPE_NAMES:
            return (f"bad input spec '{part}': write dtype[shape], e.g. \"float32[8,3,32,32]\" "
                    f"or \"int64[8,128](0,50257)\" (dtypes: {', '.join(sorted(DTYPE_NAMES))})")
        shape = [int(s) for s in match.group(2).replace(" ", "").split(",") if s]
        if not shape or any(size <= 0 for size in shape):
            return f"bad input spec '{part}': every dimension must be at least 1 (a batch of 0 has no gradients)"
    return None
