"""GL215: the loss a project function builds and returns (``loss_function =
utils.retrieve_loss_function(configuration)``, each arm of it returning
``torch.nn.CrossEntropyLoss()`` for another configuration string): read from its source,
never imported, where every loss it can return is one kind (arms returning something that is
no loss, ``torch.nn.Sigmoid()``, are not losses the model is trained with)."""

from __future__ import annotations

import ast
import re
from typing import Optional

from gradlint.source.model_factories import moved_in_place
from gradlint.source.names import collect_aliases, dotted, qualify
from gradlint.source.output_flow import LOSSES
from gradlint.source.project_functions import project_function
from gradlint.source.tree_paths import path_of

_NAMED = re.compile(r"loss|criterion", re.IGNORECASE)


def _loss_function(call: ast.Call, tree: ast.Module) -> Optional[tuple[ast.FunctionDef, ast.Module]]:
    """The project function ``call`` calls, with its module, when its name says it builds a
    loss (only such a function is read: get_loss, build_criterion, define_loss)."""
    script = path_of(tree)
    name = dotted(call.func)
    if not name or not _NAMED.search(name.rpartition(".")[2]) or script is None:
        return None
    found = project_function(name, tree, script)
    return (found[0], found[1]) if found is not None else None


def returned_loss(call: ast.Call, tree: ast.Module) -> Optional[str]:
    """The loss kind (a :data:`LOSSES` value) ``call`` of a project function returns."""
    found = _loss_function(call, tree)
    if found is None:
        return None
    function, module = found
    aliases = collect_aliases(module)
    kinds = {LOSSES.get(qualify(value.func, aliases) or "") for node in ast.walk(function)
             if isinstance(node, ast.Return) and isinstance(value := node.value, ast.Call)}
    kinds.discard(None)
    return kinds.pop() if len(kinds) == 1 else None


def returned_losses(call: ast.Call, tree: ast.Module) -> dict[int, str]:
    """The loss kind of each element of the tuple ``call`` of a project function returns
    (``pixel_loss, adversarial_loss = define_loss(config)``, ``return pixel_loss,
    adversarial_loss`` with ``adversarial_loss = nn.BCEWithLogitsLoss()`` bound there), by
    position, where every return of the function agrees."""
    found = _loss_function(call, tree)
    if found is None:
        return {}
    function, module = found
    aliases = collect_aliases(module)
    bound: dict[str, list[ast.expr]] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(target := node.targets[0], ast.Name) \
                and not moved_in_place(node.value, target.id):
            bound.setdefault(target.id, []).append(node.value)

    def kind(element: ast.expr) -> Optional[str]:
        values = bound.get(element.id, []) if isinstance(element, ast.Name) else [element]
        kinds = {LOSSES.get(qualify(value.func, aliases) or "") if isinstance(value, ast.Call) else None for value in values}
        return kinds.pop() if len(kinds) == 1 else None

    returned = [node.value for node in ast.walk(function) if isinstance(node, ast.Return) and node.value is not None]
    tuples = [value for value in returned if isinstance(value, ast.Tuple)]
    if not returned or len(tuples) != len(returned):
        return {}
    per_position = [{kind(value.elts[i]) if i < len(value.elts) else None for value in tuples}
                    for i in range(len(tuples[0].elts))]
    return {i: loss for i, kinds in enumerate(per_position) if len(kinds) == 1 and (loss := next(iter(kinds))) is not None}


def binds_factory_loss(tree: ast.Module) -> bool:
    """The file binds what a project function named for losses builds to a loss of the
    table (``criterion = get_loss(cfg)``, ``pixel_loss, adversarial_loss = define_loss(config)``)."""
    calls = [node.value for node in ast.walk(tree) if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
             and _NAMED.search((dotted(node.value.func) or "").rpartition(".")[2])]
    return any(returned_loss(call, tree) is not None or returned_losses(call, tree) for call in calls)

