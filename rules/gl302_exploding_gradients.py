'''## What it does
Measured by the probe: flags a model whose gradients are non-finite, whose global
gradient norm (all parameters, one `torch._foreach_norm`) is above `max-global-norm`
(default 1e5), whose backward norm (the norm of the gradient reaching a weight
layer's output, as GL301 reads it) grows by more than `max-backward-growth`
(default 1e3) from the deepest weight layer back to the earliest, or, with
`--probe-steps` of 2 or more, whose global norm grows by more than `max-step-growth`
(default 10) across the probe steps.

The probe's loss is a mean over the batch (cross-entropy for class scores, mean
squared error otherwise), so a healthy model's global norm is of order 1; cross-entropy
caps what MSE would show for the same over-scaled net (MEASURED.md), so the default
threshold is deliberately far above it: calibrated on a zoo of models known to train
(`python bench/probe_zoo.py`: 10 timm ImageNet models at 224x224, GPT-2/BERT/ViT/T5 at
small configs, 10 CIFAR models of kuangliu/pytorch-cifar at 32x32, batch 8), whose
largest global norm was 356 (CIFAR ResNet-50); deeper CIFAR ResNets that train to 93%
read 1.9e3 (ResNet-101) and 6.8e3 (ResNet-152) at batch 8 and about half that at batch
32 (the mean over a batch shrinks its noise), so 1e3 flagged them. In float16 an overflow shows up here as
non-finite gradients.

## Why is this bad?
Huge gradients make one optimiser step overshoot and the loss diverge; in recurrent
nets the gradient through time multiplies by the recurrent weights at every step and
explodes when their scale is above 1 (Pascanu et al. 2013). Clipping the gradient norm
between `backward()` and `step()` bounds every update.

## Example
```python
import torch.nn as nn

def build():
    layers = []
    for _ in range(10):
        layer = nn.Linear(64, 64)
        nn.init.normal_(layer.weight, std=0.5)
        layers += [layer, nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(64, 64))
```

## Use instead
```python
import torch.nn as nn

def build():
    layers = []
    for _ in range(10):
        layer = nn.Linear(64, 64)
        nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
        layers += [layer, nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(64, 64))
```

## Options
- `max-global-norm` (float, default 1e5): the largest allowed global gradient norm.
- `max-backward-growth` (float, default 1e3): the largest allowed earliest/deepest backward-norm ratio.
- `max-step-growth` (float, default 10.0): the largest allowed last/first global norm across probe steps.

## References
- Pascanu, Mikolov & Bengio 2013, On the difficulty of training recurrent neural networks.
- [`torch.nn.utils.clip_grad_norm_`](https://pytorch.org/docs/stable/generated/torch.nn.utils.clip_grad_norm_.html)
- AUTOTRAINER (Zhang et al., ICSE 2021): exploding gradients detected from gradient-norm ratios.
'''

from __future__ import annotations

from typing import Iterator, Optional

from gradlint.probe.summary import LayerMeasure, ProbeSummary, fmt
from gradlint.registry import Invalid, Report, Span, Valid

CODE = "GL302"
NAME = "exploding-gradients"
SEVERITY = "error"
SUMMARY = "Measured: gradients are non-finite, huge, or growing"
SCOPE = "probe"
FIXABLE = False
OPTIONS = {"max-global-norm": 1e5, "max-backward-growth": 1e3, "max-step-growth": 10.0}
CLIP = "clip the gradient norm (torch.nn.utils.clip_grad_norm_) between backward() and step()"

VALID = [
    Valid(
        """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(8, 32, batch_first=True)
        self.head = nn.Linear(32, 4)

    def forward(self, x):
        return self.head(self.rnn(x)[0][:, -1])

def example_input():
    import torch
    return torch.randn(4, 200, 8)
"""
    ),
]
INVALID = [
    Invalid(
        """
import torch
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(8, 32, batch_first=True)
        with torch.no_grad():
            self.rnn.weight_hh_l0.copy_(3.0 * torch.nn.init.orthogonal_(torch.empty(32, 32)))
        self.head = nn.Linear(32, 4)

    def forward(self, x):
        return self.head(self.rnn(x)[0])

def example_input():
    return torch.randn(4, 60, 8)
""",
        line=8,
    ),
]


def _worst_layer(summary: ProbeSummary) -> Optional[LayerMeasure]:
    rated = [l for l in summary.layers if l.grad_weight_ratio is not None]
    return max(rated, key=lambda l: l.grad_weight_ratio if l.grad_weight_ratio is not None else 0.0) if rated else None


def _report(place: Span, message: str, summary: ProbeSummary, **evidence: float) -> Report:
    return Report(place, message,
                  path=place.path, model=summary.model, evidence=dict(evidence))


def check(summary: ProbeSummary, options: dict) -> Iterator[Report]:
    worst = _worst_layer(summary)
    if summary.nonfinite:
        broken = [l for l in summary.layers if l.grad_norm is None and l.weight_norm is not None]
        layer = broken[0] if broken else worst
        hint = " (float16 overflow: use bfloat16 or a GradScaler)" if summary.dtype == "float16" else ""
        names = ", ".join(summary.nonfinite[:3]) + (", ..." if len(summary.nonfinite) > 3 else "")
        yield _report(layer.place if layer else summary.place,
                      f"measured: non-finite gradients in {names}{hint}; scale the init down and {CLIP}", summary)
        return
    norm = summary.global_grad_norm
    if norm is not None and norm > float(options["max-global-norm"]):
        where = f"; the largest gradient/weight ratio is {fmt(worst.grad_weight_ratio)} at '{worst.name}'" if worst else ""
        yield _report(worst.place if worst else summary.place,
                      f"measured: global gradient norm {fmt(norm)} (threshold {fmt(float(options['max-global-norm']))}){where}; "
                      f"{CLIP}, and check the init scale", summary, norm=norm)
        return
    growth = summary.backward_growth()
    if growth is not None and growth[0] > float(options["max-backward-growth"]):
        ratio, earliest, deepest = growth
        yield _report(earliest.place,
                      f"measured: the gradient grows {fmt(ratio)}x from '{deepest.name}' back to '{earliest.name}' "
                      f"(gradient norm at the output {fmt(getattr(earliest, summary.backward_attribute))} vs "
                      f"{fmt(getattr(deepest, summary.backward_attribute))}); "
                      f"scale the init down (Kaiming/Xavier) and {CLIP}", summary, ratio=ratio)
        return
    steps = summary.growth_across_steps()
    if steps is not None and steps > float(options["max-step-growth"]):
        yield _report(worst.place if worst else summary.place,
                      f"measured: the global gradient norm grew {fmt(steps)}x over {len(summary.grad_norm_per_step)} "
                      f"probe steps ({fmt(summary.grad_norm_per_step[0])} to {fmt(summary.grad_norm_per_step[-1])}); "
                      f"lower the learning rate and {CLIP}", summary, growth=steps)
