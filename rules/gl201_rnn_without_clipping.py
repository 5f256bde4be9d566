"""## What it does
Checks that a training loop for a recurrent model (`nn.RNN`, `nn.LSTM`, `nn.GRU` or
their cells, built in the same file or in a project-local module it imports) clips
its gradients. Clipping counts in any spelling: `torch.nn.utils.clip_grad_norm_` /
`clip_grad_value_` under any alias, `accelerator.clip_grad_norm_`, Lightning's
`self.clip_gradients`, `Trainer(gradient_clip_val=...)` or
`configure_gradient_clipping`, and Hugging Face `TrainingArguments(max_grad_norm=...)`
(on by default, so an HF `Trainer` is clipped unless `max_grad_norm=0`). A loop whose
model is built beside it from non-recurrent layers only (`net = nn.Sequential(nn.Linear(5, 1))`)
is not flagged, even in a file that defines an RNN elsewhere; a wrapper of a model handed
in (`nn.DataParallel(model)`, `nn.Sequential(encoder)`) is not known to be plain.

## Why is this bad?
Backpropagation through time multiplies the gradient by the recurrent Jacobian once
per time step; when its largest singular value is above one the gradient grows
exponentially with the sequence length. A single long or unusual sequence then
produces a huge update that throws the weights far away (loss spikes, NaN).
Clipping the gradient norm before the step is the standard cure (Pascanu et al. 2013).

## Example
```python
model = nn.LSTM(128, 256, num_layers=2)
optimizer = torch.optim.Adam(model.parameters())
for x, y in loader:
    optimizer.zero_grad()
    loss = criterion(model(x)[0], y)
    loss.backward()
    optimizer.step()
```

## Use instead
```python
model = nn.LSTM(128, 256, num_layers=2)
optimizer = torch.optim.Adam(model.parameters())
for x, y in loader:
    optimizer.zero_grad()
    loss = criterion(model(x)[0], y)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    optimizer.step()
```

## Options
- `max-norm` (float, default `1.0`): the `max_norm` the fix inserts.

## References
- Pascanu, Mikolov, Bengio, "On the difficulty of training recurrent neural networks", ICML 2013
- [`torch.nn.utils.clip_grad_norm_`](https://pytorch.org/docs/stable/generated/torch.nn.utils.clip_grad_norm_.html)
- [Lightning: gradient clipping](https://lightning.ai/docs/pytorch/stable/advanced/training_tricks.html#gradient-clipping)
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterator, Optional

from gradlint.findings import Fix
from gradlint.fix.edits import clip_function, insert_before, make_fix, source, standalone
from gradlint.registry import Invalid, Report, Valid
from gradlint.source.clearing import closure_of
from gradlint.source.accumulation import uses_scaler
from gradlint.source.loops import BACKWARD, CLIP, FORWARD, STEP, UNSCALE, Scope, TrainingSummary, contains
from gradlint.source.names import dotted
from gradlint.source.plain_models import builds_layers, handed_model_unknown, trains_plain_local_model
from gradlint.source.recurrent import imported_project_names

CODE = "GL201"
NAME = "rnn-without-clipping"
SEVERITY = "warning"
SUMMARY = "A recurrent model is trained without gradient clipping"
SCOPE = "loop"
FIXABLE = True
OPTIONS = {"max-norm": 1.0}

_LSTM = """
import torch
from torch import nn

model = nn.LSTM(32, 64)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
"""

VALID = [
    Valid(
        """
import torch
from torch import nn
from torch.nn.utils import clip_grad_value_

model = nn.GRU(32, 64)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for x, y in loader:
    optimizer.zero_grad()
    loss_fn(model(x)[0], y).backward()
    clip_grad_value_(model.parameters(), 0.5)
    optimizer.step()
"""
    ),
    Valid(  # not recurrent
        """
import torch
model = torch.nn.Linear(32, 2)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for x, y in loader:
    optimizer.zero_grad()
    loss_fn(model(x), y).backward()
    optimizer.step()
"""
    ),
    Valid(  # Lightning clips through the Trainer
        """
import lightning as L
from torch import nn

class LM(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(32, 64)

    def training_step(self, batch, batch_idx):
        return self.rnn(batch)[0].sum()

L.Trainer(max_epochs=3, gradient_clip_val=0.5).fit(LM())
"""
    ),
    Valid(  # an imported local module that is not recurrent
        """
import torch
from convnet import ConvNet
model = ConvNet()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for x, y in loader:
    optimizer.zero_grad()
    loss_fn(model(x), y).backward()
    optimizer.step()
""",
        files=(("convnet.py", "from torch import nn\nclass ConvNet(nn.Module):\n    pass\nclass Other(nn.Module):\n    def __init__(self):\n        self.rnn = nn.LSTM(3, 4)\n"),),
    ),
]
INVALID = [
    Invalid(
        _LSTM
        + """for x, y in loader:
    optimizer.zero_grad()
    loss = loss_fn(model(x)[0], y)
    loss.backward()
    optimizer.step()  # update
""",
        line=11,
        fixed=_LSTM
        + """for x, y in loader:
    optimizer.zero_grad()
    loss = loss_fn(model(x)[0], y)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    optimizer.step()  # update
""",
    ),
    Invalid(  # the recurrent model lives in a local module; AMP needs unscale_ first
        """
import torch
from models.lm import RNNLanguageModel as LM

net = LM(vocab=100)
opt = torch.optim.Adam(net.parameters())
scaler = torch.cuda.amp.GradScaler()
for x, y in loader:
    opt.zero_grad()
    with torch.autocast("cuda"):
        loss = loss_fn(net(x), y)
    scaler.scale(loss).backward()
    scaler.step(opt)
    scaler.update()
""",
        line=13,
        files=(
            ("models/__init__.py", ""),
            ("models/lm.py", "from torch import nn\nfrom .layers import Encoder\nclass RNNLanguageModel(nn.Module):\n    def __init__(self, vocab):\n        super().__init__()\n        self.encoder = Encoder()\n"),
            ("models/layers.py", "import torch.nn as nn\nclass Encoder(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.cell = nn.GRUCell(8, 8)\n"),
        ),
        options=(("max-norm", 0.5),),
        fixed="""
import torch
from models.lm import RNNLanguageModel as LM

net = LM(vocab=100)
opt = torch.optim.Adam(net.parameters())
scaler = torch.cuda.amp.GradScaler()
for x, y in loader:
    opt.zero_grad()
    with torch.autocast("cuda"):
        loss = loss_fn(net(x), y)
    scaler.scale(loss).backward()
    scaler.unscale_(opt)
    torch.nn.utils.clip_grad_norm_(net.parameters(), max_norm=0.5)
    scaler.step(opt)
    scaler.update()
""",
    ),
    Invalid(  # Lightning without gradient_clip_val
        """
import pytorch_lightning as pl
from torch import nn

class Tagger(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(32, 64, batch_first=True)

trainer = pl.Trainer(max_epochs=10)
""",
        line=10,
    ),
    Invalid(  # nn.DataParallel(model) wraps the model handed in, which may be the LSTM
        """
import torch
from torch import nn

rnn = nn.LSTM(10, 20)

def train(model, loader):
    model = nn.DataParallel(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for x, y in loader:
        optimizer.zero_grad()
        model(x).sum().backward()
        optimizer.step()

train(rnn, loader)
""",
        line=13,
    ),
]


def check(summary: TrainingSummary, options: dict) -> Iterator[Report]:
    facts = summary.facts
    if not summary.scopes and not facts.lightning_trainers and not facts.hf_training_args:
        return
    unclipped = [scope for scope in summary.scopes if not _clips(scope)]
    trainers = [t for t in facts.lightning_trainers if t.disables("gradient_clip_val", False)]
    if facts.custom_gradient_clipping or facts.manual_optimization:
        trainers = []  # manual optimisation clips in training_step (a scope of its own)
    hf_args = [a for a in facts.hf_training_args if a.disables("max_grad_norm", True)]
    if not (unclipped or trainers or hf_args):
        return
    evidence = facts.recurrent
    if evidence is None:
        return
    layer = f"nn.{evidence.layer}"
    local_classes = {n.name for n in summary.unit.tree.body if isinstance(n, ast.ClassDef)}  # type: ignore[union-attr]
    for scope in unclipped:
        owner = _module_class(summary, scope)
        if owner is not None and owner.name not in facts.recurrent_names and builds_layers(owner, summary.names.qualify, local_classes):
            continue  # the step of another module of this file, which builds its own non-recurrent layers
        if _trains_plain_local_model(summary, scope):
            continue  # `net = nn.Sequential(nn.Linear(5, 1))` built beside the loop: not the file's RNN
        step = scope.first(STEP)
        assert step is not None
        yield Report(
            summary.unit.span(step.node),
            f"{scope.label} trains a recurrent model ({layer}) without gradient clipping; "
            f"clip the gradient norm between backward() and step()",
            fix=_fix(summary, scope, float(options["max-norm"])),
        )
    for call in trainers:
        yield Report(
            summary.unit.span(call.node.func),
            f"Lightning Trainer trains a recurrent model ({layer}) without gradient clipping; "
            f"pass gradient_clip_val=1.0",
        )
    for call in hf_args:
        yield Report(
            summary.unit.span(call.node.func),
            f"TrainingArguments turn gradient clipping off (max_grad_norm) for a recurrent model "
            f"({layer}); keep the default max_grad_norm=1.0",
        )


def _module_class(summary: TrainingSummary, scope: Scope) -> Optional[ast.ClassDef]:
    """The module class (``nn.Module``/``LightningModule``) whose method holds the scope."""
    for node in summary.unit.tree.body:  # type: ignore[union-attr]
        if isinstance(node, ast.ClassDef) and contains(node, scope.node):
            if any((summary.names.qualify(base) or "").endswith("Module") for base in node.bases):
                return node
    return None


def _trains_plain_local_model(summary: TrainingSummary, scope: Scope) -> bool:
    step = scope.first(STEP)
    model = _model(summary, scope, step.receiver) if step is not None and step.receiver else None
    tree, facts, aliases = summary.unit.tree, summary.facts, summary.names.aliases
    return model is not None and (
        trains_plain_local_model(tree, scope.node, model, aliases, facts.recurrent_names,  # type: ignore[arg-type]
                                 frozenset(imported_project_names(tree, Path(summary.unit.path), facts.project_files)))  # type: ignore[arg-type]
        or handed_model_unknown(tree, scope.node, model, aliases, facts.recurrent_names)  # type: ignore[arg-type]
    )


def _clips(scope: Scope) -> bool:
    if scope.first(CLIP) is not None:
        return True
    # a helper of another module whose name says it clips (utils.clip_gradients(model))
    return any(
        isinstance(node, ast.Call) and _names_grad_clipping(dotted(node.func) or "")
        for node in ast.walk(scope.node)
    )


def _fix(summary: TrainingSummary, scope: Scope, max_norm: float) -> Optional[Fix]:
    steps, backwards = scope.of(STEP), scope.of(BACKWARD)
    if len(steps) != 1 or not backwards or steps[0].via is not None:
        return None
    step = steps[0]
    if not standalone(summary.unit, step.own) or step.receiver is None:
        return None
    if closure_of(scope, step, summary.unit.tree) is not None:
        return None  # step(closure) runs backward() itself: a clip before it would come first
    if step.own is None:
        return None  # no statement of its own to put the clip before
    optimizer = step.receiver
    backward = backwards[-1]
    lines = []
    if summary.names.kind_of(backward.receiver) == "accelerator":
        model = _model(summary, scope, optimizer)
        if model is None:
            return None
        lines.append(f"{backward.receiver}.clip_grad_norm_({model}.parameters(), max_norm={max_norm!r})")
    elif isinstance(backward.node, ast.Call) and dotted(backward.node.func) == "self.manual_backward":
        lines.append(f'self.clip_gradients({optimizer}, gradient_clip_val={max_norm!r}, gradient_clip_algorithm="norm")')
    else:
        model, clip = _model(summary, scope, optimizer), clip_function(summary.names)
        if model is None or clip is None:
            return None
        scaler = uses_scaler(scope)
        if scaler is not None and scope.first(UNSCALE) is None:
            lines.append(f"{scaler}.unscale_({optimizer})")
        lines.append(f"{clip}({model}.parameters(), max_norm={max_norm!r})")
    return make_fix(f"clip gradients before {source(summary.unit, step.node)}", insert_before(summary.unit, step.own, lines))


def _model(summary: TrainingSummary, scope: Scope, optimizer: str) -> Optional[str]:
    """The model the optimiser updates: from ``Optimizer(model.parameters())``, else the one model called."""
    binding = summary.names.bindings.get(optimizer)
    if binding is not None and binding.params_of:
        return binding.params_of
    called = {event.receiver for event in scope.of(FORWARD) if event.receiver and event.receiver != "self"}
    return called.pop() if len(called) == 1 else None


def _names_grad_clipping(name: str) -> bool:
    last = name.rsplit(".", 1)[-1].lower()
    return "clip" in last and "grad" in last
