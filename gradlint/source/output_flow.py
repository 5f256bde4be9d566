"""How a model's output flows to a loss inside one function (GL215): the names that hold
an output (``out = model(x)``, ``validity, label = disc(x)``), the output an expression is
(``model(x).squeeze(1)``, ``out[1]``), and the loss a call is. Shared by the links a file
makes itself (:mod:`gradlint.source.outputs`) and those it makes through a helper function
(:mod:`gradlint.source.loss_helpers`)."""

from __future__ import annotations

import ast
from typing import Optional

from gradlint.source.container_outputs import EACH
from gradlint.source.endings import Ending, FinalActivation
from gradlint.source.function_values import own_nodes
from gradlint.source.names import dotted

# qualified loss -> what it expects of its first argument
LOSSES = {
    "torch.nn.CrossEntropyLoss": "CrossEntropyLoss", "torch.nn.functional.cross_entropy": "F.cross_entropy",
    "torch.nn.NLLLoss": "NLLLoss", "torch.nn.functional.nll_loss": "F.nll_loss",
    "torch.nn.BCEWithLogitsLoss": "BCEWithLogitsLoss",
    "torch.nn.functional.binary_cross_entropy_with_logits": "F.binary_cross_entropy_with_logits",
    "torch.nn.BCELoss": "BCELoss", "torch.nn.functional.binary_cross_entropy": "F.binary_cross_entropy",
}
SELF_CALLS = ("", ".forward", ".__call__")  # self(x), self.forward(x), self.__call__(x)

# what a name or expression holds: a model's ending and which of its outputs (None: all)
Output = tuple[Ending, Optional[int]]


def activation_of(output: Optional[Output]) -> Optional[FinalActivation]:
    if output is None:
        return None
    ending, position = output
    return activation_at(ending, position)


def unpacked_into(ending: Ending, count: Optional[int]) -> Ending:
    """The outputs an unpacking into ``count`` names reads: those of every return, and
    those of the returns of that length (None: read otherwise, ``out[1]``: every return's only)."""
    return {position: activation for position, activation in ending.items() if activation.arity in (None, count)}


def activation_at(ending: Ending, position: Optional[int]) -> Optional[FinalActivation]:
    """The activation of one output of a model: ``out[0]`` of a model returning a list of
    softmaxes is one of them, and ``out[idx]`` of a model returning one tensor is rows of it."""
    found = ending.get(position)
    if found is None and position is not None and position >= 0:
        found = ending.get(EACH)
    if found is None and position == EACH:
        found = ending.get(None)
    return found


def loss_of(call: ast.Call, names: dict[int, str], losses: dict[str, str]) -> Optional[str]:
    qualified = names.get(id(call))
    if qualified in LOSSES:
        return LOSSES[qualified]
    if isinstance(call.func, ast.Call) and names.get(id(call.func)) in LOSSES:  # nn.CrossEntropyLoss()(out, y)
        return LOSSES[names[id(call.func)]]
    name = dotted(call.func) or _keyed(call.func)
    return losses.get(name) if name else None


def _keyed(func: ast.expr) -> Optional[str]:
    """``losses["nll"]`` for a loss taken from a dict by a constant key (see ``dict_losses``)."""
    if (isinstance(func, ast.Subscript) and (holder := dotted(func.value)) and isinstance(func.slice, ast.Constant)
            and isinstance(func.slice.value, str)):
        return f'{holder}["{func.slice.value}"]'
    return None


def dict_losses(holder: str, value: ast.expr, names: dict[int, str]) -> dict[str, str]:
    """``losses = {"nll": nn.NLLLoss(), "ce": nn.CrossEntropyLoss()}``: each loss of the
    table by the key it is taken with (``losses["nll"]``)."""
    if not isinstance(value, ast.Dict):
        return {}
    return {f'{holder}["{key.value}"]': LOSSES[names[id(item)]] for key, item in zip(value.keys, value.values)
            if isinstance(key, ast.Constant) and isinstance(key.value, str) and isinstance(item, ast.Call)
            and names.get(id(item)) in LOSSES}


# tensor methods that keep what the values are (probabilities stay probabilities): shape,
# dtype, device, copies, a mean over crops, a clamp away from zero
_KEEPS_VALUES = frozenset({
    "view", "reshape", "view_as", "reshape_as", "squeeze", "unsqueeze", "flatten", "permute", "transpose", "t",
    "contiguous", "to", "float", "double", "half", "bfloat16", "type", "type_as", "cpu", "cuda", "detach", "clone",
    "mean", "expand", "expand_as", "narrow", "select", "clamp", "clamp_min", "clip", "squeeze_", "unsqueeze_",
})


def output_of(node: ast.AST, models: dict[str, Ending], assigned: dict[str, Output]) -> Optional[Output]:
    """The model output ``node`` is: ``model(x)``, ``model(x).squeeze(1)``, ``model(x)[1]``,
    or a name assigned one."""
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and type(node.slice.value) is int:
        inner = output_of(node.value, models, assigned)
        if inner is None or inner[1] is not None:
            return None
        return unpacked_into(inner[0], None), node.slice.value
    if isinstance(node, ast.Subscript) and not (isinstance(node.slice, ast.Constant) and type(node.slice.value) is int):
        inner = output_of(node.value, models, assigned)
        if inner is None or inner[1] is not None:
            return None
        # outputs[head]: one element of the dict or list a multi-head model returns, or
        # y_hat[train_idx]: rows of the probabilities (see activation_at)
        if isinstance(node.slice, (ast.Name, ast.Constant, ast.Attribute)):
            return inner[0], EACH
        return inner if None in inner[0] else None  # out[:, 0], y_hat[:n]: rows or columns of the probabilities
    if isinstance(node, ast.Call):
        callee = dotted(node.func)
        if callee is not None and callee.endswith(".forward") and callee[:-len(".forward")] in models:
            callee = callee[:-len(".forward")]  # model.forward(x) runs what model(x) runs (without its hooks)
        if callee in models:
            return called(models[callee], node), None
        if callee is not None and callee.startswith("torch.") and callee[6:] in _KEEPS_VALUES and node.args:
            return output_of(node.args[0], models, assigned)  # torch.squeeze(out), torch.flatten(out, 1)
        if callee in ("torch.cat", "torch.stack", "torch.vstack") and node.args and isinstance(node.args[0], ast.Name):
            joined = output_of(node.args[0], models, assigned)  # torch.cat(probs): the outputs appended one by one
            return (joined[0], None) if joined is not None and joined[1] == EACH else None
        if not isinstance(node.func, ast.Attribute) or node.func.attr not in _KEEPS_VALUES:
            return None  # out.log() is log-probabilities, not the output
        return output_of(node.func.value, models, assigned)  # model(x).view(-1), out.squeeze()
    if isinstance(node, ast.Name):
        return assigned.get(node.id)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
        return assigned.get(f"self.{node.attr}")  # an output the class keeps (see attribute_outputs)
    return None


def called(ending: Ending, call: ast.Call) -> Ending:
    """The outputs a call takes: an output read on the path of default arguments is dropped
    when the call passes one of them (``model(x, reconstruct=True)``)."""
    keywords = {k.arg for k in call.keywords}
    unpacked = None in keywords or any(isinstance(arg, ast.Starred) for arg in call.args)

    def passed(index: int, name: str) -> bool:
        return unpacked or name in keywords or len(call.args) > index

    return {key: activation for key, activation in ending.items()
            if not any(passed(index, name) for index, name in activation.unless)}


def versioned(models: dict[str, Ending], versions: Optional[dict[str, list[tuple[int, Optional[Ending]]]]],
              line: int) -> dict[str, Ending]:
    """``models`` as a line of the module reads them: a name the module's top level binds in
    turn to models with different endings (a notebook's cells reusing ``model``) holds the
    one its last binding before ``line`` built (none when that model has no ending)."""
    if not versions:
        return models
    seen = dict(models)
    for name, bound in versions.items():
        reaching = [ending for at, ending in bound if at < line]
        if not reaching:
            continue
        if reaching[-1]:
            seen[name] = reaching[-1]
        else:
            seen.pop(name, None)
    return seen


def model_outputs(function: ast.AST, models: dict[str, Ending]) -> dict[str, Output]:
    """Names this function (or module) assigns a model's output (or one element of it) to, and only that."""
    return OutputBindings(function, models).everywhere()


class OutputBindings:
    """The names a function (or module) binds, each binding a model's output or not, read
    where a name is used: ``output = model(x)`` right before ``criterion(output, y)`` is the
    model's output there even when the function rebinds ``output`` later (``output =
    output[-1]`` in a sampling loop after training)."""

    def __init__(self, function: ast.AST, models: dict[str, Ending],
                 versions: Optional[dict[str, list[tuple[int, Optional[Ending]]]]] = None) -> None:
        self.bindings: dict[str, list[tuple[int, Optional[Output]]]] = {}
        self.loops = [node for node in own_nodes(function) if isinstance(node, (ast.For, ast.AsyncFor, ast.While))]
        bindings = sorted((node for node in own_nodes(function) if isinstance(node, _BINDS)),
                          key=lambda node: (node.lineno, node.col_offset))
        for node in bindings:
            here = versioned(models, versions, node.lineno)
            if isinstance(node, ast.Expr):  # probs.append(model(x)): the list holds one output per call
                self._append(node, here)
                continue
            if not isinstance(node, (ast.Assign, ast.AnnAssign)):
                # a comprehension's names are bound before the expression on its own line reads them
                line = node.lineno if isinstance(node, (ast.For, ast.AsyncFor)) else node.lineno - 1
                for target, iterable in _loops_over(node):
                    self._bind_each(target, iterable, line, here)
            elif node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                # ``mean = outputs.view(b, crops, -1).mean(1)``: an output read through a name bound before
                output = output_of(node.value, here, self._last())
                for target in targets:
                    if isinstance(target, ast.Name):
                        self._bind(target.id, node.lineno, output)
                    elif isinstance(target, ast.Tuple):  # validity, label = disc(x)
                        whole = output is None or output[1] is not None or any(isinstance(e, ast.Starred) for e in target.elts)
                        unpacked = unpacked_into(output[0], len(target.elts)) if output is not None else {}
                        for index, element in enumerate(target.elts):
                            if isinstance(element, ast.Name):
                                self._bind(element.id, node.lineno, None if whole or output is None else (unpacked, index))

    def _append(self, node: ast.Expr, models: dict[str, Ending]) -> None:
        call = node.value
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "append"
                and isinstance(call.func.value, ast.Name) and len(call.args) == 1 and not call.keywords):
            return
        output = output_of(call.args[0], models, self._last())
        if output is not None and output[1] is None:
            self._bind(call.func.value.id, node.lineno, (output[0], EACH))

    def _bind_each(self, target: ast.expr, iterable: ast.expr, line: int, models: dict[str, Ending]) -> None:
        """``for out in outputs``, ``enumerate(outputs)``, ``outputs.values()``/``.items()``:
        the loop's name holds one element of the dict or list a model returned."""
        element: Optional[ast.expr] = target
        if isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Name) and iterable.func.id == "enumerate" \
                and iterable.args:
            iterable, element = iterable.args[0], _second(target)
        if isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Attribute) and not iterable.args \
                and iterable.func.attr in ("values", "items"):
            element = element if iterable.func.attr == "values" else _second(element) if element is not None else None
            iterable = iterable.func.value
        if not isinstance(element, ast.Name):
            return
        output = output_of(iterable, models, self._last())
        self._bind(element.id, line, (output[0], EACH) if output is not None and output[1] is None else None)

    def _last(self) -> dict[str, Output]:
        """Each name's latest binding so far, where that is a model's output."""
        return {name: binds[-1][1] for name, binds in self.bindings.items() if binds[-1][1] is not None}

    def _bind(self, name: str, line: int, output: Optional[Output]) -> None:
        self.bindings.setdefault(name, []).append((line, output))

    def everywhere(self) -> dict[str, Output]:
        """Names bound to a model's output and to nothing else."""
        return {name: binds[-1][1] for name, binds in self.bindings.items()
                if binds[-1][1] is not None and all(output is not None for _, output in binds)}

    def at(self, use: ast.AST) -> dict[str, Output]:
        """Names holding a model's output where ``use`` reads them: the last binding before
        it, unless that binding is outside a loop around ``use`` that binds the name again
        after it (a binding earlier in the same pass is read again on every pass)."""
        line = getattr(use, "lineno", 0)
        found = self.everywhere()
        for name, binds in self.bindings.items():
            if name in found:
                continue
            before = [(at, output) for at, output in binds if at < line]
            if not before or (last := max(before, key=lambda bind: bind[0]))[1] is None:
                continue
            if any(loop.lineno <= line <= (loop.end_lineno or loop.lineno) and last[0] < loop.lineno and
                   any(line < at <= (loop.end_lineno or loop.lineno) for at, _ in binds) for loop in self.loops):
                continue  # bound before the loop: its next pass may read the later binding instead
            output = last[1]
            assert output is not None
            found[name] = output
        return found


_BINDS = (ast.Assign, ast.AnnAssign, ast.For, ast.AsyncFor, ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp,
          ast.Expr)


def _loops_over(node: ast.AST) -> list[tuple[ast.expr, ast.expr]]:
    """(target, iterable) of a ``for`` loop or of each ``for`` of a comprehension."""
    if isinstance(node, (ast.For, ast.AsyncFor)):
        return [(node.target, node.iter)]
    return [(generator.target, generator.iter) for generator in getattr(node, "generators", [])]


def _second(target: ast.expr) -> Optional[ast.expr]:
    return target.elts[1] if isinstance(target, ast.Tuple) and len(target.elts) == 2 else None


def own_calls(function: ast.AST) -> list[ast.Call]:
    return [node for node in own_nodes(function) if isinstance(node, ast.Call)]
