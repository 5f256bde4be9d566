'''## What it does
Checked by `gradlint.preflight` on your real model, and by the CLI's probe with the
`requires_grad` changes your training script makes before it builds the optimiser
(`for p in model.backbone.parameters(): p.requires_grad = False`): flags a model in which

- no parameter is trainable at all (`requires_grad=False` everywhere);
- no weight layer (Linear, Conv, Embedding, RNN, attention) is trainable and only
  normalisation weights and biases train, as when a fine-tuning script freezes every
  layer and forgets to unfreeze the new head;
- or the layer producing the output (the last weight layer the forward runs) is frozen
  while most of the earlier weight layers train.

The first two are reported at the model's class, the third at the output layer.

## Why is this bad?
A model that trains only its BatchNorm/LayerNorm scales and biases can shift and
rescale features but not learn new ones: the loss creeps down and the accuracy stays
near chance. A frozen output layer with a training body cannot map the features to new
classes. Both come from freezing code (`for p in model.parameters(): p.requires_grad =
False`) that ran after, or instead of, the intended unfreezing.

Deliberate bias-only or norm-only tuning (BitFit) does trigger the second case: select
the rule away for that run (`# noqa: GL403` on the reported line).

## Example
```python
import torch
import torch.nn as nn

def preflight_case():
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(),
                          nn.Flatten(), nn.Linear(8 * 6 * 6, 10))
    for name, param in model.named_parameters():
        param.requires_grad = "1." in name
    return dict(model=model, batch=torch.randn(4, 3, 8, 8))
```

## Use instead
```python
import torch
import torch.nn as nn

def preflight_case():
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(),
                          nn.Flatten(), nn.Linear(8 * 6 * 6, 10))
    for name, param in model.named_parameters():
        param.requires_grad = "1." in name or "4." in name
    return dict(model=model, batch=torch.randn(4, 3, 8, 8))
```

## Options
- `min-training-fraction` (float, default 0.5): the frozen output layer is reported when at
  least this fraction of the earlier weight layers' weights (by count) trains.

## References
- Zaken et al. 2022, BitFit: bias-only fine-tuning (a deliberate form of the second case).
- PyTorch tutorial "Finetuning Torchvision Models": the new head must be left trainable.
'''

from __future__ import annotations

from typing import Iterator

from gradlint.inprocess.facts import PreflightSummary, listed
from gradlint.registry import Invalid, Report, Valid

CODE = "GL403"
NAME = "frozen-output-path"
SEVERITY = "error"
SUMMARY = "No weight layer is trainable (only norms/biases), or the output layer is frozen while earlier layers train"
SCOPE = "preflight"
FIXABLE = False
OPTIONS = {"min-training-fraction": 0.5}

VALID = [
    # linear probing: a frozen backbone and a trainable head
    Valid(
        """
import torch
import torch.nn as nn

def preflight_case():
    model = nn.Sequential(nn.Linear(8, 32), nn.LayerNorm(32), nn.ReLU(), nn.Linear(32, 4))
    model[0].requires_grad_(False)
    model[1].requires_grad_(False)
    return dict(model=model, batch=torch.randn(4, 8))
"""
    ),
    # prompt tuning: a raw parameter trains, every layer is frozen
    Valid(
        """
import torch
import torch.nn as nn

class Prompted(nn.Module):
    def __init__(self):
        super().__init__()
        self.prompt = nn.Parameter(torch.zeros(8))
        self.body = nn.Linear(8, 4)
        self.body.requires_grad_(False)

    def forward(self, x):
        return self.body(x + self.prompt)

def preflight_case():
    return dict(model=Prompted(), batch=torch.randn(4, 8))
"""
    ),
]
INVALID = [
    Invalid(
        """
import torch
import torch.nn as nn

class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU())
        self.fc = nn.Linear(32, 3)

    def forward(self, x):
        return self.fc(self.features(x))

def preflight_case():
    model = Classifier()
    model.fc.requires_grad_(False)
    return dict(model=model, batch=torch.randn(4, 8))
""",
        line=9,
    ),
]


def check(summary: PreflightSummary, options: dict) -> Iterator[Report]:
    if not summary.measured:
        return  # facts read from the source know no requires_grad
    trainable = [p for p in summary.params if p.trainable]
    place = summary.place
    if summary.params and not trainable:
        yield Report(place.filled(), (
            f"no parameter of model '{summary.model}' is trainable (requires_grad is False for all "
            f"{len(summary.params)}): nothing will learn; unfreeze the layers meant to train"),
            path=place.path, model=summary.model)
        return
    if not trainable or not summary.layers:
        return
    if all(p.kind in ("norm", "bias") for p in trainable):
        yield Report(place.filled(), (
            f"no weight layer of model '{summary.model}' is trainable: only {len(trainable)} normalisation/bias "
            f"parameter(s) train ({listed([p.name for p in trainable])}), which can rescale features but not "
            f"learn new ones; unfreeze the head (and the layers meant to train)"),
            path=place.path, model=summary.model, evidence={"trainable": len(trainable)})
        return
    output, earlier = summary.layers[-1], summary.layers[:-1]
    total = sum(l.numel for l in earlier)
    training = sum(l.numel for l in earlier if l.trainable)
    if not output.trainable and total and training / total >= float(options["min-training-fraction"]):
        where = output.place
        yield Report(where.filled(), (
            f"the output layer '{output.name}' ({output.type}) is frozen while "
            f"{sum(1 for l in earlier if l.trainable)} earlier weight layer(s) train: the features can change but "
            f"not how they map to the output; make it trainable (requires_grad_(True)) and give it to the optimiser"),
            path=where.path, model=summary.model, evidence={"training_fraction": training / total})
