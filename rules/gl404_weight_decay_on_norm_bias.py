'''## What it does
Checked by `gradlint.preflight` on your real optimiser: reports a param group with
`weight_decay > 0` that holds normalisation weights, biases or embeddings, as one
group over `model.parameters()` does. Information only.

The CLI reads the same from the training script without running it: an optimiser built
with a literal `weight_decay > 0` over every parameter of a model whose normalisation
layers or embeddings the file shows (a class of that file, or a torchvision, timm or
transformers model), and, for a model imported from another file, on the model the
probe builds. Param groups that already split decay from no decay are not reported. An
optimiser's own default is not counted: AdamW's `weight_decay=0.01` applies when the
script names none, but the script did not choose it (and BERT-style recipes that split
groups set it explicitly), so only a value written in the call is reported.

## Why is this bad?
Weight decay pulls every parameter it covers towards zero. For a LayerNorm/BatchNorm
scale that means shrinking the normalised signal, for a bias shifting it towards zero,
and for an embedding table decaying the rows of rare tokens that seldom get a gradient
to pull back. The BERT and GPT-2 training recipes, timm and most transformer trainers
put these parameters in a second group with `weight_decay=0.0`. The effect is usually
small, hence info, but it costs nothing to avoid.

## Example
```python
import torch
import torch.nn as nn

def preflight_case():
    model = nn.Sequential(nn.Linear(8, 16), nn.LayerNorm(16), nn.ReLU(), nn.Linear(16, 4))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    return dict(model=model, batch=torch.randn(4, 8), optimizer=optimizer, steps=0)
```

## Use instead
```python
import torch
import torch.nn as nn

def preflight_case():
    model = nn.Sequential(nn.Linear(8, 16), nn.LayerNorm(16), nn.ReLU(), nn.Linear(16, 4))
    decay = [p for n, p in model.named_parameters() if n.endswith("weight") and p.dim() > 1]
    rest = [p for n, p in model.named_parameters() if not (n.endswith("weight") and p.dim() > 1)]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05},
                                   {"params": rest, "weight_decay": 0.0}], lr=1e-3)
    return dict(model=model, batch=torch.randn(4, 8), optimizer=optimizer, steps=0)
```

## Options
None.

## References
- Loshchilov & Hutter 2019, Decoupled Weight Decay Regularization (AdamW).
- Devlin et al. 2019 (BERT) reference code: no decay for "bias" and "LayerNorm.weight".
'''

from __future__ import annotations

from typing import Iterator

from gradlint.inprocess.facts import PreflightSummary, listed
from gradlint.registry import Invalid, Report, Valid

CODE = "GL404"
NAME = "weight-decay-on-norm-bias"
SEVERITY = "info"
SUMMARY = "Weight decay applies to normalisation weights, biases or embeddings"
SCOPE = "preflight"
FIXABLE = False
OPTIONS: dict = {}

VALID = [
    # SGD without weight decay over everything
    Valid(
        """
import torch
import torch.nn as nn

def preflight_case():
    model = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 4))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    return dict(model=model, batch=torch.randn(4, 8), optimizer=optimizer, steps=0)
"""
    ),
]
INVALID = [
    Invalid(
        """
import torch
import torch.nn as nn

class Lm(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(50, 16)
        self.out = nn.Linear(16, 50)

    def forward(self, ids):
        return self.out(self.embed(ids))

def preflight_case():
    model = Lm()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)
    return dict(model=model, batch=torch.randint(0, 50, (4, 6)), optimizer=optimizer, steps=0)
""",
        line=16,
    ),
]

KINDS = (("norm", "normalisation weight(s)"), ("bias", "bias(es)"), ("embedding", "embedding(s)"))


def check(summary: PreflightSummary, options: dict) -> Iterator[Report]:
    place = summary.optimizer_place or summary.place
    for group in summary.groups:
        if group.weight_decay <= 0:
            continue
        covered = [p for p in summary.params if p.group == group.index and p.trainable and p.kind in dict(KINDS)]
        if not covered:
            continue
        if not summary.measured:  # read from the source: which layers, not how many parameters
            layers = list(dict.fromkeys(p.module for p in covered if p.module))
            kinds = " and ".join(label for kind, label in (("norm", "normalisation layers"), ("embedding", "embeddings"))
                                 if any(p.kind == kind for p in covered))
            message = (
                f"{summary.optimizer} applies weight_decay={group.weight_decay:g} to every parameter of "
                f"'{summary.model}', including its {kinds}" + (f" ({listed(layers)})" if layers else "")
                + "; put normalisation weights, biases and embeddings in a group with weight_decay=0.0"
            )
            yield Report(place.filled(), message, path=place.path, model=summary.model)
            continue
        counts = ", ".join(f"{sum(1 for p in covered if p.kind == kind)} {label}" for kind, label in KINDS
                           if any(p.kind == kind for p in covered))
        message = (
            f"param group {group.index} of {summary.optimizer} applies weight_decay={group.weight_decay:g} to "
            f"{counts} ({listed([p.name for p in covered])}); put normalisation weights, biases and embeddings "
            "in a group with weight_decay=0.0"
        )
        yield Report(place.filled(), message,
                     path=place.path, model=summary.model, evidence={"group": group.index})
