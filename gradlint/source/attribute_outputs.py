"""Model outputs kept on the module (GL215): ``self.age_pred = self.age_model(x)`` in
``forward`` and ``self.criterion(self.age_pred, self.age_real)`` in ``optimize_parameters``
(the pix2pix/CycleGAN layout: ``set_input``, ``forward``, ``backward_G``). An attribute the
class assigns once, to a model's output, holds that output wherever the class reads it."""

from __future__ import annotations

import ast
from typing import Optional

from gradlint.source.endings import Ending
from gradlint.source.function_values import own_nodes
from gradlint.source.names import dotted
from gradlint.source.output_flow import Output, OutputBindings, output_of


def attribute_outputs(cls: ast.ClassDef, models: dict[str, Ending]) -> dict[str, Output]:
    """``{"self.age_pred": <the output>}`` for each ``self.<name>`` the class binds exactly
    once, to a model's output (an attribute bound anywhere else, also by ``+=`` or in a
    tuple, is left out)."""
    values: dict[str, list[Optional[Output]]] = {}
    for method in cls.body:
        if not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        bindings: Optional[OutputBindings] = None
        for node in own_nodes(method):
            targets = node.targets if isinstance(node, ast.Assign) else \
                [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
            for target in targets:
                for element in target.elts if isinstance(target, ast.Tuple) else [target]:
                    name = dotted(element) if isinstance(element, ast.Attribute) else None
                    if not (name and name.startswith("self.") and name.count(".") == 1):
                        continue
                    output = None
                    if isinstance(node, ast.Assign) and element is target:
                        bindings = bindings or OutputBindings(method, models)
                        output = output_of(node.value, models, bindings.at(node))
                    values.setdefault(name, []).append(output)
    return {name: found[0] for name, found in values.items() if len(found) == 1 and found[0] is not None}
