"""GL406 facts about the train calls that reach a frozen module: which ``train()`` calls
hold it (:func:`train_calls`), and which of them something puts back in eval mode
(:func:`put_back`: an ``eval()`` after it before the next training statement;
:func:`mode_chosen_with_freeze`: the ``if`` that froze it also picks ``eval()``;
:func:`hook_keeps_eval`: a LightningModule hook after Lightning's own ``train()``)."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Optional

from gradlint.source.default_flags import never_called
from gradlint.source.frames import Training
from gradlint.source.freeze_forms import calls_eval, holds, in_one_loop, related, takes_parameter
from gradlint.source.frozen_norms import FileNorms, Freeze, ModeCall
from gradlint.source.index import FileIndex
from gradlint.source.names import dotted, name_expression
from gradlint.source.project_classes import project_class
from gradlint.source.project_functions import project_import_list
from gradlint.source.reaching_bindings import PARALLEL_WRAPPERS, unwrap
from gradlint.source.unit import SourceUnit


def put_back(norms: FileNorms, train: ModeCall, target: str) -> bool:
    """An eval of the frozen module (or of what holds it, or of part of it) follows the
    train call in its function before the next training statement."""
    frames = norms.frames
    if train.by or train.unread:
        return False  # trainer.fit(model) trains inside the call: an eval after it comes once training is over
    frame = next((f for f in frames.frames if f.node is train.frame), None)
    next_training = min((f.node.lineno for f in (frame.facts if frame else []) if isinstance(f, Training)
                         and f.node.lineno > train.call.lineno), default=None)
    # a train call inside the loop that trains is put back only by an eval inside that loop
    # (an eval after the loop, for the test set, leaves every training step in train mode)
    loop = _training_loop(norms, train, [f.node for f in (frame.facts if frame else []) if isinstance(f, Training)])
    for other in norms.modes:
        if loop is not None and not loop.lineno <= other.call.lineno <= (loop.end_lineno or loop.lineno):
            continue
        if other.train or other.frame is not train.frame or not related(other.target, target):
            continue
        if other.call.lineno < train.call.lineno or frames.exclusive(other.call, train.call):
            continue
        if _opposite_branches(frames.parents, other.call, train.call) or _other_cases(frames.parents, other.call, train.call):
            continue
        if next_training is None or other.call.lineno <= next_training:
            return True
    # ``model.train(); model._hook_before_iter()``, a method of the model's class that puts its frozen
    # BatchNorm layers back in eval mode
    return any(isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not node.args
               and dotted(node.func.value) == train.receiver and node.func.attr not in ("train", "eval")
               and train.call.lineno < node.lineno and (next_training is None or node.lineno <= next_training)
               and _bn_eval_method(norms, node.func.attr) for node in ast.walk(train.frame))


def _bn_eval_method(norms: FileNorms, name: str) -> bool:
    """A class of the file, or of a project module it imports, has a method ``name`` that
    walks its modules and calls ``eval()`` on the BatchNorm ones."""
    tree = norms.frames.unit.tree
    if tree is None:
        return False
    script = Path(norms.frames.unit.path)
    # (read_parsed parses each module once a change, for every rule that reads it)
    imported = [SourceUnit.read_parsed(str(item.path)) for item in project_import_list(tree, script)] \
        if script.is_file() else []
    modules = [tree] + [unit.tree for unit in imported if unit is not None]
    return any(isinstance(method, ast.FunctionDef) and method.name == name and _evals_batchnorm(method)
               for module in modules if module is not None for cls in module.body if isinstance(cls, ast.ClassDef)
               for method in cls.body)


def _evals_batchnorm(method: ast.FunctionDef) -> bool:
    """``for m in self.modules(): if isinstance(m, nn.BatchNorm2d): ... m.eval()``."""
    return any(isinstance(test, ast.If) and isinstance(call := test.test, ast.Call) and dotted(call.func) == "isinstance"
               and "BatchNorm" in ast.unparse(call) and calls_eval(test) for test in ast.walk(method))


def _training_loop(norms: FileNorms, train: ModeCall, trainings: list[ast.AST]) -> Optional[ast.stmt]:
    """The outermost loop around ``train``'s call that also holds a training statement."""
    found: Optional[ast.stmt] = None
    child: ast.AST = train.call
    parents = norms.frames.parents
    while child in parents and child is not train.frame:
        parent = parents[child]
        if isinstance(parent, (ast.For, ast.AsyncFor, ast.While)) and any(
                parent.lineno <= getattr(t, "lineno", 0) <= (parent.end_lineno or parent.lineno) for t in trainings):
            found = parent
        child = parent
    return found


def _other_cases(parents: dict, one: ast.AST, other: ast.AST) -> bool:
    """``if phase == "train": model.train()`` and ``if phase == "val": model.eval()``: two
    ``if`` statements testing one name against two different constants never both run."""
    mine, theirs = _cases(parents, one), _cases(parents, other)
    return any(name in theirs and theirs[name] != value for name, value in mine.items())


def _cases(parents: dict, node: ast.AST) -> dict[str, object]:
    """The ``name == constant`` tests of the ``if`` statements ``node`` runs in the body of."""
    found: dict[str, object] = {}
    while node in parents:
        parent = parents[node]
        if isinstance(parent, ast.If) and node in parent.body:
            test = parent.test
            if (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)
                    and isinstance(test.comparators[0], ast.Constant) and (name := dotted(test.left))):
                found.setdefault(name, test.comparators[0].value)
        node = parent
    return found


def _opposite_branches(parents: dict, one: ast.AST, other: ast.AST) -> bool:
    """``net.train() if training else net.eval()``: one conditional expression, two branches."""
    node = one
    while node in parents:
        parent = parents[node]
        if isinstance(parent, ast.IfExp) and node is not parent.test:
            side = node is parent.body
            inner = other
            while inner in parents and parents[inner] is not parent:
                inner = parents[inner]
            if inner in parents and inner is not parent.test and (inner is parent.body) != side:
                return True
        node = parent
    return False


def train_calls(norms: FileNorms, freeze: Freeze, target: str) -> list[ModeCall]:
    calls = [m for m in norms.modes if m.train and holds(m.target, target)]
    if target.startswith("self."):  # self.train() only in the freezing class
        cls = norms.frames.kinds.class_of(freeze.node)
        # an instance another class keeps (``self.model = Encoder()``), also of a class freezing all of itself
        if not holds(freeze.target, target) or freeze.target == "self" != target:
            cls = _holding_class(norms, target) or cls
        calls = [m for m in calls if norms.frames.kinds.class_of(m.call) is cls]
    frame = norms.frames.kinds.frame_of(freeze.node)
    # ``def train_simclr(encoder, ...): encoder.train()`` trains its parameter: the model of a call of it
    # is read through that call (a copy of the mode call with ``written`` set), not by the name alone
    calls = [m for m in calls if m.written or m.frame is frame or m.target.startswith("self.") or m.target == "self"
             or not takes_parameter(m.frame, m.target.split(".")[0])]
    if frame is not None and not freeze.target.startswith("self.") and freeze.target != "self":
        # a model local to a function: its train() is in that function, or in a helper it is passed to
        # (a call of another file's training function or class is in the caller's frame: the same name
        # in another function is another model)
        root = target.split(".")[0]
        # (a parameter of a helper, ``def freeze_encoder(encoder)``, is whatever its callers pass: the
        # freeze is read at those calls, not linked to a caller's model of the same name)
        handed = takes_parameter(frame, root)
        # (a function of the file that nothing here calls, ``def load_task_a_model(path): ...; return
        # model``, builds its model for the scripts importing it: another function's ``model`` is not it)
        tree = norms.frames.unit.tree
        reaches = not (isinstance(frame, ast.FunctionDef) and tree is not None and frame in tree.body
                       and never_called(frame, None, tree))
        calls = [m for m in calls if m.frame is frame or m.written and m.via is None and not handed
                 and (m.site is None or (site := norms.frames.kinds.frame_of(m.site)) is frame
                      or reaches and (takes_parameter(site, root) or returns_name(frame, root)))
                 or _closure_of(norms, m.frame, frame, root)]
    # a train call in another branch of an ``if``/``elif`` the freeze is in trains another model
    calls = [m for m in calls if not norms.frames.exclusive(freeze.node, m.call)]
    return [m for m in calls if _after_freeze(norms, m, freeze, frame)] + (
        _alias_trained_before(norms, freeze, target, frame) if freeze.how == "no_grad" else [])


def _alias_trained_before(norms: FileNorms, freeze: Freeze, target: str, frame: Optional[ast.AST]) -> list[ModeCall]:
    """A model run without gradients under a second name bound to it, ``t_model_train =
    t_model.train()`` (or ``nn.DataParallel(t_model)``): that train() call before the run,
    with no eval() of either name after it, leaves it in train mode (a distillation teacher)."""
    assert norms.knowledge is not None
    root, dot, rest = target.partition(".")
    rest = dot + rest  # (``.backbone`` of ``t_model_train.backbone``)
    aliases = set()
    for value in norms.knowledge.bindings.get(root, []):
        inner = unwrap(value)
        if isinstance(inner, ast.Call) and inner.args and isinstance(inner.args[0], ast.Name) \
                and (dotted(inner.func) or "").rpartition(".")[2] in PARALLEL_WRAPPERS:
            inner = inner.args[0]
        if isinstance(inner, ast.Name) and inner.id != root and norms.frames.kinds.frame_of(value) is frame:
            aliases.add(inner.id)
    if not aliases:
        return []
    line = freeze.node.lineno

    def here(node: ast.AST) -> bool:  # (a mode call's frame is the module itself at module level)
        return node is frame or frame is None and isinstance(node, ast.Module)
    trained = [m for m in norms.modes if m.train and here(m.frame) and m.target in {a + rest for a in aliases}
               and m.via is None and m.call.lineno < line and not norms.frames.exclusive(freeze.node, m.call)]
    return [m for m in trained if not any(
        not e.train and here(e.frame) and m.call.lineno < e.call.lineno < line
        and any(holds(e.target, name) for name in (target, *(a + rest for a in aliases))) for e in norms.modes)][:1]


def _after_freeze(norms: FileNorms, train: ModeCall, freeze: Freeze, frame: Optional[ast.AST]) -> bool:
    """``train`` may run after ``freeze``: in another function (called at any time), or in
    the freeze's own function (``frame``; None: the module) later, in one loop with it, or
    given the model the freeze builds (``train(FeatureHeadNet())``). A helper handed the
    model trains it where it is handed:
    ``teacher = train_supervised(teacher)`` before the teacher is frozen trains it unfrozen."""
    parents = norms.frames.parents
    where = train.site if train.site is not None else train.call
    if norms.frames.kinds.frame_of(where) is not frame or where is freeze.node:
        return True  # in another function, called at any time (or the train() call a part left out of the optimiser is read at)
    return (where.lineno > freeze.node.lineno or in_one_loop(parents, where, freeze.node)
            or any(arg is freeze.node for arg in (*where.args, *(k.value for k in where.keywords)))
            # a run without gradients, or of a network no optimiser takes, is frozen from the start:
            # ``net.train()`` before the loop that runs it is in force there
            or freeze.how in ("no_grad", "unoptimised")
            and norms.frames.innermost_loop(freeze.node, frame or norms.frames.unit.tree or freeze.node) is not None)


def unfrozen_with(norms: FileNorms, train: ModeCall) -> bool:
    """``train`` sits in the block that makes its module trainable again
    (``if fine_tune: self.model.encoder.train(); for p in self.model.encoder.parameters():
    p.requires_grad = True``): in train mode only while it trains."""
    parents = norms.frames.parents

    def beside(call: ModeCall) -> bool:
        block = _block(parents, call.stmt)
        return block is not None and any(
            holds(target, call.target) and any(_block(parents, node) is block for node in nodes)
            for target, nodes in norms.unfrozen_at.items())

    # a call handing the model to a class of the file: that class's own train() calls decide
    inside = [m for m in norms.modes if m.train and train.written and m.target == train.written and m is not train]
    return all(beside(m) for m in inside) if inside else beside(train)


def _block(parents: dict, node: ast.AST) -> Optional[list]:
    """The statement list holding ``node``'s statement (an ``if`` arm, a loop's body)."""
    while node in parents and not isinstance(node, ast.stmt):
        node = parents[node]
    parent = parents.get(node)
    for field in ("body", "orelse", "finalbody", "handlers"):
        statements = getattr(parent, field, None)
        if isinstance(statements, list) and any(item is node for item in statements):
            return statements
    return None


def _holding_class(norms: FileNorms, target: str) -> Optional[ast.ClassDef]:
    """The class whose methods bind the ``self.model`` of ``self.model.resnet``, when one does."""
    assert norms.knowledge is not None
    parts = target.split(".")
    for end in range(len(parts), 1, -1):
        values = norms.knowledge.bindings.get(".".join(parts[:end]), [])
        classes = {id(cls): cls for value in values if (cls := norms.frames.kinds.class_of(value)) is not None}
        if len(classes) == 1:
            return next(iter(classes.values()))
    return None


def returns_name(frame: ast.AST, name: str) -> bool:
    """``frame`` hands ``name`` back (``return model``): its callers' model of that name may be it."""
    return any(isinstance(node, ast.Return) and node.value is not None
               and any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node.value)) for node in ast.walk(frame))


def _closure_of(norms: FileNorms, inner: ast.AST, outer: ast.AST, name: str) -> bool:
    """``inner`` is a function defined inside ``outer`` that reads ``outer``'s ``name`` (a
    ``def train_one_epoch(): model.train()`` inside ``main``): it neither takes nor binds it."""
    if not isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef)) or inner is outer:
        return False
    node: ast.AST = inner
    while node in norms.frames.parents and node is not outer:
        node = norms.frames.parents[node]
    if node is not outer:
        return False
    args = inner.args
    if any(a.arg == name for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)):
        return False
    return not any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store) for n in ast.walk(inner))


def mode_chosen_with_freeze(norms: FileNorms, freeze: Freeze, train: ModeCall, target: str) -> bool:
    """``if args.weights == "freeze": model.requires_grad_(False)`` and later ``if
    args.weights == "finetune": model.train() elif args.weights == "freeze": model.eval()``:
    the branch that trains is not the one that froze (the same expression decides both)."""
    frames = norms.frames
    if _switched_by_freeze_flag(norms, train, target):
        return True
    tested = _tested(frames.parents, freeze.node)
    if not tested:
        return False
    return any(not other.train and other.frame is train.frame and related(other.target, target)
               and frames.exclusive(other.call, train.call) and tested & _tested(frames.parents, train.call)
               for other in norms.modes)


_FREEZE_FLAG = re.compile(r"freez|frozen|fine_?tun|linear_?(eval|probe)|trainable", re.IGNORECASE)


def _switched_by_freeze_flag(norms: FileNorms, train: ModeCall, target: str) -> bool:
    """``if not args.freeze_resnet: extractor.train() else: extractor.eval()``: the two arms
    of one ``if`` on a freezing flag choose the mode; the frozen configuration takes eval."""
    parent = norms.frames.parents.get(train.stmt)
    if not isinstance(parent, ast.If) or not _FREEZE_FLAG.search(ast.unparse(parent.test)):
        return False
    arm = parent.orelse if any(stmt is train.stmt for stmt in parent.body) else parent.body
    return any(not other.train and related(other.target, target) and any(stmt is other.stmt for stmt in arm)
               for other in norms.modes)


def eval_under_freeze_flag(norms: FileNorms, freeze: Freeze, target: str) -> bool:
    """``if args.linear_eval: <freeze all but fc>`` and, in the training function, ``if
    args.linear_eval: model.eval()``: the flag that freezes also keeps the model in eval
    mode; a train() elsewhere belongs to the configuration that does not freeze."""
    parents = norms.frames.parents
    flags = _flags(parents, freeze.node)
    return bool(flags) and any(not other.train and related(other.target, target) and flags & _flags(parents, other.call)
                               for other in norms.modes)


def _flags(parents: dict, node: ast.AST) -> set[str]:
    """The plain flags (``args.linear_eval``, ``freeze``) whose ``if`` body ``node`` is in."""
    return {ast.unparse(test) for test, in_body in _enclosing_tests(parents, node)
            if in_body and isinstance(test, (ast.Name, ast.Attribute))}


def _tested(parents: dict, node: ast.AST) -> set[str]:
    """The expressions the ``if`` statements around ``node`` compare (``args.weights``)."""
    return {ast.unparse(test.left) for test, _ in _enclosing_tests(parents, node) if isinstance(test, ast.Compare)}


def _enclosing_tests(parents: dict, node: ast.AST) -> list[tuple[ast.expr, bool]]:
    """The test of each ``if`` around ``node`` (``node`` not in a test itself), and whether
    ``node`` is in its body (else in its ``else``)."""
    found = []
    while node in parents:
        parent = parents[node]
        if isinstance(parent, ast.If) and node is not parent.test:
            found.append((parent.test, node in parent.body))
        node = parent
    return found


def hook_keeps_eval(norms: FileNorms, freeze: Freeze, train: ModeCall, target: str) -> bool:
    """``trainer.fit(lit)`` puts ``lit.teacher`` in train mode each epoch, and the module's
    ``on_train_epoch_start`` puts ``self.teacher`` back in eval mode."""
    forms = {freeze.target} if freeze.target.startswith("self.") else set()
    if target.startswith(train.target + "."):
        forms.add("self" + target[len(train.target):])
    kept_by = norms.hook_evals
    cls = norms.frames.kinds.class_of(freeze.node) if freeze.target.startswith("self.") else None
    if cls is not None:  # a subclass's hook (``class Fixed(Regressor): def on_train_epoch_start``) is not the class's
        kept_by, seen = set(), set()
        while cls is not None and cls.name not in seen:
            seen.add(cls.name)
            kept_by |= norms.hook_evals_of.get(cls.name, set())
            cls = next((norms.frames.kinds.classes.get((dotted(b) or "").rsplit(".", 1)[-1]) for b in cls.bases
                        if (dotted(b) or "").rsplit(".", 1)[-1] in norms.frames.kinds.classes), None)
    return any(holds(kept, form) for kept in kept_by for form in forms)


def trained_only_when_optimised(norms: FileNorms, train: ModeCall) -> bool:
    """``if encoder_optimizer: encoder.train() else: encoder.eval()``: the module is put in
    train mode only when an optimiser is given for it (fine-tuning it), and in eval mode
    when it is frozen: the train call is not the frozen configuration's."""
    parents = norms.frames.parents
    child: ast.AST = train.call
    while child in parents:
        parent = parents[child]
        if isinstance(parent, ast.If) and child in parent.body and parent.orelse:
            tested = {n.id if isinstance(n, ast.Name) else n.attr for n in ast.walk(parent.test)
                      if isinstance(n, (ast.Name, ast.Attribute))}
            if any("optim" in name.lower() for name in tested) and not isinstance(parent.test, ast.UnaryOp):
                return any(not other.train and other.frame is train.frame and related(other.target, train.target)
                           and any(other.call is n for s in parent.orelse for n in ast.walk(s))
                           for other in norms.modes)
        child = parent
    return False


def hook_never_evals(norms: FileNorms, hook: Optional[ast.expr], module: str) -> bool:
    """The callable handed to a training function as a hook cannot put the model in eval
    mode: a function, or an instance of a class (``EarlyStopping(patience=4)``), defined in
    the file or in the training function's module, with no ``eval()`` in it."""
    assert norms.knowledge is not None
    # (``early_stopping=EarlyStopping(patience=3)`` built in the call itself)
    name = dotted(hook.func if isinstance(hook, ast.Call) else hook) if hook is not None else None
    if name is None:
        return False
    bound = [hook] if isinstance(hook, ast.Call) else norms.knowledge.bindings.get(name, [])
    built = {dotted(value.func) if isinstance(value, ast.Call) else None for value in bound}
    if len(built) > 1:
        return False  # (each ``early_stopping = EarlyStopping(...)`` of the script builds the same class)
    defined = built.pop() if bound else name
    trees = [norms.frames.unit.tree, *([unit.tree] if (unit := SourceUnit.read_parsed(module)) is not None else [])]
    found = [node for tree in trees if tree is not None for node in tree.body
             if isinstance(node, (ast.ClassDef, ast.FunctionDef)) and node.name == defined]
    script, tree = Path(norms.frames.unit.path), norms.frames.unit.tree
    if not found and bound and defined and tree is not None and script.is_file():
        # ``early_stopping = EarlyStopping(...)`` imported from a project module of its own
        imported = project_class(name_expression(defined), tree, script, FileIndex(), entry=script)
        found = [imported.node] if imported is not None else []
    return len(found) == 1 and isinstance(found[0], ast.ClassDef if bound else ast.FunctionDef) \
        and not calls_eval(found[0])
