"""Freezes decided by a flag rather than written as ``False``: ``p.requires_grad =
train_cnn`` (a constant the file sets, a command-line option's default, or a parameter of
the enclosing function, decided where it is called), and a method of the file's class that
freezes by such a flag, decided at each call (``encoder.fine_tune(False)``)."""

from __future__ import annotations

import ast
from typing import Union

from gradlint.source.call_arguments import argument
from gradlint.source.call_flags import flag_value, guard_at, guard_flag, guard_name, guard_of, parameter_default
from gradlint.source.freeze_facts import Elsewhere, FileNorms, Freeze
from gradlint.source.names import dotted


def flag_requires_grad(norms: FileNorms, node: ast.AST, flag: ast.expr, negated: bool) -> Union[None, bool, str]:
    """What ``p.requires_grad = flag`` (``not flag`` when ``negated``) at ``node`` sets: True
    or False where a constant the file sets (or an option's default, a configuration
    constant) decides it; the guard a freeze then needs (``"not train_cnn"``) where a
    parameter of the enclosing function decides it (also kept first as ``self.train_cnn =
    train_cnn``); else None (unknown)."""
    frame = norms.frames.kinds.frame_of(node)
    tree = norms.frames.unit.tree
    assert tree is not None
    if isinstance(flag, ast.Attribute) and dotted(flag.value) == "self" and frame is not None:
        kept = [n.value for n in ast.walk(frame) if isinstance(n, ast.Assign) and len(n.targets) == 1
                and dotted(n.targets[0]) == f"self.{flag.attr}" and n.lineno < getattr(node, "lineno", 0)]
        if not kept and (built := _init_flag(norms, frame, flag.attr)) is not None:
            return flag_requires_grad_value(built, negated)  # ``self.train_flag`` kept by __init__, read in forward
        if len(kept) != 1:
            return None
        flag = kept[0]
    value = flag_value(flag, frame, tree)
    if isinstance(value, bool):
        return value is not negated
    if isinstance(value, str):
        return value if negated else f"not {value}"
    return None


def flag_requires_grad_value(value: Union[None, bool, str], negated: bool) -> Union[None, bool, str]:
    if isinstance(value, bool):
        return value is not negated
    return None


def _init_flag(norms: FileNorms, method: ast.AST, attribute: str) -> Union[None, bool, str]:
    """``self.<attribute>`` read in another method than ``__init__``, which keeps a parameter
    there (``self.train_flag = train_flag``): the value every build of the class in the file
    gives it (``Encoder(embed_size)``: the parameter's default), or its default where the file
    builds none; None where builds disagree or it is unknown."""
    tree = norms.frames.unit.tree
    cls = norms.frames.kinds.class_of(method)
    init = next((f for f in cls.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"), None) \
        if cls is not None else None
    if tree is None or cls is None or init is None or method is init:
        return None
    kept = [n.value for n in ast.walk(init) if isinstance(n, ast.Assign) and len(n.targets) == 1
            and dotted(n.targets[0]) == f"self.{attribute}"]
    if len(kept) != 1 or not isinstance(kept[0], ast.Name) or kept[0].id not in [a.arg for a in init.args.args[1:]]:
        return None
    parameter = kept[0].id
    index, default = parameter_default(init, parameter)
    builds = [call for call in ast.walk(tree) if isinstance(call, ast.Call) and dotted(call.func) == cls.name]
    if not builds:
        return flag_value(default, None, tree) if default is not None else None
    # (the call passes no self: its arguments sit one place earlier than __init__'s parameters)
    values = {flag_value(default if (passed := argument(call, index - 1, parameter)) is None else passed,
                         norms.frames.kinds.frame_of(call), tree) for call in builds}
    return values.pop() if len(values) == 1 else None


def flag_freeze(norms: FileNorms, owner: str, node: Union[ast.stmt, ast.expr], flag: ast.expr, negated: bool) -> None:
    """``p.requires_grad = flag`` for the parameters of ``owner``: a freeze where it sets
    False, an unfreeze where it sets True, a guarded freeze where a parameter decides it,
    nothing where it is unknown (see :func:`flag_requires_grad`)."""
    value = flag_requires_grad(norms, node, flag, negated)
    if value is False:
        norms.freezes.append(Freeze(owner, "requires_grad", node))
    elif value is True:
        norms.unfreeze(owner, node)
    elif isinstance(value, str):
        norms.freezes.append(Freeze(owner, "requires_grad", node, guard=value, sets_flag=True))


def method_call_freezes(norms: FileNorms) -> list[Freeze]:
    """``def fine_tune(self, fine_tune=True): for p in self.resnet.parameters():
    p.requires_grad = fine_tune`` in a class of the file: ``encoder.fine_tune(False)`` freezes
    ``encoder.resnet`` at the call, ``self.fine_tune()`` in ``__init__`` freezes nothing (the
    default), and ``self.fine_tune(tune)`` there is a freeze guarded by ``__init__``'s own
    parameter. A method that always freezes is a freeze of the class where ``__init__``
    calls it (``self.fine_tune(fine_tune)`` freezing the whole trunk before re-enabling the
    last blocks), also where a subclass's ``__init__`` calls the method it inherits. A
    method name two classes of the file define is not read."""
    tree = norms.frames.unit.tree
    assert tree is not None
    kinds = norms.frames.kinds
    owners: dict[str, list[ast.ClassDef]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for member in node.body:
                if isinstance(member, ast.FunctionDef):
                    owners.setdefault(member.name, []).append(node)
    calls: dict[str, list[ast.Call]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in owners:
            calls.setdefault(node.func.attr, []).append(node)
    found: list[Freeze] = []
    for freeze in norms.freezes:
        method, cls = kinds.frame_of(freeze.node), kinds.class_of(freeze.node)
        if (freeze.how not in ("requires_grad", "requires_grad_") or cls is None
                or not isinstance(method, ast.FunctionDef) or method.name == "__init__"
                or owners.get(method.name) != [cls]
                or not (freeze.target == "self" or freeze.target.startswith("self."))):
            continue
        guard = None
        # (``p.requires_grad = flag``, or a freeze under ``if feature_extracting:``, the method's parameter)
        written = freeze.guard if freeze.guard is not None else guard_of(freeze.node, method, norms.frames.parents)
        if written is not None:
            guard = guard_flag(method, written, method=True)
        for call in calls.get(method.name, []):
            assert isinstance(call.func, ast.Attribute)
            receiver = dotted(call.func.value)
            caller = kinds.frame_of(call)
            if receiver is None or receiver == "self" and not _same_or_subclass(kinds.class_of(call), cls):
                continue
            if guard is None and not (receiver == "self" and isinstance(caller, ast.FunctionDef)
                                      and caller.name == "__init__") \
                    and not (receiver != "self" and caller in tree.body and isinstance(caller, ast.FunctionDef)):
                # an unconditional freeze is read where it is (its instances are the class's), but
                # where a module-level function calls it on a model it builds (``model.freeze_backbone()``
                # in ``build_net``, under the function's own flag), that function freezes the model
                continue
            runs = guard_at(call, guard, caller, tree) if guard is not None else True
            if runs is None or runs is False:
                continue
            if guard is None and isinstance(caller, ast.FunctionDef) and caller.name != "__init__":
                runs = guard_of(call, caller, norms.frames.parents) or True  # (``if freeze_backbone:`` of the caller)
            found.append(Freeze(receiver + freeze.target[len("self"):], freeze.how, call,
                                via=Elsewhere(f"{cls.name}.{method.name}", getattr(freeze.node, "lineno", 0)),
                                guard=runs if isinstance(runs, str) else None))
    return found


def module_helper_calls(norms: FileNorms) -> None:
    """``def set_features_trainable(flag): for p in model.densenet.features.parameters():
    p.requires_grad = flag``, a module-level function setting the flag on a model the module
    binds (a notebook's helper): each call freezes that part (``set_features_trainable(False)``)
    or makes it trainable again (``(True)``) where it is made."""
    tree = norms.frames.unit.tree
    assert tree is not None
    kinds = norms.frames.kinds
    bound = {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)}
    for freeze in [f for f in norms.freezes if f.guard is not None and f.sets_flag]:
        function = kinds.frame_of(freeze.node)
        root = freeze.target.split(".")[0]
        if not (isinstance(function, ast.FunctionDef) and function in tree.body and root in bound
                and root not in {a.arg for a in function.args.args}):
            continue
        written = freeze.guard or ""
        index, default = parameter_default(function, guard_name(written)[0])
        guard = (index, written, bool(default.value) if isinstance(default, ast.Constant) else None)
        for call in ast.walk(tree):
            if isinstance(call, ast.Call) and dotted(call.func) == function.name:
                runs = guard_at(call, guard, kinds.frame_of(call), tree)
                if runs is True:
                    norms.freezes.append(Freeze(freeze.target, freeze.how, call,
                                                via=Elsewhere(function.name, getattr(freeze.node, "lineno", 0))))
                elif runs is False:
                    norms.unfreeze(freeze.target, call)


def _same_or_subclass(cls: "ast.ClassDef | None", base: ast.ClassDef) -> bool:
    """``cls`` is ``base`` or a class of the file deriving from it (``class Adaptive_Encoder(CNN_Encoder)``
    whose ``__init__`` calls the inherited ``self.fine_tune()``)."""
    return cls is base or cls is not None and any(dotted(b) == base.name for b in cls.bases)
