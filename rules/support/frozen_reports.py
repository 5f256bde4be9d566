"""GL406's findings: one per frozen module, how each kind of freeze is said, the line a
freeze loop is reported at, sibling parts folded into one finding, the message, and the
``.eval()`` inserted after each train call."""

from __future__ import annotations

import ast
from dataclasses import replace
from typing import Optional

from gradlint.findings import Fix, Related
from gradlint.fix.edits import insert_after, make_fix, standalone
from gradlint.registry import Report
from gradlint.source.freeze_forms import LATER_CHILDREN, holds, in_one_loop, related
from gradlint.source.frozen_norms import FileNorms, Freeze, ModeCall
from gradlint.source.lightning_steps import LIGHTNING_TRAINER
from gradlint.source.names import dotted
from gradlint.source.reaching_bindings import PARALLEL_WRAPPERS
from gradlint.source.unit import SourceUnit

from .frozen_phases import frozen_phase_end
from .mismatch_reports import elsewhere
from .frozen_targets import factories_of, local_elsewhere, same_model, unfrozen_parts
from .rebuilt_models import rebuilt_between

HOW = {
    "requires_grad": "its parameters are frozen here",
    "requires_grad_": "it is frozen here",
    "no_grad": "it runs under torch.no_grad() here and no optimiser takes its parameters",
    "unoptimised": "no optimiser of the file takes its parameters",
    # in the optimiser, but every call of it in its class is under no_grad
    "no_grad_optimised": "it only ever runs under torch.no_grad(), here, so its parameters get no gradient",
    "optimizer": "only {part} optimised here, so the rest never changes",
    "factory": "`{function}` ({where}) returns it with its parameters frozen",
    "imported": "it is frozen where it is built ({where}) and imported here",
    "factory_no_grad": "`{function}` builds it and runs it under torch.no_grad() in forward ({where})",
}


def _optimised_part(freeze: Freeze) -> str:
    """```model.fc` is``, or ```img_enc.affine_a` and `img_enc.affine_b` are``."""
    # (each part once, as the plain model names it: ``img_enc.module.affine_a`` is ``img_enc.affine_a``)
    parts = list(dict.fromkeys(p.replace(".module.", ".") for p in freeze.parts_optimised)) or [freeze.except_ or ""]
    shown = [f"`{part}`" for part in parts]
    return (", ".join(shown[:-1]) + " and " + shown[-1] + " are") if len(shown) > 1 else f"{shown[0]} is"


def report_line(loop: ast.For) -> ast.stmt | ast.expr:
    """A freeze loop is reported at the statement that freezes (``p.requires_grad = False``),
    where a reader looks for it; the ``for`` line when no single statement does."""
    for node in sorted((n for n in ast.walk(loop) if isinstance(n, (ast.Assign, ast.Expr))),
                       key=lambda n: (n.lineno, n.col_offset)):
        if (isinstance(node, ast.Assign) and any(isinstance(t, ast.Attribute) and t.attr == "requires_grad"
                                                 for t in node.targets)
                and not (isinstance(node.value, ast.Constant) and node.value.value is True)):
            return node
        if (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Attribute)
                and node.value.func.attr == "requires_grad_"):
            return node
    return loop.iter  # the `for` line, not the whole loop body


def fix_after_train(norms: FileNorms, target: str, left: list[ModeCall]) -> Optional[Fix]:
    unit = norms.frames.unit
    # not inside a helper reached through its parameter: other callers may pass other models
    if target.startswith("self.") or any(t.target == target or t.written or t.by or t.unread or not isinstance(t.stmt, ast.Expr)
                                         or not standalone(unit, t.stmt) for t in left):
        return None
    if any(_parallel_wrapped(norms, t.receiver.split(".")[0]) for t in left):
        return None  # ``model = nn.DataParallel(model)``: ``model.backbone`` is ``model.module.backbone`` there, maybe
    edits = [insert_after(unit, t.stmt, [f"{local_name(t, target)}.eval()"]) for t in {id(t.stmt): t for t in left}.values()]
    return make_fix(f"call {local_name(left[0], target)}.eval() after {left[0].receiver}.train()", *edits)


def _parallel_wrapped(norms: FileNorms, name: str) -> bool:
    """Some binding of ``name`` in the file is a data-parallel wrapper (whose submodules sit
    under ``.module``)."""
    assert norms.knowledge is not None
    return any(isinstance(call, ast.Call) and (dotted(call.func) or "").rpartition(".")[2] in PARALLEL_WRAPPERS
               for value in norms.knowledge.bindings.get(name, []) for call in ast.walk(value))


def local_name(train: ModeCall, target: str) -> str:
    """The frozen module's name where the train call is (``net.f`` for ``model.f``)."""
    return train.receiver + target[len(train.target):]


Found = tuple[Freeze, str, list[ModeCall]]  # a freeze, the frozen name, the train calls that undo it


def fold_siblings(norms: FileNorms, found: list[Found]) -> list[Found]:
    """Sibling parts frozen one by one and put back in train mode by the same call
    (``for p in model.layer0.parameters(): ...`` up to ``model.layer4``) are one finding, on
    their parent, at the first freeze: one fix, and a stem ``conv1`` among them is no
    BatchNorm of its own. Parts frozen under flags of their own (``if freeze_gl:
    model.lock("gl")`` then ``if freeze_rs: model.lock("rs")``) are choices of their own,
    a finding each."""
    groups: dict[tuple[str, int, str, Optional[str], frozenset[int]], list[Found]] = {}
    folded: list[Found] = []
    for item in found:
        freeze, target, left = item
        parent = target.rpartition(".")[0]
        if not parent or freeze.part:
            folded.append(item)
            continue
        groups.setdefault((parent, id(left[0].call), freeze.how, freeze.via.function if freeze.via else None,
                           _guards(norms, freeze.node)), []).append(item)
    for (parent, *_), items in groups.items():
        items.sort(key=lambda item: item[0].node.lineno)
        # the same part frozen by each arm of ``if arch == ...: model = make(...)``: one finding, at the first
        firsts: dict[str, Found] = {}
        for item in items:
            firsts.setdefault(item[1], item)
        items = list(firsts.values())
        if len(items) < 2:
            folded.extend(items)
            continue
        shown = [f"`{target}`" for _, target, _ in items]
        first, _, left = items[0]
        folded.append((replace(first, part=", ".join(shown[:-1]) + f" and {shown[-1]}"), parent, left))
    return folded


def _guards(norms: FileNorms, node: ast.AST) -> frozenset[int]:
    """The ``if`` statements whose body (or ``else``) holds ``node``, by identity."""
    parents = norms.frames.parents
    found = set()
    while node in parents:
        parent = parents[node]
        if isinstance(parent, ast.If) and node is not parent.test:
            found.add(id(parent))
        node = parent
    return frozenset(found)


def frozen_report(norms: FileNorms, freeze: Freeze, target: str, left: list[ModeCall]) -> Report:
    """The finding for ``target``, frozen by ``freeze`` and put back in train mode by ``left``."""
    unit = norms.frames.unit
    forms = [target, freeze.target] + ([freeze.held[0]] if freeze.held else [])
    undone = [u for u in norms.unfrozen if any(holds(u, form) for form in forms)]
    end = frozen_phase_end(norms, freeze, undone) if undone else None
    # a frozen phase: name a train call of that phase, not one of the fine-tuning after it
    train = next((t for t in left if end is not None and t.call.lineno < end), left[0])
    made = freeze.via
    how = (f"`{made.function}` ({made.where}) freezes {freeze.part or 'its parameters'} here"
           if made and freeze.how.startswith("requires_grad")
           else HOW["no_grad_optimised" if freeze.how == "no_grad" and any(related(o, t) for o in norms.optimised
                                                                              for t in (target, freeze.target))
                     else freeze.how].format(part=_optimised_part(freeze), function=made.function if made else "",
                                        where=made.where if made else ""))
    if made and freeze.how == "no_grad":  # get_features(resnet, loader): the helper runs it without gradients
        how = (f"`{made.function}` ({made.where}) runs it under torch.no_grad() and no optimiser takes its "
               "parameters")
    if freeze.part and not made:  # for child in list(model.children())[:7]: ...
        how = f"{freeze.part} are frozen here"
    elif freeze.part and made and freeze.how == "factory":
        how = f"`{made.function}` ({made.where}) returns it with {freeze.part} frozen"
    if freeze.held is not None:  # frozen as ``encoder.resnet``, then kept by ``model`` (``Captioner(encoder, ...)``)
        holder = ".".join(target.split(".")[:2]) if target.startswith("self.") else target.split(".")[0]
        holder = holder.split("[")[0]  # (``model[0]``, a Sequential's first module: ``model`` holds it)
        how += f" as `{freeze.held[0]}`, which `{holder}` holds (line {freeze.held[1]})"
    # only some configurations of an ``if arch == ...`` chain build the BatchNorm: say which
    branch = made.branch if made else norms.knowledge.bn_branch(target, freeze.node) if norms.knowledge else None
    has = f"`{target}` has BatchNorm layers" + (f" {branch}" if branch and not made else "")
    if branch and made:
        how += f" {branch}"
    if train.implicit:
        how += _reopened(norms, freeze, target)
        if end is not None:  # a warm-up with the backbone frozen, never put in eval mode
            how += f" for the epochs before line {end} makes it trainable again"
        ran = (f"handing it on line {train.call.lineno} to {train.runner}, which runs it," if train.runner
               else f"running it on line {train.call.lineno} in {train.within}," if train.within
               else f"running it on line {train.call.lineno} in the training loop")
        # (left out of the optimiser and never put in eval mode: the fix goes where it is built)
        # (or run without gradients by a helper after it is trained: the fix goes where it is built too)
        # (or handed to a training class of the project, the freeze read at that call)
        handed = freeze.how == "unoptimised" and bool(train.runner) and train.call is freeze.node
        built = _built_at(norms, target, freeze) if freeze.how == "optimizer" or freeze.how == "no_grad" and made \
            and train.call.lineno < freeze.node.lineno or handed else None
        span = unit.span(built or (freeze.node if not isinstance(freeze.node, ast.For) else report_line(freeze.node)))
        if built is not None and freeze.how == "optimizer":
            how = how.replace("optimised here", f"optimised on line {freeze.node.lineno}")
        elif built is not None and made is not None:
            how = how.replace(f"({made.where}) runs it", f"({made.where}), called on line {freeze.node.lineno}, runs it")
        return Report(span,
                      f"{has} and {how}, but nothing puts it in eval mode: a module is built "
                      f"in train mode, so {ran} updates its running mean/variance with every batch and the frozen "
                      "features drift; " + ("call `.eval()` on the frozen layers" if freeze.part else
                                            f"call `{target}.eval()`") + " once it is built (and again after any "
                      "`train()` of a model holding it)", related=_places(unit, freeze, train, span.line, end))
    if train.via is not None:
        where = (f"in `{train.via.function}` ({train.via.where}), called on line {train.call.lineno} "
                 f"with `{train.target}`,")
    elif train.by == LIGHTNING_TRAINER:  # a LightningModule with a training_step; no fit call here
        where = (f"(which {LIGHTNING_TRAINER} calls before every training epoch of `training_step`, line "
                 f"{getattr(train.frame, 'lineno', train.call.lineno)})")
    elif train.unread:  # engine.train(model=model, ...) of a module outside the project
        where = (f"(which `{train.unread}`, handed it on line {train.call.lineno}, a training function outside "
                 f"the project that gradlint cannot read, calls before it trains, unless it also calls `.eval()` "
                 f"on it)")
    elif train.by:  # trainer.fit(model): Lightning calls model.train() every epoch
        where = f"(which `{train.by}` on line {train.call.lineno} calls every training epoch)"
    else:
        where = f"on line {train.call.lineno}" + (f" (`{train.receiver}` is `{train.target}` there)"
                                                  if train.written and train.written != train.target else "")
    how += _reopened(norms, freeze, target)
    if end is not None:  # a warm-up with the backbone frozen, then fine-tuning
        how += f" for the epochs before line {end} makes it trainable again"
    message = (
        f"{has} and {how}, but `{train.receiver}.train()` {where} puts it "
        f"back in train mode: its running mean/variance keep changing with every training batch, so the frozen "
        f"features drift under the head and differ at evaluation; " + (
            f"call `{freeze.target if freeze.target.startswith('self.') else target}.eval()` in the LightningModule's "
            f"`on_train_epoch_start` (or override train() to keep it in eval mode)" if train.by else
            f"call `.eval()` on the frozen layers after each `{train.receiver}.train()` (or override train() to keep "
            f"them in eval mode)" if freeze.part else
            f"call `{local_name(train, target)}.eval()` after each `{train.receiver}.train()` (or override train() to keep "
            f"it in eval mode)")
    )
    span = unit.span(freeze.node if not isinstance(freeze.node, ast.For) else report_line(freeze.node))
    return Report(span, message, fix=None if freeze.part else fix_after_train(norms, target, left),
                  related=_places(unit, freeze, train, span.line, end))


def _reopened(norms: FileNorms, freeze: Freeze, target: str) -> str:
    """`` (`model.fc` trainable again; the rest stays frozen)``: the parts made trainable
    again after the freeze, or an empty string."""
    parts = unfrozen_parts(norms, target, freeze) + unfrozen_parts(norms, freeze.target, freeze) * (freeze.target != target)
    if parts:
        shown = [f"the children of `{p[:-len(LATER_CHILDREN) - 1]}` from a named one on" if p.endswith(LATER_CHILDREN)
                 else f"`{p}`" for p in parts]
        return " (" + ", ".join(shown) + " trainable again; the rest stays frozen)"
    if freeze.partial:  # a factory of another function that trains some stages again
        return " (some of its later stages trainable again; the stem and the stages before them stay frozen)"
    return ""


def _built_at(norms: FileNorms, target: str, freeze: Freeze) -> Optional[ast.stmt]:
    """The last statement binding ``target`` (a plain name) before ``freeze``, in its function."""
    assert norms.knowledge is not None
    frame_of = norms.frames.kinds.frame_of
    # (``encoder = nn.DataParallel(encoder)`` or ``encoder = encoder.to(device)`` wraps the one built before)
    values = [value for value in norms.knowledge.bindings.get(target, [])
              if value.lineno < freeze.node.lineno and frame_of(value) is frame_of(freeze.node)
              and not any(isinstance(node, ast.Name) and node.id == target for node in ast.walk(value))]
    return norms.frames._statement_of(values[-1]) if values and "." not in target else None


def _places(unit: SourceUnit, freeze: Freeze, train: ModeCall, reported: int, end: Optional[int] = None
            ) -> tuple[Related, ...]:
    """The finding's other places: where it is put back in train mode (or run in the train
    mode it was built in), in this file, the freeze a function makes, here or in its module,
    the model that keeps what was frozen, and where a frozen phase ends."""
    found = []
    if train.call.lineno != reported:
        found.append(Related(train.call.lineno, f"`{train.receiver}` runs here in the train mode it was built in"
                             if train.implicit else f"`{train.by}` puts it in train mode every epoch" if train.by
                             else f"handed to `{train.via.function}`, which calls `{train.receiver}.train()`"
                             if train.via else f"`{train.receiver}.train()` puts it back in train mode"))
    if freeze.how == "optimizer" and freeze.node.lineno != reported:
        found.append(Related(freeze.node.lineno, f"the optimiser, which leaves the rest of `{freeze.target}` out"))
    made = freeze.via
    if made is not None and (made.path is not None or made.line != reported):
        found.append(Related(made.line, f"the freeze, in `{made.function}`", elsewhere(unit, made.path)))
    if freeze.held is not None and freeze.held[1] != reported:
        found.append(Related(freeze.held[1], f"`{freeze.held[0]}` is kept here by the model that is trained"))
    if end is not None and end != reported:
        found.append(Related(end, "made trainable again here, after the frozen epochs"))
    return tuple(found)


def one_per_module(norms: FileNorms, found: list[tuple[Freeze, str, list[ModeCall]]]
                   ) -> list[tuple[Freeze, str, list[ModeCall]]]:
    """One finding per frozen module: the most specific name (``model.backbone`` frozen and
    only ``model.head`` optimised are one problem), at its first freeze. Each factory that can
    build it is its own finding: ``if arch == "vgg": self.model = vgg_frozen() elif ...:
    self.model = resnet_frozen()`` are two models to fix."""
    reported: list[tuple[str, frozenset[str], ast.AST, Optional[int]]] = []
    class_of = norms.frames.kinds.class_of
    # a part a class's forward runs under no_grad is the weakest reading: any other freeze of the model first
    # (and a part a LightningModule's configure_optimizers leaves out is read only where nothing else freezes it)
    # (and a network no optimiser takes, read at a run in a helper it is handed to, after the factory that builds it frozen)
    found.sort(key=lambda item: (item[0].how == "unoptimised", item[0].how == "factory_no_grad",
                                 item[0].how == "optimizer" and item[0].target == "self"))
    kept: list[tuple[Freeze, str, list[ModeCall]]] = []
    found = [item for item in found if not _frozen_again(norms, item, found)]
    for freeze, target, left in found:
        source = factories_of(freeze)
        if any(related(target, r) and same_model(source, s) and not norms.frames.exclusive(freeze.node, at)
               and not rebuilt_between(norms, target, at, freeze.node, since)
               and not (target.startswith("self.") and class_of(freeze.node) is not class_of(at))
               and not local_elsewhere(norms, target, freeze.node, at)
               for r, s, at, since in reported):
            continue  # (a freeze in another branch of an ``if``/``match``, or of a name bound anew, is its own finding)
        if any(t != target and holds(target, t) and same_model(factories_of(f), source) and f.how != "factory_no_grad"
               and not norms.frames.exclusive(freeze.node, f.node) and not local_elsewhere(norms, target, freeze.node, f.node)
               for f, t, _ in found):
            continue
        # (frozen as ``transfer_model`` and held by ``net = transfer_model.to(device)``: ``net`` is that model from there on)
        reported.append((target, source, freeze.node, freeze.held[1] if freeze.held else None))
        kept.append((freeze, target, left))
    return kept


def _frozen_again(norms: FileNorms, item: tuple[Freeze, str, list[ModeCall]],
                  found: list[tuple[Freeze, str, list[ModeCall]]]) -> bool:
    """``item``'s freeze (of the whole model, or a head-only optimiser) is done again later in
    the same function by a whole-model freeze (a head-only phase, then ``# Phase 2: selective
    unfreeze`` freezing all and reopening the stages): the later freeze is the one the longer
    training sees, and the one reported."""
    freeze, target = item[0], item[1]
    frame = norms.frames.kinds.frame_of(freeze.node)
    return freeze.how in (*_WHOLE, "optimizer") and any(
        other is not freeze and other.how in _WHOLE and t == target and other.node.lineno > freeze.node.lineno
        and norms.frames.kinds.frame_of(other.node) is frame and not norms.frames.exclusive(freeze.node, other.node)
        # (``model = build()`` again: another model; ``model = model_ft.to(device)`` holding the frozen ``model_ft``: the same)
        and not rebuilt_between(norms, target, freeze.node, other.node, freeze.held[1] if freeze.held else None)
        and not in_one_loop(norms.frames.parents, freeze.node, other.node)  # (each step of a loop: neither is later)
        # (the later freeze is of ``model_ft``, which ``model = model_ft.to(device)`` makes the name hold afterwards)
        and not (other.held is not None and other.held != freeze.held and other.held[1] > freeze.node.lineno)
        for other, t, _ in found)


_WHOLE = ("requires_grad", "requires_grad_")
