"""What a training script hands its optimiser, read statically (main process, no torch),
so the probe's worker can rebuild the same param groups on the model it built and the
measured rules (GL402, GL403, GL405) and GL404 can judge them.

For ``opt = torch.optim.X(<params>, ...)`` in a function (or module body) that also
builds the model (``model = Net(...)``), the selection is:

- ``groups``: one entry per param group, each a list of selectors (a module or parameter
  path under the model, ``""`` for the whole model, and whether only parameters with
  ``requires_grad`` are taken, as ``filter(lambda p: p.requires_grad, ...)`` does) and the
  group's literal ``lr`` / ``weight_decay`` (the params argument is read by ``param_selectors``);
- ``freeze``: the ``requires_grad`` changes made before the optimiser is built, in order
  (``for p in model.backbone.parameters(): p.requires_grad = False``,
  ``model.encoder.requires_grad_(False)``, ``model.fc.weight.requires_grad = False``).

Anything not read with certainty makes the whole selection unknown (None), and the
rules then say nothing: params built elsewhere (a variable assigned twice, a helper's
return value), a ``requires_grad`` change this module does not parse or one after the
optimiser is built (a later unfreezing), the model handed to a call or method that
might change it (``freeze(model)``, ``model.freeze_backbone()``), or a submodule
assigned on the model (``model.fc = nn.Linear(...)``: the probe's model would differ).
"""

from __future__ import annotations

import ast
import re
from typing import Any, Callable, Optional

from gradlint.source.names import classify, dotted
from gradlint.source.param_selectors import PARAMS_METHODS, ParamsReader, Scope, own_nodes, root

# methods of a module that leave its parameters and their requires_grad as they are
_SAFE_METHODS = frozenset({
    "to", "cuda", "cpu", "train", "eval", "float", "half", "double", "bfloat16", "load_state_dict",
    "parameters", "named_parameters", "modules", "named_modules", "children", "named_children", "state_dict",
    "zero_grad", "register_forward_hook", "register_forward_pre_hook", "forward", "__call__", "size",
    "get_submodule", "get_parameter", "buffers", "named_buffers",
})
# calls that may take the model and leave its parameters as they are
_SAFE_CALLS = frozenset({
    "print", "len", "isinstance", "type", "id", "str", "repr", "sum", "list", "DistributedDataParallel",
    "DataParallel", "DDP", "compile", "info", "debug", "warning", "log", "summary",
})
_WRAPPERS = frozenset({"DistributedDataParallel", "DataParallel", "DDP", "compile"})
_OPTIMIZER_NAME = re.compile(r"(SGD|Adam\w*|Lamb|LAMB|LARS|Lars|Lion|Adafactor|RMSprop|Adagrad|Adadelta|Optimizer|Shampoo|"
                             r"Sophia|Muon)$")


def enclosing_scope(tree: ast.Module, target: ast.AST) -> Scope:
    """The innermost function holding ``target``, else the module."""
    best: Scope = tree
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.lineno > getattr(best, "lineno", 0):
            if any(sub is target for sub in ast.walk(node)):  # a nested function starts after its parent
                best = node
    return best


def _constructor(value: ast.AST) -> Optional[ast.Call]:
    """``Net(...)`` of ``Net(...).to(device).train()``."""
    while isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr in _SAFE_METHODS \
            and isinstance(value.func.value, ast.Call):
        value = value.func.value
    return value if isinstance(value, ast.Call) else None


def model_constructor(scope: Scope, name: str, before: int) -> Optional[str]:
    """The dotted callee that built ``name`` in ``scope`` (its one plain assignment before
    line ``before``; ``model = model.to(device)`` and DDP wrapping keep it), else None."""
    found: Optional[str] = None
    for node in own_nodes(scope):
        if not isinstance(node, ast.Assign) or node.lineno >= before:
            continue
        value: Optional[ast.AST] = None
        for target in node.targets:
            if isinstance(target, ast.Name) and target.id == name:
                value = node.value
            elif isinstance(target, ast.Tuple) and any(isinstance(e, ast.Name) and e.id == name for e in target.elts):
                # model, data = model.to(device), data.to(device)
                if not isinstance(node.value, ast.Tuple) or len(node.value.elts) != len(target.elts):
                    return None
                value = next(v for e, v in zip(target.elts, node.value.elts) if isinstance(e, ast.Name) and e.id == name)
        if value is None:
            continue
        call = _constructor(value)
        callee = dotted(call.func) if call is not None else None
        if callee is None:
            return None
        if root(callee) == name or callee.rpartition(".")[2] in _WRAPPERS:
            continue  # model = model.to(device), model = DDP(model)
        if found is not None:
            return None  # built twice: which one the optimiser sees is not read here
        found = callee
    return found


class _Reader(ParamsReader):
    """The params argument (``ParamsReader``) and what else the scope does to the model."""

    # ----- what else the scope does to the model ------------------------------
    def freeze_ops(self) -> Optional[list[tuple[str, bool]]]:
        """``requires_grad`` changes before the optimiser, in order; None when the scope
        changes the model in a way not read here."""
        ops: list[tuple[int, str, bool]] = []
        for node in own_nodes(self.scope):
            if isinstance(node, ast.For):
                op = self._freeze_loop(node)
                if op is not None:
                    ops.append((node.lineno, *op))
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and \
                    isinstance(node.targets[0], ast.Attribute) and node.targets[0].attr == "requires_grad":
                path = dotted(node.targets[0].value)
                flag = node.value.value if isinstance(node.value, ast.Constant) else None
                if path and root(path) == self.model and isinstance(flag, bool):
                    self.used.add(id(node.targets[0]))
                    ops.append((node.lineno, path.partition(".")[2], flag))
            elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and \
                    isinstance(node.value.func, ast.Attribute) and node.value.func.attr == "requires_grad_":
                path = dotted(node.value.func.value)
                args = node.value.args
                flag = args[0].value if len(args) == 1 and isinstance(args[0], ast.Constant) else (True if not args else None)
                if path and root(path) == self.model and isinstance(flag, bool):
                    self.used.add(id(node.value.func))
                    ops.append((node.lineno, path.partition(".")[2], flag))
        if not self._nothing_else(ops):
            return None
        return [(path, flag) for _, path, flag in sorted(ops, key=lambda op: op[0])]

    def _freeze_loop(self, loop: ast.For) -> Optional[tuple[str, bool]]:
        """``for p in model.x.parameters(): p.requires_grad = False`` (or ``p.requires_grad_(False)``)."""
        if not isinstance(loop.target, ast.Name) or len(loop.body) != 1 or loop.orelse:
            return None
        selectors = self.selectors(loop.iter)
        if selectors is None or len(selectors) != 1 or selectors[0]["trainable_only"]:
            return None
        statement = loop.body[0]
        variable = loop.target.id
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and \
                self._requires_grad_of(statement.targets[0], variable) and isinstance(statement.value, ast.Constant) \
                and isinstance(statement.value.value, bool):
            return selectors[0]["path"], statement.value.value
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            call = statement.value
            if isinstance(call.func, ast.Attribute) and call.func.attr == "requires_grad_" and \
                    dotted(call.func.value) == variable and len(call.args) == 1 and \
                    isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, bool):
                self.used.add(id(call.func))
                return selectors[0]["path"], call.args[0].value
        return None

    def _nothing_else(self, ops: list[tuple[int, str, bool]]) -> bool:
        """No unread ``requires_grad`` change, none after the optimiser, no submodule
        assigned on the model, the model handed to no call that might change it."""
        if any(line > self.call.lineno for line, _, _ in ops):
            return False  # a later unfreezing: the first step's state is not the run's
        self.selectors_in_call()
        if isinstance(self.scope, ast.Module) and self._global_model_changed():
            return False
        for node in own_nodes(self.scope):
            if _writes_requires_grad(node) and id(node) not in self.used:
                return False  # a requires_grad change not read here (reads, as in counting, change nothing)
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    text = dotted(target) if isinstance(target, ast.Attribute) else None
                    if text and root(text) == self.model and not text.endswith(".requires_grad"):
                        return False  # model.fc = nn.Linear(...): the probe's model is not the script's
            if isinstance(node, ast.Call) and node.lineno < self.call.lineno:
                callee = dotted(node.func) or ""
                if root(callee) == self.model and "." in callee:
                    if callee.rpartition(".")[2] not in _SAFE_METHODS | {"requires_grad_", "apply"}:
                        return False  # model.freeze_backbone(), model.add_module(...)
                    if callee.rpartition(".")[2] == "apply":
                        return False  # a function over every module: may freeze
                hands = [a for a in [*node.args, *(k.value for k in node.keywords)]
                         if isinstance(a, ast.Name) and a.id == self.model]
                if hands and callee.rpartition(".")[2] not in _SAFE_CALLS:
                    return False  # freeze(model), setup(model): may change it
        return True

    def _global_model_changed(self) -> bool:
        """A module-level model whose requires_grad a function of the file changes (a later
        unfreezing, a freeze in a setup function): when it runs is not read here."""
        for node in ast.walk(self.scope):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                inside = list(ast.walk(node))
                if any(_writes_requires_grad(n) for n in inside) and any(isinstance(n, ast.Name) and n.id == self.model for n in inside):
                    return True
        return False

    def selectors_in_call(self) -> None:
        """Mark the ``requires_grad`` tests of the optimiser's own argument as read."""
        self.groups()


def _writes_requires_grad(node: ast.AST) -> bool:
    """``x.requires_grad = ...`` (the target) or ``x.requires_grad_`` (the called attribute)."""
    if not isinstance(node, ast.Attribute):
        return False
    if node.attr == "requires_grad_":
        return True
    return node.attr == "requires_grad" and isinstance(node.ctx, (ast.Store, ast.Del))


def _owners(reader: "_Reader", call: ast.Call) -> set[str]:
    """The roots whose ``.parameters()`` the call takes, also through the names it is given."""
    reads: list[ast.AST] = [call]
    for sub in ast.walk(call):
        value = reader.assigned_once(sub.id) if isinstance(sub, ast.Name) else None
        if value is not None:
            reads.append(value)
    owners = {root(dotted(sub.func.value)) for node in reads for sub in ast.walk(node)
              if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and sub.func.attr in PARAMS_METHODS}
    owners.discard("")
    return owners


def _is_optimizer(call: ast.Call) -> bool:
    """Any optimiser's construction (torch.optim, apex, bitsandbytes, a project's own), by its name."""
    callee = dotted(call.func) or ""
    return classify(callee) == "optimizer" or bool(_OPTIMIZER_NAME.search(callee.rpartition(".")[2]))


def read_selection(tree: ast.Module, call: ast.Call, literal: Callable[[ast.AST], Any]) -> Optional[dict[str, Any]]:
    """The model variable, its constructor, the param groups and the freezes for one
    optimiser construction, or None when any of it is not read with certainty."""
    scope = enclosing_scope(tree, call)
    looked_up = _Reader(scope, "", call, literal)
    owners = _owners(looked_up, call)
    if len(owners) != 1:
        return None
    model = owners.pop()
    for other in own_nodes(scope):
        if other is not call and isinstance(other, ast.Call) and _is_optimizer(other):
            others = _owners(looked_up, other)
            if len(others) != 1 or model in others:
                return None  # a second optimiser over this model, or over what is not read: which holds what is unknown
    constructor = model_constructor(scope, model, call.lineno)
    if constructor is None:
        return None
    reader = _Reader(scope, model, call, literal)
    groups = reader.groups()
    if groups is None:
        return None
    freeze = reader.freeze_ops()
    if freeze is None:
        return None
    # a scheduler sets the rate itself (OneCycleLR's max_lr, a warm-up): a literal lr 0 is not the run's rate
    scheduled = any(isinstance(n, ast.Call) and classify(dotted(n.func)) == "scheduler" for n in own_nodes(scope))
    return {"model": model, "constructor": constructor, "groups": groups, "freeze": [list(op) for op in freeze],
            "scheduled": scheduled}


def module_constants(tree: ast.Module) -> dict[str, Any]:
    """``LR = 3e-4`` at module level: names a literal keyword may be spelled with."""
    constants: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = literal(node.value, {})
            if value is not None:
                constants[node.targets[0].id] = value
    return constants


def literal(node: ast.AST, constants: dict[str, Any]) -> Any:
    """A number, a bool or a tuple of numbers written in the source (or a module constant), else None."""
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError):
        return None
    if isinstance(value, bool) or isinstance(value, (int, float)):
        return value
    if isinstance(value, tuple) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return list(value)  # JSON-safe; torch accepts a list for betas
    return None
