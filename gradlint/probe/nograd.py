"""GL401's measurements: which trainable parameters the first backward left without a
gradient (``.grad`` None, or all zero), whether any output depends on them at all (a
walk of the autograd graph), and where the user created their module."""

from __future__ import annotations

from typing import Any, Optional

import torch
from torch import nn

from gradlint.findings import Span


def reachable_parameters(output: Any) -> set[int]:
    """The ids of the leaf tensors (parameters) any tensor of ``output`` depends on,
    from the autograd graph's nodes (still walkable after backward freed its buffers)."""
    roots: list[Any] = [t.grad_fn for t in all_tensors(output) if t.grad_fn is not None]
    seen: set[int] = set()
    found: set[int] = set()
    while roots:
        node = roots.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        variable = getattr(node, "variable", None)  # an AccumulateGrad node: a leaf
        if variable is not None:
            found.add(id(variable))
        roots.extend(next_node for next_node, _ in node.next_functions)
    return found


def all_tensors(value: Any) -> list[torch.Tensor]:
    """Every tensor in an output: a tensor, tuples/lists, dicts and ModelOutput-like mappings."""
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for item in value for t in all_tensors(item)]
    if isinstance(value, dict) or (hasattr(value, "keys") and hasattr(value, "values")):
        return [t for item in value.values() for t in all_tensors(item)]
    return []


def no_grad_entries(recorder: Any, grads: list[float], weights: list[float]) -> list[dict[str, Any]]:
    """GL401's facts: each trainable parameter with no gradient (None) or an all-zero
    one, with its module and where the user created that module. All-zero counts
    only when no non-bias parameter is all zero itself: a zero-initialised gate or
    layer blocks the first step's gradient on purpose (ReZero, zero-init heads)."""
    zero_gate = any(w == 0 for i, w in enumerate(weights) if not recorder.param_name(i).endswith("bias")) \
        if any(w == 0 for w in weights) else False
    flagged = {i: "none" for i in recorder.missing}
    if not zero_gate:
        flagged.update({i: "zero" for i, g in enumerate(grads) if g == 0 and i not in recorder.missing})
    if not flagged:
        return []
    owners: dict[int, tuple[str, str, nn.Module]] = {}
    for name, module in recorder.modules.items():
        for own, param in module._parameters.items():
            if param is not None:
                owners.setdefault(id(param), (name, own, module))
    called = {recorder.layer_names[p] for p in recorder.call_order}
    found = []
    for index, kind in sorted(flagged.items()):
        module_name, own, module = owners.get(id(recorder.params[index]), ("", recorder.param_name(index), recorder.model))
        entry = {
            "name": f"{module_name}.{own}" if module_name else own, "module": module_name,
            "type": type(module).__name__, "grad": kind, "reaches_output": recorder.missing.get(index, True),
            "called": (module_name in called) if module_name in recorder.layer_names else None,
        }
        location = created_location(recorder.modules, module_name)
        if location:
            entry.update(file=location.path, line=location.line, column=location.column, end_line=location.end_line,
                         end_column=location.end_column)
        found.append(entry)
    return found


def created_location(modules: dict[str, nn.Module], path: str) -> Optional[Span]:
    """Where the user created the module at ``path``, else its nearest created parent."""
    from gradlint.model.locate import created_at

    while True:
        module = modules.get(path)
        found = created_at(module) if module is not None else None
        if found is not None or not path:
            return found
        path = path.rpartition(".")[0]

