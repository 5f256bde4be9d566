"""Whether a statement runs, read from the flags a call passes: ``def freeze(net, on): if
on: ...`` called as ``freeze(model, True)``, ``freeze(model, flag)`` with ``flag = True``
set once, or with the caller's own parameter (decided where the caller is called)."""

from __future__ import annotations

import ast
import weakref
from typing import Optional, Union

from gradlint.source.chosen_names import option_values
from gradlint.source.names import dotted
from gradlint.source.project_constants import UNKNOWN, constant_attribute, imported_constant
from gradlint.source.call_arguments import argument
from gradlint.source.config_reads import annotated_class, config_path, dict_entry, parameter_default
from gradlint.source.config_values import project_yaml_values

# the names scripts give parsed command-line options (``args = parser.parse_args()``)
_OPTION_HOLDERS = frozenset({"args", "opt", "opts", "options", "flags", "hparams", "cli_args"})
_PARSED: "weakref.WeakKeyDictionary[ast.Module, set[str]]" = weakref.WeakKeyDictionary()


def parsed_names(tree: ast.Module) -> set[str]:
    """Names the file binds to ``parser.parse_args()`` (or ``parse_known_args()[0]``)."""
    found = _PARSED.get(tree)
    if found is None:
        found = _PARSED[tree] = {
            target.id for node in ast.walk(tree)
            if isinstance(node, ast.Assign) and any(isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                                                    and call.func.attr in ("parse_args", "parse_known_args")
                                                    for call in ast.walk(node.value))
            for target in node.targets if isinstance(target, ast.Name)}
    return found


def guard_of(node: ast.AST, function: ast.FunctionDef, parents: dict) -> Optional[str]:
    """The parameter of ``function`` a statement of it runs under as a flag: ``"freeze"``
    under ``if freeze:``, ``"not finetune"`` under ``if not finetune:`` (or in the ``else`` of
    ``if finetune:``, or under ``if finetune is None:``), or None. Other conditions (``if arch == "vgg16":``) are branches the
    call may take, as a freeze under ``if args.freeze:`` in a script is."""
    params = {a.arg for a in function.args.args}
    child = node
    while child in parents and child is not function:
        parent = parents[child]
        # (also an arm of a conditional expression: ``a(x) if not flag else b(x)``)
        if isinstance(parent, ast.If) and (child in parent.body or child in parent.orelse) \
                or isinstance(parent, ast.IfExp) and child is not parent.test:
            test, negated = parent.test, (child in parent.orelse if isinstance(parent, ast.If) else child is parent.orelse)
            if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And) and not negated:
                # ``if freeze and pretrained:`` runs only when ``freeze`` is set (the rest only narrows it)
                test = next((v for v in test.values if isinstance(v, ast.Name) and v.id in params
                             or isinstance(v, ast.UnaryOp) and isinstance(v.op, ast.Not)
                             and isinstance(v.operand, ast.Name) and v.operand.id in params), test)
            if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
                test, negated = test.operand, not negated
            # ``if freeze == True:`` / ``if freeze is False:`` / ``if freeze != True:``
            if (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.comparators[0], ast.Constant)
                    and isinstance(test.comparators[0].value, bool)
                    and isinstance(test.ops[0], (ast.Eq, ast.Is, ast.NotEq, ast.IsNot))):
                negated ^= (test.comparators[0].value is False) ^ isinstance(test.ops[0], (ast.NotEq, ast.IsNot))
                test = test.left
            elif (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Is, ast.IsNot))
                  and isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value is None):
                negated ^= isinstance(test.ops[0], ast.Is)  # ``if n is None:`` runs when nothing (falsy) is given
                test = test.left
            if isinstance(test, ast.Name) and test.id in params:
                return f"not {test.id}" if negated else test.id
        child = parent
    return None


def config_guarded(node: ast.AST, function: ast.FunctionDef, parents: dict) -> bool:
    """``node`` runs only under a test of a setting a parameter of ``function`` carries
    (``if config.encoder.freeze:``, ``if cfg["freeze"]:``, or a name bound once to one:
    ``freeze_base = c.model["freeze_base"]``, ``if freeze_base:``): which way a call's configuration
    sets it is not read here (a YAML file, a config object), so the freeze may well be off."""
    params = {a.arg for a in function.args.args} - {"self", "cls"}
    child = node
    while child in parents and child is not function:
        parent = parents[child]
        if isinstance(parent, ast.If) and child is not parent.test:
            tests = parent.test.values if isinstance(parent.test, ast.BoolOp) else [parent.test]
            for test in tests:
                while isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
                    test = test.operand
                if isinstance(test, ast.Compare) and len(test.ops) == 1:
                    test = test.left  # ``if cfg.freeze == True:``
                if isinstance(test, ast.Name) and test.id not in params:
                    # ``freeze_base = c.model["freeze_base"]`` bound once, then ``if freeze_base:``
                    bound = [assign.value for assign in ast.walk(function) if isinstance(assign, ast.Assign)
                             and any(isinstance(t, ast.Name) and t.id == test.id for t in assign.targets)]
                    test = bound[0] if len(bound) == 1 else test
                root = test
                while isinstance(root, (ast.Attribute, ast.Subscript)):
                    root = root.value
                if root is not test and isinstance(root, ast.Name) and root.id in params:
                    return True
        child = parent
    return False


def guard_flag(function: ast.FunctionDef, guard: str, method: bool = False) -> tuple[int, str, Optional[bool]]:
    """The guard's parameter position in a call's arguments (one place earlier for a
    ``method``: its call passes no self), the guard (``"not finetune"``) and the parameter's
    default."""
    index, default = parameter_default(function, guard_name(guard)[0])
    return index - method, guard, bool(default.value) if isinstance(default, ast.Constant) else None


def guard_name(guard: str) -> tuple[str, bool]:
    """``"not finetune"`` -> ``("finetune", True)``: the parameter and whether the guarded
    statement runs when it is false."""
    return (guard[len("not "):], True) if guard.startswith("not ") else (guard, False)


def guarded(value: Union[None, bool, str], negated: bool) -> Union[None, bool, str]:
    """Whether a statement guarded by a parameter runs, given the parameter's value (a
    caller's parameter name passed on keeps the negation: ``"not freeze"``)."""
    if not negated or value is None:
        return value
    if isinstance(value, bool):
        return not value
    name, already = guard_name(value)
    return name if already else f"not {value}"


def guard_at(call: ast.Call, guard: tuple[int, str, Optional[bool]], caller: Optional[ast.AST],
             tree: ast.Module) -> Union[None, bool, str]:
    """Whether a statement guarded by ``guard`` (the parameter's position, the guard as
    :func:`guard_of` writes it, the parameter's default) runs for ``call``: True/False, the
    caller's own parameter that decides it (``"not freeze"``), or None (unknown)."""
    index, name, default = guard
    parameter, negated = guard_name(name)
    passed = argument(call, index, parameter)
    return guarded(default if passed is None else flag_value(passed, caller, tree), negated)


def flag_at(call: ast.Call, function: ast.FunctionDef, parameter: str, caller: Optional[ast.AST],
            tree: ast.Module) -> Union[None, bool, str]:
    """The value ``call`` gives ``function``'s ``parameter``: see :func:`flag_value`."""
    index, default = parameter_default(function, parameter)
    passed = argument(call, index, parameter)
    return flag_value(default if passed is None else passed, caller, tree)


def flag_value(passed: Optional[ast.expr], caller: Optional[ast.AST], tree: ast.Module) -> Union[None, bool, str]:
    """True/False when ``passed`` is a constant or a name the caller (else the module) sets
    once to one; the caller's own parameter name when it passes that on; a command-line
    option's default (``args.freeze`` with ``add_argument("--freeze", action="store_true")``);
    a configuration class's attribute or a module's constant (``Config.encoder_finetune``);
    the default of a configuration read (``cfg.get("train_cnn", False)``); else None (unknown)."""
    if isinstance(passed, ast.Call) and dotted(passed.func) == "bool" and len(passed.args) == 1:
        passed = passed.args[0]
    if isinstance(passed, ast.UnaryOp) and isinstance(passed.op, ast.Not):  # freeze = not args.no_freeze
        return guarded(flag_value(passed.operand, caller, tree), True)
    if isinstance(passed, ast.Constant):
        return bool(passed.value)
    if (isinstance(passed, ast.Compare) and len(passed.ops) == 1 and isinstance(passed.ops[0], (ast.Eq, ast.NotEq))
            and isinstance(option := passed.left, ast.Attribute) and isinstance(option.value, ast.Name)
            and isinstance(wanted := passed.comparators[0], ast.Constant) and isinstance(wanted.value, str)
            and (option.value.id in _OPTION_HOLDERS or option.value.id in parsed_names(tree))):
        # freeze = (args.strategy == "frozen"), with ``--strategy`` defaulting to "frozen"
        default = option_values(tree).get(option.attr, UNKNOWN)
        if not isinstance(default, str):
            return None
        return (default == wanted.value) == isinstance(passed.ops[0], ast.Eq)
    if (isinstance(passed, ast.Call) and isinstance(passed.func, ast.Attribute) and passed.func.attr == "get"
            and len(passed.args) == 2 and isinstance(passed.args[1], ast.Constant)):
        key = passed.args[0]
        loaded = configured(config_path(passed, caller), tree) if isinstance(key, ast.Constant) \
            and isinstance(key.value, str) else UNKNOWN  # ``freeze_encoder: true`` in the project's config.yaml
        # cfg.get("train_cnn", False): a configuration's default, like an option's
        return bool(passed.args[1].value if loaded is UNKNOWN else loaded)
    if (isinstance(passed, ast.Subscript) and isinstance(passed.value, (ast.Subscript, ast.Attribute))
            and isinstance(passed.slice, ast.Constant) and isinstance(passed.slice.value, str)):
        loaded = configured(config_path(passed, caller), tree)  # cfg["model"]["freeze_encoder"]
        return None if loaded is UNKNOWN else bool(loaded)
    if (isinstance(passed, ast.Subscript) and isinstance(passed.value, ast.Name) and isinstance(passed.slice, ast.Constant)
            and isinstance(passed.slice.value, str)):  # args["fine_tune"] with args = vars(parser.parse_args())
        value = option_values(tree).get(passed.slice.value, UNKNOWN)
        holder = passed.value.id
        if value is not UNKNOWN and (holder in _OPTION_HOLDERS or holder in parsed_names(tree)):
            return bool(value)
        # config["train_cnn"] with ``config = {..., "train_cnn": False}`` (or a function of the file returning it)
        entry = dict_entry(holder, passed.slice.value, caller, tree)
        if entry is UNKNOWN:
            entry = configured(config_path(passed, caller), tree)  # mcfg["freeze_encoder"], mcfg = cfg["model"]
        return None if entry is UNKNOWN else bool(entry)
    if isinstance(passed, ast.Attribute) and isinstance(passed.value, ast.Name):
        value = option_values(tree).get(passed.attr, UNKNOWN)
        holder = passed.value.id
        if value is not UNKNOWN and (holder in _OPTION_HOLDERS or holder in parsed_names(tree)):
            return bool(value)
        constant = constant_attribute(tree, holder, passed.attr)  # Config.encoder_finetune = False
        if constant is UNKNOWN and (typed := annotated_class(caller, holder)) is not None:
            # ``def train(config: TrainingConfig)``, a dataclass with ``freeze_backbone: bool = True``
            constant = constant_attribute(tree, typed, passed.attr)
        return None if constant is UNKNOWN else bool(constant)
    if not isinstance(passed, ast.Name):
        return None
    if isinstance(caller, (ast.FunctionDef, ast.AsyncFunctionDef)) and passed.id in {a.arg for a in caller.args.args}:
        return passed.id
    for scope in ([caller] if caller is not None else []) + [tree]:
        values = [node.value for node in ast.walk(scope) if isinstance(node, ast.Assign)
                  and any(isinstance(t, ast.Name) and t.id == passed.id for t in node.targets)]
        if values:
            if len(values) == 1 and (isinstance(values[0], ast.UnaryOp) and isinstance(values[0].op, ast.Not)
                                     or isinstance(values[0], ast.Compare)):
                return flag_value(values[0], None, tree)  # freeze = not args.no_freeze (or args.strategy == "frozen"), set once
            if len(values) == 1 and config_path(values[0], None):  # do_freeze = fb_cfg.get("enabled", False), set once
                return flag_value(values[0], scope if scope is not tree else None, tree)
            if len(values) == 1 and (shown := widget_default(values[0])) is not None:
                return shown  # fine_tune = st.sidebar.checkbox("Fine-tune everything", value=False)
            return bool(values[0].value) if len(values) == 1 and isinstance(values[0], ast.Constant) else None
    imported = imported_constant(tree, passed.id)  # ``from config import *`` with ``FREEZE_ENCODER = True`` there
    return None if imported is UNKNOWN else bool(imported)


def widget_default(value: ast.expr) -> Optional[bool]:
    """The state a Streamlit checkbox or toggle starts in (``st.sidebar.checkbox(label,
    value=False)``), as an option's default is read: the run a user starts without ticking it."""
    name = dotted(value.func) if isinstance(value, ast.Call) else None
    if not isinstance(value, ast.Call) or not name or name.split(".")[0] not in ("st", "streamlit") \
            or name.rsplit(".", 1)[-1] not in ("checkbox", "toggle"):
        return None
    given = next((k.value for k in value.keywords if k.arg == "value"), value.args[1] if len(value.args) > 1 else None)
    if given is None:
        return False
    return bool(given.value) if isinstance(given, ast.Constant) else None


def configured(key: tuple[str, ...], tree: ast.Module) -> object:
    """A freezing switch as the project's YAML files set it: on where any of them turns it on
    (``mlp_frozen.yaml`` of a sweep: that run freezes), off where all turn it off, else UNKNOWN."""
    values = project_yaml_values(key, tree)
    return True if any(v is True for v in values) else False if values and all(v is False for v in values) else UNKNOWN
