"""Training functions gradlint cannot read (GL406): ``engine.train(model=model,
optimizer=optimizer, ...)`` where ``engine`` is imported from a module that is not in the
project (the course helper ``going_modular`` downloaded at run time, a package that is not
installed). Such a function trains the model it is handed, and training functions put it in
train mode (``model.train()``) each epoch; unless it also calls ``.eval()`` on a frozen part,
that part's BatchNorm statistics drift. A call counts only when its name says it trains
(``train``, ``fit``, ``train_model``...) and it is handed both a model and an optimiser."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from gradlint.source.frames import FileFrames
from gradlint.source.freeze_facts import ModeCall
from gradlint.source.names import collect_aliases, dotted
from gradlint.source.project_functions import project_imports
from gradlint.source.reaching_bindings import unwrap

_TRAINING = frozenset({"train", "fit", "train_model", "fit_model", "train_net", "train_network", "train_loop",
                       "train_step", "train_epoch", "train_one_epoch"})
# the text of a file that may call one, handing it something (not a ``model.train()`` mode switch)
CALLS_TRAINER = re.compile(r"\b(?:%s)\((?!\s*(?:\)|True\b|False\b|mode\b))" % "|".join(sorted(_TRAINING)))
_MODEL_WORDS = ("model", "net", "network")


def unread_trainer_modes(frames: FileFrames) -> list[ModeCall]:
    """A train-mode call of the model for each such call of an unreadable training function."""
    tree = frames.unit.tree
    assert tree is not None
    # names imported from anything but torch and Lightning (whose trainers are read elsewhere)
    imported = {local for local, qualified in collect_aliases(tree).items()
                if not qualified.startswith(("torch", "lightning", "pytorch_lightning"))}
    if not imported:
        return []
    project = project_imports(tree, Path(frames.unit.path)) if Path(frames.unit.path).is_file() else {}
    found: list[ModeCall] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = dotted(node.func) or ""
        root = name.split(".")[0]
        if name.rsplit(".", 1)[-1] not in _TRAINING or root not in imported or root in project:
            continue  # (a project module's function is read where it is defined)
        model = _model_argument(node)
        if model is None or not _optimiser_given(node):
            continue
        frame = frames.kinds.frame_of(node) or tree
        found.append(ModeCall(model, True, node, frames._statement_of(node), frame, site=node, unread=name))
    return found


def _model_argument(call: ast.Call) -> str | None:
    """The model handed to the call: ``model=model`` (or ``net=``), else its first argument
    when that is named like a model."""
    for keyword in call.keywords:
        if keyword.arg in _MODEL_WORDS and (name := dotted(unwrap(keyword.value))):
            return name  # model=effnetb2.to(device)
    if call.args and (name := dotted(unwrap(call.args[0]))) and any(word in name.rsplit(".", 1)[-1].lower()
                                                                    for word in _MODEL_WORDS):
        return name
    return None


def _optimiser_given(call: ast.Call) -> bool:
    given = [*call.args, *(k.value for k in call.keywords)]
    return any("optim" in (k.arg or "") for k in call.keywords) or any(
        "optim" in (dotted(value) or "").lower() for value in given)
