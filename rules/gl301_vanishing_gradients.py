'''## What it does
Measured by the probe: flags a model whose backward norm, the norm of the gradient
reaching a weight layer's output (the batch's positions together; JSON `backward_norm`),
is at the earliest weight layer smaller than `min-ratio` (default 1e-4) times its
largest value at any weight layer. The finding points at the earliest layer, where the
gradient has vanished. A layer reused in a loop counts with each call, its first
being the earliest. The norm, not the RMS per element (the table's backward
signal): a mean pool over P positions (a CNN's global average pool, a classifier
averaging 4096 tokens) divides each element's gradient by P, so the RMS before it
falls by P in a healthy model while the norm falls by sqrt(P) and the weight
gradient, summed over the positions, not at all.

The gradient at the layer's output is the right quantity, not the weight-gradient
norm: a weight's gradient is its layer's input times that gradient, and in a deep
plain ReLU net with Xavier init the two shrink in opposite directions, so weight-gradient norms stay
level across layers (MEASURED.md: first/last ratio about 1.1 at depth 50) while the
signal the early layers receive has collapsed by orders of magnitude. A layer that
was deliberately zero-initialised (a classifier head, a residual branch's last layer or
its normalisation weight, as torchvision's `zero_init_residual`) blocks the first step's
gradient to the layers before it: then layers with no signal are left out.

## Why is this bad?
The early layers receive almost no gradient, so they barely learn: saturating
activations (Glorot & Bengio 2010), init that shrinks the signal at every layer (He
et al. 2015: PyTorch's default init keeps 1/6 of the variance ReLU needs), and deep
stacks with no residual connection or normalisation all end here.

## Example
```python
import torch.nn as nn

def build():
    layers = []
    for _ in range(30):
        layers += [nn.Linear(64, 64), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(64, 10))
```

## Use instead
```python
import torch.nn as nn

def build():
    layers = []
    for _ in range(30):
        layer = nn.Linear(64, 64)
        nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
        nn.init.zeros_(layer.bias)
        layers += [layer, nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(64, 10))
```

## Options
- `min-ratio` (float, default 1e-4): the smallest allowed earliest/largest backward-norm ratio.

## References
- Glorot & Bengio 2010, Understanding the difficulty of training deep feedforward neural networks.
- He et al. 2015, Delving Deep into Rectifiers (Kaiming init).
- AUTOTRAINER (Zhang et al., ICSE 2021): vanishing when the gradient-norm ratio falls below about 1e-3.
'''

from __future__ import annotations

from typing import Iterator

from gradlint.probe.summary import ProbeSummary, fmt
from gradlint.registry import Invalid, Report, Valid

CODE = "GL301"
NAME = "vanishing-gradients"
SEVERITY = "warning"
SUMMARY = "Measured: the gradient reaching the earliest layers has vanished"
SCOPE = "probe"
FIXABLE = False
OPTIONS = {"min-ratio": 1e-4}

VALID = [
    Valid(
        """
import torch.nn as nn

def build():
    layers = []
    for _ in range(30):
        layer = nn.Linear(32, 32)
        nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
        nn.init.zeros_(layer.bias)
        layers += [layer, nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(32, 4))
"""
    ),
    Valid(
        """
import torch.nn as nn

def build():
    return nn.Sequential(nn.Linear(16, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 4))
"""
    ),
]
INVALID = [
    Invalid(
        """
import torch.nn as nn

def build():
    layers = []
    for _ in range(30):
        layers += [nn.Linear(32, 32), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(32, 4))
""",
        line=7,
        column=20,
        message="measured: the gradient reaching '0' (Linear) is",
    ),
    Invalid(
        """
import torch.nn as nn

def build():
    layers = []
    for _ in range(12):
        layers += [nn.Linear(32, 32), nn.Sigmoid()]
    return nn.Sequential(*layers, nn.Linear(32, 4))
""",
        line=7,
    ),
]


def check(summary: ProbeSummary, options: dict) -> Iterator[Report]:
    found = summary.backward_ratio()
    if found is None:
        return
    ratio, earliest, largest = found
    if ratio >= float(options["min-ratio"]):
        return
    place = earliest.place
    span = earliest.backward_norm_span
    calls = f", the first of its {int(span[3])} calls" if span else ""
    message = (
        f"measured: the gradient reaching '{earliest.name}' ({earliest.type}{calls}) is {fmt(ratio)} of the largest "
        f"(at '{largest.name}'; gradient norm at the output {fmt(summary.backward_value(earliest, 'first'))} vs "
        f"{fmt(summary.backward_value(largest, 'peak'))}, "
        f"weight-gradient norm {fmt(earliest.grad_norm)}), so the early layers barely learn; use init that fits "
        f"the activation (Kaiming for ReLU, Xavier for tanh), normalisation or residual connections"
    )
    yield Report(place, message,
                 path=place.path, model=summary.model, evidence={"ratio": ratio})
