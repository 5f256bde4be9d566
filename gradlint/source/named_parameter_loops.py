"""Freezes by parameter name (GL406): ``for name, p in model.named_parameters(): if "fc" not
in name: p.requires_grad = False``, read by :mod:`gradlint.source.name_filters` on the names
of common backbones, and the parts such a loop makes trainable again by name. A part of the
file's collector (:mod:`gradlint.source.frozen_norms`), which holds the facts."""

from __future__ import annotations

import ast
from typing import Optional

from gradlint.source.frames import FileFrames
from gradlint.source.freeze_facts import FileNorms, Freeze
from gradlint.source.freeze_forms import requires_grad_flag, requires_grad_value
from gradlint.source.function_values import own_nodes
from gradlint.source.method_freezes import flag_requires_grad
from gradlint.source.name_filters import frozen_by_name, frozen_parts_by_name
from gradlint.source.named_part_freezes import listed_names, listing_tested
from gradlint.source.names import dotted
from gradlint.source.string_lists import string_lists, test_lists, with_lists


class NamedParameterLoops:
    """The collector's reading of ``named_parameters()`` loops."""

    norms: FileNorms
    frames: FileFrames

    def _unfreeze(self, target: str, node: ast.AST) -> None:
        self.norms.unfreeze(target, node)

    def _named_parameter_loop(self, loop: ast.For | ast.AsyncFor, owner: str) -> None:
        """``for name, p in model.named_parameters(): if "fc" not in name: p.requires_grad = False``:
        the backbone is frozen when the test on ``name`` freezes its stem (see :mod:`name_filters`)."""
        target = loop.target
        if not (isinstance(target, ast.Tuple) and len(target.elts) == 2
                and all(isinstance(e, ast.Name) for e in target.elts)):
            return
        name, var = (e.id for e in target.elts if isinstance(e, ast.Name))
        heads: Optional[list[str]] = None
        skip: Optional[ast.expr] = None  # ``if name.startswith("fc"): continue`` (or ``break``) before the freeze
        stops = False  # ``break``: the parameters after the first the test spares are left alone too
        reopened = False  # every parameter set again, some trainable, by a test this cannot read
        guard: Optional[str] = None  # ``params.requires_grad = b``, ``b`` the function's parameter
        part_tests: list[ast.expr] = []  # ``if name[0:6] == "layer1": p.requires_grad = False``, test by test
        for stmt in loop.body:
            value = self._decided(stmt, var, loop)
            if value is None and (flag := requires_grad_flag(stmt, var)) is not None \
                    and isinstance(decided := flag_requires_grad(self.norms, loop, *flag), str):
                value, guard = False, decided  # a freeze where the caller passes False (``self._req_grad(False)``)
            if value is False:
                heads = frozen_by_name(skip, name, False, stops) if skip is not None else []
            elif (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Attribute)
                  and stmt.targets[0].attr == "requires_grad" and dotted(stmt.targets[0].value) == var):
                # p.requires_grad = "fc" in name (or ``in trainable``, a tuple the function is given by default)
                heads = frozen_by_name(with_lists(stmt.value, test_lists(stmt.value, loop, self.frames.parents)), name, False)
            elif isinstance(stmt, ast.If):
                inside = {self._decided(s, var, loop) for s in stmt.body}
                otherwise = {self._decided(s, var, loop) for s in stmt.orelse}
                if guard is None and None in inside | otherwise:
                    # ``if "fc" in name: p.requires_grad = True else: p.requires_grad = train_cnn``, a
                    # parameter of the function: frozen where its callers pass False (its default)
                    for arm, values in ((stmt.body, inside), (stmt.orelse, otherwise)):
                        for sub in arm:
                            if (flag := requires_grad_flag(sub, var)) is not None \
                                    and isinstance(decided := flag_requires_grad(self.norms, loop, *flag), str):
                                values.discard(None)
                                values.add(False)
                                guard = decided
                # (``if name.find("fc") != -1: break``: the head's parameters come last, after the stem's)
                if any(isinstance(s, (ast.Continue, ast.Break)) for s in stmt.body):
                    skip, stops = stmt.test, any(isinstance(s, ast.Break) for s in stmt.body)
                elif False in inside or False in otherwise:  # (a module's tuple of prefixes read as written)
                    condition = _without_trainable_test(stmt.test, var)
                    tested = with_lists(condition, {**_derived_names(loop, stmt, name),
                                                    **test_lists(condition, loop, self.frames.parents)})
                    heads = frozen_by_name(tested, name, False in inside)
                    if heads is None and False in inside and (True not in inside | otherwise or otherwise == {True}):
                        part_tests.append(tested)  # (``else: p.requires_grad = True``: the rest is trainable)
                # both arms decide: the loop sets every parameter again, some trainable
                reopened = reopened or {True, False} <= inside | otherwise
                if True in inside and False not in inside and not stmt.orelse:  # if any(n in name for n in ["layer4", "fc"]): ... True
                    self._unfrozen_by_name(loop, owner, stmt.test, name)
            elif (isinstance(stmt, ast.For) and isinstance(stmt.target, ast.Name) and len(stmt.body) == 1
                  and isinstance(test := stmt.body[0], ast.If) and not test.orelse
                  and {self._decided(s, var, loop) for s in test.body} == {True}):
                # for layer in ["layer3", "layer4"]: if layer in name: p.requires_grad = True
                each = ast.GeneratorExp(test.test, [ast.comprehension(stmt.target, stmt.iter, [], 0)])
                self._unfrozen_by_name(loop, owner, ast.Call(ast.Name("any", ast.Load()), [each], []), name)
            if heads is not None:
                break
        if heads is None:
            if reopened:  # ``if split_name in ["0", "1"]: ...False else: ...True``: an earlier freeze ends here
                self._unfreeze(owner, loop)  # (and the parts the test names are frozen from here on)
            if part_tests and (parts := frozen_parts_by_name(part_tests, name)) is not None:
                shown = ", ".join(f"`{part}`" for part in parts)
                self.norms.freezes.append(Freeze(owner, "requires_grad", loop, part=f"the parameters of its {shown}"))
            return
        self.norms.freezes.append(Freeze(owner, "requires_grad", loop, guard=guard))
        for head in heads:
            self._unfreeze(f"{owner}.{head}", loop)

    def _selected_parameter_loop(self, loop: ast.For | ast.AsyncFor, selected: str) -> None:
        """``backbone_params = [p for n, p in m.named_parameters() if not n.startswith("fc.")]``
        (in each arm of an ``if`` chain, or once), then ``for p in backbone_params:
        p.requires_grad = False``: the freeze of ``m`` that test makes, read as a loop over
        ``m.named_parameters()`` is (see :mod:`name_filters`)."""
        assert isinstance(loop.target, ast.Name)
        var = loop.target.id
        if not any(self._decided(stmt, var, loop) is False for stmt in loop.body):
            return
        frame = self.frames.kinds.frame_of(loop) or self.frames.unit.tree
        assert frame is not None
        heads: dict[str, list[str]] = {}
        for node in own_nodes(frame):  # (not the functions and classes it defines)
            if _grows(node, selected):
                return  # a list grown elsewhere: what it holds is unknown
            if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                    and node.targets[0].id == selected and node.lineno < loop.lineno):
                continue
            chosen = _chosen_by_name(node.value)
            if chosen is None:
                return  # a list this reading does not follow: the frozen part is unknown
            owner, test, name = chosen
            spared = frozen_by_name(with_lists(test, test_lists(test, loop, self.frames.parents)), name, True)
            if spared is None:
                return  # one arm's test it cannot read: the frozen part is unknown
            heads.setdefault(owner, []).extend(spared)
        for owner, spared in heads.items():
            self.norms.freezes.append(Freeze(owner, "requires_grad", loop))
            for head in dict.fromkeys(spared):
                self._unfreeze(f"{owner}.{head}", loop)

    def _unfrozen_by_name(self, loop: ast.For | ast.AsyncFor, owner: str, test: ast.expr, name: str) -> None:
        """The parts a test on the parameter name makes trainable: those of a literal list
        (or a name bound to one), or, in a helper, those its callers list."""
        listing = listing_tested(test, name)
        names = listed_names(listing, string_lists(loop, self.frames.parents)) if listing is not None else None
        for part in names or ():
            self._unfreeze(f"{owner}.{part}", loop)
        helper = self.frames.kinds.frame_of(loop)
        if (names is None and isinstance(listing, ast.Name) and isinstance(helper, ast.FunctionDef)
                and listing.id in {a.arg for a in helper.args.args}):
            self.norms.unfrozen_by_parameter.append((loop, owner, listing.id))

    def _decided(self, stmt: ast.stmt, var: str, loop: ast.AST) -> Optional[bool]:
        """``p.requires_grad = False`` -> False; ``p.requires_grad = train_cnn`` with a
        flag the file fixes (``train_cnn = False``) -> that value; else None."""
        value = requires_grad_value(stmt, var)
        flag = requires_grad_flag(stmt, var) if value is None else None
        if flag is not None:
            decided = flag_requires_grad(self.norms, loop, *flag)
            return decided if isinstance(decided, bool) else None
        return value


def _derived_names(loop: ast.For | ast.AsyncFor, before: ast.stmt, name: str) -> dict[str, ast.expr]:
    """The names the loop's body binds, before ``before``, to an expression of the parameter
    name (the last such binding of each): ``split_name = name.split(".")[0]`` -> that
    expression, so that a test on ``split_name`` reads as one on ``name``."""
    derived: dict[str, ast.expr] = {}
    for stmt in loop.body:
        if stmt is before:
            break
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) \
                and any(isinstance(node, ast.Name) and node.id == name for node in ast.walk(stmt.value)):
            derived[stmt.targets[0].id] = stmt.value
    return derived


def _chosen_by_name(value: ast.expr) -> Optional[tuple[str, ast.expr, str]]:
    """``[p for n, p in m.named_parameters() if <test on n>]`` -> ``("m", test, "n")``."""
    if not (isinstance(value, ast.ListComp) and len(value.generators) == 1):
        return None
    generator = value.generators[0]
    target, it = generator.target, generator.iter
    if not (isinstance(target, ast.Tuple) and len(target.elts) == 2
            and isinstance(name := target.elts[0], ast.Name) and isinstance(kept := target.elts[1], ast.Name)
            and isinstance(value.elt, ast.Name) and value.elt.id == kept.id
            and len(generator.ifs) == 1 and not generator.is_async
            and isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and it.func.attr == "named_parameters"):
        return None
    owner = dotted(it.func.value)
    return (owner, generator.ifs[0], name.id) if owner else None


def _without_trainable_test(test: ast.expr, var: str) -> ast.expr:
    """``p.requires_grad and "head" not in name`` -> ``"head" not in name``: freezing only what
    is trainable yet freezes the same parameters of a model nothing froze before."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        kept = [value for value in test.values
                if not (isinstance(value, ast.Attribute) and value.attr == "requires_grad" and dotted(value.value) == var)]
        if kept and len(kept) < len(test.values):
            return kept[0] if len(kept) == 1 else ast.copy_location(ast.BoolOp(ast.And(), kept), test)
    return test


def listed_parameters(frames: FileFrames, loop: ast.For | ast.AsyncFor, listed: str) -> Optional[ast.Call]:
    """``model.parameters()`` for a loop over ``parameters`` bound once before it, in its
    function, to ``list(model.parameters())`` (or the bare call, or ``tuple(...)``) and never
    grown: ``parameters = list(model.parameters()); for p in parameters: p.requires_grad = flag``."""
    frame = frames.kinds.frame_of(loop) or frames.unit.tree
    assert frame is not None
    values = []
    for node in own_nodes(frame):
        if _grows(node, listed):
            return None  # a list grown elsewhere: what it holds is unknown
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == listed for t in node.targets):
            values.append(node)
    if len(values) != 1 or values[0].lineno > loop.lineno:
        return None
    value = values[0].value
    if isinstance(value, ast.Call) and dotted(value.func) in ("list", "tuple") and len(value.args) == 1:
        value = value.args[0]
    return value if (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
                     and value.func.attr == "parameters" and not value.args and dotted(value.func.value)) else None


def _grows(node: ast.AST, listed: str) -> bool:
    """``node`` adds to the list ``listed`` (``+=``, ``append``, ``extend``, ``insert``)."""
    return (isinstance(node, ast.AugAssign) and dotted(node.target) == listed
            or isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("append", "extend", "insert") and dotted(node.func.value) == listed)
