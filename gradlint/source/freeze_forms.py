"""The small readings GL406's collector makes of single expressions and statements: a
``requires_grad`` flag, a layer list built from a model's children, a train() override
that puts BatchNorm back in eval, and how two module names relate (``model`` holds
``model.backbone``)."""

from __future__ import annotations

import ast
import re
from typing import Optional

from gradlint.source.inverted_overrides import evals_only_unfrozen
from gradlint.source.names import dotted


def is_false(node: Optional[ast.AST]) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def is_true(node: Optional[ast.AST]) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def only_parameters_of(call: ast.Call, owner: str) -> bool:
    """The optimiser takes ``owner.parameters()`` and nothing else (no other group)."""
    first = call.args[0] if call.args else None
    return (isinstance(first, ast.Call) and isinstance(first.func, ast.Attribute)
            and first.func.attr == "parameters" and dotted(first.func.value) == owner)


def layers_of(value: ast.expr, root: str, method: ast.AST, depth: int = 0) -> bool:
    """Whether ``value`` is built from ``root``'s own layers: ``nn.Sequential(*list(
    root.children())[:-1])``, also through a name of ``method`` bound to the list."""
    if depth > 8:
        return False
    if isinstance(value, ast.Starred):
        return layers_of(value.value, root, method, depth + 1)
    if isinstance(value, ast.Attribute) and (dotted(value) or "").startswith(root + "."):
        return True  # nn.Sequential(model.features, model.avgpool)
    if isinstance(value, ast.Subscript):
        return layers_of(value.value, root, method, depth + 1)
    if isinstance(value, ast.Name):
        bound = [node.value for node in ast.walk(method) if isinstance(node, ast.Assign)
                 and any(isinstance(t, ast.Name) and t.id == value.id for t in node.targets)]
        return len(bound) == 1 and layers_of(bound[0], root, method, depth + 1)
    if not isinstance(value, ast.Call):
        return False
    func = value.func
    if isinstance(func, ast.Attribute) and func.attr in ("children", "modules") and dotted(func.value) == root:
        return True
    if isinstance(func, ast.Name) and func.id in ("list", "tuple") and len(value.args) == 1:
        return layers_of(value.args[0], root, method, depth + 1)
    if (dotted(func) or "").endswith("Sequential") and value.args:
        return all(layers_of(arg, root, method, depth + 1) for arg in value.args)
    return False


def requires_grad_value(stmt: ast.stmt, var: str) -> Optional[bool]:
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        target = stmt.targets[0]
        if (isinstance(target, ast.Attribute) and target.attr == "requires_grad" and dotted(target.value) == var
                and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, bool)):
            return stmt.value.value
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        call = stmt.value
        if isinstance(call.func, ast.Attribute) and call.func.attr == "requires_grad_" and dotted(call.func.value) == var:
            flag = call.args[0] if call.args else next((k.value for k in call.keywords), None)
            return None if flag is not None and not isinstance(flag, ast.Constant) else not is_false(flag)
    return None


def requires_grad_flag(stmt: ast.stmt, var: str) -> Optional[tuple[ast.expr, bool]]:
    """``p.requires_grad = train_cnn`` (or ``p.requires_grad_(not freeze)``): the expression
    that decides the flag, and whether it is negated (``not freeze``); None for a constant."""
    value: Optional[ast.expr] = None
    if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Attribute)
            and stmt.targets[0].attr == "requires_grad" and dotted(stmt.targets[0].value) == var):
        value = stmt.value
    elif (isinstance(stmt, ast.Expr) and isinstance(call := stmt.value, ast.Call) and isinstance(call.func, ast.Attribute)
          and call.func.attr == "requires_grad_" and dotted(call.func.value) == var):
        value = call.args[0] if call.args else next((k.value for k in call.keywords), None)
    negated = False
    if (isinstance(stmt, ast.If) and len(stmt.body) == 1 and len(stmt.orelse) == 1
            and {requires_grad_value(stmt.body[0], var), requires_grad_value(stmt.orelse[0], var)} == {True, False}):
        # ``if yes: p.requires_grad = True else: p.requires_grad = False`` is ``p.requires_grad = yes``
        value, negated = stmt.test, requires_grad_value(stmt.body[0], var) is False
    while isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.Not):
        value, negated = value.operand, not negated
    if isinstance(value, (ast.Name, ast.Attribute)):
        return value, negated
    return None


def keeps_bn_in_eval(cls: ast.ClassDef) -> bool:
    """The class overrides ``train()`` and puts (part of) itself back in eval mode there.
    ``def train(self, num_epochs)`` of a trainer class, or any ``train`` of a class with no
    base, is a training routine, not the override of ``nn.Module.train(mode=True)``: its
    ``model.eval()`` is for validation."""
    plain = not [base for base in cls.bases if dotted(base) != "object"]
    # a plain class (``class Trainer:``) is no module: its train() runs the training, unless it
    # is a mixin overriding Module.train (``def train(self, mode=True): super().train(mode)``)
    return any(isinstance(node, ast.FunctionDef) and node.name == "train" and _module_train_signature(node)
               and (calls_eval(node) and (not plain or _overrides_module_train(node))
                    or not plain and _trains_only_parts(node, cls)) for node in cls.body) \
        and not evals_only_unfrozen(cls)


def _trains_only_parts(method: ast.FunctionDef, cls: ast.ClassDef) -> bool:
    """``def train(self): self.decoder.train()`` with no ``super().train()``: the override
    switches some of the parts ``__init__`` builds and leaves the others (a frozen encoder)
    as they are."""
    trains = [node for node in ast.walk(method) if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "train"]
    trained = {dotted(node.func.value) or "" for node in trains if isinstance(node.func, ast.Attribute)}
    init = next((f for f in cls.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"), None)
    parts = {name for stmt in (ast.walk(init) if init is not None else []) if isinstance(stmt, ast.Assign)
             and isinstance(stmt.value, (ast.Call, ast.Name, ast.Attribute, ast.Subscript))
             for target in stmt.targets if (name := dotted(target) or "").startswith("self.") and name.count(".") == 1}
    return bool(trains) and all(name.startswith("self.") for name in trained) and bool(parts - trained)


def _overrides_module_train(method: ast.FunctionDef) -> bool:
    params = [a.arg for a in [*method.args.posonlyargs, *method.args.args][1:]]
    return params == ["mode"] or any(isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                                     and node.func.attr == "train" and isinstance(node.func.value, ast.Call)
                                     and dotted(node.func.value.func) == "super" for node in ast.walk(method))


def _module_train_signature(method: ast.FunctionDef) -> bool:
    """``train(self)``, ``train(self, mode=True)``, ``train(self, mode)``."""
    args = method.args
    params = [*args.posonlyargs, *args.args][1:]
    return not args.kwonlyargs and len(params) <= 1 and (not params or params[0].arg == "mode" or bool(args.defaults))


def calls_eval(node: ast.AST) -> bool:
    return any(isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute)
               and (sub.func.attr == "eval" or (sub.func.attr == "train" and sub.args and is_false(sub.args[0])))
               for sub in ast.walk(node))


def part_name(node: ast.AST) -> Optional[str]:
    """``model.layer4[2]`` (attributes and constant indexes), or None."""
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, int):
        inner = dotted(node.value) or part_name(node.value)
        return f"{inner}[{node.slice.value}]" if inner else None
    if isinstance(node, ast.Attribute):
        inner = part_name(node.value)
        return f"{inner}.{node.attr}" if inner else None
    return None


def late_slice(node: ast.AST) -> Optional[str]:
    """``model.body[1:]`` (an ``nn.Sequential`` from its second element on; ``model.body``
    for ``[0:]`` and ``[:]``; ``model.body[-2:]``, its last two; ``model.body[-n:]``, its last
    ``n``), or None."""
    if not (isinstance(node, ast.Subscript) and isinstance(bound := node.slice, ast.Slice) and bound.upper is None
            and bound.step is None and (inner := dotted(node.value) or part_name(node.value))):
        return None
    lower = bound.lower
    if isinstance(lower, ast.UnaryOp) and isinstance(lower.op, ast.USub) and isinstance(lower.operand, ast.Constant) \
            and type(lower.operand.value) is int and lower.operand.value > 0:
        return f"{inner}[-{lower.operand.value}:]"  # (``resnet[-2:]``: its last two elements)
    if isinstance(lower, ast.UnaryOp) and isinstance(lower.op, ast.USub) and isinstance(lower.operand, ast.Name):
        return f"{inner}[-{lower.operand.id}:]"  # (``features[-n_unfrozen:]``: its last blocks, however many)
    start = 0 if lower is None else lower.value if isinstance(lower, ast.Constant) else None
    return None if type(start) is not int or start < 0 else f"{inner}[{start}:]" if start else inner


def early_slice(node: ast.AST) -> Optional[tuple[str, str]]:
    """``model.features[:5]`` (its first 5 elements) or ``model[:-2]`` (all but its last 2):
    the sliced module and the part of it frozen, or None. (From 2 elements on: a first
    element alone may be a stem convolution with no BatchNorm.)"""
    if not (isinstance(node, ast.Subscript) and isinstance(bound := node.slice, ast.Slice) and bound.step is None
            and bound.upper is not None and (inner := dotted(node.value) or part_name(node.value))):
        return None
    if bound.lower is not None and not (isinstance(bound.lower, ast.Constant) and bound.lower.value == 0):
        return None
    upper = bound.upper
    if isinstance(upper, ast.Constant) and type(upper.value) is int and upper.value >= 2:
        return inner, f"its first {upper.value} elements"
    if isinstance(upper, ast.UnaryOp) and isinstance(upper.op, ast.USub) and isinstance(upper.operand, ast.Constant) \
            and type(upper.operand.value) is int and upper.operand.value > 0:
        return inner, f"all but its last {upper.operand.value} elements"
    return None


def sliced_name(node: ast.AST) -> Optional[str]:
    """``model.features[:5]`` as written, when it is an :func:`early_slice`; else None."""
    sliced = early_slice(node)
    return f"{sliced[0]}[{ast.unparse(node.slice)}]" if sliced is not None and isinstance(node, ast.Subscript) else None


def unwrapped(name: str) -> str:
    """``model.module.fc`` -> ``model.fc``: a DataParallel/DDP wrapper's ``module`` is the model
    (a name of its own, ``module = CodeGenerator(...)``, stays)."""
    root, *rest = name.split(".")
    return ".".join([root, *(part for part in rest if part != "module")])


def related(one: str, other: str) -> bool:
    """``one`` is ``other``, inside it, or holds it (``model`` and ``model.backbone``)."""
    one, other = unwrapped(one), unwrapped(other)
    return one == other or one.startswith((other + ".", other + "[")) or other.startswith((one + ".", one + "["))


def holds(outer: str, inner: str) -> bool:
    outer, inner = unwrapped(outer), unwrapped(inner)
    return inner == outer or inner.startswith((outer + ".", outer + "["))


HEAD_PARTS = {"fc", "_fc", "classifier", "head", "last_linear", "aux_logits", "AuxLogits"}  # (``_fc``: efficientnet_pytorch)
# parts of torchvision backbones that hold no parameters: "unfreezing" them changes nothing
# (``for p in model.avgpool.parameters(): p.requires_grad = True`` beside ``model.layer4``)
_PARAMETERLESS = frozenset({"avgpool", "maxpool", "relu", "dropout", "flatten", "global_pool"})
# a recurrent back end trained again on a frozen convolutional front end (lipreading, video
# and audio classifiers: ``model.gru``): it holds no BatchNorm, the front end keeps its own frozen
RECURRENT_BACKENDS = frozenset({"gru", "lstm", "rnn", "bigru", "bilstm"})
# a stage of a backbone (``layer4``, ``features[7]``): training it again, the recipe "freeze
# all, train the last block", leaves the stem and the earlier stages (with their BatchNorm) frozen
STAGE = re.compile(r"(layer_?\d+|stage_?\d+|denseblock\d+|transition\d+|norm5|Mixed_\d+[a-e]?)(\[\d+\])?|(blocks|stages|layers|features)\[\d+\]")
# ``body[1:]``: the elements of a Sequential after its first made trainable again leave those before frozen
LATE_SLICE = re.compile(r"\w*\[(-?[1-9]\d*|-[A-Za-z_]\w*):\]")
# the children from a named one on (``if name == unfreeze_from: unfreeze = True`` in a loop over
# ``named_children()``): the recipe "train from layer3 on" leaves the stem and earlier stages frozen
LATER_CHILDREN = "<children from a named one on>"


def undone(unfrozen: set[str], target: str) -> bool:
    """Whether making ``unfrozen`` trainable again undoes the freeze of ``target`` beyond its
    head and a stage: all of it, or a part that is neither a classifier head nor a stage
    (``model.fc`` and ``model.layer4`` leave the rest frozen)."""
    for part in unfrozen:
        if holds(part, target):
            return True
        if holds(target, part) and not leaves_rest_frozen(part, target):
            return True
    return False


def leaves_rest_frozen(part: str, target: str) -> bool:
    """The fine-tuning recipe "freeze all, train the last block and the head": making a
    part of ``target`` named like a head, a stage (``layer4``, ``blocks[11]``), a recurrent
    back end or the elements of a Sequential after its first (``body[1:]``) trainable again
    keeps the early stem and stages, with their BatchNorm, frozen."""
    path = unwrapped(part)[len(unwrapped(target)):].lstrip(".").split(".")
    if path[0] == "features" and len(path) > 1:  # a DenseNet's ``features.denseblock4``: its stage
        path = path[1:]
    first = path[0]
    return first.split("[")[0] in HEAD_PARTS | RECURRENT_BACKENDS | _PARAMETERLESS | {LATER_CHILDREN} \
        or bool(STAGE.fullmatch(first) or LATE_SLICE.fullmatch(first))


def trains_a_stage(part: str, target: str) -> bool:
    """Making ``part`` trainable again fine-tunes a stage of ``target`` (``layer4``,
    ``body[1:]``, a recurrent back end), not only its head: a partial fine-tuning."""
    first = unwrapped(part)[len(unwrapped(target)):].lstrip(".").split(".")[0]
    return first.split("[")[0] in RECURRENT_BACKENDS | {LATER_CHILDREN} or bool(STAGE.fullmatch(first) or LATE_SLICE.fullmatch(first))


def in_one_loop(parents: dict, first: ast.AST, second: ast.AST) -> bool:
    """Both nodes repeat in one loop (a GAN's or ADDA's alternating steps: unfreeze the
    discriminator, freeze it again; a notebook's epoch loop calling ``model.train()``
    before the step that freezes): neither comes first."""
    loops = set()
    node = first
    while node in parents:
        node = parents[node]
        if isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            loops.add(id(node))
    node = second
    while node in parents:
        node = parents[node]
        if isinstance(node, (ast.For, ast.AsyncFor, ast.While)) and id(node) in loops:
            return True
    return False


def takes_parameter(frame: object, name: str) -> bool:
    """``frame`` is a function with a parameter ``name`` (``def train(encoder, ...)``): its
    ``name`` is whatever its callers pass, not a model of the same name elsewhere."""
    return isinstance(frame, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
        a.arg == name for a in (*frame.args.posonlyargs, *frame.args.args, *frame.args.kwonlyargs))


_EXITS = {"exit", "quit", "sys.exit", "os._exit"}


def after_exit(node: ast.AST, parents: dict) -> bool:
    """``node`` sits after an unconditional ``exit(1)`` (``sys.exit``, ``raise``) of a block
    that holds it: left-over code that never runs."""
    child = node
    while child in parents:
        parent = parents[child]
        for field in ("body", "orelse", "finalbody"):
            block = getattr(parent, field, None)
            if isinstance(block, list) and child in block:
                for stmt in block[:block.index(child)]:
                    if isinstance(stmt, ast.Raise) or (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)
                                                       and dotted(stmt.value.func) in _EXITS):
                        return True
        child = parent
    return False


def in_uncalled_private_method(node: ast.AST, parents: dict, tree: ast.Module) -> bool:
    """``node`` sits in a private method of a class (``def __freeze_all_layers(self)``,
    ``def _freeze(self)``) that nothing in the file names: its only call commented out, it
    freezes nothing (a public method may be called from a script; a private one is not)."""
    method = node
    while method in parents and not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)):
        method = parents[method]
    if not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)) or not isinstance(parents.get(method), ast.ClassDef):
        return False
    name = method.name
    if not name.startswith("_") or name.startswith("__") and name.endswith("__"):
        return False
    return not any(isinstance(n, ast.Attribute) and n.attr in (name, f"_{parents[method].name}{name}")
                   or isinstance(n, ast.Name) and n.id == name or isinstance(n, ast.Constant) and n.value == name
                   for n in ast.walk(tree))


def own_method(cls: Optional[ast.ClassDef], receiver: str, method: str) -> bool:
    """``self.train(epoch)`` in ``class CNet(object)`` defining ``train``: the class's own
    training method, not a mode switch (the class derives from nothing but ``object``)."""
    return (receiver == "self" and cls is not None and all(dotted(b) == "object" for b in cls.bases)
            and any(isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) and f.name == method for f in cls.body))


def loop_items(parents: dict, node: ast.AST, name: str) -> list[str]:
    """The modules a loop variable stands for at ``node``: ``for net in (source_net,
    target_net): net.train()`` -> ["source_net", "target_net"], ``for block in
    model.features[:5]`` -> ["model.features[:5]"]; [] elsewhere."""
    while node in parents:
        node = parents[node]
        if isinstance(node, (ast.For, ast.AsyncFor)) and isinstance(node.target, ast.Name) and node.target.id == name:
            if (sliced := sliced_name(node.iter)) is not None:  # for block in model.features[:5]: block.eval()
                return [sliced]
            items = [dotted(item) for item in node.iter.elts] if isinstance(node.iter, (ast.Tuple, ast.List)) else []
            return [item for item in items if item] if all(items) else []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
            return []
    return []


def joined_owners(node: ast.expr) -> list[str]:
    """The modules whose parameters a joined iterable holds, each whole:
    ``list(a.parameters()) + list(b.parameters())``, ``[*a.parameters(), *b.parameters()]``,
    ``itertools.chain(a.parameters(), b.parameters())``; [] for anything else."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = joined_owners(node.left), joined_owners(node.right)
        return left + right if left and right else []
    if isinstance(node, (ast.List, ast.Tuple)) and node.elts and all(isinstance(e, ast.Starred) for e in node.elts):
        parts = [parameters_of(e.value) for e in node.elts if isinstance(e, ast.Starred)]
        return [p for p in parts if p] if all(parts) and len(parts) > 1 else []
    if isinstance(node, ast.Call) and (dotted(node.func) or "").rsplit(".", 1)[-1] == "chain" and len(node.args) > 1:
        parts = [parameters_of(arg) for arg in node.args]
        return [p for p in parts if p] if all(parts) else []
    owner = parameters_of(node)
    return [owner] if owner and isinstance(node, ast.Call) and dotted(node.func) == "list" else []


def parameters_of(node: ast.expr) -> Optional[str]:
    """``a.b`` for ``a.b.parameters()`` or ``list(a.b.parameters())`` (``tuple(...)``)."""
    if isinstance(node, ast.Call) and dotted(node.func) in ("list", "tuple") and len(node.args) == 1:
        node = node.args[0]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "parameters" \
            and not node.args:
        return dotted(node.func.value)
    return None


def trainable_only(optimiser: ast.Call) -> bool:
    """The optimiser takes the parameters that ``requires_grad`` (a filter or a comprehension test)."""
    given = optimiser.args[0] if optimiser.args else None
    return given is not None and any(isinstance(n, ast.Attribute) and n.attr == "requires_grad" for n in ast.walk(given))


def comprehension_freeze(value: ast.expr) -> Optional[str]:
    """The module whose every parameter a comprehension written as a statement freezes:
    ``[p.requires_grad_(False) for p in model.parameters()]`` (also over ``named_parameters()``
    and as a generator), with no condition; else None."""
    if not (isinstance(value, (ast.ListComp, ast.SetComp, ast.GeneratorExp)) and len(value.generators) == 1):
        return None
    loop = value.generators[0]
    it = loop.iter
    target = loop.target.elts[-1] if isinstance(loop.target, ast.Tuple) and loop.target.elts else loop.target
    if loop.ifs or not (isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and not it.args
                        and it.func.attr in ("parameters", "named_parameters") and isinstance(target, ast.Name)):
        return None
    return dotted(it.func.value) if requires_grad_value(ast.Expr(value.elt), target.id) is False else None
