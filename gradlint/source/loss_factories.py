"""GL215: the loss a project function builds and returns (``loss_function =
utils.retrieve_loss_function(configuration)``, each arm of it returning
``torch.nn.CrossEntropyLoss()`` for another configuration string): read from its source,
never imported, where every loss it can return is one kind (arms returning something that is
no loss, ``torch.nn.Sigmoid()``, are not losses the model is trained with)."""

from __future__ import annotations

import ast
import re
from typing import Optional

from gradlint.source.names import collect_aliases, dotted, qualify
from gradlint.source.output_flow import LOSSES
from gradlint.source.project_functions import project_function
from gradlint.source.tree_paths import path_of

_NAMED = re.compile(r"loss|criterion", re.IGNORECASE)


def returned_loss(call: ast.Call, tree: ast.Module) -> Optional[str]:
    """The loss kind (a :data:`LOSSES` value) ``call`` of a project function returns."""
    script = path_of(tree)
    name = dotted(call.func)
    if not name or not _NAMED.search(name.rpartition(".")[2]):
        return None  # (only a function named for what it builds is read: get_loss, build_criterion)
    found = project_function(name, tree, script) if script is not None else None
    if found is None:
        return None
    function, module, _ = found
    aliases = collect_aliases(module)
    kinds = {LOSSES.get(qualify(value.func, aliases) or "") for node in ast.walk(function)
             if isinstance(node, ast.Return) and isinstance(value := node.value, ast.Call)}
    kinds.discard(None)
    return kinds.pop() if len(kinds) == 1 else None
