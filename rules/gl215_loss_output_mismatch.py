"""## What it does
Links a model defined in the file to the loss its output is fed to in the same file, and
flags a loss that applies the model's final activation a second time:
- a model whose `forward` ends in softmax (every `return` is `F.softmax(...)`,
  `logits.softmax(-1)`, or `self.act(x)` with `self.act = nn.Softmax(...)`), or an
  `nn.Sequential` ending in `nn.Softmax`, trained with `nn.CrossEntropyLoss` /
  `F.cross_entropy` (they apply log-softmax themselves) or `nn.NLLLoss` / `F.nll_loss`
  (they expect log-probabilities);
- a model ending in sigmoid trained with `nn.BCEWithLogitsLoss` /
  `F.binary_cross_entropy_with_logits` (it applies the sigmoid itself).

The link is the loss's first argument: `criterion(model(x), y)`, or `out = model(x)`
first. A `forward` that returns logits on some path (`if self.training: return logits`)
is not flagged, nor a softmax feeding `nn.KLDivLoss`, `nn.BCELoss` or a loss of your
own: those expect probabilities. Report only: dropping the activation changes what
the model returns to every other caller.

## Why is this bad?
`CrossEntropyLoss` computes `log_softmax` of its input. Fed probabilities, it squashes
values that are already in [0, 1]: with 10 classes the loss can never go below 1.46 even
for a perfect prediction, and the gradient reaching the logits is about a tenth of what
the plain logits get (0.11x measured on random logits, 0.07x on confident ones, and
less as the model grows confident), so training crawls and stalls. A sigmoid before
`BCEWithLogitsLoss` does the same for binary targets (0.11x). The fix is to return the
logits from `forward` and apply softmax/sigmoid only where probabilities are needed
(at inference), or to keep the activation and use the loss that expects it (`NLLLoss` on
`log_softmax`, `BCELoss` on a sigmoid, less stable in half precision).

## Example
```python
import torch.nn as nn
import torch.nn.functional as F

class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(784, 10)

    def forward(self, x):
        return F.softmax(self.fc(x), dim=1)

model = Classifier()
criterion = nn.CrossEntropyLoss()

def train_step(x, y):
    loss = criterion(model(x), y)
    loss.backward()
```

## Use instead
```python
import torch.nn as nn
import torch.nn.functional as F

class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(784, 10)

    def forward(self, x):
        return self.fc(x)

model = Classifier()
criterion = nn.CrossEntropyLoss()

def train_step(x, y):
    loss = criterion(model(x), y)
    loss.backward()
```

## Confirmation
The CLI's probe runs the model of the file and, when its output comes from a
softmax/sigmoid, measures the gradient norm at the pre-activation logits under the loss
the finding names (on a random target) with and without the activation; the finding is
matched to the probed model of the same file defined nearest above it.
`gradlint.preflight` measures it on the real model, batch and loss: when the model's
output comes from a softmax/sigmoid and the node of the loss that takes it applies the
activation again, it computes the gradient norm at the pre-activation logits with the
loss applied to the output and applied to the logits themselves (to their log-softmax
for NLL). The finding is *confirmed* when the gradient shrinks to `CONFIRM_RATIO` (0.5)
of the logits' own or less, else *refuted*; without the measurement it stays
*not-probed* with the reason.

## Options
None.

## References
- [`torch.nn.CrossEntropyLoss`](https://pytorch.org/docs/stable/generated/torch.nn.CrossEntropyLoss.html): "The input is expected to contain the unnormalized logits for each class"
- [`torch.nn.BCEWithLogitsLoss`](https://pytorch.org/docs/stable/generated/torch.nn.BCEWithLogitsLoss.html): "combines a Sigmoid layer and the BCELoss in one single class"
- [`torch.nn.NLLLoss`](https://pytorch.org/docs/stable/generated/torch.nn.NLLLoss.html): the input is expected to contain log-probabilities
"""

from __future__ import annotations

from typing import Iterator, Optional

from gradlint.findings import Confirmation
from gradlint.registry import Invalid, Report, Valid
from gradlint.source.outputs import losses_of_models
from gradlint.source.unit import SourceUnit

CODE = "GL215"
NAME = "loss-output-mismatch"
SEVERITY = "error"
SUMMARY = "A model ending in softmax/sigmoid trained with a loss that applies it again (CrossEntropyLoss, NLLLoss, BCEWithLogitsLoss)"
SCOPE = "file"
FIXABLE = False
OPTIONS: dict = {}
# confirmed when the loss on the activation's output gives the logits at most this
# fraction of the gradient the loss on the logits gives them (0.11x measured with 10
# classes on random logits; a mismatch that costs less than half is left refuted)
CONFIRM_RATIO = 0.5
NOT_MEASURED = ("the gradient at the logits was not measured: the probe did not run the model (or --no-exec); "
                "gradlint.preflight measures it on the real model and loss")

# the activation a loss must not receive -> what the loss does with its input
MISMATCH = {
    ("softmax", "CrossEntropyLoss"): "applies log-softmax itself",
    ("softmax", "F.cross_entropy"): "applies log-softmax itself",
    ("softmax", "NLLLoss"): "expects log-probabilities (log_softmax), not probabilities",
    ("softmax", "F.nll_loss"): "expects log-probabilities (log_softmax), not probabilities",
    ("sigmoid", "BCEWithLogitsLoss"): "applies the sigmoid itself",
    ("sigmoid", "F.binary_cross_entropy_with_logits"): "applies the sigmoid itself",
}
_INSTEAD = {
    "softmax": "return the logits from forward and apply softmax only at inference",
    "sigmoid": "return the logits from forward and apply sigmoid only at inference (or use BCELoss)",
}

_MLP = """import torch
import torch.nn as nn
import torch.nn.functional as F
"""

VALID = [
    Valid(  # softmax probabilities into KLDivLoss (it expects probabilities as target, log-probs as input)
        _MLP + "\nteacher = nn.Sequential(nn.Linear(8, 4), nn.Softmax(dim=1))\nkl = nn.KLDivLoss(reduction='batchmean')\n"
        "def distil(x, student_logits):\n    return kl(F.log_softmax(student_logits, 1), teacher(x))\n"
    ),
    Valid(  # logits in training, probabilities at inference
        _MLP + "\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(8, 4)\n\n"
        "    def forward(self, x):\n        logits = self.fc(x)\n        if self.training:\n            return logits\n"
        "        return logits.softmax(-1)\n\nmodel = Net()\ncriterion = nn.CrossEntropyLoss()\n"
        "def step(x, y):\n    criterion(model(x), y).backward()\n"
    ),
    Valid(  # sigmoid into BCELoss is the matching pair
        _MLP + "\nmodel = nn.Sequential(nn.Linear(8, 1), nn.Sigmoid())\ncriterion = nn.BCELoss()\n"
        "def step(x, y):\n    criterion(model(x), y).backward()\n"
    ),
    Valid(  # log_softmax into NLLLoss is the matching pair
        _MLP + "\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(8, 4)\n\n"
        "    def forward(self, x):\n        return F.log_softmax(self.fc(x), dim=1)\n\nmodel = Net()\n"
        "def step(x, y):\n    F.nll_loss(model(x), y).backward()\n"
    ),
    Valid(  # one name, two models: which one the loss sees is not clear from the source
        _MLP + "\ndef build(kind):\n    if kind == 'probs':\n        model = nn.Sequential(nn.Linear(8, 4), nn.Softmax(dim=1))\n"
        "    else:\n        model = nn.Sequential(nn.Linear(8, 4))\n    criterion = nn.CrossEntropyLoss()\n"
        "    return criterion(model(torch.ones(2, 8)), torch.zeros(2, dtype=torch.long))\n"
    ),
    Valid(  # the softmax model is not the one the loss gets
        _MLP + "\npolicy = nn.Sequential(nn.Linear(8, 4), nn.Softmax(dim=-1))\nclassifier = nn.Linear(8, 4)\n"
        "criterion = nn.CrossEntropyLoss()\ndef step(x, y):\n    probs = policy(x)\n    criterion(classifier(x), y).backward()\n"
    ),
]
INVALID = [
    Invalid(
        _MLP + "\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(8, 4)\n"
        "        self.out = nn.Softmax(dim=1)\n\n    def forward(self, x):\n        x = self.out(self.fc(x))\n        return x\n\n"
        "model = Net().to('cpu')\ncriterion = nn.CrossEntropyLoss()\n\n"
        "def train(loader, optimizer):\n    for x, y in loader:\n        out = model(x)\n        loss = criterion(out, y)\n"
        "        loss.backward()\n        optimizer.step()\n",
        line=12,
    ),
    Invalid(  # a Sequential ending in Softmax, functional cross_entropy
        _MLP + "\nmodel = nn.Sequential(\n    nn.Linear(8, 4),\n    nn.Softmax(dim=1),\n)\n"
        "def step(x, y):\n    F.cross_entropy(model(x), y).backward()\n",
        line=7,
    ),
    Invalid(  # sigmoid into BCEWithLogitsLoss, the output squeezed on the way
        _MLP + "\nclass Disc(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(8, 1)\n\n"
        "    def forward(self, x):\n        return torch.sigmoid(self.fc(x))\n\n"
        "def step(x, y):\n    disc = Disc()\n    loss_fn = nn.BCEWithLogitsLoss()\n    loss_fn(disc(x).squeeze(1), y).backward()\n",
        line=11,
    ),
    Invalid(  # the head is a Sequential attribute ending in Softmax; the loss is called inside an expression
        _MLP + "\nclass Tagger(nn.Module):\n    def __init__(self, n):\n        super().__init__()\n"
        "        self.body = nn.Linear(8, 16)\n        self.head = nn.Sequential(nn.Linear(16, n), nn.Softmax())\n\n"
        "    def forward(self, x):\n        h = self.body(x).relu()\n        return self.head(h)\n\n"
        "tagger = Tagger(5)\nce = torch.nn.CrossEntropyLoss()\n"
        "def step(x, y, z):\n    total = (ce(tagger(x), y) + ce(tagger(z), y)) / 2\n    total.backward()\n",
        line=13,
    ),
    Invalid(  # softmax probabilities into NLLLoss
        _MLP + "\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(8, 4)\n\n"
        "    def forward(self, x):\n        return self.fc(x).softmax(dim=-1)\n\nnet = Net()\n"
        "def step(x, y):\n    nn.NLLLoss()(net(x), y).backward()\n",
        line=11,
    ),
]


def check(unit: SourceUnit, options: dict) -> Iterator[Report]:
    reported: set[int] = set()
    for link in losses_of_models(unit):
        activation = link.activation
        what = MISMATCH.get((activation.kind, link.loss))
        if what is None or id(activation.node) in reported:
            continue
        reported.add(id(activation.node))
        yield Report(
            unit.span(activation.node),
            f"{activation.model}'s output is {activation.kind} probabilities, and line {link.call.lineno} feeds it to "
            f"{link.loss}, which {what}: the loss cannot reach zero and the gradient reaching the logits shrinks "
            f"(about 0.1x with 10 classes); {_INSTEAD[activation.kind]}",
        )


def confirm(measurement: Optional[dict]) -> Confirmation:
    """The confirmation policy: ``measurement`` has ``logit_grad_ratio`` (gradient norm at
    the logits with the extra activation / without it) and the two norms, or is None."""
    ratio = (measurement or {}).get("logit_grad_ratio")
    if ratio is None:
        return Confirmation("not-probed", {"reason": (measurement or {}).get("reason", NOT_MEASURED)})
    evidence = {k: float(f"{v:.3g}") if isinstance(v, float) else v for k, v in (measurement or {}).items()
                if isinstance(v, (float, str))}
    return Confirmation("confirmed" if ratio <= CONFIRM_RATIO else "refuted", evidence)
