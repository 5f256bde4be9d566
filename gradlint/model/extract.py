"""From a built model and its fx graph to the plain-data graph dict (worker side, torch).

Weight layers, activations (modules and functions) with their family, normalisation,
joins (add / concatenation), init facts read from the weights (see ``initialisation``), and for
each of them the user's own source line (see ``locate``).
"""

from __future__ import annotations

import operator
from typing import Any, Iterator, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from gradlint.findings import Span
from gradlint.model.initialisation import classify_init
from gradlint.model.locate import UserFiles, created_at, stack_location

WEIGHT_TYPES: tuple[type, ...] = (
    nn.Linear, nn.Bilinear, nn.modules.conv._ConvNd, nn.Embedding, nn.EmbeddingBag,
    nn.RNNBase, nn.RNNCellBase, nn.MultiheadAttention,
)
NORM_TYPES: tuple[type, ...] = (
    nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm, nn.LocalResponseNorm,
) + ((nn.RMSNorm,) if hasattr(nn, "RMSNorm") else ())
FAMILIES = {
    "saturating": ("sigmoid", "tanh", "hardtanh", "hardsigmoid", "softsign", "logsigmoid"),
    "relu": ("relu", "relu6", "leaky_relu", "leakyrelu", "prelu", "rrelu", "elu", "selu", "celu"),
    "smooth": ("gelu", "silu", "mish", "softplus", "hardswish", "swish"),
}
_FAMILY_OF = {name: family for family, names in FAMILIES.items() for name in names}
_NORM_FUNCTIONS = {"layer_norm", "batch_norm", "group_norm", "instance_norm", "rms_norm", "normalize", "local_response_norm"}
_JOIN_FUNCTIONS = {operator.add, operator.iadd, torch.add, torch.cat, torch.concat}
_JOIN_METHODS = {"add", "add_", "__add__", "__iadd__"}
_MUL_FUNCTIONS = {operator.mul, operator.imul, torch.mul}
_MUL_METHODS = {"mul", "mul_", "__mul__"}
_WEIGHT_FUNCTIONS = {F.linear: "linear", F.conv1d: "conv1d", F.conv2d: "conv2d", F.conv3d: "conv3d", F.embedding: "embedding", torch.matmul: "matmul", operator.matmul: "matmul"}
_SHAPE_METHODS = {"size", "dim", "numel", "ndimension"}
# torch's transformer modules (fx leaves): expanded sublayer by sublayer, residuals included
TORCH_TRANSFORMERS: tuple[type, ...] = (
    nn.Transformer, nn.TransformerEncoder, nn.TransformerDecoder, nn.TransformerEncoderLayer, nn.TransformerDecoderLayer,
)
# other blocks by these names carry their own residual connections when kept whole
RESIDUAL_TYPES = ("TransformerEncoderLayer", "TransformerDecoderLayer", "TransformerEncoder", "TransformerDecoder", "Transformer")


def activation_family(name: str) -> Optional[str]:
    lowered = name.lower().rstrip("_")
    if lowered not in _FAMILY_OF and lowered.endswith("activation"):
        found = named_activation(lowered)  # NewGELUActivation: the function it computes
        return _FAMILY_OF[found] if found else None
    return _FAMILY_OF.get(lowered)


def _weight_leaf(module: nn.Module) -> bool:
    """A module of no known type that holds a weight matrix and no submodule: Hugging
    Face's ``Conv1D`` (a transposed linear, weight (in, out)) and other custom layers."""
    weight = module._parameters.get("weight")
    return weight is not None and weight.dim() >= 2 and not module._modules and "Norm" not in type(module).__name__


def named_activation(name: str) -> Optional[str]:
    """The activation a parameter-free module's class name spells out (Hugging Face's
    ``NewGELUActivation``, ``QuickGELUActivation``, ``SiLUActivation``): the longest known
    name inside it, so ``gelu`` wins over ``elu``."""
    lowered = name.lower()
    found = [known for known in _FAMILY_OF if known in lowered]
    return max(found, key=len) if found else None


def module_kind(module: nn.Module) -> Optional[str]:
    if isinstance(module, WEIGHT_TYPES) or _weight_leaf(module):
        return "layer"
    if isinstance(module, NORM_TYPES) or "Norm" in type(module).__name__:
        return "norm"
    name = type(module).__name__
    if activation_family(name) or (not module._modules and not module._parameters and named_activation(name)):
        # an activation computed inside such a module (GELU's tanh) is not one of its own
        return "act"
    return None


def has_weight_layer(model: nn.Module) -> bool:
    """A weight layer anywhere in the model (a module of a weight type, or a parameter of
    two or more dimensions that is not a normalisation's)."""
    for module in model.modules():
        kind = module_kind(module)
        if kind == "layer":
            return True
        if kind != "norm" and any(p.dim() >= 2 for p in module.parameters(recurse=False)):
            return True
    return False


def walk_tree(module: nn.Module, prefix: str) -> Iterator[tuple[str, str, nn.Module]]:
    """(kind, path, module) of the layers, norms and activations below ``module`` in
    registration order, not descending into what is already one of them."""
    for name, child in module.named_children():
        path = f"{prefix}.{name}" if prefix else name
        kind = module_kind(child)
        if kind:
            yield kind, path, child
        else:
            yield from walk_tree(child, path)


class GraphBuilder:
    """Collects layers, activations, norms, joins and nodes into the graph dict."""

    def __init__(self, model: nn.Module, is_user: UserFiles, fallback: Span) -> None:
        self.model, self.is_user, self.fallback = model, is_user, fallback
        self.nodes: list[list] = []
        self.layers: list[dict] = []
        self.layer_index: dict[str, int] = {}
        self.activations: list[dict] = []
        self.norms: list[dict] = []
        self.joins: list[dict] = []
        self._init_cache: dict[int, tuple[str, int, int]] = {}
        self._norm_index: dict[str, int] = {}
        # one walk of the module tree instead of a get_submodule() walk per node
        self._modules = dict(model.named_modules(remove_duplicate=False))
        self._locations: dict[str, Span] = {}

    def submodule(self, path: str) -> nn.Module:
        found = self._modules.get(path)
        return found if found is not None else self.model.get_submodule(path)

    # -- locations -------------------------------------------------------------------
    def module_location(self, path: str) -> Span:
        """Where the user created the module at ``path`` (else its nearest created parent)."""
        if path not in self._locations:
            self._locations[path] = self._find_location(path)
        return self._locations[path]

    def _find_location(self, path: str) -> Span:
        while True:
            try:
                found = created_at(self.submodule(path))
            except AttributeError:
                found = None
            if found is not None:
                return found
            if not path:
                return self.fallback
            path = path.rpartition(".")[0]

    @staticmethod
    def _place(entry: dict, location: Span) -> dict:
        entry.update(file=location.path, line=location.line, column=location.column, end_line=location.end_line,
                     end_column=location.end_column)
        return entry

    # -- items -----------------------------------------------------------------------
    def add_node(self, kind: str, ref: int, inputs: list[int]) -> int:
        self.nodes.append([kind, ref, inputs])
        return len(self.nodes) - 1

    def layer(self, path: str, module: nn.Module, inputs: list[int], type_name: Optional[str] = None,
              weight: Optional[torch.Tensor] = None, location: Optional[Span] = None) -> int:
        ref = self.layer_index.get(path)
        if ref is None:
            key = id(weight) if weight is not None else id(module)
            if key not in self._init_cache:
                self._init_cache[key] = classify_init(module, weight)
            init, fan_in, fan_out = self._init_cache[key]
            stack = int(getattr(module, "num_layers", 1)) if isinstance(module, nn.RNNBase) else 1
            entry = {"name": path, "type": type_name or type(module).__name__, "depth": 0, "init": init,
                     "fan_in": fan_in, "fan_out": fan_out, "stack": stack}
            self.layers.append(self._place(entry, location or self.module_location(path)))
            ref = self.layer_index[path] = len(self.layers) - 1
        elif isinstance(module, nn.RNNCellBase):
            # the same cell stepped again is the recurrence through time (GL106, GL201),
            # not one more layer of depth
            return self.add_node("op", -1, inputs)
        return self.add_node("layer", ref, inputs)

    def activation(self, name: str, type_name: str, module: bool, location: Span, inputs: list[int], owner: str = "") -> int:
        entry = {"name": name, "type": type_name, "family": activation_family(type_name) or "other",
                 "module": module, "owner": owner}
        self.activations.append(self._place(entry, location))
        return self.add_node("act", len(self.activations) - 1, inputs)

    def norm(self, name: str, type_name: str, location: Span, inputs: list[int]) -> int:
        ref = self._norm_index.get(name)
        if ref is None:
            self.norms.append(self._place({"name": name, "type": type_name}, location))
            ref = self._norm_index[name] = len(self.norms) - 1
        return self.add_node("norm", ref, inputs)

    def expand(self, path: str, module: nn.Module, inputs: list[int]) -> int:
        """A leaf module that is not itself a layer: its parts in registration order,
        as one chain (a residual merge around it for other transformer blocks)."""
        if isinstance(module, TORCH_TRANSFORMERS):
            return self.transformer(path, module, inputs)
        current = inputs
        start = inputs
        for kind, sub_path, sub in walk_tree(module, path):
            if kind == "layer":
                current = [self.layer(sub_path, sub, current)]
            elif kind == "norm":
                current = [self.norm(sub_path, type(sub).__name__, self.module_location(sub_path), current)]
            else:
                current = [self.activation(sub_path, type(sub).__name__, True, self.module_location(sub_path), current)]
        if type(module).__name__ in RESIDUAL_TYPES and current is not start:
            self.joins.append(self._place({"name": path, "op": "residual"}, self.module_location(path)))
            return self.add_node("join", len(self.joins) - 1, start + current)
        return self.add_node("op", -1, current)

    def transformer(self, path: str, module: nn.Module, inputs: list[int]) -> int:
        """torch's transformer modules as they compute: each encoder/decoder layer is
        attention and feed-forward sublayers, each with its residual add and its norm
        before (``norm_first``) or after the add; stacks chain their layers."""
        # a stack's layers (and nn.Transformer's custom_encoder/decoder) may be the user's
        # own modules: expand() reads torch's as below and anything else generically
        if isinstance(module, nn.Transformer):
            memory = self.expand(f"{path}.encoder", module.encoder, inputs)
            return self.expand(f"{path}.decoder", module.decoder, inputs + [memory])
        if isinstance(module, (nn.TransformerEncoder, nn.TransformerDecoder)):
            current = inputs
            for index, layer in enumerate(module.layers):
                current = [self.expand(f"{path}.layers.{index}", layer, current)]
            if module.norm is not None:
                current = [self.norm(f"{path}.norm", type(module.norm).__name__, self.module_location(f"{path}.norm"), current)]
            return self.add_node("op", -1, current)
        sublayers = [["self_attn"], ["multihead_attn"], ["linear1", "activation", "linear2"]]
        if not isinstance(module, nn.TransformerDecoderLayer):
            del sublayers[1]
        current = inputs
        for number, names in enumerate(sublayers, 1):
            norm_path = f"{path}.norm{number}"
            norm = getattr(module, f"norm{number}", None)
            branch = current
            if module.norm_first and norm is not None:
                branch = [self.norm(norm_path, type(norm).__name__, self.module_location(norm_path), branch)]
            for name in names:
                part = getattr(module, name)
                if name == "activation":
                    kind = getattr(part, "__name__", type(part).__name__)
                    branch = [self.activation(f"{path}.activation", kind.lower(), isinstance(part, nn.Module),
                                              self.module_location(path), branch)]
                else:
                    branch = [self.layer(f"{path}.{name}", part, branch)]
            self.joins.append(self._place({"name": f"{path}.{names[0]}", "op": "residual"}, self.module_location(path)))
            current = [self.add_node("join", len(self.joins) - 1, current + branch)]
            if not module.norm_first and norm is not None:
                current = [self.norm(norm_path, type(norm).__name__, self.module_location(norm_path), current)]
        return current[0]

    def result(self) -> dict[str, Any]:
        # the path facts (depths, merges, runs) are computed once, by ModelGraph in the
        # main process, from these nodes
        return {"layers": self.layers, "activations": self.activations, "norms": self.norms,
                "joins": self.joins, "nodes": self.nodes}


def from_module_tree(model: nn.Module, is_user: UserFiles, fallback: Span) -> dict[str, Any]:
    """The fallback when fx cannot trace: the module tree in registration order, as a chain."""
    builder = GraphBuilder(model, is_user, fallback)
    current = builder.add_node("in", -1, [])
    if module_kind(model) == "layer":
        current = builder.layer("", model, [current])
    else:
        current = builder.expand("", model, [current])
    builder.add_node("out", -1, [current])
    return builder.result()


def from_fx(model: nn.Module, graph_module: Any, is_user: UserFiles, fallback: Span) -> dict[str, Any]:
    builder = GraphBuilder(model, is_user, fallback)
    index: dict[Any, int] = {}
    data: dict[Any, bool] = {}  # depends on the input values (not only on shapes or parameters)
    calls: dict[str, int] = {}
    for node in graph_module.graph.nodes:
        if node.op == "call_module":
            calls[node.target] = calls.get(node.target, 0) + 1
    for node in graph_module.graph.nodes:
        if node.op == "get_attr":
            continue
        sources = [n for n in node.all_input_nodes if n in index]
        inputs = [index[n] for n in sources]
        is_data = node.op == "placeholder" or any(data.get(n, False) for n in node.all_input_nodes)
        if node.op == "call_method" and node.target in _SHAPE_METHODS or (
            node.op == "call_function" and node.target is getattr and node.args[1:2] in (("shape",), ("ndim",))
        ):
            is_data = False
        data[node] = is_data
        index[node] = _emit(builder, node, inputs, [data[n] for n in sources], calls, graph_module)
    return builder.result()


def _owner(node: Any) -> str:
    stack = node.meta.get("nn_module_stack") or {}
    if not stack:
        return ""
    value = list(stack.values())[-1]
    return value[0] if isinstance(value, tuple) else str(value)


def _function_location(builder: GraphBuilder, node: Any, needle: Optional[str]) -> Span:
    found = node.meta.get("user_location")
    if found is None:
        found = stack_location(node.meta.get("stack_trace"), builder.is_user, needle)
    if found is not None:
        return found
    return builder.module_location(_owner(node))


def _emit(builder: GraphBuilder, node: Any, inputs: list[int], from_data: list[bool], calls: dict, gm: Any) -> int:
    op, target = node.op, node.target
    if op == "placeholder":
        return builder.add_node("in", -1, [])
    if op == "output":
        return builder.add_node("out", -1, inputs)
    if op == "call_module":
        module = builder.submodule(target)
        kind = module_kind(module)
        type_name = type(module).__name__
        if kind == "layer":
            return builder.layer(target, module, inputs)
        location = builder.module_location(target)
        if calls.get(target, 0) > 1:  # one module called in several places: the call site says which
            location = _function_location(builder, node, None) if node.meta.get("user_location") else location
        if kind == "norm":
            return builder.norm(target, type_name, location, inputs)
        if kind == "act":
            return builder.activation(target, type_name, True, location, inputs)
        if any(True for _ in walk_tree(module, target)):
            return builder.expand(target, module, inputs)
        return builder.add_node("op", -1, inputs)
    name = getattr(target, "__name__", str(target)) if op == "call_function" else str(target)
    short = name.rstrip("_").lower()
    if op in ("call_function", "call_method"):
        if activation_family(short):
            location = _function_location(builder, node, rf"[\w.]*{short}\b")
            return builder.activation(node.name, short, False, location, inputs, owner=_owner(node))
        if short in _NORM_FUNCTIONS:
            return builder.norm(node.name, short, _function_location(builder, node, None), inputs)
        if "Norm" in _owner_type(node):  # inside a hand-written norm (RMSNorm...): one entry per module
            owner = _owner(node)
            return builder.norm(owner, _owner_type(node), builder.module_location(owner), inputs)
        joins = (op == "call_function" and target in _JOIN_FUNCTIONS) or (op == "call_method" and target in _JOIN_METHODS)
        data_inputs = [i for i, flag in zip(inputs, from_data) if flag]
        if joins and len(data_inputs) >= 2:
            builder.joins.append(builder._place({"name": node.name, "op": short, "owner": _owner(node)},
                                                _function_location(builder, node, None)))
            return builder.add_node("join", len(builder.joins) - 1, data_inputs)
        if (op == "call_function" and target in _MUL_FUNCTIONS) or (op == "call_method" and target in _MUL_METHODS):
            return builder.add_node("mul", -1, inputs)
        if op == "call_function" and target in _WEIGHT_FUNCTIONS:
            weight = _parameter_argument(node, gm)
            if weight is not None:
                path, parameter = weight
                owner = path.rpartition(".")[0]
                module = builder.submodule(owner)
                return builder.layer(path, module, inputs, type_name=type(module).__name__, weight=parameter,
                                     location=builder.module_location(owner))
    return builder.add_node("op", -1, inputs)


def _owner_type(node: Any) -> str:
    stack = node.meta.get("nn_module_stack") or {}
    if not stack:
        return ""
    value = list(stack.values())[-1]
    kind = value[1] if isinstance(value, tuple) and len(value) > 1 else ""
    return kind if isinstance(kind, str) else getattr(kind, "__name__", "")


def _parameter_argument(node: Any, gm: Any) -> Optional[tuple[str, torch.Tensor]]:
    """The 2-D-or-more parameter a functional linear/conv/matmul reads through get_attr."""
    for arg in node.all_input_nodes:
        if arg.op == "get_attr":
            try:
                value = gm.get_parameter(arg.target)
            except AttributeError:
                continue
            if value.dim() >= 2:
                return arg.target, value
    return None
