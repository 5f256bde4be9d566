"""Two measurements preflight takes on the user's real objects besides the probe:

- GL406: a module whose parameters are all frozen (``requires_grad`` off, or outside the
  optimiser) whose BatchNorm layers the user left in train mode, and whose running
  statistics the probe batch changed. Read between the probe and the restore (the
  buffers are put back bit for bit by :class:`~gradlint.inprocess.state.SavedState`).
- GL215: the model's output is the result of a softmax/sigmoid (its ``grad_fn``) and the
  loss applies that activation again (log-softmax of probabilities, NLL of
  probabilities, BCE-with-logits of a sigmoid: the node of the loss's graph that takes
  the output). The gradient norm at the pre-activation logits is measured with the
  user's loss on the activation's output and on the logits themselves (log-softmax of
  them for NLL); the ratio goes to the rule's ``confirm()``.

The facts are :mod:`gradlint.inprocess.slips`; each rule words and decides its own
finding in its ``measured`` hook.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import torch
from torch import nn

from gradlint.apply import measured_finding
from gradlint.findings import Finding
from gradlint.inprocess.slips import MeasuredSlips, NormDrift, OutputLoss
from gradlint.inprocess.state import SavedState
from gradlint.probe.output_activation import logits_of
from gradlint.registry import Rule

# the loss node that takes the activation's output -> the loss that applies it again
_AGAIN = {
    ("softmax", "LogSoftmaxBackward0"): "cross-entropy (it applies log-softmax itself)",
    ("softmax", "NllLossBackward0"): "NLL loss (it expects log-probabilities)",
    ("softmax", "NllLoss2DBackward0"): "NLL loss (it expects log-probabilities)",
    ("sigmoid", "BinaryCrossEntropyWithLogitsBackward0"): "BCE-with-logits (it applies the sigmoid itself)",
    ("softmax", "BinaryCrossEntropyWithLogitsBackward0"): "BCE-with-logits (it applies a sigmoid to each probability)",
}
# nodes between the output and the loss that only reshape it
_VIEWS = {"ViewBackward0", "UnsafeViewBackward0", "SqueezeBackward0", "SqueezeBackward1", "SqueezeBackward2",
          "UnsqueezeBackward0", "ReshapeAliasBackward0", "TransposeBackward0", "PermuteBackward0",
          "SelectBackward0", "SliceBackward0", "CloneBackward0", "ToCopyBackward0", "ExpandBackward0",
          "AsStridedBackward0", "TBackward0"}


class OutputWatch:
    """Keeps the model's first output and the name of an activation submodule that made it."""

    def __init__(self, model: nn.Module) -> None:
        self.output: Any = None
        self.made_by: dict[int, str] = {}
        self.handles = [model.register_forward_hook(self._model_hook)]
        for name, module in model.named_modules():
            if name and isinstance(module, (nn.Softmax, nn.Sigmoid)):
                self.handles.append(module.register_forward_hook(self._activation_hook(name)))

    def _model_hook(self, module: nn.Module, inputs: Any, output: Any) -> None:
        if self.output is None:
            self.output = output

    def _activation_hook(self, name: str) -> Callable[..., None]:
        def hook(module: nn.Module, inputs: Any, output: Any) -> None:
            self.made_by[id(output)] = name
        return hook

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()


def norm_drift(model: nn.Module, saved: SavedState, optimizer: Any) -> list[NormDrift]:
    """Frozen modules (outermost first, not the model itself) whose BatchNorm layers, in
    train mode when preflight was called, had their running statistics changed."""
    optimised = {id(p) for group in getattr(optimizer, "param_groups", []) for p in group.get("params", [])}
    was_trainable = {id(p): flag for p, flag in saved.requires}

    def frozen(p: nn.Parameter) -> bool:
        return not was_trainable.get(id(p), p.requires_grad) or (optimizer is not None and id(p) not in optimised)

    mode = {id(m): training for m, training in zip(saved.modules, saved.modes)}
    before = {id(buffer): value for buffer, value in saved.buffers}
    found: list[NormDrift] = []
    taken: list[str] = []
    for name, module in model.named_modules():
        if not name or any(name.startswith(t + ".") for t in taken):
            continue
        params = list(module.parameters())
        if not params or not all(frozen(p) for p in params):
            continue
        moved, change = [], 0.0
        for sub_name, sub in module.named_modules():
            if not isinstance(sub, nn.modules.batchnorm._BatchNorm) or not mode.get(id(sub), False):
                continue
            delta = _relative_change(sub, before)
            if delta > 0:
                moved.append(f"{name}.{sub_name}" if sub_name else name)
                change = max(change, delta)
        if moved:
            taken.append(name)
            found.append(NormDrift(name, type(module).__name__, sum(p.numel() for p in params), moved, change))
    return found


def _relative_change(norm: nn.Module, before: dict[int, torch.Tensor]) -> float:
    """The largest change of an element of running_mean/running_var against its saved value
    (0.0: unchanged or not tracked)."""
    change = 0.0
    with torch.no_grad():
        for key in ("running_mean", "running_var"):
            now = getattr(norm, key, None)
            old = before.get(id(now)) if isinstance(now, torch.Tensor) else None
            if now is None or old is None or torch.equal(now, old):
                continue
            change = max(change, float((now.float() - old.float()).abs().max()))
    return change


def output_loss(watch: OutputWatch, loss: Optional[Callable[[Any], torch.Tensor]]) -> Optional[OutputLoss]:
    """The GL215 measurement, or None when the output is no softmax/sigmoid, the loss is
    unknown (the model returns its own), or the loss does not apply the activation again."""
    output = watch.output
    if loss is None or not isinstance(output, torch.Tensor):
        return None
    found = logits_of(output)  # the same reading of the output as the CLI probe's
    if found is None:
        return None
    activation, dim, logits = found

    def activate(z: torch.Tensor) -> torch.Tensor:
        return torch.softmax(z, dim) if activation == "softmax" else torch.sigmoid(z)

    try:
        with torch.enable_grad():
            z_with = logits.clone().requires_grad_(True)
            activated = activate(z_with)
            loss_with = loss(activated.to(output.dtype))
            consumer = _consumer(loss_with.grad_fn, activated.grad_fn)
            what = _AGAIN.get((activation, consumer or ""))
            if what is None:
                return None
            (grad_with,) = torch.autograd.grad(loss_with, z_with)
            z_without = logits.clone().requires_grad_(True)
            fed = torch.log_softmax(z_without, dim) if consumer and consumer.startswith("NllLoss") else z_without
            (grad_without,) = torch.autograd.grad(loss(fed.to(output.dtype)), z_without)
    except Exception:  # noqa: BLE001 - the user's loss on a tensor it did not expect: not measured
        return None
    return OutputLoss(activation, what, watch.made_by.get(id(output)), float(grad_with.norm()),
                      float(grad_without.norm()))


def _consumer(root: Any, target: Any) -> Optional[str]:
    """The name of the first node (from the loss back) that takes ``target``'s output,
    looking through reshaping nodes."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if node.name() not in _VIEWS and _takes(node, target):
            return str(node.name())
        stack.extend(child for child, _ in node.next_functions)
    return None


def _takes(node: Any, target: Any) -> bool:
    for child, _ in node.next_functions:
        if child is target or (child is not None and child.name() in _VIEWS and _takes(child, target)):
            return True
    return False


def measured_findings(slips: MeasuredSlips, rules: list[Rule]) -> list[Finding]:
    """The findings of every rule's measured form (its ``measured`` hook) over what
    preflight measured."""
    return [measured_finding(rule, report, slips.model_place.path or "", slips.model)
            for rule in rules if rule.measured is not None for report in rule.measured(slips)]
