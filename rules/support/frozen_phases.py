"""GL406: a backbone frozen for a long first phase of training, then made trainable.

Detection and segmentation code often trains its head for tens of epochs with the backbone
frozen, then unfreezes it (``if epoch >= Freeze_Epoch: <requires_grad = True>`` inside the
epoch loop). During those epochs the frozen BatchNorm layers run in train mode: small
detection batches normalise the frozen features with noisy batch statistics and the
running statistics drift. A short warm-up (a few epochs before fine-tuning everything) is
the common recipe and does no lasting harm; reviewers of held-out rounds 18 and 19 read it
as fine, so only a phase of at least :data:`LONG_PHASE` epochs, with the bound written in
the code, counts."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Optional

from gradlint.source.call_flags import flag_at, guard_name, guard_of, guarded
from gradlint.source.default_flags import asks_unfrozen
from gradlint.source.imported_options import script_option_values
from gradlint.source.frames import Training
from gradlint.source.freeze_forms import holds, related
from gradlint.source.frozen_norms import FileNorms, Freeze, ModeCall
from gradlint.source.index import read_text
from gradlint.source.names import dotted
from gradlint.source.reaching_bindings import unwrap

LONG_PHASE = 10  # frozen epochs from which the phase is more than a warm-up


def frozen_phase_end(norms: FileNorms, freeze: Freeze, undone: list[str]) -> Optional[int]:
    """The line of the unfreeze that ends a long frozen phase the model trains in, when
    every unfreeze of it (``undone``: the unfrozen names) is such an end; else None. The
    phase is the first epochs of a loop that trains and unfreezes under ``if epoch >= N``
    (``N`` a number written in the file, at least :data:`LONG_PHASE`) with the freeze
    before the loop."""
    frames = norms.frames
    kinds = frames.kinds
    frame = kinds.frame_of(freeze.node)
    trains = [position for m in norms.modes if m.train and (position := _position(m)) is not None]
    if not any(related(m.target, freeze.target) or holds(freeze.target, m.target) for m in norms.modes):
        # its mode is never set: it trains in the mode it was built in, wherever the file steps
        trains = [fact.node for fr in frames.frames for fact in fr.facts if isinstance(fact, Training)]
    ends: list[int] = []
    for node in (n for u in undone for n in norms.unfrozen_at.get(u, [])):
        if kinds.frame_of(node) is not frame or getattr(node, "lineno", 0) <= freeze.node.lineno:
            return None  # undone elsewhere, or before the freeze: not a phase this reading can see
        loop = frames.innermost_loop(node, frame or frames.frames[0].node)
        if isinstance(loop, ast.For) and not _within(freeze.node, loop) and any(_within(p, loop) for p in trains):
            epochs = _frozen_epochs(frames.parents, node, loop, norms)
        else:  # freeze; ``for epoch in range(Freeze_Epoch): train``; unfreeze; a second loop
            epochs = _phase_before(frame or frames.frames[0].node, freeze.node, node, trains, norms)
        if epochs is None or epochs < LONG_PHASE:
            return None
        ends.append(node.lineno)  # type: ignore[attr-defined]
    return min(ends) if ends else None


def _frozen_epochs(parents: dict, node: ast.AST, loop: ast.For, norms: FileNorms) -> Optional[int]:
    """N for an unfreeze under ``if epoch >= N`` (``==``, ``>``; also ``N <= epoch``) in
    ``for epoch in ...``, with N an integer written in the file."""
    if not isinstance(loop.target, ast.Name):
        return None
    # the loop's counter, or a name the loop derives from it (``epoch = int(step / 1)``)
    counters = {loop.target.id} | {
        stmt.targets[0].id for stmt in loop.body if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
        and isinstance(stmt.targets[0], ast.Name)
        and any(isinstance(n, ast.Name) and n.id == loop.target.id for n in ast.walk(stmt.value))}
    while node in parents and node is not loop:
        node = parents[node]
        if isinstance(node, ast.If):
            for test in ast.walk(node.test):
                if isinstance(test, ast.Compare) and len(test.ops) == 1:
                    left, right, op = test.left, test.comparators[0], test.ops[0]
                    if isinstance(right, ast.Name) and right.id in counters:
                        left, right = right, left
                        op = {ast.LtE: ast.GtE(), ast.Lt: ast.Gt()}.get(type(op), op)
                    if isinstance(left, ast.Name) and left.id in counters and isinstance(op, (ast.GtE, ast.Gt, ast.Eq)):
                        return _integer(right, norms)
    return None


def _phase_before(frame: ast.AST, freeze: ast.AST, unfreeze: ast.AST, trains: list[ast.AST],
                  norms: FileNorms) -> Optional[int]:
    """The epochs of a training loop run between the freeze and the unfreeze, in their
    function, that counts them: ``for epoch in range(start, Freeze_Epoch + 1)``."""
    freeze_line, unfreeze_line = getattr(freeze, "lineno", 0), getattr(unfreeze, "lineno", 0)
    for loop in ast.walk(frame):
        if (isinstance(loop, ast.For) and freeze_line < loop.lineno and (loop.end_lineno or 0) < unfreeze_line
                and norms.frames.kinds.frame_of(loop) is norms.frames.kinds.frame_of(freeze)
                and any(_within(p, loop) for p in trains) and isinstance(call := loop.iter, ast.Call)
                and dotted(call.func) == "range" and 1 <= len(call.args) <= 2 and not call.keywords):
            stop = _integer(call.args[-1], norms, loop.lineno)
            start = _integer(call.args[0], norms, loop.lineno) if len(call.args) == 2 else 0
            if stop is not None:
                return stop - (start or 0)  # an unknown start (``args.Init_Epoch + 1``) counts as the first
    return None


def _integer(node: ast.expr, norms: FileNorms, before: Optional[int] = None) -> Optional[int]:
    """An integer written in the file: a constant, a name set once, an option's default
    (``args.Freeze_Epoch``), plus or minus a constant (``args.Freeze_Epoch + 1``). With
    ``before`` (a line), a name set more than once is read at its last setting above it in
    the same scope (``end_epoch = Freeze_Epoch`` for the frozen loop, ``end_epoch =
    UnFreeze_Epoch`` for the next one)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    tree = norms.frames.unit.tree
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)) and isinstance(node.right, ast.Constant):
        left, right = _integer(node.left, norms), node.right.value
        if left is None or not isinstance(right, int):
            return None
        return left + right if isinstance(node.op, ast.Add) else left - right
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and tree is not None:
        # parser.add_argument("--Freeze_Epoch", default=50), here or in the project module whose parser it calls
        value = script_option_values(tree, Path(norms.frames.unit.path)).get(node.attr)
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, int) and tree is not None):
        # ``range(n_epoch[0])`` with ``n_epoch = (100, 100)`` set once: the frozen stage's epochs
        listed = [n.value for n in ast.walk(tree) if isinstance(n, ast.Assign) and len(n.targets) == 1
                  and isinstance(n.targets[0], ast.Name) and n.targets[0].id == node.value.id]
        if len(listed) == 1 and isinstance(listed[0], (ast.Tuple, ast.List)) and -len(listed[0].elts) <= node.slice.value < len(listed[0].elts):
            return _integer(listed[0].elts[node.slice.value], norms)
        return None
    name = dotted(node)
    if name is None or tree is None:
        return None
    assigns = [n for n in ast.walk(tree) if isinstance(n, ast.Assign)
               and any(isinstance(t, ast.Name) and t.id == name for t in n.targets)]
    if len(assigns) > 1 and before is not None and isinstance(node, ast.Name):
        kinds = norms.frames.kinds
        here = [n for n in assigns if n.lineno < before and kinds.frame_of(n) is kinds.frame_of(node)]
        if here:  # the last setting above the loop: a name set again reads what it holds now
            last = max(here, key=lambda n: n.lineno)
            return _integer(last.value, norms, last.lineno) if last.value is not node else None
    if len(assigns) == 1 and isinstance(assigns[0].value, ast.Constant) and isinstance(assigns[0].value.value, int):
        return assigns[0].value.value
    if len(assigns) == 1 and isinstance(assigns[0].value, ast.Attribute):
        return _integer(assigns[0].value, norms)  # freeze_resnet = args.freeze_resnet: the option's default
    function = norms.frames.kinds.frame_of(node)
    if not assigns and isinstance(function, ast.FunctionDef):  # def run(..., freeze_resnet=20): a parameter's default
        params = function.args.args
        defaults = dict(zip([a.arg for a in params[len(params) - len(function.args.defaults):]], function.args.defaults))
        default = defaults.get(name)
        if isinstance(default, ast.Constant) and isinstance(default.value, int) and not isinstance(default.value, bool):
            return default.value
    return None


def _position(mode: ModeCall) -> Optional[ast.AST]:
    return mode.site or mode.call


def _within(node: Optional[ast.AST], outer: ast.AST) -> bool:
    line = getattr(node, "lineno", None)
    return line is not None and outer.lineno <= line <= (outer.end_lineno or outer.lineno)  # type: ignore[attr-defined]


def warm_up_run(norms: FileNorms, target: str) -> bool:
    """A head-only run, then a separate fine-tuning run: later in the same function a second
    model of the same builder loads weights (the first run's checkpoint) and has every parameter
    made trainable again (``model_to_finetune = get_model(...)``, ``.load_state_dict(...)``,
    ``for p in model_to_finetune.parameters(): p.requires_grad = True``). The held-out rulings
    read the first run as a warm-up, not a frozen backbone."""
    knowledge = norms.knowledge
    assert knowledge is not None
    frame_of = norms.frames.kinds.frame_of

    def built(name: str) -> list[ast.Call]:  # (not ``model = model.to(device)``)
        return [call for v in knowledge.bindings.get(name, []) if isinstance(call := unwrap(v), ast.Call)
                and not (dotted(call.func) or "").startswith(name + ".")]

    target = target.split(".")[0]  # (``initial.features``: the model ``initial`` holds it)
    first = built(target)
    if _fine_tuned_elsewhere(norms, {dotted(call.func) or "" for call in first} - {""}):
        return True
    builders = {dotted(call.func) for call in first}
    if len(first) != 1 or len(builders) != 1 or None in builders:
        return False
    frame = frame_of(first[0])
    for name in list(knowledge.bindings):
        if name == target or "." in name:
            continue
        for second in built(name):
            if not (dotted(second.func) in builders and frame_of(second) is frame and second.lineno > first[0].lineno):
                continue
            loads = [node for node in ast.walk(frame or norms.frames.unit.tree or first[0]) if isinstance(node, ast.Call)
                     and isinstance(node.func, ast.Attribute) and node.func.attr == "load_state_dict"
                     and dotted(node.func.value) == name and node.lineno > second.lineno]
            if loads and any(frame_of(node) is frame and getattr(node, "lineno", 0) > second.lineno
                             for node in norms.unfrozen_at.get(name, [])):
                return True
    return False


def rebuilt_for_fine_tuning(norms: FileNorms, freeze: Freeze) -> bool:
    """:func:`warm_up_run` with the second run's model bound to the same name: a notebook's
    stage-2 cell rebuilds ``model`` with the builder the frozen one came from, loads weights
    (stage 1's checkpoint) into it and makes every parameter trainable again (or the builder
    gives it unfrozen: ``create_model(name, freeze_backbone=False)``)."""
    knowledge = norms.knowledge
    assert knowledge is not None
    frame_of = norms.frames.kinds.frame_of
    root, frame, line = freeze.target.split(".")[0], frame_of(freeze.node), freeze.node.lineno
    built = [(call.lineno, (dotted(call.func) or "").rsplit(".", 1)[-1], call) for v in knowledge.bindings.get(root, [])
             if isinstance(call := unwrap(v), ast.Call) and frame_of(call) is frame
             and not (dotted(call.func) or "").startswith(root + ".")]
    before = [builder for at, builder, _ in built if at <= line]  # (a factory's freeze is read at its call)
    if not before or not before[-1]:
        return False
    scope = frame or norms.frames.unit.tree
    assert scope is not None
    for at, builder, call in built:
        if at <= line or builder != before[-1]:
            continue
        loads = any(isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "load_state_dict" and dotted(node.func.value) == root and node.lineno > at
                    for node in ast.walk(scope))
        # made trainable again, or built unfrozen (``create_model(name, freeze_backbone=False)``)
        if loads and (any(frame_of(node) is frame and getattr(node, "lineno", 0) > at
                          for node in norms.unfrozen_at.get(root, []))
                      or asks_unfrozen(call)
                      or not any(f.target.split(".")[0] == root and f.node.lineno >= at for f in norms.freezes)):
            return True
    return False


def two_phase_calls(norms: FileNorms, freeze: Freeze) -> bool:
    """A training function freezing under a flag parameter (``if is_finetuning: <unfreeze>
    else: <freeze>``) that one function of the file calls twice: first as a head-only run,
    then, later, with the flag that trains everything (``train(..., is_finetuning=False)``,
    then ``train(..., is_finetuning=True, pretrained_weights_path=...)``). The held-out rulings
    read the first run as a warm-up of a separate fine-tuning run, as :func:`warm_up_run` does."""
    frames, tree = norms.frames, norms.frames.unit.tree
    function = frames.kinds.frame_of(freeze.node)
    if tree is None or not isinstance(function, ast.FunctionDef):
        return False
    guard = guard_of(freeze.node, function, frames.parents)
    if guard is None:
        return False
    parameter, negated = guard_name(guard)
    runs: dict[Optional[ast.AST], list[tuple[int, object]]] = {}
    for call in ast.walk(tree):
        if isinstance(call, ast.Call) and (dotted(call.func) or "").rpartition(".")[2] == function.name:
            caller = frames.kinds.frame_of(call)
            runs.setdefault(caller, []).append(
                (call.lineno, guarded(flag_at(call, function, parameter, caller, tree), negated)))
    return any(any(frozen is True and any(later is False for at, later in calls if at > line) for line, frozen in calls)
               for calls in runs.values())


_RESUMED = re.compile(r"latest|last|resume|chkp|ckpt|checkpoint", re.IGNORECASE)
_FREEZES = re.compile(r"requires_grad\s*=\s*False|requires_grad_\(\s*False")
_CHECKPOINT = re.compile(r"^([A-Za-z][\w-]*?)[_\-.]*\d*(?:\.(?:pth|pt|pkl|ckpt|tar))?$")


def _fine_tuned_elsewhere(norms: FileNorms, builders: set[str]) -> bool:
    """The script saves its checkpoints under a name of its own (``torch.save(model.state_dict(),
    'firststep_' + str(epoch) + '.pth')``) and another script beside it builds the same model
    (one of ``builders``), loads a file of that name and trains (``torch.load('firststep.pth')``,
    then ``backward``): the first run is a head-only warm-up of a separate fine-tuning run (not a
    classifier whose weights a detector's script starts from)."""
    tree = norms.frames.unit.tree
    path = Path(norms.frames.unit.path)
    if tree is None or not path.is_file():
        return False
    prefixes = set()
    for call in ast.walk(tree):
        if isinstance(call, ast.Call) and dotted(call.func) == "torch.save" and len(call.args) == 2:
            name = call.args[1]
            while isinstance(name, ast.BinOp):
                name = name.left  # ``'firststep_' + str(epoch) + '.pth'``
            if isinstance(name, ast.Constant) and isinstance(name.value, str) and (
                    found := _CHECKPOINT.match(Path(name.value).name)) and len(found.group(1)) >= 4 \
                    and not _RESUMED.search(found.group(1)):
                prefixes.add(found.group(1))  # (not ``latest_chkp_dict.pth``: a run resumes from that)
    if not prefixes or not builders:
        return False
    for other in path.parent.glob("*.py"):
        if other == path:
            continue
        text = read_text(other)
        if (".backward(" not in text or "torch.load(" not in text or not any(f"{b}(" in text for b in builders)
                or _FREEZES.search(text)):
            continue  # (a script that freezes as well resumes the same run or repeats it: no fine-tuning)
        # (named outside a ``torch.save`` of its own: a sibling copy saving under the same name loads nothing)
        if any(re.search(rf"""['"](?:[^'"]*/)?{re.escape(prefix)}[_\-.\d]*\.(?:pth|pt|pkl|ckpt|tar)['"]""", line)
               and "torch.save(" not in line for prefix in prefixes for line in text.splitlines()):
            return True
    return False
