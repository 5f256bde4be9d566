"""## What it does
Checks training loops that run while the model is in eval mode:

- a `model.eval()` (directly, or in a `validate()`/`evaluate()` of the same file that the
  loop calls) from which the next training iteration is reached with no `model.train()`
  in between: validation after the training loop inside the epoch loop, validation
  before it, or a periodic evaluation inside the training loop;
- a transformers/diffusers model loaded with `from_pretrained(...)` (which returns it
  in eval mode) and trained in a manual loop of the same function that never calls
  `model.train()`.

A `validate()` that ends with `model.train()`, a `model.train()` at the start of each
epoch or iteration (or in the training function the epoch loop calls), `train(False)`
vs `train(True)` branches on the phase, and a `model.eval()` in the same iteration right
before the training code (freezing BatchNorm on purpose) are not flagged. Only models that
are trained count (an optimiser takes their parameters, or they are named `model`/`net`
when the optimiser's model is unknown): a frozen teacher or an EMA copy in eval mode is
fine. Lightning modules and `transformers.Trainer` subclasses are skipped (the framework
sets the mode), and an evaluation helper of another file is unknown and trusted.

## Why is this bad?
`eval()` switches dropout off and makes BatchNorm use (and stop updating) its running
statistics. Training in that mode silently trains a different network: no dropout
regularisation, batch statistics frozen at whatever they were, and gradient
checkpointing in transformers models switched off (it runs only when `training` is true).
After the first validation pass every later epoch trains this way. Transformers'
`from_pretrained` documents that the model is returned in eval mode and must be put back
with `model.train()` before fine-tuning.

## Example
```python
for epoch in range(epochs):
    for x, y in train_loader:
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        val_loss = sum(loss_fn(model(x), y).item() for x, y in val_loader)
```

## Use instead
```python
for epoch in range(epochs):
    model.train()
    for x, y in train_loader:
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        val_loss = sum(loss_fn(model(x), y).item() for x, y in val_loader)
```

## Options
None.

## References
- [`torch.nn.Module.train` / `eval`](https://pytorch.org/docs/stable/generated/torch.nn.Module.html#torch.nn.Module.eval)
- [PyTorch tutorial: the optimization loop (`model.train()` / `model.eval()` each epoch)](https://pytorch.org/tutorials/beginner/basics/optimization_tutorial.html)
- [Transformers `PreTrainedModel.from_pretrained`: "The model is set in evaluation mode by default"](https://huggingface.co/docs/transformers/main_classes/model#transformers.PreTrainedModel.from_pretrained)
"""

from __future__ import annotations

import ast
from typing import Iterator, Optional

from gradlint.findings import Fix
from gradlint.fix.edits import insert_before, make_fix, standalone
from gradlint.registry import Invalid, Report, Valid
from gradlint.source.frames import file_frames
from gradlint.source.loops import LOOP_NODES, TrainingSummary
from gradlint.source.modes import EvalLeak, eval_leaks
from gradlint.source.names import dotted

from .support.other_places import other_place

CODE = "GL211"
NAME = "eval-mode-training"
SEVERITY = "warning"
SUMMARY = "The model trains in eval mode (after model.eval() or from_pretrained) without model.train()"
SCOPE = "loop"
FIXABLE = True
OPTIONS: dict = {}

_TRAIN_BATCHES = """    for x, y in train_loader:
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()
"""

VALID = [
    Valid(  # a linear probe: the training function puts the model in eval() itself, before its own loop
        "import torch\nimport torch.nn.functional as F\n\n"
        "def fit_head(model, loader, opt):\n    model.eval()  # frozen features: BatchNorm statistics stay put\n"
        "    for x, y in loader:\n        opt.zero_grad()\n        F.cross_entropy(model(x), y).backward()\n        opt.step()\n\n"
        "def score(model, loader):\n    model.eval()\n    with torch.no_grad():\n        return sum(float(model(x).sum()) for x, _ in loader)\n\n"
        "def main(model, train_loader, val_loader, opt):\n    for epoch in range(5):\n        fit_head(model, train_loader, opt)\n"
        "        score(model, val_loader)\n"
    ),
    Valid(  # the mode follows a flag in one conditional expression at the start of the helper
        """
def run_epoch(net, loader, optimizer=None):
    net.train() if optimizer is not None else net.eval()
    for x, y in loader:
        loss = loss_fn(net(x), y)
        if optimizer is not None:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

for epoch in range(10):
    run_epoch(model, train_loader, optimizer)
    run_epoch(model, val_loader)
"""
    ),
    Valid(  # validate() restores train mode before returning
        """
def validate(model, loader):
    model.eval()
    with torch.no_grad():
        total = sum(loss_fn(model(x), y).item() for x, y in loader)
    model.train()
    return total

for epoch in range(10):
""" + _TRAIN_BATCHES + """    validate(model, val_loader)
"""
    ),
    Valid(  # train() at the start of each epoch, in the training function
        """
def train_one_epoch(net, loader, optimizer):
    net.train()
    for x, y in loader:
        optimizer.zero_grad()
        loss_fn(net(x), y).backward()
        optimizer.step()

def evaluate(net, loader):
    net.eval()
    return [net(x) for x, _ in loader]

for epoch in range(10):
    train_one_epoch(model, train_loader, optimizer)
    evaluate(model, val_loader)
"""
    ),
    Valid(  # the transfer-learning tutorial's phase loop
        """
for epoch in range(25):
    for phase in ["train", "val"]:
        if phase == "train":
            model.train()
        else:
            model.eval()
        for inputs, labels in loaders[phase]:
            optimizer.zero_grad()
            with torch.set_grad_enabled(phase == "train"):
                loss = criterion(model(inputs), labels)
                if phase == "train":
                    loss.backward()
                    optimizer.step()
"""
    ),
    Valid(  # an evaluation helper of another module: unknown, trusted
        """
from utils import evaluate
for epoch in range(10):
""" + _TRAIN_BATCHES + """    evaluate(model, val_loader)
"""
    ),
    Valid(  # a frozen teacher in eval mode
        """
teacher.eval()
optimizer = torch.optim.SGD(student.parameters(), lr=0.1)
for epoch in range(10):
    for x, y in train_loader:
        optimizer.zero_grad()
        loss_fn(student(x), teacher(x)).backward()
        optimizer.step()
    teacher.eval()
"""
    ),
    Valid(  # a pretrained model put in train mode
        """
from transformers import AutoModelForSequenceClassification
model = AutoModelForSequenceClassification.from_pretrained("bert-base-uncased")
optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5)
model.train()
for batch in loader:
    model(**batch).loss.backward()
    optimizer.step()
    optimizer.zero_grad()
"""
    ),
    Valid(  # nanoGPT's shape: an estimate helper that restores train mode
        """
def estimate_loss():
    model.eval()
    out = [model(x) for x in batches]
    model.train()
    return out

while True:
    if it % 250 == 0:
        losses = estimate_loss()
    loss = model(X, Y)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
"""
    ),
    Valid(  # only the EMA copy is put in eval mode
        """
for epoch in range(epochs):
    for x, y in train_loader:
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()
        ema.update(model)
    ema.module.eval()
    score = evaluate(ema.module, val_loader)
"""
    ),
    Valid(  # samples from both nets through a loop variable; train() on the real name each step
        """
class Trainer:
    def step(self):
        self.net.train()
        self.loss_fn(self.net(next(self.data))).backward()
        self.opt.step()
        self.opt.zero_grad()
        for model in (self.ema_net, self.net):
            model.eval()
            save_samples(model(next(self.data)))

    def run(self):
        while self.steps < self.total:
            self.step()
"""
    ),
    Valid(  # Lightning sets the mode itself
        """
import lightning as L
class Lit(L.LightningModule):
    def fit_manually(self, loader, opt):
        for batch in loader:
            self.eval()
            self.manual_backward(self(batch))
            opt.step()
"""
    ),
]
INVALID = [
    Invalid(  # validation after the training batches, no train() before the next epoch
        """
model.train()
for epoch in range(10):
""" + _TRAIN_BATCHES + """    model.eval()
    with torch.no_grad():
        acc = evaluate_batches(model, val_loader)
""",
        line=4,
        fixed="""
model.train()
for epoch in range(10):
    for x, y in train_loader:
        model.train()
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        acc = evaluate_batches(model, val_loader)
""",
    ),
    Invalid(  # a validate() of this file that leaves eval mode on
        """
def validate(net, loader):
    net.eval()
    with torch.no_grad():
        return sum(loss_fn(net(x), y).item() for x, y in loader)

for epoch in range(10):
""" + _TRAIN_BATCHES + """    validate(model, val_loader)
""",
        line=8,
        fixed="""
def validate(net, loader):
    net.eval()
    with torch.no_grad():
        return sum(loss_fn(net(x), y).item() for x, y in loader)

for epoch in range(10):
    for x, y in train_loader:
        model.train()
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()
    validate(model, val_loader)
""",
    ),
    Invalid(  # a periodic evaluation inside the training loop
        """
for step, (x, y) in enumerate(train_loader):
    optimizer.zero_grad()
    loss_fn(model(x), y).backward()
    optimizer.step()
    if step % 500 == 0:
        model.eval()
        log(accuracy(model, val_batch))
""",
        line=2,
    ),
    Invalid(  # from_pretrained returns eval mode; the manual loop never calls train()
        """
from transformers import AutoModelForCausalLM
import torch

def main():
    model = AutoModelForCausalLM.from_pretrained("gpt2")
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5)
    for batch in loader:
        loss = model(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
""",
        line=8,
        fixed="""
from transformers import AutoModelForCausalLM
import torch

def main():
    model = AutoModelForCausalLM.from_pretrained("gpt2")
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5)
    for batch in loader:
        model.train()
        loss = model(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
""",
    ),
    Invalid(  # validation first in the epoch, then training
        """
class Runner:
    def fit(self, epochs):
        for epoch in range(epochs):
            self.model.eval()
            self.validate_all()
            for x, y in self.train_loader:
                self.optimizer.zero_grad()
                self.loss_fn(self.model(x), y).backward()
                self.optimizer.step()
""",
        line=7,
    ),
]


def check(summary: TrainingSummary, options: dict) -> Iterator[Report]:
    if "eval" not in summary.unit.text and "from_pretrained" not in summary.unit.text:
        return
    kinds = file_frames(summary.unit).kinds
    for leak in eval_leaks(summary, kinds):
        span = summary.unit.header_span(leak.scope.node)
        model = f"`{leak.model}`" if leak.model else "the model"  # (its eval() here, or a helper's this line calls)
        place = f"`from_pretrained()` returns {model} in eval mode here" if leak.pretrained else (
            f"{model} is put in eval mode here")
        yield Report(span, _message(summary, leak), fix=_fix(summary, leak), related=other_place(leak.line, place, span))


def _message(summary: TrainingSummary, leak: EvalLeak) -> str:
    model = leak.model or "the model"
    if leak.pretrained:
        cause = (f"{model} comes from from_pretrained() on line {leak.line}, which returns it in eval mode, "
                 f"and nothing calls {model}.train() before this {leak.scope.label} trains it")
    else:
        cause = (f"{model}.eval() on line {leak.line} is still in force when this {leak.scope.label} runs its next "
                 f"iteration: nothing calls {model}.train() in between")
    return (f"{cause}, so it trains with dropout off and BatchNorm statistics frozen; "
            f"call {model}.train() at the start of each training iteration")


def _fix(summary: TrainingSummary, leak: EvalLeak) -> Optional[Fix]:
    loop = leak.scope.node
    model = leak.model
    if not isinstance(loop, LOOP_NODES) or model is None or not leak.same_frame:
        return None
    used = {dotted(node) for node in ast.walk(loop) if isinstance(node, (ast.Name, ast.Attribute))}
    if model not in used or not standalone(summary.unit, loop.body[0]):
        return None
    return make_fix(f"call {model}.train() at the start of each iteration",
                    insert_before(summary.unit, loop.body[0], [f"{model}.train()"]))
