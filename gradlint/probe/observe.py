"""The probe's observers of activations: a lean runner of the traced graph that hands
each activation's output to the recorder, the handle that puts a wrapped function
attribute back, and the activation entries read from an fx graph when the worker's
model graph gave none (split from measure.py, which records and collects)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from gradlint.probe.summary import activation_kind

ACTIVATION_FUNCTIONS = {
    "relu", "relu_", "relu6", "sigmoid", "sigmoid_", "tanh", "tanh_", "hardtanh", "hardtanh_",
    "hardsigmoid", "gelu", "silu", "elu", "leaky_relu", "softsign", "softplus", "mish", "selu", "celu",
}


class Restore:
    """A removable handle that puts a wrapped attribute back."""

    def __init__(self, owner: nn.Module, attribute: str, original: Any) -> None:
        self.owner, self.attribute, self.original = owner, attribute, original

    def remove(self) -> None:
        self.owner.__dict__[self.attribute] = self.original


class ObservingRunner:
    """Runs a traced graph node by node and hands each observed activation's output to
    the recorder. A lean loop rather than ``torch.fx.Interpreter``: the interpreter's
    per-node bookkeeping cost more than a whole forward of a small model on a GPU."""

    def __init__(self, graph_module: Any, observed: dict[str, int], recorder: Any,
                 modules: dict[str, nn.Module]) -> None:
        self.observed, self.recorder = observed, recorder
        self.nodes = list(graph_module.graph.nodes)
        self.placeholders = [n for n in self.nodes if n.op == "placeholder"]
        self.modules = modules
        self.attributes = {n: _fetch(graph_module, n.target) for n in self.nodes if n.op == "get_attr"}
        last_use: dict[Any, Any] = {}
        for node in self.nodes:
            for used in node.all_input_nodes:
                last_use[used] = node
        self.release: dict[Any, list[Any]] = {}
        for used, user in last_use.items():  # free values after their last use, as the interpreter does
            self.release.setdefault(user, []).append(used)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # placeholders in order: positional arguments first, then keywords by name, then defaults
        values = list(args)
        for node in self.placeholders[len(args):]:
            name = str(node.target).lstrip("*")
            values.append(kwargs[name] if name in kwargs else (node.args[0] if node.args else None))
        return self.run(values)

    def run(self, values: list[Any]) -> Any:
        env: dict[Any, Any] = {}
        fetch = env.__getitem__
        inputs = iter(values)
        for node in self.nodes:
            op = node.op
            if op == "placeholder":
                result = next(inputs)
            elif op == "get_attr":
                result = self.attributes[node]
            elif op == "output":
                return torch.fx.node.map_arg(node.args[0], fetch)
            else:
                args = torch.fx.node.map_arg(node.args, fetch)
                kwargs = torch.fx.node.map_arg(node.kwargs, fetch)
                if op == "call_function":
                    result = node.target(*args, **kwargs)
                elif op == "call_method":
                    result = getattr(args[0], node.target)(*args[1:], **kwargs)
                else:  # call_module: the model's own module, so its hooks fire
                    result = self.modules[node.target](*args, **kwargs)
            index = self.observed.get(node.name)
            env[node] = result if index is None else self.recorder.observe_activation(result, index)
            for used in self.release.get(node, ()):
                env.pop(used, None)
        return None


def _fetch(graph_module: Any, target: str) -> Any:
    value = graph_module
    for part in target.split("."):
        value = getattr(value, part)
    return value


def activations_from_graph(graph_module: Any, model: nn.Module) -> list[dict]:
    """Activation entries found in the fx graph itself, when the worker gave none."""
    found: list[dict] = []
    if graph_module is None or not isinstance(graph_module, torch.fx.GraphModule):
        for name, module in model.named_modules():
            kind = activation_kind(type(module).__name__)
            if name and kind:
                found.append({"name": name, "type": type(module).__name__, "module": True, "kind": kind})
        return found
    for node in graph_module.graph.nodes:
        if node.op == "call_module":
            type_name = type(graph_module.get_submodule(str(node.target))).__name__
        elif node.op in ("call_function", "call_method"):
            type_name = node.target if isinstance(node.target, str) else getattr(node.target, "__name__", "")
            if type_name.lower() not in ACTIVATION_FUNCTIONS:
                continue
        else:
            continue
        kind = activation_kind(type_name)
        if kind:
            name = str(node.target) if node.op == "call_module" else node.name
            found.append({"name": name, "type": type_name, "module": node.op == "call_module", "kind": kind})
    return found
