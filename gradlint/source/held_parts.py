"""A frozen module handed to a model that holds it (GL406): ``encoder = CNNEncoder(freeze=True)``
and then ``model = Captioner(encoder, decoder)``, whose ``__init__`` keeps ``self.encoder =
encoder``, or plainly ``model = encoder``. The freeze of ``encoder.resnet`` is then a freeze of
``model.encoder.resnet``, and ``model.train()`` puts it back in train mode. The holder class
is the file's own or a project module's (read, never imported)."""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path
from typing import Optional

from gradlint.source.freeze_forms import related, takes_parameter
from gradlint.source.frozen_norms import Elsewhere, FileNorms, Freeze, ModeCall
from gradlint.source.held_locals import spliced_in_self
from gradlint.source.index import FileIndex
from gradlint.source.names import dotted
from gradlint.source.norm_chains import rebound
from gradlint.source.norm_knowledge import unwrap
from gradlint.source.project_classes import project_class

_RETURNED = "<returned>"  # stands for the value a function returns
# wrappers whose ``.to(device)`` is the wrapped module itself (torch_xla's multiprocess wrapper)
_TRANSPARENT = frozenset({"MpModelWrapper", "DataParallel", "DistributedDataParallel", "convert_sync_batchnorm"})
# freezes that make a part frozen for good (a run under no_grad or a left-out part is not one a factory passes on)
_FREEZES = ("requires_grad", "requires_grad_", "factory")


def link_holders(norms: FileNorms, script: Path) -> None:
    """Add, for each frozen name handed on to a holder in the function that froze it, the
    freeze of the holder's part."""
    tree = norms.frames.unit.tree
    assert tree is not None and norms.knowledge is not None
    kinds = norms.frames.kinds
    by_root: dict[str, list[Freeze]] = {}
    for freeze in norms.freezes:
        by_root.setdefault(freeze.target.partition(".")[0], []).append(freeze)
    if not by_root:
        return
    # a class of the file freezing ``self.resnet`` in ``__init__``: ``encoder = CNNEncoder()`` freezes ``encoder.resnet``
    for freeze in by_root.pop("self", []):
        cls = kinds.class_of(freeze.node)
        method = kinds.frame_of(freeze.node)
        if cls is None or not isinstance(method, ast.FunctionDef) or method.name != "__init__":
            continue
        for name, values in norms.knowledge.bindings.items():
            if "." not in name and any(isinstance(v := unwrap(value), ast.Call) and dotted(v.func) == cls.name
                                       for value in values):
                by_root.setdefault(name, []).append(replace(freeze, target=name + freeze.target[len("self"):]))
    returned: dict[str, list[Freeze]] = {}  # a function of the file returning a holder it built: its freezes
    for node in ast.walk(tree):
        # (``return model`` of a frozen model is a freezing factory, read by norm_offers)
        if isinstance(node, ast.Return) and isinstance(value := unwrap(node.value) if node.value else None, ast.Call) \
                and isinstance(function := kinds.frame_of(node), ast.FunctionDef) and kinds.class_of(node) is None:
            for handed, place in _handed(_RETURNED, value, by_root, tree, script):
                returned.setdefault(function.name, []).extend(
                    replace(freeze, target=target, how="factory",
                            via=Elsewhere(function.name, freeze.node.lineno)) for freeze in by_root[handed.partition(".")[0]]
                    if freeze.how in _FREEZES and (kinds.frame_of(freeze.node) is function
                                                   or kinds.class_of(freeze.node) is not None)
                    and (target := held_target(freeze.target, handed, place)) is not None)
    _kept_by_self(norms, by_root)
    _spliced_into_self(norms, by_root)
    assigns = sorted((node for node in ast.walk(tree) if isinstance(node, ast.Assign) and len(node.targets) == 1
                      and isinstance(node.targets[0], ast.Name)), key=lambda node: node.lineno)
    _through_unwrapped_aliases(norms, assigns, by_root)
    for node in assigns:  # in line order: a holder of a holder (``MX = Wrapper(net)``; ``model = MX.to(device)``)
        assert isinstance(node.targets[0], ast.Name)
        built = unwrap(node.value)
        if isinstance(built, ast.Call) and (callee := dotted(built.func)) in returned:  # ``model = build_model(...)``
            for freeze in returned[callee]:
                target = node.targets[0].id + freeze.target[len(_RETURNED):]
                norms.knowledge.imported_bn.add(target)
                norms.freezes.append(replace(freeze, target=target, node=built))
            continue
        for handed, place in _handed(node.targets[0].id, unwrap(node.value), by_root, tree, script):
            root = handed.partition(".")[0]
            here = kinds.frame_of(node) or tree  # (the eval of another function's own ``encoder`` is not this one)
            evals = [mode for mode in norms.modes if not mode.train and related(mode.target, root)
                     and (mode.site is None and not takes_parameter(mode.frame, root)
                          or mode.site is not None and (kinds.frame_of(mode.site) or tree) is here)]
            if evals and not _undone_by_holder(norms, evals, node, here):
                continue  # ``encoder.eval()`` by its own name: the holder's train() may be undone there
            for freeze in list(by_root[root]):
                frozen_in, handed_in = kinds.frame_of(freeze.node), kinds.frame_of(node)
                # the same module under another name (``model_train = model.train()``) is frozen whenever it is
                alias = place == node.targets[0].id and freeze.how in ("requires_grad", "requires_grad_")
                # (a factory's freeze builds a new model: an alias bound before it names the old one)
                # (a holder's freeze dates from the holder's own binding: ``MX = nn.Sequential(net, head)``)
                first, last = sorted((freeze.held[1] if freeze.held and freeze.held[1] else freeze.node.lineno, node.lineno))
                # (a run under no_grad or out of every optimiser is no event: the holder's part is that network)
                use = freeze.how in ("no_grad", "unoptimised")
                before = (frozen_in is handed_in and (freeze.node.lineno <= node.lineno or alias or use)
                          and not norms.frames.exclusive(freeze.node, node)
                          and not rebound(frozen_in or tree, root, first, last))
                # a class's freeze came with the instance; a module-level one holds in every function
                if kinds.class_of(freeze.node) is None and not before and not (frozen_in is None and handed_in is not None):
                    continue  # frozen elsewhere, or only after it was handed on
                target = held_target(freeze.target, handed, place)
                if target is None:
                    continue  # another part of the frozen model than the one the holder keeps
                if norms.knowledge.has_batchnorm(freeze.target, None, freeze.node) or freeze.target in norms.knowledge.imported_bn:
                    norms.knowledge.imported_bn.add(target)  # the holder's part is the frozen module itself
                held = replace(freeze, target=target, held=((freeze.held or (freeze.target, 0))[0], node.lineno))
                norms.freezes.append(held)
                by_root.setdefault(node.targets[0].id, []).append(held)


def _undone_by_holder(norms: FileNorms, evals: list[ModeCall], node: ast.Assign, here: ast.AST) -> bool:
    """Every eval of the frozen module by its own name comes before it is handed to the
    holder ``node`` binds, in the same function, and the holder is put in train mode
    (``backbone.eval(); model = nn.Sequential(backbone, head)``, then ``model.train()``
    each epoch): the holder's train() undoes that eval."""
    assert isinstance(node.targets[0], ast.Name)
    holder, tree = node.targets[0].id, norms.frames.unit.tree
    return all(mode.site is None and (norms.frames.kinds.frame_of(mode.call) or tree) is here
               and mode.call.lineno < node.lineno for mode in evals) \
        and any(mode.train and mode.target.partition(".")[0] == holder for mode in norms.modes)


def _kept_by_self(norms: FileNorms, by_root: dict[str, list[Freeze]]) -> None:
    """``encoder = Encoder(cfg); encoder.fine_tune(False); self.encoder = encoder`` in a
    method other than ``__init__`` (read by norm_offers): the freeze is of ``self.encoder``,
    which the class's other methods train."""
    tree = norms.frames.unit.tree
    assert tree is not None and norms.knowledge is not None
    kinds = norms.frames.kinds
    for node in ast.walk(tree):
        # (``self.model = model.to(self.device)``: the module itself)
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(kept := unwrap(node.value), ast.Name)
                and kept.id in by_root and isinstance(target := node.targets[0], ast.Attribute)
                and dotted(target.value) == "self"):
            continue
        method = kinds.frame_of(node)
        if kinds.class_of(node) is None or not isinstance(method, ast.FunctionDef) or method.name == "__init__":
            continue
        root = kept.id
        for freeze in list(by_root[root]):
            if kinds.frame_of(freeze.node) is not method or freeze.node.lineno > node.lineno \
                    or freeze.how not in _FREEZES or norms.frames.exclusive(freeze.node, node) \
                    or rebound(method, root, freeze.node.lineno, node.lineno):
                continue
            held = f"self.{target.attr}" + freeze.target[len(root):]
            if norms.knowledge.has_batchnorm(freeze.target, None, freeze.node) or freeze.target in norms.knowledge.imported_bn:
                norms.knowledge.imported_bn.add(held)
            norms.freezes.append(replace(freeze, target=held, held=((freeze.held or (freeze.target, 0))[0], node.lineno)))


def _spliced_into_self(norms: FileNorms, by_root: dict[str, list[Freeze]]) -> None:
    """``features = mobilenet_v2(...).features`` frozen in a method, then ``self.model =
    nn.Sequential(*list(features.children()), <new layers>)``: the first layers of
    ``self.model`` are the frozen ones, which the class's ``train()`` puts back in train mode."""
    assert norms.knowledge is not None
    kinds = norms.frames.kinds
    for root, freezes in list(by_root.items()):
        for freeze in freezes:
            method = kinds.frame_of(freeze.node)
            if freeze.how not in _FREEZES or kinds.class_of(freeze.node) is None or not isinstance(method, ast.FunctionDef) \
                    or freeze.target != root or (spliced := spliced_in_self(method, root)) is None:
                continue
            holder, line = spliced
            if norms.knowledge.has_batchnorm(freeze.target, None, freeze.node) or freeze.target in norms.knowledge.imported_bn:
                norms.knowledge.imported_bn.add(holder)
                norms.freezes.append(replace(freeze, target=holder, held=(root, line),
                                             part=f"the layers of `{root}` it holds"))


def _handed(holder: str, value: ast.expr, frozen: dict[str, list[Freeze]], tree: ast.Module,
            script: Path) -> list[tuple[str, str]]:
    """(frozen name, the holder's part it becomes) for ``holder = value``; the frozen name is
    dotted where the holder keeps a part of it (``self.base = old_net.base``)."""
    if isinstance(value, ast.Name):
        return [(value.id, holder)] if value.id in frozen and value.id != holder else []
    if isinstance(value, ast.Attribute) and (name := dotted(value)) and name.partition(".")[0] in frozen \
            and name.partition(".")[0] != holder:
        return [(name, holder)]  # ``train_model = model.model``: the part under a name of its own
    if not isinstance(value, ast.Call):
        return []
    if (dotted(value.func) or "").rpartition(".")[2] in _TRANSPARENT and value.args and isinstance(value.args[0], ast.Name):
        return [(value.args[0].id, holder)] if value.args[0].id in frozen else []
    passed = [(index, None, arg) for index, arg in enumerate(value.args)] + [(None, k.arg, k.value) for k in value.keywords]
    if not any(isinstance(arg, ast.Name) and arg.id in frozen for _, _, arg in passed):
        return []
    if (dotted(value.func) or "").rpartition(".")[2] == "Sequential" and not value.keywords \
            and not any(isinstance(arg, ast.Starred) for arg in value.args):
        # model = nn.Sequential(backbone, nn.Linear(512, 10)): the frozen backbone is model[0]
        return [(arg.id, f"{holder}[{index}]") for index, arg in enumerate(value.args)
                if isinstance(arg, ast.Name) and arg.id in frozen and arg.id != holder]
    kept = _kept_parameters(value.func, tree, script)
    if kept is None:
        return []
    params, attributes = kept
    found = []
    for index, keyword, arg in passed:
        parameter = keyword if keyword is not None else params[index] if index is not None and index < len(params) else None
        if isinstance(arg, ast.Name) and arg.id in frozen and parameter in attributes:
            found += [(arg.id + part, f"{holder}.{attribute}") for attribute, part in attributes[parameter]]
    return found


def held_target(frozen: str, handed: str, place: str) -> Optional[str]:
    """What a freeze of ``frozen`` freezes in the holder that keeps ``handed`` as ``place``:
    ``saved_model`` frozen whole, kept as ``model.base = saved_model.base`` -> ``model.base``;
    ``saved_model.g`` frozen -> None (the holder keeps another part)."""
    if frozen == handed or frozen.startswith((handed + ".", handed + "[")):  # (``holder[0]``: a Sequential's part)
        return place + frozen[len(handed):]
    return place if handed.startswith(frozen + ".") else None


def mark_handed_batchnorm(norms: FileNorms, script: Path) -> None:
    """``net = EvalNet(resnet18())`` with a project class keeping the module it is handed
    (``self.encoder = encoder``): ``net`` and ``net.encoder`` hold BatchNorm (an optimiser
    taking only ``net.linear`` then leaves BatchNorm out)."""
    tree = norms.frames.unit.tree
    assert tree is not None and norms.knowledge is not None
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and isinstance(built := unwrap(node.value), ast.Call) and (built.args or built.keywords)
                and isinstance(built.func, (ast.Name, ast.Attribute))):
            continue
        passed = [(index, None, arg) for index, arg in enumerate(built.args)] + [(None, k.arg, k.value) for k in built.keywords]
        if not any(isinstance(unwrap(arg), ast.Call) for _, _, arg in passed):
            continue  # (a name handed on is read by link_holders)
        kept = _kept_parameters(built.func, tree, script)
        if kept is None:
            continue
        params, attributes = kept
        for index, keyword, arg in passed:
            parameter = keyword if keyword is not None else params[index] if index is not None and index < len(params) else None
            if parameter in attributes and isinstance(unwrap(arg), ast.Call) \
                    and norms.knowledge.value_has_batchnorm(arg, "", node):
                name = node.targets[0].id
                norms.knowledge.imported_bn.add(name)
                norms.knowledge.imported_bn.update(f"{name}.{attribute}" for attribute, _ in attributes[parameter])
                norms.knowledge.handed_bn.setdefault(name, set()).update(attribute for attribute, _ in attributes[parameter])


def _kept_parameters(callee: ast.expr, tree: ast.Module,
                     script: Path) -> Optional[tuple[list[str], dict[str, list[tuple[str, str]]]]]:
    """The ``__init__`` parameters (without ``self``) of the project class ``callee`` names,
    and which of them (or which part of them) it keeps as an attribute: ``self.encoder =
    encoder`` -> {"encoder": [("encoder", "")]}, ``self.base = old_net.base`` ->
    {"old_net": [("base", ".base")]}."""
    found = project_class(callee, tree, script, FileIndex(), entry=script)
    init = next((node for node in found.node.body if isinstance(node, ast.FunctionDef) and node.name == "__init__"),
                None) if found is not None else None
    if init is None:
        return None
    params = [a.arg for a in init.args.args][1:]
    attributes: dict[str, list[tuple[str, str]]] = {}
    for node in ast.walk(init):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Attribute) \
                and dotted(node.targets[0].value) == "self":
            kept = dotted(node.value) or ""
            root, _, part = kept.partition(".")
            if root in params:
                attributes.setdefault(root, []).append((node.targets[0].attr, "." + part if part else ""))
    # kept whole: the last attribute keeping it (one holder part), else each part it keeps
    return params, {parameter: [next(k for k in reversed(kept) if not k[1])] if any(not part for _, part in kept) else kept
                    for parameter, kept in attributes.items()}


def _through_unwrapped_aliases(norms: FileNorms, assigns: list[ast.Assign], by_root: dict[str, list[Freeze]]) -> None:
    """``model_without_ddp = model.module`` (or ``= model``), then a freeze of
    ``model_without_ddp.backbone``: the same module, so ``model.backbone`` is frozen and
    ``train_one_epoch(model, ...)`` trains it (the torchvision reference scripts' shape)."""
    kinds = norms.frames.kinds
    for node in assigns:
        alias, value = node.targets[0], node.value
        if isinstance(value, ast.Attribute) and value.attr == "module":
            value = value.value
        if not isinstance(value, ast.Name) or not isinstance(alias, ast.Name) or value.id == alias.id:
            continue
        for freeze in list(by_root.get(alias.id, [])):
            frame = kinds.frame_of(freeze.node)
            if (freeze.how in ("requires_grad", "requires_grad_") and frame is kinds.frame_of(node)
                    and node.lineno < freeze.node.lineno and not rebound(frame or node, alias.id, node.lineno,
                                                                         freeze.node.lineno)
                    and not any(f.node is freeze.node and f.target.partition(".")[0] == value.id
                                for f in by_root.get(value.id, []))):
                target = value.id + freeze.target[len(alias.id):]
                if norms.knowledge is not None and norms.knowledge.has_batchnorm(freeze.target, None, freeze.node):
                    norms.knowledge.imported_bn.add(target)
                moved = replace(freeze, target=target, held=(freeze.target, node.lineno))
                norms.freezes.append(moved)
                by_root.setdefault(value.id, []).append(moved)
