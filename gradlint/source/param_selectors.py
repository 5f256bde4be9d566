"""Which parameters an optimiser's ``params`` argument stands for, read statically (main
process, no torch): the selectors of ``optimizer_params`` (a module or parameter path under
the model, ``""`` for the whole model, and whether only parameters with ``requires_grad``
are taken) and the param groups with their literal ``lr`` / ``weight_decay``.

``model.parameters()``, ``model.head.parameters()``, ``list(...)``, ``itertools.chain``,
``filter(lambda p: p.requires_grad, ...)``, ``[p for p in ... if p.requires_grad]``, sums
and lists of these, a name assigned once before the optimiser, and a list of group
dicts. Anything else is not read (None).
"""

from __future__ import annotations

import ast
from typing import Any, Callable, Optional, Union

from gradlint.source.names import dotted

Scope = Union[ast.Module, ast.FunctionDef, ast.AsyncFunctionDef]
Selector = dict[str, Any]  # {"path": "head", "trainable_only": False}

PARAMS_METHODS = ("parameters", "named_parameters")
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def own_nodes(scope: Scope) -> list[ast.AST]:
    """The nodes of ``scope`` outside the functions and classes it defines."""
    found: list[ast.AST] = []
    stack: list[ast.AST] = [node for node in scope.body if not isinstance(node, _DEFINITIONS)]
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(child for child in ast.iter_child_nodes(node) if not isinstance(child, _DEFINITIONS))
    return found


def root(name: Optional[str]) -> str:
    return (name or "").split(".", 1)[0]


class ParamsReader:
    """Reads the optimiser call's params argument in ``scope``, for the model named ``model``."""

    def __init__(self, scope: Scope, model: str, call: ast.Call, literal: Callable[[ast.AST], Any]) -> None:
        self.scope, self.model, self.call, self.literal = scope, model, call, literal
        self.used: set[int] = set()  # ids of requires_grad nodes read as part of the selection

    # ----- the params argument ---------------------------------------------
    def selectors(self, node: ast.AST, depth: int = 0) -> Optional[list[Selector]]:
        """The selectors one iterable of parameters stands for, else None."""
        if depth > 6:
            return None
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in PARAMS_METHODS and not node.args:
                if any(k.arg != "recurse" for k in node.keywords):
                    return None
                path = dotted(func.value)
                if path is None or root(path) != self.model:
                    return None
                return [{"path": path.partition(".")[2], "trainable_only": False}]
            name = dotted(func) or ""
            last = name.rpartition(".")[2]
            if last in ("list", "tuple", "iter") and len(node.args) == 1 and not node.keywords:
                return self.selectors(node.args[0], depth + 1)
            if last == "chain" and not node.keywords:
                return self._all([self.selectors(a, depth + 1) for a in node.args])
            if last == "filter" and len(node.args) == 2 and self._is_requires_grad_test(node.args[0]):
                inner = self.selectors(node.args[1], depth + 1)
                return [{**s, "trainable_only": True} for s in inner] if inner is not None else None
            return None
        if isinstance(node, (ast.List, ast.Tuple)):
            parts: list[Optional[list[Selector]]] = []
            for element in node.elts:
                parts.append(self.selectors(element.value if isinstance(element, ast.Starred) else element, depth + 1))
            return self._all(parts)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self._all([self.selectors(node.left, depth + 1), self.selectors(node.right, depth + 1)])
        if isinstance(node, (ast.ListComp, ast.GeneratorExp)) and len(node.generators) == 1:
            generator = node.generators[0]
            if not (isinstance(node.elt, ast.Name) and isinstance(generator.target, ast.Name)
                    and generator.target.id == node.elt.id) or generator.is_async:
                return None
            inner = self.selectors(generator.iter, depth + 1)
            if inner is None or len(generator.ifs) > 1:
                return None
            if generator.ifs:
                if not self._requires_grad_of(generator.ifs[0], node.elt.id):
                    return None
                return [{**s, "trainable_only": True} for s in inner]
            return inner
        if isinstance(node, ast.Name):
            value = self.assigned_once(node.id)
            return self.selectors(value, depth + 1) if value is not None else None
        return None

    @staticmethod
    def _all(parts: list[Optional[list[Selector]]]) -> Optional[list[Selector]]:
        if any(p is None for p in parts):
            return None
        return [s for p in parts if p is not None for s in p]

    def _is_requires_grad_test(self, node: ast.AST) -> bool:
        return (isinstance(node, ast.Lambda) and len(node.args.args) == 1
                and self._requires_grad_of(node.body, node.args.args[0].arg))

    def _requires_grad_of(self, node: ast.AST, name: str) -> bool:
        if isinstance(node, ast.Attribute) and node.attr == "requires_grad" and dotted(node.value) == name:
            self.used.add(id(node))
            return True
        return False

    def assigned_once(self, name: str) -> Optional[ast.AST]:
        """The value of ``name``'s one assignment in the scope before the optimiser, when
        nothing else binds or extends it (``params.append(...)``, ``params += ...``)."""
        values = []
        for node in own_nodes(self.scope):
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                values.append(node)
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For, ast.With, ast.comprehension)) and \
                    any(isinstance(t, ast.Name) and t.id == name for t in ast.walk(getattr(node, "target", node))):
                return None
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                    dotted(node.func.value) == name:
                return None  # params.append / extend / a dict's update: built up elsewhere
        if len(values) != 1 or values[0].lineno >= self.call.lineno:
            return None
        return values[0].value

    def groups(self) -> Optional[list[dict[str, Any]]]:
        params: Optional[ast.AST] = self.call.args[0] if self.call.args else None
        for keyword in self.call.keywords:
            if keyword.arg == "params":
                params = keyword.value
        if params is None:
            return None
        if isinstance(params, ast.Name):
            value = self.assigned_once(params.id)
            if isinstance(value, (ast.List, ast.Tuple)) and value.elts and all(isinstance(e, ast.Dict) for e in value.elts):
                params = value
        if isinstance(params, (ast.List, ast.Tuple)) and params.elts and all(isinstance(e, ast.Dict) for e in params.elts):
            found = []
            for entry in params.elts:
                group = self._group(entry)  # type: ignore[arg-type]
                if group is None:
                    return None
                found.append(group)
            return found
        selectors = self.selectors(params)
        return [{"select": selectors, "options": {}}] if selectors is not None else None

    def _group(self, entry: ast.Dict) -> Optional[dict[str, Any]]:
        selectors: Optional[list[Selector]] = None
        options: dict[str, Any] = {}
        for key, value in zip(entry.keys, entry.values):
            if not isinstance(key, ast.Constant) or not isinstance(key.value, str):
                return None  # **other_group: unknown keys
            if key.value == "params":
                selectors = self.selectors(value)
            elif key.value in ("lr", "weight_decay"):
                options[key.value] = self.literal(value)  # None: not a literal (the rules then assume nothing)
        return {"select": selectors, "options": options} if selectors is not None else None
