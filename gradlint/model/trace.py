"""Tracing with torch.fx and the fallbacks that rescue real models (see MEASURED.md).

1. ``symbolic_trace`` with stack traces recorded, buffers proxied (``self.pos[:t]``) and
   ``None``-defaulted forward arguments fixed to None;
2. on a control-flow error (``assert t <= block_size``, ``if x.size(1) > n``), a tracer
   that assumes every condition on a traced value holds;
3. otherwise the innermost submodule whose forward failed becomes a leaf, and again
   (a few times): the rest of the model keeps its graph;
4. else no graph: the caller falls back to the module tree (GL003).

``torch.export`` also rescues shape branches, but needs a real input and costs
0.3-1.7 s per model, so it is not tried here.
"""

from __future__ import annotations

import inspect
import sys
from types import FrameType
from typing import Any, Callable, Optional

import torch
import torch.fx
import torch.nn as nn

MAX_LEAF_RETRIES = 8


class _Tracer(torch.fx.Tracer):
    # torch's own record_stack_traces costs a 1 s lazy import on first use and yields
    # text; the innermost user frame, taken here directly, gives the exact span
    record_stack_traces = False
    proxy_buffer_attributes = True
    assume_true = False

    def __init__(self, leaves: frozenset[int] = frozenset(), is_user: Optional[Callable[[str], bool]] = None) -> None:
        super().__init__()
        self.leaves = leaves
        self.is_user = is_user

    def create_node(self, *args: Any, **kwargs: Any) -> Any:
        node = super().create_node(*args, **kwargs)
        if self.is_user is not None:
            from gradlint.model.locate import frame_location

            frame: Optional[FrameType] = sys._getframe(1)
            while frame is not None:
                if self.is_user(frame.f_code.co_filename):
                    node.meta["user_location"] = frame_location(frame)
                    break
                frame = frame.f_back
        return node

    def is_leaf_module(self, module: nn.Module, qualified_name: str) -> bool:
        return id(module) in self.leaves or super().is_leaf_module(module, qualified_name)

    def to_bool(self, obj: Any) -> bool:
        if self.assume_true:
            return True
        return super().to_bool(obj)


class _AssumingTracer(_Tracer):
    assume_true = True


def _none_defaults(model: nn.Module) -> dict[str, Any]:
    try:
        parameters = inspect.signature(model.forward).parameters
    except (TypeError, ValueError):
        return {}
    return {name: None for name, p in parameters.items() if p.default is None}


def _once(model: nn.Module, tracer_type: type, leaves: frozenset[int], is_user: Any = None) -> Any:
    tracer = tracer_type(leaves, is_user)
    graph = tracer.trace(model, concrete_args=_none_defaults(model) or None)
    return torch.fx.GraphModule(tracer.root, graph, type(model).__name__)


def _failing_submodule(error: BaseException, model: nn.Module, leaves: frozenset[int]) -> Optional[nn.Module]:
    """The innermost submodule (not the model itself) whose forward raised."""
    members = {id(m) for m in model.modules()}
    found = None
    trace = error.__traceback__
    while trace is not None:
        frame = trace.tb_frame
        if frame.f_code.co_name == "forward":
            owner = frame.f_locals.get("self")
            if isinstance(owner, nn.Module) and owner is not model and id(owner) in members and id(owner) not in leaves:
                found = owner
        trace = trace.tb_next
    return found


def _short(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    first = (text[0] if text else "").split(". ")[0].rstrip(".")
    return f"{type(error).__name__}: {first[:160]}".rstrip(": ")


def trace_model(model: nn.Module, is_user: Any = None) -> tuple[Optional[Any], Optional[str]]:
    """(GraphModule or None, a note on how it was traced or why it could not be).
    With ``is_user``, each node's ``meta["user_location"]`` is the user's call site."""
    try:
        return _once(model, _Tracer, frozenset(), is_user), None
    except Exception as failure:  # noqa: BLE001 - any failure means "try the next way"
        first: BaseException = failure
    error = first
    tracer_type: type = _Tracer
    if isinstance(error, torch.fx.proxy.TraceError) or "control flow" in str(error):
        try:
            return _once(model, _AssumingTracer, frozenset(), is_user), (
                f"conditions on traced values were assumed true ({_short(first)})"
            )
        except Exception as second:  # noqa: BLE001
            error, tracer_type = second, _AssumingTracer
    leaves: frozenset[int] = frozenset()
    names = {id(m): n for n, m in model.named_modules()}
    for _ in range(MAX_LEAF_RETRIES):
        culprit = _failing_submodule(error, model, leaves)
        if culprit is None:
            break
        leaves = leaves | {id(culprit)}
        try:
            kept = ", ".join(sorted(names.get(i, "?") for i in leaves))
            return _once(model, tracer_type, leaves, is_user), f"kept {kept} whole: {_short(first)}"
        except Exception as again:  # noqa: BLE001
            error = again
    return None, _short(first)
