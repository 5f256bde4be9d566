"""## What it does
Checks functions (and scripts) that build an optimiser over a model's parameters
(`torch.optim.SGD(model.parameters(), ...)`, also through a filter or a list of param
groups over that one model) and afterwards, in the same function, put a new layer with
parameters into that model: `model.fc = nn.Linear(...)`, `model.classifier[6] = ...`,
`setattr(model, "head", ...)`, `model.add_module("head", ...)`. The new value must be
known to hold parameters (a `torch.nn` layer other than activations, dropout, pooling or
`Identity`, a module class of the same file, a pretrained model). Not flagged when the
optimiser is built again afterwards, when `add_param_group` follows, when the optimiser
covers another part of the model (`Adam(model.encoder.parameters())` and a new
`model.head`), or when the two sit in opposite branches of an `if`.

## Why is this bad?
An optimiser copies the list of parameters it is given when it is built. A layer put into
the model later is part of the forward pass and receives gradients, but it belongs to no
param group: `optimizer.step()` never updates it, and the new head (usually the only part
meant to learn) stays at its random initialisation while the loss creeps down through the
rest of the network. PyTorch's optimiser docs: construct the optimiser after the model is
complete (and moved), or register new parameters with `add_param_group`. No automatic
fix: where the optimiser should be built is the author's choice.

## Example
```python
import torch
import torchvision

model = torchvision.models.resnet18(weights="DEFAULT")
optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
model.fc = torch.nn.Linear(model.fc.in_features, 10)
```

## Use instead
```python
import torch
import torchvision

model = torchvision.models.resnet18(weights="DEFAULT")
model.fc = torch.nn.Linear(model.fc.in_features, 10)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
```

## Options
None.

## References
- [`torch.optim`: constructing an optimizer (build it over the finished model)](https://pytorch.org/docs/stable/optim.html#how-to-use-an-optimizer)
- [`torch.optim.Optimizer.add_param_group`](https://pytorch.org/docs/stable/generated/torch.optim.Optimizer.add_param_group.html)
"""

from __future__ import annotations

import ast
import re
from typing import Iterator, Optional

from gradlint.registry import Invalid, Report, Valid
from gradlint.source.frames import FileFrames, Frame, OptimizerBuilt, ParamGroupAdded, SubmoduleSet, file_frames, quiet_when_too_deep
from gradlint.source.loops import contains
from gradlint.source.modules import MODULE
from gradlint.source.unit import SourceUnit

from .support.other_places import other_place

CODE = "GL214"
NAME = "params-added-after-optimizer"
SEVERITY = "error"
SUMMARY = "A layer is added to the model after its optimiser was built: the layer never trains"
SCOPE = "file"
FIXABLE = False
OPTIONS: dict = {}

# torch.nn layers without parameters: putting one in after the optimiser loses nothing
_PARAMETERLESS = re.compile(
    r"^(Identity|Dropout\w*|AlphaDropout|FeatureAlphaDropout|ReLU6?|LeakyReLU|RReLU|GELU|SiLU|Mish|ELU|CELU|SELU|"
    r"Sigmoid|Tanh|Softmax\w*|LogSoftmax|Softmin|Softplus|Softsign|Softshrink|Hardshrink|Hardswish|Hardsigmoid|"
    r"Hardtanh|Tanhshrink|Threshold|GLU|LogSigmoid|Flatten|Unflatten|\w*Pool\d?d|Upsample\w*|PixelShuffle|"
    r"PixelUnshuffle|\w*Pad\d?d|ChannelShuffle|CosineSimilarity|PairwiseDistance)$"
)

VALID = [
    Valid(  # the head first, then the optimiser
        """
import torch, torchvision
model = torchvision.models.resnet18()
model.fc = torch.nn.Linear(512, 10)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
"""
    ),
    Valid(  # the optimiser is built again after the change
        """
import torch, torchvision
model = torchvision.models.resnet18()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
model.fc = torch.nn.Linear(512, 10)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
"""
    ),
    Valid(  # registered with add_param_group
        """
import torch, torchvision
model = torchvision.models.resnet18()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
model.fc = torch.nn.Linear(512, 10)
optimizer.add_param_group({"params": model.fc.parameters()})
"""
    ),
    Valid(  # no parameters in the new layer
        """
import torch, torchvision
model = torchvision.models.resnet18()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
model.fc = torch.nn.Identity()
"""
    ),
    Valid(  # the optimiser covers the encoder only
        """
import torch
from torch import nn
model = nn.Module()
model.encoder = nn.Linear(8, 8)
optimizer = torch.optim.Adam(model.encoder.parameters())
model.head = nn.Linear(8, 2)
"""
    ),
    Valid(  # a loop that builds a fresh optimiser for each new head
        """
import torch
from torch import nn
for task in tasks:
    model.head = nn.Linear(64, task.classes)
    optimizer = torch.optim.Adam(model.parameters())
    fit(model, optimizer, task)
"""
    ),
]
INVALID = [
    Invalid(
        """
import torch
from torch import nn

class Finetuner:
    def __init__(self, backbone, classes):
        self.model = backbone
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=1e-4)
        self.model.head = nn.Sequential(nn.Dropout(0.1), nn.Linear(768, classes))
""",
        line=9,
    ),
    Invalid(  # an item of a Sequential replaced
        """
import torch, torchvision
model = torchvision.models.vgg16()
params = filter(lambda p: p.requires_grad, model.parameters())
optimizer = torch.optim.SGD(params, lr=0.001)
optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=0.001)
model.classifier[6] = torch.nn.Linear(4096, 2)
""",
        line=7,
    ),
    Invalid(  # add_module after the optimiser
        """
import torch
from torch import nn
net = nn.Sequential(nn.Linear(4, 8), nn.ReLU())
opt = torch.optim.Adam(net.parameters())
net.add_module("out", nn.Linear(8, 1))
""",
        line=6,
    ),
]


def check(unit: SourceUnit, options: dict) -> Iterator[Report]:
    return quiet_when_too_deep(_check(unit))


def _check(unit: SourceUnit) -> Iterator[Report]:
    if unit.tree is None or "parameters()" not in unit.text:
        return
    frames = file_frames(unit)
    for frame in frames.frames:
        for index, fact in enumerate(frame.facts):
            if isinstance(fact, OptimizerBuilt) and fact.owner is not None:
                report = _added_after(frames, frame, index, fact)
                if report is not None:
                    yield report


def _added_after(frames: FileFrames, frame: Frame, index: int, built: OptimizerBuilt) -> Optional[Report]:
    owner = built.owner or ""
    later = frame.facts[index + 1 :]
    for position, fact in enumerate(later):
        if not isinstance(fact, SubmoduleSet) or not fact.target.startswith(owner + "."):
            continue
        if frames.exclusive(fact.node, built.node) or not _has_parameters(frames, fact.value, fact.stmt):
            continue
        if any(_registers(other, built) for other in later[position + 1 :]):
            continue
        loop = frames.innermost_loop(fact.node, frame.node)
        if loop is not None and any(_rebuilds(other, built) and contains(loop, other.node) for other in frame.facts):
            continue  # a loop that builds the optimiser anew each time round
        span = frames.unit.span(fact.stmt)
        return Report(span, _message(fact, built), related=other_place(
            built.node.lineno, f"`{built.name}` is built here, over `{built.owner}.parameters()`", span))
    return None


def _registers(fact: object, built: OptimizerBuilt) -> bool:
    if isinstance(fact, ParamGroupAdded):
        return fact.optimizer == built.name
    return _rebuilds(fact, built)


def _rebuilds(fact: object, built: OptimizerBuilt) -> bool:
    return isinstance(fact, OptimizerBuilt) and (fact.name == built.name or fact.owner == built.owner)


def _has_parameters(frames: FileFrames, value: ast.expr, at: ast.AST) -> bool:
    if frames.kinds.kind(value, at) != MODULE:
        return False
    if not isinstance(value, ast.Call):
        return True  # a name bound to a module: assume it has parameters
    callee = frames.names.qualify(value.func) or ""
    last = callee.rsplit(".", 1)[-1]
    if not callee.startswith("torch.nn."):
        return True
    if last in ("Sequential", "ModuleList", "ModuleDict"):
        items = list(value.args) + [k.value for k in value.keywords]
        return any(_has_parameters(frames, item, at) for item in items) or any(
            not isinstance(item, ast.Call) for item in items
        )
    return not _PARAMETERLESS.match(last)


def _message(fact: SubmoduleSet, built: OptimizerBuilt) -> str:
    return (
        f"`{fact.target}` is given a new layer after `{built.name}` was built over {built.owner}.parameters() "
        f"(line {built.node.lineno}): its parameters are in no param group, so {built.name}.step() never updates them; "
        f"build the optimiser after changing the model, or call {built.name}.add_param_group() with the new parameters"
    )
