"""Train/eval mode along the training loops, for GL211.

The loop events of ``loops.py`` plus two kinds: ``model.eval()`` (or ``.train(False)``)
and ``model.train()``, collected through the same helper inlining, so a ``validate()``
of this file that calls ``model.eval()`` and ends with ``model.train()`` counts as both.
A receiver inside a helper is mapped to the caller's argument (``validate(net)`` with
``def validate(model)``: ``net``).

An *eval leak* is a ``model.eval()`` of a trained model (one an optimiser takes the
parameters of, or by name ``model``/``net`` when the optimiser's model is unknown) from
which execution reaches a ``backward()`` with no train call in between, going round a
loop (validation after the training loop, or in the epoch loop around it). An eval in the
same iteration right before the training code, with no loop in between, is taken as
deliberate (BatchNorm kept frozen) and left alone. ``from_pretrained`` of a
transformers/diffusers model (which returns the model in eval mode) counts as an eval
where it is bound, and reaches the training loops after it in the same function.
Anything unknown counts in favour of the code: a train call of an unresolved receiver,
an unknown function with ``train`` or ``mode`` in its name that is passed the model
(``set_train_mode(model)``; an unknown ``evaluate(model)`` after an explicit eval is not),
a class of Lightning or a ``transformers.Trainer`` subclass (both set the mode themselves).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Optional, Union

from gradlint.source.branches import exclusive
from gradlint.source.loops import BACKWARD, LOOP_NODES, STEP, Event, EventCollector, Scope, TrainingSummary, contains, helper_functions
from gradlint.source.modules import ModuleKinds, pretrained_model_call
from gradlint.source.names import dotted

EVAL = "eval_mode"
TRAIN = "train_mode"  # also a maybe: train(flag), a helper named like one
PRETRAINED = "pretrained"  # model = AutoModel.from_pretrained(...): eval mode from the start

FunctionNode = Union[ast.FunctionDef, ast.AsyncFunctionDef]
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_MODEL_NAMES = {"model", "net", "network", "self"}
_MAY_SET_MODE = re.compile(r"train|(^|_)mode($|_)", re.IGNORECASE)


class ModeCollector(EventCollector):
    """The loop events, with ``.train()``/``.eval()`` calls on a module as events."""

    flag_choices: set[int] = set()  # ids of the eval() calls that _flag_choices found

    def _call(self, call: ast.Call, top, events, guards, contexts, depth, via, inlining) -> None:  # type: ignore[override]
        func = call.func
        kind = _mode_kind(call) if self._helper(func) is None else None
        if kind == EVAL and id(call) in self.flag_choices:
            kind = TRAIN  # net.train() if training else net.eval(): the mode follows a flag, like train(flag)
        if kind is None and self._helper(func) is None and _may_set_mode(call):
            kind = TRAIN  # utils.set_train_mode(model): unknown, counts for the code
            events.append(Event(kind, call, top, None, guards, contexts, depth, via, self._own))
        elif kind is not None:
            receiver = dotted(func.value) if isinstance(func, ast.Attribute) else None
            events.append(Event(kind, call, top, receiver, guards, contexts, depth, via, self._own))
            return
        super()._call(call, top, events, guards, contexts, depth, via, inlining)


def _mode_kind(call: ast.Call) -> Optional[str]:
    func = call.func
    if not isinstance(func, ast.Attribute) or func.attr not in ("train", "eval"):
        return None
    if func.attr == "eval":
        return EVAL if not call.args and not call.keywords else None
    flag = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "mode"), None)
    if isinstance(flag, ast.Constant) and flag.value is False and len(call.args) <= 1:
        return EVAL
    return TRAIN


def _may_set_mode(call: ast.Call) -> bool:
    name = (dotted(call.func) or "").rsplit(".", 1)[-1]
    return bool(_MAY_SET_MODE.search(name)) and any(dotted(arg) for arg in call.args)


@dataclass
class EvalLeak:
    scope: Scope  # the training scope that runs in eval mode
    model: Optional[str]  # the evaluated model, as named where the eval (or its call) sits
    line: int  # where the eval happens, as seen from the loop: the call site of a helper
    pretrained: bool  # the eval is a from_pretrained() binding
    same_frame: bool  # the eval's line and the scope are in one function


def eval_leaks(summary: TrainingSummary, kinds: ModuleKinds) -> list[EvalLeak]:
    tree = summary.unit.tree
    assert tree is not None
    helpers = helper_functions(tree)
    collector = ModeCollector(summary.names, helpers)
    collector.flag_choices = _flag_choices(tree)
    excluded = _framework_classes(summary)
    context = _Context(summary, kinds, helpers, _trained_models(summary), excluded)
    leaks: dict[int, EvalLeak] = {}
    for loop in ast.walk(tree):
        if isinstance(loop, LOOP_NODES) and not any(contains(c, loop) for c in excluded):
            _check(context, collector.collect_scope(loop.body), True, leaks)
    bindings = _pretrained_bindings(summary, kinds)
    for frame in {kinds.frame_of(node) for node in bindings}:
        if frame is not None and any(contains(c, frame) for c in excluded):
            continue
        events = collector.collect_scope((frame or tree).body)
        for node in (n for n in bindings if kinds.frame_of(n) is frame):
            event = Event(PRETRAINED, node.value, node, dotted(node.targets[0]), own=node)
            events.insert(next((i for i, e in enumerate(events) if _line(e) > node.lineno), len(events)), event)
        _check(context, events, False, leaks)
    return sorted(leaks.values(), key=lambda leak: leak.scope.node.lineno)


def _flag_choices(tree: ast.Module) -> set[int]:
    """The ``eval()`` calls of ``m.train() if flag else m.eval()`` (either order)."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.IfExp):
            kinds = [(_mode_kind(b), b) if isinstance(b, ast.Call) else (None, b) for b in (node.body, node.orelse)]
            if {k for k, _ in kinds} == {EVAL, TRAIN}:
                found.update(id(b) for k, b in kinds if k == EVAL)
    return found


@dataclass
class _Context:
    summary: TrainingSummary
    kinds: ModuleKinds
    helpers: dict[str, FunctionNode]
    trained: tuple[set[str], bool]
    excluded: list[ast.ClassDef]


def _pretrained_bindings(summary: TrainingSummary, kinds: ModuleKinds) -> list[ast.Assign]:
    """``model = AutoModelForX.from_pretrained(...)`` statements (transformers/diffusers models)."""
    return [
        node for node in ast.walk(summary.unit.tree)  # type: ignore[arg-type]
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and len(node.targets) == 1
        and dotted(node.targets[0]) and pretrained_model_call(summary.names.qualify(node.value.func) or "", kinds.module_classes)
    ]


def _check(context: _Context, events: list[Event], cyclic: bool, leaks: dict[int, EvalLeak]) -> None:
    """From each eval (a loop: going round it; a function: from_pretrained onwards) to the next backward()."""
    present = {e.kind for e in events}
    if not present & {EVAL, PRETRAINED} or BACKWARD not in present or STEP not in present:
        return
    for index, event in enumerate(events):
        if event.kind != (EVAL if cyclic else PRETRAINED):
            continue
        model = _resolve(event, context.helpers)
        if model is None or not _is_trained(model, context.trained):
            continue
        if any(e.kind == TRAIN and exclusive(event, e) for e in events):
            continue  # `if freeze: model.eval() else: model.train()`: the mode is chosen on purpose
        order = events[index + 1 :] + (events[:index] if cyclic else [])
        wrapped_at = len(events) - index - 1
        for position, later in enumerate(order):
            if exclusive(event, later):
                continue
            if later.kind == TRAIN and _covers(_resolve(later, context.helpers), model, context.trained[0]):
                break
            if later.kind != BACKWARD:
                continue
            scope = _scope_of(context.summary, later)
            if scope is None or any(contains(c, scope.node) for c in context.excluded):
                break
            if cyclic and position < wrapped_at and contains(scope.node, _site(event)):
                break  # eval right before the training code of the same iteration: deliberate
            if later.via is not None and any(e.kind == EVAL and e.via is later.via for e in (event, *order[:position])):
                break  # the training function calls eval() itself before its own loop (a linear probe): deliberate
            if id(scope) not in leaks:
                same_frame = context.kinds.frame_of(_site(event)) is context.kinds.frame_of(scope.node)
                leaks[id(scope)] = EvalLeak(scope, model, _line(event), not cyclic, same_frame)
            break


def _site(event: Event) -> Union[ast.stmt, ast.expr]:
    return event.via or event.node


def _line(event: Event) -> int:
    return _site(event).lineno


def _scope_of(summary: TrainingSummary, backward: Event) -> Optional[Scope]:
    inner = [s for s in summary.scopes if contains(s.node, backward.node) and s.node.lineno <= backward.node.lineno]
    if not inner and backward.via is not None:
        inner = [s for s in summary.scopes if contains(s.node, backward.via)]
    return max(inner, key=lambda s: s.node.lineno) if inner else None


def _resolve(event: Event, helpers: dict[str, FunctionNode]) -> Optional[str]:
    """The receiver as named where the events were collected (through one helper call)."""
    receiver = event.receiver
    if receiver is None or event.via is None:
        return receiver
    name = dotted(event.via.func) or ""
    helper = helpers.get(name) or helpers.get(name.rsplit(".", 1)[-1] if not name.startswith("self.") else name)
    if helper is None or not contains(helper, event.node):
        return None
    root, _, rest = receiver.partition(".")
    params = [a.arg for a in helper.args.args]
    if name.startswith("self.") and params[:1] == ["self"]:
        params = params[1:]
        if root == "self":
            return receiver
    mapping = {param: arg for param, arg in zip(params, event.via.args)}
    mapping.update({k.arg: k.value for k in event.via.keywords if k.arg})
    if root in mapping:
        caller = dotted(mapping[root])
        return f"{caller}.{rest}" if caller and rest else caller
    return receiver if root not in params else None


def _trained_models(summary: TrainingSummary) -> tuple[set[str], bool]:
    """Models an optimiser takes the parameters of; and whether some optimiser's model is unknown."""
    owners = {b.params_of for b in summary.names.bindings.values() if b.kind == "optimizer" and b.params_of}
    unknown = any(b.kind == "optimizer" and not b.params_of for b in summary.names.bindings.values()) or not owners
    return owners, unknown


def _is_trained(model: str, trained: tuple[set[str], bool]) -> bool:
    owners, unknown = trained
    return _owned(model, owners) or (unknown and _named_like_model(model))


def _owned(model: Optional[str], owners: set[str]) -> bool:
    return model is not None and any(_related(model, owner) for owner in owners)


def _named_like_model(model: str) -> bool:
    """``model``, ``self.net``, ``model.module`` (DDP), not ``model_ema.module`` or ``teacher``."""
    if model.endswith(".module"):
        model = model[: -len(".module")]
    return model.rsplit(".", 1)[-1] in _MODEL_NAMES


def _covers(train: Optional[str], model: str, owners: set[str]) -> bool:
    """A train call restores ``model`` unless both are known, different trained models (a GAN's two nets)."""
    if train is None or _related(train, model) or "self" in (train, model):
        return True
    return not (_owned(train, owners) and _owned(model, owners))


def _related(one: str, other: str) -> bool:
    return one == other or one.startswith(other + ".") or other.startswith(one + ".")


def _framework_classes(summary: TrainingSummary) -> list[ast.ClassDef]:
    """Lightning modules and ``transformers.Trainer`` subclasses: they set the mode themselves."""
    classes = list(summary.facts.lightning_modules)
    for node in ast.walk(summary.unit.tree):  # type: ignore[arg-type]
        if isinstance(node, ast.ClassDef) and any(
            (summary.names.qualify(base) or "").split(".", 1)[0] in ("transformers", "trl") for base in node.bases
        ):
            classes.append(node)
    return classes
