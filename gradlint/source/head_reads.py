"""Arms of a model choice that crash before they train (GL406): ``if arch == "vgg16":
model = models.vgg16() elif arch == "densenet121": model = models.densenet121()``
followed by ``model.classifier[0].in_features``. DenseNet's ``classifier`` is one
``nn.Linear`` (not subscriptable) and a ResNet has no ``classifier`` at all, so those arms
raise on the line that reads the head; only the arms whose head fits are configurations
that reach training.

Read from torchvision's layouts: the families whose ``classifier`` is an ``nn.Sequential``,
DenseNet's ``nn.Linear`` classifier, and the families with an ``fc`` head. Also the arms
whose new head takes another number of features than the architecture gives it (a
DenseNet-121 given VGG's ``nn.Linear(25088, ...)`` classifier fails on its first batch)."""

from __future__ import annotations

import ast
import re
from typing import AbstractSet, Callable, Optional, Sequence

from gradlint.source.freeze_forms import requires_grad_value
from gradlint.source.function_values import own_nodes
from gradlint.source.model_factories import returned_values
from gradlint.source.bn_builders import TV_BN
from gradlint.source.names import collect_aliases, dotted, qualify
from gradlint.source.reaching_bindings import unwrap

_SEQUENTIAL_CLASSIFIER = re.compile(r"^(alexnet|vgg\d+(_bn)?|squeezenet\w+|mobilenet_v[23]\w*|efficientnet_\w+|"
                                    r"mnasnet\w+|convnext_\w+|maxvit_t)$")
_LINEAR_CLASSIFIER = re.compile(r"^densenet\d+$")
_FC = re.compile(r"^(resnet\d+|resnext\w+|wide_resnet\w+|inception_v3|googlenet|shufflenet_v2\w*|regnet_\w+)$")
_TORCHVISION = re.compile(r"^torchvision\.models\.(?:\w+\.)?(\w+)$")
_LINEAR_ATTRIBUTES = ("in_features", "out_features", "weight", "bias")

Qualify = Callable[[ast.expr], Optional[str]]


def head_fits(arch: str, read: tuple[str, str]) -> bool:
    """Whether torchvision's ``arch`` survives ``read``: ("classifier", "[]") for
    ``model.classifier[0]``, ("classifier", "in_features"), ("fc", ""), ... An
    architecture outside the known families fits every read."""
    head, use = read
    families = (_SEQUENTIAL_CLASSIFIER, _LINEAR_CLASSIFIER, _FC)
    if not any(family.match(arch) for family in families):
        return True
    if head == "fc":
        return bool(_FC.match(arch)) and use != "[]"
    if use == "[]":
        return bool(_SEQUENTIAL_CLASSIFIER.match(arch))
    if use in _LINEAR_ATTRIBUTES:
        return bool(_LINEAR_CLASSIFIER.match(arch))
    return not _FC.match(arch)


def setup_head_reads(scope: ast.AST, root: str, bound_at: int) -> list[tuple[str, str]]:
    """The reads of ``root``'s ``classifier``/``fc`` head in the plain statements of
    ``scope``'s own body after line ``bound_at`` and before a loop that trains, which run
    whatever the model is, before a head assigned there replaces it."""
    body = getattr(scope, "body", [])
    reads: list[tuple[str, str]] = []
    replaced: set[str] = set()
    for statement in body:
        if statement.lineno <= bound_at:
            continue
        if isinstance(statement, (ast.For, ast.AsyncFor, ast.While, ast.If, ast.Try, ast.With, ast.FunctionDef,
                                  ast.ClassDef, ast.Return)):
            if isinstance(statement, (ast.For, ast.AsyncFor, ast.While)) and _steps(statement):
                break  # the training loop: reads after it come once it has trained
            continue
        for node in own_nodes(statement):
            if isinstance(node, ast.Attribute) and dotted(node.value) == root \
                    and node.attr in ("classifier", "fc") and isinstance(node.ctx, ast.Load) \
                    and node.attr not in replaced:
                reads.append((node.attr, _use(node, statement)))
        replaced |= {target.attr for target in getattr(statement, "targets", [])
                     if isinstance(target, ast.Attribute) and dotted(target.value) == root}
    return reads


# the features torchvision's architectures hand their head (``classifier`` or ``fc``): a new
# head whose first ``nn.Linear`` takes another number fails on the first batch
_HEAD_INPUTS = {
    **{f"vgg{n}{bn}": ("classifier", 25088) for n in (11, 13, 16, 19) for bn in ("", "_bn")},
    "alexnet": ("classifier", 9216), "densenet121": ("classifier", 1024), "densenet161": ("classifier", 2208),
    "densenet169": ("classifier", 1664), "densenet201": ("classifier", 1920),
    "resnet18": ("fc", 512), "resnet34": ("fc", 512), "resnet50": ("fc", 2048), "resnet101": ("fc", 2048),
    "resnet152": ("fc", 2048), "resnext50_32x4d": ("fc", 2048), "resnext101_32x8d": ("fc", 2048),
    "wide_resnet50_2": ("fc", 2048), "wide_resnet101_2": ("fc", 2048), "inception_v3": ("fc", 2048),
    "googlenet": ("fc", 1024),
}


def setup_head_inputs(scope: ast.AST, root: str, bound_at: int) -> list[tuple[str, int]]:
    """The heads ``root`` is given in the plain statements of ``scope``'s own body after
    line ``bound_at`` and before a loop that trains, with the number of features their
    first ``nn.Linear`` takes when it is a literal: ``model.classifier =
    nn.Sequential(OrderedDict([("1", nn.Linear(25088, 2048)), ...]))`` -> ("classifier", 25088)."""
    found: list[tuple[str, int]] = []
    for statement in getattr(scope, "body", []):
        if statement.lineno <= bound_at:
            continue
        if isinstance(statement, (ast.For, ast.AsyncFor, ast.While)) and _steps(statement):
            break
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
                and isinstance(target := statement.targets[0], ast.Attribute) and dotted(target.value) == root \
                and target.attr in ("classifier", "fc") and (features := _first_linear_input(statement.value)):
            found.append((target.attr, features))
    return found


def heads_given_frozen(scope: ast.AST, root: str, bound_at: int) -> set[str]:
    """The heads (``classifier``/``fc``) ``root`` is given in the plain statements of
    ``scope``'s own body after line ``bound_at``, once all its parameters are frozen there
    (``for p in model.parameters(): p.requires_grad = False``) and before a loop that
    trains. A ResNet given a ``classifier`` this way never calls it: nothing its loss
    depends on needs a gradient, and ``backward()`` fails on the first batch."""
    given: set[str] = set()
    frozen = False
    for statement in getattr(scope, "body", []):
        if statement.lineno <= bound_at:
            continue
        if isinstance(statement, (ast.For, ast.AsyncFor, ast.While)) and _steps(statement):
            break
        frozen = frozen or _freezes_all(statement, root)
        if frozen and isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
                and isinstance(target := statement.targets[0], ast.Attribute) and dotted(target.value) == root \
                and target.attr in ("classifier", "fc"):
            given.add(target.attr)
    return given


def _freezes_all(statement: ast.stmt, root: str) -> bool:
    """``for p in root.parameters(): p.requires_grad = False`` or ``root.requires_grad_(False)``."""
    if isinstance(statement, ast.For) and isinstance(statement.iter, ast.Call) \
            and dotted(statement.iter.func) == f"{root}.parameters" and isinstance(statement.target, ast.Name):
        return any(requires_grad_value(inner, statement.target.id) is False for inner in statement.body)
    return requires_grad_value(statement, root) is False


def _first_linear_input(value: ast.expr) -> Optional[int]:
    """The literal ``in_features`` of the first ``nn.Linear`` a head is or starts with."""
    while isinstance(value, ast.Call):
        name = (dotted(value.func) or "").rsplit(".", 1)[-1]
        if name == "Linear":
            first = value.args[0] if value.args else next((k.value for k in value.keywords if k.arg == "in_features"), None)
            return first.value if isinstance(first, ast.Constant) and type(first.value) is int else None
        if name == "Sequential" and value.args:
            value = value.args[0]
        elif name == "OrderedDict" and value.args and isinstance(pairs := value.args[0], (ast.List, ast.Tuple)) \
                and pairs.elts and isinstance(pair := pairs.elts[0], ast.Tuple) and len(pair.elts) == 2:
            value = pair.elts[1]
        else:
            return None
    return None


def _own_head(arch: str) -> Optional[str]:
    if _FC.match(arch):
        return "fc"
    return "classifier" if _SEQUENTIAL_CLASSIFIER.match(arch) or _LINEAR_CLASSIFIER.match(arch) else None


def head_input_fits(arch: str, given: tuple[str, int]) -> bool:
    """Whether torchvision's ``arch`` runs with the head ``given`` (an architecture or head
    outside the table fits)."""
    known = _HEAD_INPUTS.get(arch)
    return known is None or known[0] != given[0] or known[1] == given[1]


def _steps(loop: ast.stmt) -> bool:
    return any(isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
               and node.func.attr in ("backward", "step") for node in ast.walk(loop))


def _use(head: ast.Attribute, statement: ast.stmt) -> str:
    for node in ast.walk(statement):
        if isinstance(node, ast.Subscript) and node.value is head:
            return "[]"
        if isinstance(node, ast.Attribute) and node.value is head:
            return node.attr
    return ""


def torchvision_arms(value: ast.expr, qualify: Qualify, tree: ast.Module) -> Optional[list[str]]:
    """The torchvision architectures ``value`` builds: one for ``models.densenet121()``, each
    returned one for a call of a module-level function of the file returning them; None
    when anything else may be built."""
    value = unwrap(value)
    if isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name):
        return _table_arms(value.value.id, qualify, tree)  # models[arch], a module-level table of models
    if not isinstance(value, ast.Call):
        return None
    found = _TORCHVISION.match(qualify(value.func) or "")
    if found:
        return [found.group(1)]
    name = dotted(value.func)
    function = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name), None)
    if function is None:
        return None
    arms: list[str] = []
    for returned in returned_values(function):
        if not isinstance(returned, ast.Call) or not (found := _TORCHVISION.match(qualify(returned.func) or "")):
            return None
        arms.append(found.group(1))
    return arms or None


def _table_arms(table: str, qualify: Qualify, tree: ast.Module) -> Optional[list[str]]:
    """The torchvision architectures of ``models = {"resnet": resnet18, "vgg": vgg16}`` (each
    entry built there, or a module-level name bound once to its build); None when an entry
    is anything else."""
    def bound(name: str) -> list[ast.expr]:
        return [node.value for node in tree.body if isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name) and node.targets[0].id == name]

    tables = bound(table)
    if len(tables) != 1 or not isinstance(tables[0], ast.Dict) or not tables[0].values:
        return None
    arms: list[str] = []
    for entry in tables[0].values:
        built = bound(entry.id) if isinstance(entry, ast.Name) else [entry]
        if len(built) != 1 or not isinstance(call := unwrap(built[0]), ast.Call) \
                or not (found := _TORCHVISION.match(qualify(call.func) or "")):
            return None
        arms.append(found.group(1))
    return arms


def crashes_before_training(arch: str, reads: list[tuple[str, str]], inputs: Sequence[tuple[str, int]] = (),
                            frozen_heads: AbstractSet[str] = frozenset()) -> bool:
    own = _own_head(arch)
    return any(not head_fits(arch, read) for read in reads) or any(not head_input_fits(arch, given) for given in inputs) \
        or (bool(frozen_heads) and own is not None and own not in frozen_heads)


def bn_arms_crash(arms: Optional[list[str]], reads: list[tuple[str, str]],
                  inputs: Sequence[tuple[str, int]] = (), frozen_heads: AbstractSet[str] = frozenset()) -> bool:
    """Some of ``arms`` build BatchNorm, and each of those fails on one of ``reads``, on
    the first batch through one of the heads ``inputs`` gives it, or on its first
    ``backward()`` when the only heads given after freezing it are ones it never calls."""
    with_bn = [arch for arch in arms or [] if TV_BN.match(f"torchvision.models.{arch}")]
    return bool(with_bn) and all(crashes_before_training(arch, reads, inputs, frozen_heads) for arch in with_bn)


def arms_crash_at(scope: ast.AST, binding: ast.Assign, value: ast.expr, name: str, qualify_name: Qualify,
                  tree: ast.Module) -> bool:
    """Every torchvision architecture with BatchNorm that ``binding`` (in ``scope``) may bind
    ``name``'s root to fails on a read of its head after the binding's statement, or on the
    first batch through the head given to it there."""
    # the bound name itself (``self._model``) is the root the head reads start from
    bound = dotted(binding.targets[0]) if len(binding.targets) == 1 else None
    root = bound if bound and (name == bound or name.startswith(bound + ".")) else name.partition(".")[0]
    end = top_end(scope, binding)
    reads, inputs = setup_head_reads(scope, root, end), setup_head_inputs(scope, root, end)
    heads = heads_given_frozen(scope, root, end)
    return bool(reads or inputs or heads) \
        and bn_arms_crash(torchvision_arms(value, qualify_name, tree), reads, inputs, heads)


def builder_bn_arms_crash(function: ast.FunctionDef, tree: ast.Module) -> bool:
    """``function`` (of ``tree``) returns a model it binds to torchvision architectures
    (``return model`` or ``return model, criterion``), and each architecture with BatchNorm
    fails on a head read after the binding: ``setup_network("densenet121")`` never trains."""
    aliases = collect_aliases(tree)
    returned = {_first_name(node.value) for node in own_nodes(function) if isinstance(node, ast.Return)}
    name = returned.pop() if len(returned) == 1 else None
    if name is None:
        return False
    # (``model = model.to(device)`` keeps the model it was)
    bindings = [node for node in own_nodes(function) if isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name) and node.targets[0].id == name
                and (dotted(node.value.func) if isinstance(node.value, ast.Call) else None) not in _same_model(name)]
    arms: list[str] = []
    for binding in bindings:
        built = torchvision_arms(binding.value, lambda node: qualify(node, aliases), tree)
        if built is None:
            return False
        arms += built
    last = max((top_end(function, binding) for binding in bindings), default=None)
    return last is not None and bn_arms_crash(arms, setup_head_reads(function, name, last),
                                              setup_head_inputs(function, name, last),
                                              heads_given_frozen(function, name, last))


def _same_model(name: str) -> set[str]:
    return {f"{name}.{method}" for method in ("to", "cuda", "cpu", "float", "half", "double", "train")}


def _first_name(value: Optional[ast.expr]) -> Optional[str]:
    if isinstance(value, ast.Tuple) and value.elts:
        value = value.elts[0]
    return value.id if isinstance(value, ast.Name) else None


def top_end(scope: ast.AST, node: ast.AST) -> int:
    """The last line of the statement of ``scope``'s own body holding ``node`` (the whole
    ``if`` chain of an arm's binding)."""
    for statement in getattr(scope, "body", []):
        if statement.lineno <= getattr(node, "lineno", 0) <= (statement.end_lineno or statement.lineno):
            return statement.end_lineno or statement.lineno
    return getattr(node, "lineno", 0)
