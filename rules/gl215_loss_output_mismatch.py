"""## What it does
Links a model to the loss its output is fed to, and flags a loss that applies the
model's final activation a second time:
- a model whose `forward` ends in softmax (every `return` is `F.softmax(...)`,
  `logits.softmax(-1)`, or `self.act(x)` with `self.act = nn.Softmax(...)` or a
  `Sequential` ending in one, also built with `add_module`), or an
  `nn.Sequential` ending in `nn.Softmax`, trained with `nn.CrossEntropyLoss` /
  `F.cross_entropy` (they apply log-softmax themselves) or `nn.NLLLoss` / `F.nll_loss`
  (they expect log-probabilities), or with `nn.BCEWithLogitsLoss` /
  `F.binary_cross_entropy_with_logits` (one-hot targets: it applies a sigmoid to each
  probability as if it were a logit);
- a model ending in sigmoid trained with `nn.BCEWithLogitsLoss` /
  `F.binary_cross_entropy_with_logits` (it applies the sigmoid itself), or with
  `nn.CrossEntropyLoss` / `F.cross_entropy` (one class per sample, from logits);
- the other way round, raw logits into a loss that expects probabilities: an
  `nn.Sequential` ending in `nn.Linear` (or a convolution: a segmentation head's
  `nn.Conv2d(c, 1, 1)`), or a class whose `forward` returns such an attribute's output on
  every path, or a part's built from such a class (`self.net = UNet()`, `return
  self.net(x)`), trained with `nn.BCELoss` / `F.binary_cross_entropy`.

The link is the loss's first argument (or `input=`): `criterion(model(x), y)` (also a loss
taken from a dict by a constant key, `losses["nll"](out, y)`, or a function of the project
applying the loss to an argument, `loss.multiloss(output_cls=out, ...)`), or `out = model(x)`
first (also rebound to an activation before the loss reads it, `out = torch.sigmoid(out)`, or
gathered one call at a time, `probs.append(model(g))` then `torch.cat(probs)`); one element of a tuple the model returns (`validity, label = disc(x)`,
`out[1]`) when that element is the activation's; `self(x)` inside the model's own class
(a LightningModule's `training_step`), or in a step a base class of the file without a
`forward` hands down to it (`class Net(ImageClassificationBase)` inheriting a
`training_step` that applies `F.cross_entropy(self(images), labels)`); an output the class keeps (`self.pred =
self.head(x)` in `forward`, assigned once, the loss in another method); and a loss handed to the model
(`model.set_loss(nn.NLLLoss())` storing it in an attribute that a method calls on the
model's own output). The finding is on the loss call that takes the output (one per
activation), where the two meet and where a `# noqa` belongs (a loss handed to the model:
on the line that builds it, else the handing call, naming the method that calls it);
the message names the line of the activation (the `nn.Softmax()` layer of
`self.head = nn.Sequential(...)`, or forward's `F.softmax(...)`), the one to change
when the loss is right. A torchvision/timm model whose head is replaced
(`model.fc = nn.Sequential(nn.Linear(...), nn.Softmax(dim=1))`) ends in that head, also
when a project function does it and returns the model (`model, size = resnet101()`), and
`model.forward(x)` is the model's output as `model(x)` is. The
model may be a class of the file or one it imports from a
module of the project (`from model import *`), or a project function that can build one
(`model = models.setup(opt)` where `setup` returns `CapsuleNet(opt)` on one of its
branches): then the finding is on the line of this file that links the two, and names the
line of the model's file. A loss bound to a name (`loss_fn = F.cross_entropy`) counts, as
the binding before each call (`loss_fn = nn.MSELoss()` there, `nn.CrossEntropyLoss()`
later); so does a function returning a loss of its argument, or a tuple of them.
A training helper links them too: `train(loader, model, criterion, optimizer)` where
`train` (of the file or a project module, or a function it hands both to) calls
`criterion(model(x), y)` and `backward()`, or builds the loss itself; a trainer class
built with the model and the loss (`Trainer(model, opt, nn.CrossEntropyLoss()).fit()`),
or a method given the model whose class holds the loss (`local.update_weights(model)`), or
the model's own training method given the loss (`model.fit(loaders, F.nll_loss, opt)` with
`criterion(self(x), y)` in `fit`);
a LightningModule's `training_step`, or PyTorch-Ignite's
`create_supervised_trainer(model, optimizer, loss_fn)`, or an Ignite `Engine` subclass
holding both whose static step applies the loss (`engine.crit(engine.model(x), y)`), also
built by a trainer class's method given them; a helper that only evaluates (no
`backward()`) does not, nor a loss under `torch.no_grad()` or read at once as a number
(`criterion(out, y).item()`, an evaluation loop), nor a loss a script computes
at module level when it never backpropagates anything. A method or function that wraps a loss (`def adversarial_loss(self,
y_hat, y): return F.binary_cross_entropy_with_logits(y_hat, y)`) counts as that loss. An
activation applied right at the loss's input (`criterion(torch.sigmoid(out), y)`, or
`probs = out.softmax(-1)` just before) is flagged whatever the model. A name bound to the
softmax model on one branch of an `if` and to another model on the other is flagged,
naming that branch: the configuration that picks it trains with the mismatch. A name the
module's top level binds in turn to different models (a notebook reusing `model` cell after
cell) is read, at each loss, as its last binding before it.
A `forward` whose softmax `return` is the one reached with its default arguments
(`if not reconstruct: return probs` with `reconstruct=False`) is flagged where the call
passes only the required arguments, and the message says so.
A `forward` is read in training mode, the mode a loss trains it in: `if self.training:
return probs` (with `argmax` at evaluation) is flagged, and the message says so; one that
returns logits while training (`if self.training: return logits`) is not. A multi-head
model whose `forward` fills a dict or list with one softmax per head
(`outputs[head] = F.softmax(...)`, a comprehension, a literal) and returns it ends in
softmax in every element: `criterion(outputs[head], y)`, and a loop over the container,
feed one of them. A `forward` ending by a flag its constructor keeps (`self.softmax =
softmax` with `softmax=True`; `if self.softmax: x = F.softmax(x, dim=1)`) ends in softmax
for a construction that leaves the flag at its default, and the message says so; one
passing `softmax=False` is not flagged, nor the class's own methods, which cannot know the
flag. A training helper that runs the model in a closure it defines and calls (`def
train(data, label): F.cross_entropy(model(x), y)`) links them, and a buffer a method fills
with its softmax layer row by row (`preds[i] = self.softmax(...)`) is probabilities.
A softmax feeding `nn.KLDivLoss`, `nn.BCELoss` or a loss of your
own is not flagged: those expect probabilities. Neither is an ablation switch that feeds the
same loss the logits in its other arm (`if double_softmax: ce(F.softmax(z, 1), y) else:
ce(z, y)`), nor a model's loss helper its class calls only behind a parameter that is off by
default and that no call of the file turns on. Report only: dropping the activation changes what
the model returns to every other caller.

## Why is this bad?
`CrossEntropyLoss` computes `log_softmax` of its input. Fed probabilities, it squashes
values that are already in [0, 1]: with 10 classes the loss can never go below 1.46 even
for a perfect prediction, and the gradient reaching the logits is about a tenth of what
the plain logits get (0.11x measured on random logits, 0.07x on confident ones, and
less as the model grows confident), so training crawls and stalls. A sigmoid before
`BCEWithLogitsLoss` does the same for binary targets (0.11x), and before
`CrossEntropyLoss` it leaves the loss a nearly uniform softmax of values in (0, 1)
(0.2x), and a softmax before `BCEWithLogitsLoss` squeezes every class score into
sigmoid((0, 1)) = (0.5, 0.73) (0.06x with 10 classes and one-hot targets). The fix is to return the
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

from dataclasses import replace
from typing import Iterator, Optional

from gradlint.findings import Confirmation
from gradlint.registry import Invalid, Report, Valid
from gradlint.inprocess.slips import MeasuredSlips
from gradlint.source.frames import file_frames
from gradlint.source.loss_switches import behind_an_off_switch, logits_in_other_arm
from gradlint.source.outputs import backpropagating_calls, losses_of_models
from gradlint.source.unit import SourceUnit

from .support.mismatch_reports import mismatch_message, mismatch_places, where_it_meets

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
    ("softmax", "BCEWithLogitsLoss"): "applies a sigmoid to each probability as if it were a logit",
    ("softmax", "F.binary_cross_entropy_with_logits"): "applies a sigmoid to each probability as if it were a logit",
    ("sigmoid", "BCEWithLogitsLoss"): "applies the sigmoid itself",
    ("sigmoid", "F.binary_cross_entropy_with_logits"): "applies the sigmoid itself",
    ("sigmoid", "CrossEntropyLoss"): "applies log-softmax to it as if it were logits",
    ("sigmoid", "F.cross_entropy"): "applies log-softmax to it as if it were logits",
    ("logits", "BCELoss"): "expects probabilities in [0, 1] and applies no sigmoid",
    ("logits", "F.binary_cross_entropy"): "expects probabilities in [0, 1] and applies no sigmoid",
}

_MLP = """import torch
import torch.nn as nn
import torch.nn.functional as F
"""

VALID = [
    Valid(  # the probabilities come only with the default flag; this call asks for the other path
        _MLP + "\nclass Caps(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(8, 4)\n\n"
        "    def forward(self, x, with_image=False):\n        p = F.softmax(self.fc(x), dim=1)\n        if not with_image:\n"
        "            return p\n        return p, x\n\nnet = Caps()\nprobs, image = net(x, with_image=True)\n"
        "loss = F.cross_entropy(net(x, True)[1], y)\n"
    ),
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
    Valid(  # an ablation switch: the other arm feeds the same loss the logits
        _MLP + "\nmodel = nn.Linear(8, 4)\ncriterion = nn.CrossEntropyLoss()\ndef step(x, y, double_softmax=False):\n"
        "    z = model(x)\n    if double_softmax:\n        loss = criterion(F.softmax(z, dim=1), y)\n"
        "    else:\n        loss = criterion(z, y)\n    loss.backward()\n"
    ),
    Valid(  # sigmoid into BCELoss is the matching pair
        _MLP + "\nmodel = nn.Sequential(nn.Linear(8, 1), nn.Sigmoid())\ncriterion = nn.BCELoss()\n"
        "def step(x, y):\n    criterion(model(x), y).backward()\n"
    ),
    Valid(  # raw logits into BCEWithLogitsLoss, or through a sigmoid into BCELoss: the matching pairs
        _MLP + "\nmodel = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))\n"
        "def step(x, y):\n    out = model(x)\n    probs = torch.sigmoid(out)\n"
        "    (nn.BCEWithLogitsLoss()(out, y) + nn.BCELoss()(probs, y) + F.binary_cross_entropy(out.sigmoid(), y)).backward()\n"
    ),
    Valid(  # log_softmax into NLLLoss is the matching pair
        _MLP + "\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(8, 4)\n\n"
        "    def forward(self, x):\n        return F.log_softmax(self.fc(x), dim=1)\n\nmodel = Net()\n"
        "def step(x, y):\n    F.nll_loss(model(x), y).backward()\n"
    ),
    Valid(  # the softmax model is replaced by one without it before the loss sees it
        _MLP + "\nclass Wrapper(nn.Module):\n    def __init__(self, inner):\n        super().__init__()\n        self.inner = inner\n\n"
        "model = nn.Sequential(nn.Linear(8, 4), nn.Softmax(dim=1))\nmodel = Wrapper(model)\ncriterion = nn.CrossEntropyLoss()\n"
        "loss = criterion(model(torch.ones(2, 8)), torch.zeros(2, dtype=torch.long))\n"
    ),
    Valid(  # the softmax model is not the one the loss gets
        _MLP + "\npolicy = nn.Sequential(nn.Linear(8, 4), nn.Softmax(dim=-1))\nclassifier = nn.Linear(8, 4)\n"
        "criterion = nn.CrossEntropyLoss()\ndef step(x, y):\n    probs = policy(x)\n    criterion(classifier(x), y).backward()\n"
    ),
    Valid(  # a two-headed model: the loss gets the logits element, not the probabilities
        _MLP + "\nclass TwoHeads(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(8, 4)\n\n"
        "    def forward(self, x):\n        logits = self.fc(x)\n        return logits, logits.softmax(-1)\n\n"
        "net = TwoHeads()\nce = nn.CrossEntropyLoss()\ndef step(x, y):\n    logits, probs = net(x)\n    ce(logits, y).backward()\n"
    ),
]
INVALID = [
    Invalid(  # raw logits (a Sequential ending in Linear) into BCELoss, which expects probabilities
        _MLP + "\nmodel = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))\nloss_fn = nn.BCELoss()\n"
        "def step(x, y):\n    out = model(x).squeeze()\n    loss = loss_fn(out, y)\n    loss.backward()\n",
        line=9, message="model's output (line 5) is raw logits (its last layer is nn.Linear), and this line feeds it to BCELoss",
    ),
    Invalid(  # a LightningModule whose part ends in a 1x1 convolution, its own output into BCELoss
        _MLP + "import pytorch_lightning as pl\n\nclass Seg(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.head = nn.Conv2d(8, 1, 1)\n    def forward(self, x):\n        return self.head(x)\n\n"
        "class Lit(pl.LightningModule):\n    def __init__(self):\n        super().__init__()\n        self.net = Seg()\n"
        "        self.loss = nn.BCELoss()\n    def forward(self, x):\n        return self.net(x)\n"
        "    def training_step(self, batch, i):\n        x, y = batch\n        return self.loss(self(x), y)\n",
        line=22, message="Lit's output (line 11) is raw logits (its last layer is nn.Conv2d), and this line feeds it to BCELoss",
    ),
    Invalid(  # ten class scores squashed by a sigmoid into CrossEntropyLoss, which wants logits
        _MLP + "\nmodel = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 10), nn.Sigmoid())\n"
        "criterion = nn.CrossEntropyLoss()\ndef step(x, y):\n    criterion(model(x), y).backward()\n",
        line=8, message="is sigmoid probabilities, and this line feeds it to CrossEntropyLoss, which applies log-softmax",
    ),
    Invalid(  # softmax over the classes into BCEWithLogitsLoss on one-hot targets: a sigmoid of probabilities
        _MLP + "\nclass Tagger(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(8, 5)\n\n"
        "    def forward(self, x):\n        return torch.softmax(self.fc(x), dim=1)\n\ntagger = Tagger()\n"
        "criterion = nn.BCEWithLogitsLoss()\ndef step(x, onehot):\n    loss = criterion(tagger(x), onehot)\n    loss.backward()\n",
        line=16, message="feeds it to BCEWithLogitsLoss, which applies a sigmoid to each probability as if it were a logit",
    ),
    Invalid(  # a class returning its Linear head's output into F.binary_cross_entropy
        _MLP + "\nclass Scorer(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.body = nn.Linear(8, 16)\n"
        "        self.out = nn.Linear(16, 1)\n\n    def forward(self, x):\n        x = self.body(x).relu()\n        x = self.out(x)\n"
        "        return x.squeeze(1)\n\nscorer = Scorer()\ndef step(x, y):\n    F.binary_cross_entropy(scorer(x), y).backward()\n",
        line=18, message="Scorer's output (line 13) is raw logits",
    ),
    Invalid(  # layers assigned together: self.fc, self.out = nn.Linear(...), nn.Softmax(...)
        _MLP + "\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.fc, self.out = nn.Linear(8, 4), nn.Softmax(dim=1)\n\n    def forward(self, x):\n"
        "        return self.out(self.fc(x))\n\nnet = Net()\nloss = nn.CrossEntropyLoss()(net(x), y)\nloss.backward()\n",
        line=14,
    ),
    Invalid(  # softmax on the path a call with the default flag takes; the other path returns a tuple
        _MLP + "\nclass Caps(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(8, 4)\n\n"
        "    def forward(self, x, y=None, with_image=False):\n        p = self.fc(x)\n        p = F.softmax(p, dim=1)\n"
        "        if not with_image:\n            return p\n        return p, x\n\nnet = Caps()\nloss_fn = F.cross_entropy\n"
        "loss = loss_fn(net(x), y)\nloss.backward()\n",
        line=19, message="Caps's output (line 12; called without `with_image`) is softmax probabilities, and this line feeds it to F.cross_entropy",
    ),
    Invalid(
        _MLP + "\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(8, 4)\n"
        "        self.out = nn.Softmax(dim=1)\n\n    def forward(self, x):\n        x = self.out(self.fc(x))\n        return x\n\n"
        "model = Net().to('cpu')\ncriterion = nn.CrossEntropyLoss()\n\n"
        "def train(loader, optimizer):\n    for x, y in loader:\n        out = model(x)\n        loss = criterion(out, y)\n"
        "        loss.backward()\n        optimizer.step()\n",
        line=21,
    ),
    Invalid(  # a Sequential ending in Softmax, functional cross_entropy
        _MLP + "\nmodel = nn.Sequential(\n    nn.Linear(8, 4),\n    nn.Softmax(dim=1),\n)\n"
        "def step(x, y):\n    F.cross_entropy(model(x), y).backward()\n",
        line=10,
    ),
    Invalid(  # sigmoid into BCEWithLogitsLoss, the output squeezed on the way
        _MLP + "\nclass Disc(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(8, 1)\n\n"
        "    def forward(self, x):\n        return torch.sigmoid(self.fc(x))\n\n"
        "def step(x, y):\n    disc = Disc()\n    loss_fn = nn.BCEWithLogitsLoss()\n    loss_fn(disc(x).squeeze(1), y).backward()\n",
        line=16, message="shrinks (about 0.1x for binary targets)",
    ),
]


def check(unit: SourceUnit, options: dict) -> Iterator[Report]:
    reported: set[tuple[Optional[str], int, Optional[str]]] = set()
    # a name that holds one of two models ending alike (``if kind == "cnn": model = CNN()
    # else: model = FFNN()``): each model is its own fix, and its own finding
    # (the second model's finding sits at the output the call is given: one finding per place)
    links = [(replace(link, activation=replace(one, also=())), index) for link in losses_of_models(unit)
             for index, one in enumerate((link.activation, *link.activation.also))]
    # a model's loss in a function that backpropagates first: ``cal_train``'s, not an accuracy helper's
    backpropagating = backpropagating_calls(unit)
    links.sort(key=lambda item: id(item[0].call) not in backpropagating)
    for link, index in links:
        activation = link.activation
        what = MISMATCH.get((activation.kind, link.loss))
        # (one finding per layer and per builder of the model: a teacher from ``unet_l`` and a
        # student from ``unet_s`` ending in the same softmax are two models trained wrong)
        key = (activation.path, id(activation.node), activation.via)
        if what is None or key in reported:
            continue
        parents = file_frames(unit).parents
        if activation.path is None and (logits_in_other_arm(link.call, activation.node, parents)
                                        or behind_an_off_switch(link.call, parents)):
            continue  # ``if double_softmax: criterion(F.softmax(z, 1), y) else: ...``: an ablation switch
        reported.add(key)
        # the finding sits on the line that feeds the output to the loss; the message names the
        # activation's line, the one to change when the loss is right
        span, fed = where_it_meets(unit, link, index)
        yield Report(span, mismatch_message(link, what, fed), related=mismatch_places(unit, link, span.line))


def measured(slips: MeasuredSlips) -> Iterator[Report]:
    """The form ``gradlint.preflight`` measures: the model returns probabilities and the
    user's loss applies the activation again; the gradient ratio at the logits is the
    evidence :func:`confirm` judges."""
    mismatch = slips.mismatch
    if mismatch is None:
        return
    place = slips.place_of(mismatch.module) if mismatch.module else slips.model_place
    yield Report(
        place,
        f"measured: '{slips.model}' returns {mismatch.activation} probabilities and the loss is {mismatch.loss}: "
        f"the gradient reaching the logits is {mismatch.ratio:.3g}x of what the logits alone get; return the "
        f"logits and apply {mismatch.activation} only at inference",
        path=place.path, model=slips.model,
        evidence={"logit_grad_ratio": mismatch.ratio, "grad_with_activation": mismatch.grad_with_activation,
                  "grad_without_activation": mismatch.grad_without_activation},
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
