"""Arms of a model choice that crash before they train (GL406): ``if arch == "vgg16":
model = models.vgg16() elif arch == "densenet121": model = models.densenet121()``
followed by ``model.classifier[0].in_features``. DenseNet's ``classifier`` is one
``nn.Linear`` (not subscriptable) and a ResNet has no ``classifier`` at all, so those arms
raise on the line that reads the head; only the arms whose head fits are configurations
that reach training.

Read from torchvision's layouts: the families whose ``classifier`` is an ``nn.Sequential``,
DenseNet's ``nn.Linear`` classifier, and the families with an ``fc`` head."""

from __future__ import annotations

import ast
import re
from typing import Callable, Optional

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
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == root \
                    and node.attr in ("classifier", "fc") and isinstance(node.ctx, ast.Load) \
                    and node.attr not in replaced:
                reads.append((node.attr, _use(node, statement)))
        replaced |= {target.attr for target in getattr(statement, "targets", [])
                     if isinstance(target, ast.Attribute) and dotted(target.value) == root}
    return reads


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


def crashes_before_training(arch: str, reads: list[tuple[str, str]]) -> bool:
    return any(not head_fits(arch, read) for read in reads)


def bn_arms_crash(arms: Optional[list[str]], reads: list[tuple[str, str]]) -> bool:
    """Some of ``arms`` build BatchNorm, and each of those fails on one of ``reads``."""
    with_bn = [arch for arch in arms or [] if TV_BN.match(f"torchvision.models.{arch}")]
    return bool(with_bn) and all(crashes_before_training(arch, reads) for arch in with_bn)


def arms_crash_at(scope: ast.AST, binding: ast.Assign, value: ast.expr, name: str, qualify_name: Qualify,
                  tree: ast.Module) -> bool:
    """Every torchvision architecture with BatchNorm that ``binding`` (in ``scope``) may bind
    ``name``'s root to fails on a read of its head after the binding's statement."""
    reads = setup_head_reads(scope, name.partition(".")[0], top_end(scope, binding))
    return bool(reads) and bn_arms_crash(torchvision_arms(value, qualify_name, tree), reads)


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
    return last is not None and bn_arms_crash(arms, setup_head_reads(function, name, last))


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
