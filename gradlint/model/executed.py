"""The structure of a model that torch.fx cannot trace exactly, recorded from one real
forward pass on the probe's input: the graph "as executed for this input".

Module hooks mark the weight layers, normalisations and activation modules (each a
leaf: what runs inside one is not recorded again); a ``TorchFunctionMode`` sees every
torch function and tensor method called outside them (functional activations, residual
adds and concatenations, gating products, a weight used functionally, as in
``F.linear(x, self.weight)``). Data flow is followed by tensor identity: each recorded
output is bound to its node, so an op's inputs are the nodes of the tensors it reads.
Tensors made from parameters or constants only (``torch.arange`` positions) carry no
data, as in the fx graph, so adding them is not a residual merge.

Why both: hooks alone do not see functional calls (``x + self.attn(x)``, ``F.gelu``), so
residual merges and activations of transformer blocks would be missed; the function
mode alone sees ``F.linear`` but not which module it belongs to. Cost, measured on a
tiny GPT-2 (transformers, 2 layers, CPU, 1 thread): see MEASURED.md and
``bench/realmodel_cost.py``.
"""

from __future__ import annotations

import sys
from typing import Any, Callable, Optional

import torch
import torch.nn as nn
from torch.overrides import TorchFunctionMode

from gradlint.findings import Span
from gradlint.model.extract import GraphBuilder, activation_family, module_kind
from gradlint.model.locate import UserFiles, frame_location

_JOINS = {"add", "add_", "__add__", "__radd__", "__iadd__", "cat", "concat", "concatenate"}
_MULS = {"mul", "mul_", "__mul__", "__rmul__", "__imul__"}
_NORMS = {"layer_norm", "batch_norm", "group_norm", "instance_norm", "rms_norm", "normalize", "local_response_norm"}
_WEIGHTED = {"linear", "bilinear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
             "conv_transpose3d", "embedding", "matmul", "__matmul__", "__rmatmul__", "mm", "bmm", "addmm",
             "baddbmm", "einsum"}


def _tensors(value: Any) -> list[torch.Tensor]:
    found: list[torch.Tensor] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, torch.Tensor):
            found.append(item)
        elif isinstance(item, (tuple, list)):
            stack.extend(reversed(item))
        elif isinstance(item, dict) or hasattr(item, "values") and hasattr(item, "keys"):
            try:
                stack.extend(reversed(list(item.values())))
            except TypeError:
                pass
    return found


class _Recording(TorchFunctionMode):
    def __init__(self, model: nn.Module, builder: GraphBuilder, is_user: UserFiles) -> None:
        super().__init__()
        self.builder, self.is_user = builder, is_user
        self.node_of: dict[int, int] = {}  # id(tensor) -> node
        self.data: set[int] = set()  # nodes that depend on the model's input
        self.alive: list[torch.Tensor] = []  # keeps recorded tensors alive, so ids stay unique
        self.inside = 0  # depth inside a hooked leaf module
        self.parameters = {id(p): n for n, p in model.named_parameters(remove_duplicate=False) if p.dim() >= 2}
        self.counts: dict[str, int] = {}

    # -- binding -----------------------------------------------------------------------
    def bind(self, value: Any, node: int, data: bool) -> None:
        for tensor in _tensors(value):
            self.node_of[id(tensor)] = node
            self.alive.append(tensor)
        if data:
            self.data.add(node)

    def inputs(self, *values: Any) -> list[int]:
        found: list[int] = []
        for tensor in _tensors(list(values)):
            node = self.node_of.get(id(tensor))
            if node is not None and node not in found:
                found.append(node)
        return found

    def location(self) -> Optional[Span]:
        frame: Any = sys._getframe(2)
        while frame is not None:
            if self.is_user(frame.f_code.co_filename):
                return frame_location(frame)
            frame = frame.f_back
        return None

    def name(self, short: str) -> str:
        self.counts[short] = self.counts.get(short, 0) + 1
        return f"{short}_{self.counts[short]}"

    # -- functions -----------------------------------------------------------------------
    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        output = func(*args, **kwargs)
        if self.inside or not _tensors(output):
            return output
        inputs = self.inputs(args, kwargs)
        if not inputs:
            return output  # made from parameters or constants only: no data flows through it
        node = self.emit(func, args, kwargs, inputs)
        self.bind(output, node, any(i in self.data for i in inputs))
        return output

    def emit(self, func: Any, args: Any, kwargs: Any, inputs: list[int]) -> int:
        builder = self.builder
        short = getattr(func, "__name__", "").lower()
        plain = short.rstrip("_") if not short.startswith("__") else short
        if activation_family(plain):
            location = self.location() or builder.fallback
            return builder.activation(self.name(plain), plain, False, location, inputs)
        if plain in _NORMS:
            return builder.norm(self.name(plain), plain, self.location() or builder.fallback, inputs)
        data_inputs = [i for i in inputs if i in self.data]
        if short in _JOINS and len(data_inputs) >= 2:
            builder.joins.append(builder._place({"name": self.name("add"), "op": plain.strip("_")},
                                                self.location() or builder.fallback))
            return builder.add_node("join", len(builder.joins) - 1, data_inputs)
        if short in _MULS:
            return builder.add_node("mul", -1, inputs)
        if short in _WEIGHTED:
            weight = next((t for t in _tensors([args, kwargs]) if id(t) in self.parameters), None)
            if weight is not None:
                path = self.parameters[id(weight)]
                owner = path.rpartition(".")[0]
                module = builder.submodule(owner)
                return builder.layer(path, module, inputs, type_name=type(module).__name__, weight=weight,
                                     location=builder.module_location(owner))
        return builder.add_node("op", -1, inputs)

    # -- modules -------------------------------------------------------------------------
    def hook(self, module: nn.Module, path: str, kind: str) -> list[Any]:
        def before(_module: nn.Module, _inputs: Any) -> None:
            self.inside += 1

        def after(_module: nn.Module, inputs: Any, output: Any) -> None:
            self.inside -= 1
            if self.inside:
                return
            sources = self.inputs(inputs)
            if kind == "layer":
                node = self.builder.layer(path, module, sources)
            elif kind == "norm":
                node = self.builder.norm(path, type(module).__name__, self.builder.module_location(path), sources)
            else:
                node = self.builder.activation(path, type(module).__name__, True, self.builder.module_location(path), sources)
            self.bind(output, node, any(s in self.data for s in sources))
        return [module.register_forward_pre_hook(before), module.register_forward_hook(after)]


def record_executed(model: nn.Module, args: tuple, kwargs: dict, is_user: UserFiles, fallback: Span) -> dict[str, Any]:
    """The graph dict of one forward pass of ``model`` on this input, as executed."""
    builder = GraphBuilder(model, is_user, fallback)
    recording = _Recording(model, builder, is_user)
    handles: list[Any] = []
    for path, module in model.named_modules():
        kind = module_kind(module)
        if kind and path:
            handles.extend(recording.hook(module, path, kind))
    start = builder.add_node("in", -1, [])
    for tensor in _tensors([args, kwargs]):
        recording.bind(tensor, start, True)
    try:
        with torch.no_grad(), recording:
            output = model(*args, **kwargs)
    finally:
        for handle in handles:
            handle.remove()
    builder.add_node("out", -1, recording.inputs(output))
    return builder.result()


def executed_or_tree(model: Any, candidate: dict, module_globals: dict, job: dict, is_user: Any, fallback: Any,
                     note: Optional[str], describe: Callable[[BaseException], str]) -> tuple[dict, str, str]:
    """When torch.fx cannot trace exactly: the graph recorded from one real forward on the
    probe's input ("executed"), else the module tree in registration order."""
    from gradlint.model import extract
    from gradlint.model.budget import on_meta

    try:
        from gradlint.probe.inputs import resolve_input

        settings = job.get("probe") or {}
        generator = torch.Generator().manual_seed(int(settings.get("seed", 0)))
        first = next(((path, layer) for kind, path, layer in extract.walk_tree(model, "") if kind == "layer"), None)
        data = resolve_input(model, candidate, module_globals, first, max(1, int(settings.get("batch-size", 8))), generator)
        if on_meta(model):  # a model above the probe's budget: shapes flow on meta tensors
            data = data.to(torch.device("meta"))
        graph = record_executed(model, data.args, data.kwargs, is_user, fallback)
        return graph, "executed", f"recorded as executed for this input, {data.described.split(' (')[0]} (torch.fx: {note})"
    except Exception as error:  # noqa: BLE001 - user code ran: fall back, say why
        reason = describe(error)
        return extract.from_module_tree(model, is_user, fallback), "module tree", f"{note}; running the forward to record it failed too: {reason}"
