"""Tracing with torch.fx, exact or not at all (see MEASURED.md).

``symbolic_trace`` with the user's call sites recorded, buffers proxied (``self.pos[:t]``)
and ``None``-defaulted forward arguments fixed to None. A graph is kept only when the
trace is exact: the probe runs it (to observe functional activations) and the structure
rules read it, so a graph traced under assumptions (conditions on traced values taken
as true, failing submodules kept whole) would measure and judge a network that is not
the one that trains: a data-dependent ``break`` kept 3 of 7 weight layers that way.
When the trace fails, the worker records the real forward instead (``executed``).
"""

from __future__ import annotations

import inspect
import sys
from types import FrameType
from typing import Any, Callable, Optional

import torch
import torch.fx
import torch.nn as nn

class _Tracer(torch.fx.Tracer):
    # torch's own record_stack_traces costs a 1 s lazy import on first use and yields
    # text; the innermost user frame, taken here directly, gives the exact span
    record_stack_traces = False
    proxy_buffer_attributes = True

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


def _short(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    first = (text[0] if text else "").split(". ")[0].rstrip(".")
    return f"{type(error).__name__}: {first[:160]}".rstrip(": ")


def trace_model(model: nn.Module, is_user: Any = None) -> tuple[Optional[Any], Optional[str]]:
    """(GraphModule, None) when torch.fx traces the model exactly, else (None, why not).
    With ``is_user``, each node's ``meta["user_location"]`` is the user's call site."""
    try:
        return _once(model, _Tracer, frozenset(), is_user), None
    except Exception as failure:  # noqa: BLE001 - any failure means "record the forward instead"
        return None, _short(failure)
