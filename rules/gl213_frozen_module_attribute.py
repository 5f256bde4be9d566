"""## What it does
Checks assignments `x.requires_grad = False` (or `True`) whose target is an `nn.Module`
rather than a tensor: a layer built from a `torch.nn` class, a module class of the same
file, a torchvision/timm builder or a transformers/diffusers `from_pretrained` model;
`self` or a `self.x` that the module's class builds from one of those; a submodule of a
pretrained model (`resnet.fc`, `bert.encoder`) whose name is not a parameter's; and the
loop variable of `for m in model.modules()` / `children()` or of a loop over a
`ModuleList`. `p.requires_grad = False` over `model.parameters()`, a `weight`/`bias`,
an `nn.Parameter` attribute (`self.pos_embed`, `cls_token`) or anything not known to be a
module is not flagged.

## Why is this bad?
`requires_grad` is an attribute of tensors. `nn.Module` has no such property, so the
assignment just creates a new plain Python attribute on the module object: every
parameter keeps `requires_grad=True`, keeps receiving gradients and keeps being
updated by the optimiser. The "frozen" backbone trains (and costs the memory and time
of its gradients) without any error. `nn.Module.requires_grad_(False)` sets the flag on
every parameter of the module, as PyTorch's fine-tuning tutorials do.

## Example
```python
from torch import nn
from torchvision import models

model = models.resnet18(weights="DEFAULT")
model.requires_grad = False
model.fc = nn.Linear(512, 10)
```

## Use instead
```python
from torch import nn
from torchvision import models

model = models.resnet18(weights="DEFAULT")
model.requires_grad_(False)
model.fc = nn.Linear(512, 10)
```

## Options
None.

## References
- [`torch.nn.Module.requires_grad_`](https://pytorch.org/docs/stable/generated/torch.nn.Module.html#torch.nn.Module.requires_grad_)
- [PyTorch: Autograd mechanics, locally disabling gradient computation (setting `requires_grad`)](https://pytorch.org/docs/stable/notes/autograd.html#setting-requires-grad)
"""

from __future__ import annotations

from typing import Iterator, Optional

from gradlint.findings import Fix
from gradlint.fix.edits import make_fix, replace, source, standalone
from gradlint.registry import Invalid, Report, Valid
from gradlint.source.frames import FileFrames, RequiresGradSet, file_frames, quiet_when_too_deep
from gradlint.source.modules import MODULE
from gradlint.source.unit import SourceUnit

CODE = "GL213"
NAME = "frozen-module-attribute"
SEVERITY = "error"
SUMMARY = "requires_grad assigned on an nn.Module: a plain attribute that freezes nothing"
SCOPE = "file"
FIXABLE = True
OPTIONS: dict = {}

VALID = [
    Valid(  # the parameters themselves: correct
        """
import torch.nn as nn
model = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 2))
for p in model[0].parameters():
    p.requires_grad = False
"""
    ),
    Valid(  # a parameter attribute of the module's own class
        """
import torch
from torch import nn

class ViT(nn.Module):
    def __init__(self):
        super().__init__()
        self.pos_embed = nn.Parameter(torch.zeros(1, 16, 32))
        self.pos_embed.requires_grad = False
        self.head = nn.Linear(32, 10)
        self.head.weight.requires_grad = False
"""
    ),
    Valid(  # an item of a ParameterDict is a parameter
        """
import torch
from torch import nn

class Adapter(nn.Module):
    def __init__(self):
        super().__init__()
        self.ranks = nn.ParameterDict()

    def add(self, name):
        self.ranks[name] = nn.Parameter(torch.ones(1))
        self.ranks[name].requires_grad = False
"""
    ),
    Valid(  # a name of unknown kind: not reported
        """
encoder = build_encoder(cfg)
encoder.requires_grad = False
"""
    ),
    Valid(  # a pretrained model's parameter-like attributes
        """
from transformers import CLIPModel
clip = CLIPModel.from_pretrained("openai/clip-vit-base-patch32")
clip.logit_scale.requires_grad = False
clip.text_model.embeddings.position_embedding.weight.requires_grad = False
"""
    ),
    Valid(  # named_parameters: tensors
        """
from torchvision import models
net = models.resnet50()
for name, param in net.named_parameters():
    if not name.startswith("fc"):
        param.requires_grad = False
"""
    ),
    Valid(  # the method, not the attribute
        """
from torch import nn
backbone = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU())
backbone.requires_grad_(False)
"""
    ),
]
INVALID = [
    Invalid(
        """
from torch import nn

class Classifier(nn.Module):
    def __init__(self, encoder):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(16, 16), nn.ReLU())
        self.encoder.requires_grad = False  # freeze
        self.head = nn.Linear(16, 2)
""",
        line=8,
        fixed="""
from torch import nn

class Classifier(nn.Module):
    def __init__(self, encoder):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(16, 16), nn.ReLU())
        self.encoder.requires_grad_(False)  # freeze
        self.head = nn.Linear(16, 2)
""",
    ),
    Invalid(  # a pretrained model's submodule
        """
from transformers import AutoModelForSequenceClassification
model = AutoModelForSequenceClassification.from_pretrained("bert-base-uncased")
model.bert.requires_grad = False
""",
        line=4,
        fixed="""
from transformers import AutoModelForSequenceClassification
model = AutoModelForSequenceClassification.from_pretrained("bert-base-uncased")
model.bert.requires_grad_(False)
""",
    ),
    Invalid(  # the modules of a model, not its parameters
        """
import torchvision
net = torchvision.models.resnet18()
for child in list(net.children())[:-1]:
    child.requires_grad = False
""",
        line=5,
        fixed="""
import torchvision
net = torchvision.models.resnet18()
for child in list(net.children())[:-1]:
    child.requires_grad_(False)
""",
    ),
    Invalid(  # blocks of a ModuleList of the file's own model
        """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Linear(8, 8) for _ in range(4)])

net = Net()
for block in net.blocks[:2]:
    block.requires_grad = False
""",
        line=11,
    ),
    Invalid(  # self inside an nn.Module
        """
import torch.nn as nn

class Teacher(nn.Module):
    def freeze(self):
        self.requires_grad = False
""",
        line=6,
    ),
]


def check(unit: SourceUnit, options: dict) -> Iterator[Report]:
    return quiet_when_too_deep(_check(unit))


def _check(unit: SourceUnit) -> Iterator[Report]:
    if unit.tree is None or "requires_grad" not in unit.text:
        return
    frames = file_frames(unit)
    for frame in frames.frames:
        for fact in frame.facts:
            if isinstance(fact, RequiresGradSet) and frames.kinds.kind(fact.target, fact.stmt) == MODULE:
                yield _report(frames, fact)


def _report(frames: FileFrames, fact: RequiresGradSet) -> Report:
    name = source(frames.unit, fact.target)
    verb = "freezes" if fact.value is False else "unfreezes"
    message = (
        f"`{name}` is an nn.Module: `requires_grad = {fact.value}` only sets a plain attribute on it and "
        f"{verb} none of its parameters; call {name}.requires_grad_({fact.value})"
    )
    return Report(frames.unit.span(fact.stmt), message, fix=_fix(frames, fact, name))


def _fix(frames: FileFrames, fact: RequiresGradSet, name: str) -> Optional[Fix]:
    stmt = fact.stmt
    if not standalone(frames.unit, stmt) or len(getattr(stmt, "targets", ())) != 1:
        return None
    return make_fix(
        f"call {name}.requires_grad_({fact.value})",
        replace(frames.unit, stmt, f"{name}.requires_grad_({fact.value})"),
    )
