"""## What it does
Finds `F.dropout(x, p)` (and `F.dropout1d/2d/3d`) called in a method of an `nn.Module`
(its `forward`, or a helper it calls) without a `training` argument. Not flagged: a call
that passes `training` (by keyword or as the third argument), one under a test of the
training mode (`if self.training: x = F.dropout(x, p)`, or after
`if not self.training: return x`), a method that only runs while training
(`training_step`, `forward_train`), one whose comment (on its line or the line above)
says it stays on by design (`# always on, also at inference`), a Monte-Carlo dropout block
(its class or file named for it: `class MCDropout`, `vgg_mcdo_block.py`), a literal `p` of 0,
and a class with no `forward` of its own or of a base class in the file (a shape probe).
A module-level function a module's method calls (`attn = F.dropout(attn, p=attention_dropout)`
in a copy of torchvision 0.13's `shifted_window_attention`) is flagged too, unless it takes
a training parameter itself or every call hands it something that reads the mode
(`dropout=self.p if self.training else 0.0`); that finding has no automatic fix (the
function needs a `training` parameter first). A function no module calls is not flagged.
`F.alpha_dropout` and `F.feature_alpha_dropout` default to `training=False` and are not
this rule's concern.

## Why is this bad?
Unlike the `nn.Dropout` module, which reads the module's mode, the functional
`F.dropout` has `training=True` as its default: it knows nothing of `model.eval()`. So
dropout stays on at evaluation and inference: predictions are random, validation scores
are worse than the model is and change from run to run, and an exported model drops
activations in production. The fix passes the module's own mode, `training=self.training`.

## Example
```python
import torch.nn as nn
import torch.nn.functional as F

class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(784, 256)
        self.out = nn.Linear(256, 10)

    def forward(self, x):
        x = F.relu(self.hidden(x))
        x = F.dropout(x, 0.5)
        return self.out(x)
```

## Use instead
```python
import torch.nn as nn
import torch.nn.functional as F

class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(784, 256)
        self.out = nn.Linear(256, 10)

    def forward(self, x):
        x = F.relu(self.hidden(x))
        x = F.dropout(x, 0.5, training=self.training)
        return self.out(x)
```

## Options
None.

## References
- [`torch.nn.functional.dropout`](https://pytorch.org/docs/stable/generated/torch.nn.functional.dropout.html): `dropout(input, p=0.5, training=True, inplace=False)`
- [`torch.nn.Module.eval`](https://pytorch.org/docs/stable/generated/torch.nn.Module.html#torch.nn.Module.eval): it sets `self.training`, which only modules read
- Srivastava et al., [Dropout: A Simple Way to Prevent Neural Networks from Overfitting](https://jmlr.org/papers/v15/srivastava14a.html), 2014
"""

from __future__ import annotations

import ast

import re
from pathlib import Path
from typing import Iterator, Optional

from gradlint.findings import Edit, Fix
from gradlint.fix.edits import make_fix
from gradlint.registry import Invalid, Report, Valid
from gradlint.source.call_arguments import argument
from gradlint.source.names import dotted
from gradlint.source.parameter_defaults import parameter_defaults
from gradlint.source.torch_calls import (TorchCall, comments_near, decided_by_training, literal_number, mentions_training,
                                        torch_calls)
from gradlint.source.unit import SourceUnit

from .support.other_places import other_place

CODE = "GL109"
NAME = "functional-dropout-always-on"
SEVERITY = "warning"
SUMMARY = "F.dropout in a module's forward without training=self.training stays on in eval()"
SCOPE = "file"
FIXABLE = True
OPTIONS: dict = {}

# the functional dropouts whose ``training`` parameter defaults to True (the third)
ALWAYS_ON = ("dropout", "dropout1d", "dropout2d", "dropout3d")
_TRAINING_POSITION = 2
# a comment that says dropout stays on by design (Tacotron 2's prenet, Monte Carlo dropout)
# a Monte-Carlo dropout module or file: dropout sampled at inference is its purpose
_MONTE_CARLO = re.compile(r"mc_?do(?![a-z])|mc_?dropout|monte_?carlo|bayes\w*_?dropout", re.I)
_DELIBERATE = re.compile(r"always|inference|\beval|deliberate|intentional|on purpose|monte.?carlo|\bmc\b", re.I)
# ... unless it says the author believes it is off there ("dropout, disabled when evaluating"): the slip itself
_BELIEVED_OFF = re.compile(r"\b(disabled?|off|inactive|skipped|turned off|not applied)\b.{0,24}\b(eval|infer|test)"
                           r"|\bonly (during|in|when|while|for) train", re.I)

_MODULE = """import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self, p):
        super().__init__()
        self.fc = nn.Linear(16, 16)
        self.p = p
"""

VALID = [
    Valid(  # the rate comes from the caller, which passes 0.0 outside training
        """
import torch.nn.functional as F
from torch import nn
class Attention(nn.Module):
    def attend(self, q, k, v, dropout_p):
        weights = F.dropout(F.softmax(q @ k.transpose(-1, -2), dim=-1), p=dropout_p)
        return weights @ v

    def forward(self, q, k, v):
        return self.attend(q, k, v, dropout_p=0.1 if self.training else 0.0)
"""
    ),
    Valid(_MODULE + "\n    def forward(self, x):\n        return F.dropout(self.fc(x), self.p, training=self.training)\n"),
    Valid(_MODULE + "\n    def forward(self, x):\n        return F.dropout(self.fc(x), self.p, self.training)\n"),
    Valid(  # guarded by the mode
        _MODULE + "\n    def forward(self, x):\n        x = self.fc(x)\n        if self.training and self.p > 0:\n"
        "            x = F.dropout(x, p=self.p)\n        return x\n"
    ),
    Valid(  # Monte-Carlo dropout: sampled at inference on purpose
        "import torch.nn as nn\nimport torch.nn.functional as F\n\nclass MCDropoutBlock(nn.Module):\n"
        "    def __init__(self, p):\n        super().__init__()\n        self.fc = nn.Linear(8, 8)\n        self.p = p\n\n"
        "    def forward(self, x):\n        return F.dropout(self.fc(x), self.p)\n"
    ),
    Valid(  # an early return in eval mode (DropPath style)
        _MODULE + "\n    def forward(self, x):\n        if not self.training or self.p == 0:\n            return x\n"
        "        return F.dropout(x, self.p)\n"
    ),
    Valid(  # a plain function: its caller passes the mode
        "import torch.nn.functional as F\ndef mlp(x, w, training):\n    return F.dropout(x @ w, 0.1, training)\n\n"
        "def head(x, w):\n    return F.dropout(x @ w, 0.1)\n"
    ),
    Valid(  # the same helper, handed a rate that reads the mode
        "import torch.nn.functional as F\nfrom torch import nn\n\n\ndef attend(q, k, v, attention_dropout):\n"
        "    weights = F.dropout((q @ k.transpose(-1, -2)).softmax(-1), p=attention_dropout)\n"
        "    return weights @ v\n\n\nclass Attention(nn.Module):\n    def __init__(self, p):\n"
        "        super().__init__()\n        self.p = p\n\n    def forward(self, q, k, v):\n"
        "        return attend(q, k, v, self.p if self.training else 0.0)\n"
    ),
    Valid(  # the same helper left at its rate's default of 0 by every call: no dropout at all
        "import torch.nn.functional as F\nfrom torch import nn\n\n\ndef attend(q, k, v, dropout_p=0.0):\n"
        "    weights = (q @ k.transpose(-1, -2)).softmax(-1)\n"
        "    return (F.dropout(weights, p=dropout_p) if dropout_p > 0 else weights) @ v\n\n\n"
        "class Attention(nn.Module):\n    def forward(self, q, k, v):\n        return attend(q, k, v)\n"
    ),
    Valid(  # alpha_dropout defaults to training=False
        _MODULE + "\n    def forward(self, x):\n        return F.alpha_dropout(self.fc(x), self.p)\n"
    ),
    Valid(  # MC dropout, on purpose
        _MODULE + "\n    def forward(self, x):\n        return F.dropout(self.fc(x), self.p, training=True)\n"
    ),
    Valid(  # not a module: an autograd Function's forward
        "import torch\nimport torch.nn.functional as F\nclass Drop(torch.autograd.Function):\n"
        "    @staticmethod\n    def forward(ctx, x):\n        return F.dropout(x, 0.1)\n"
    ),
    Valid(  # a method that only runs in training (Lightning's training_step, mmdet's forward_train)
        _MODULE + "\n    def training_step(self, batch, batch_idx):\n        return F.dropout(self.fc(batch), self.p).sum()\n"
    ),
    Valid(  # documented as on by design, on the line or the line above
        _MODULE + "\n    def forward(self, x):\n        # keep sampling noise at inference too (Monte Carlo estimate)\n"
        "        y = F.dropout(self.fc(x), self.p)\n        return F.dropout(y, self.p)  # on in eval as well, on purpose\n"
    ),
    Valid(  # p = 0: no dropout at all
        _MODULE + "\n    def forward(self, x):\n        return F.dropout(self.fc(x), 0.0)\n"
    ),
    Valid(  # a module with no forward, only a helper that measures its output shape: never a model
        _MODULE + "\n    def features(self, x):\n        return F.dropout2d(self.fc(x))\n\n"
        "    def output_shape(self):\n        return self.features(torch.zeros(1, 8)).shape\n"
    ),
]
INVALID = [
    Invalid(
        _MODULE + "\n    def forward(self, x):\n        x = F.dropout(self.fc(x), self.p)\n        return x\n",
        line=11,
        fixed=_MODULE + "\n    def forward(self, x):\n        x = F.dropout(self.fc(x), self.p, training=self.training)\n        return x\n",
    ),
    Invalid(  # a helper method forward calls; p by keyword and a trailing comma over several lines
        _MODULE
        + "\n    def attend(self, scores):\n        return nn.functional.dropout(\n            scores.softmax(-1),\n            p=self.p,\n        )\n"
        + "\n    def forward(self, scores):\n        return self.attend(scores)\n",
        line=11,
        fixed=_MODULE
        + "\n    def attend(self, scores):\n        return nn.functional.dropout(\n            scores.softmax(-1),\n            p=self.p, training=self.training,\n        )\n"
        + "\n    def forward(self, scores):\n        return self.attend(scores)\n",
    ),
    Invalid(  # a module of this file's own base class; dropout2d
        _MODULE
        + "\nclass Conv(Net):\n    def forward(self, x):\n        return F.dropout2d(x, 0.2, inplace=True)\n",
        line=12,
        fixed=_MODULE
        + "\nclass Conv(Net):\n    def forward(self, x):\n        return F.dropout2d(x, 0.2, inplace=True, training=self.training)\n",
    ),
    Invalid(  # a test of something else does not decide it
        _MODULE + "\n    def forward(self, x, mask=None):\n        if mask is not None:\n            x = x * mask\n"
        "        return F.dropout(x, 0.1)\n",
        line=13,
        fixed=_MODULE + "\n    def forward(self, x, mask=None):\n        if mask is not None:\n            x = x * mask\n"
        "        return F.dropout(x, 0.1, training=self.training)\n",
    ),
    Invalid(  # a module-level helper forward calls: no self there, so no automatic fix
        "import torch.nn.functional as F\nfrom torch import nn\n\n\ndef attend(q, k, v, attention_dropout):\n"
        "    weights = F.dropout((q @ k.transpose(-1, -2)).softmax(-1), p=attention_dropout)\n"
        "    return weights @ v\n\n\nclass Attention(nn.Module):\n    def __init__(self, p):\n"
        "        super().__init__()\n        self.p = p\n\n    def forward(self, q, k, v):\n"
        "        return attend(q, k, v, self.p)\n",
        line=6,
    ),
    Invalid(  # a comment believing it off at evaluation is the slip, not a reason
        _MODULE + "\n    def forward(self, x):\n        return F.dropout(x, p=0.5)  # dropout, disabled when evaluating\n",
        line=11,
        fixed=_MODULE + "\n    def forward(self, x):\n        return F.dropout(x, p=0.5, training=self.training)  "
        "# dropout, disabled when evaluating\n",
    ),
]


def check(unit: SourceUnit, options: dict) -> Iterator[Report]:
    calls = torch_calls(unit)
    for call in calls.named(*ALWAYS_ON):
        if call.method is None and not call.opaque and call.node.args:
            yield from _in_helper(unit, call, calls.module_classes)
            continue
        if call.method is None or call.opaque or not call.node.args:
            continue  # outside a module's methods, or arguments we cannot see
        if call.argument(_TRAINING_POSITION, "training") is not None or decided_by_training(call):
            continue
        if "train" in call.method.name.lower():
            continue  # training_step, forward_train: run only while training, where dropout belongs
        if _never_called_as_a_module(call):
            continue  # a class with no forward (a shape probe's ``convs``): nothing trains or evaluates it
        comments = comments_near(unit, call.node)
        if any(_DELIBERATE.search(comment) and not _BELIEVED_OFF.search(comment) for comment in comments):
            continue
        if _monte_carlo(unit, call):
            continue  # a Monte-Carlo dropout block (vgg_mcdo_block.py, class MCDropout): on at inference by design
        believed = " (the comment beside it says it is off there; it is not)" if any(
            _BELIEVED_OFF.search(comment) for comment in comments) else ""
        p = literal_number(call.argument(1, "p"))
        if p is not None and p <= 0:
            continue
        if _rate_from_caller(call):
            continue  # p=dropout_p handed in: the caller passes 0.0 when not training
        yield Report(
            unit.span(call.node),
            f"F.{call.short} defaults to training=True and ignores model.eval(): dropout stays on at evaluation "
            f"and inference in {call.method.name}(){believed}; pass training={call.self_name}.training",
            fix=_fix(unit, call),
        )


def _fix(unit: SourceUnit, call: TorchCall) -> Optional[Fix]:
    method = call.method
    assert method is not None
    params = {a.arg for a in method.args.posonlyargs + method.args.args + method.args.kwonlyargs}
    if any("train" in name for name in params):
        return None  # the method takes the mode as a parameter: which one to pass is the author's call
    last = max(list(call.node.args) + [k.value for k in call.node.keywords], key=lambda n: (n.end_lineno or 0, n.end_col_offset or 0))
    end = unit.span(last)
    text = f", training={call.self_name}.training"
    return make_fix(f"pass training={call.self_name}.training", Edit(end.end_line, end.end_column, end.end_line, end.end_column, text))


def _never_called_as_a_module(call: TorchCall) -> bool:
    """The call's class defines no ``forward`` and inherits none from a class of the file
    (its bases are ``nn.Module`` itself): calling it as a model would fail."""
    cls = next((a for a in reversed(call.ancestors) if isinstance(a, ast.ClassDef)), None)
    if cls is None or any(isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == "forward"
                          for item in cls.body):
        return False
    return bool(cls.bases) and all((dotted(base) or "").rsplit(".", 1)[-1] == "Module" for base in cls.bases)


def _monte_carlo(unit: SourceUnit, call: TorchCall) -> bool:
    """The call's class or file is named for Monte-Carlo dropout (``*_mcdo_block.py``, ``MCDropout``)."""
    classes = [a.name for a in call.ancestors if isinstance(a, ast.ClassDef)]
    return any(_MONTE_CARLO.search(name) for name in [Path(unit.path).stem, *classes])


def _rate_from_caller(call: TorchCall) -> bool:
    """The rate is a parameter of the method (``F.dropout(w, p=dropout_p)``): its caller decides it."""
    method = call.method
    rate = call.argument(1, "p")
    if method is None or not isinstance(rate, ast.Name):
        return False
    return rate.id in {a.arg for a in method.args.posonlyargs + method.args.args + method.args.kwonlyargs}


def _in_helper(unit: SourceUnit, call: TorchCall, module_classes: list[ast.ClassDef]) -> Iterator[Report]:
    """``F.dropout`` in a module-level function a module's ``forward`` (or another of its
    methods) calls, the function taking no training mode and its callers passing a rate that
    does not read one (a copy of torchvision 0.13's ``shifted_window_attention``)."""
    module, helper = (call.ancestors + (None, None))[:2]
    if not isinstance(module, ast.Module) or not isinstance(helper, ast.FunctionDef) or helper not in module.body:
        return  # (only a function at module level: a nested one's callers are its enclosing function's)
    params = [a.arg for a in helper.args.posonlyargs + helper.args.args + helper.args.kwonlyargs]
    if any("train" in name.lower() for name in params) or "train" in helper.name.lower() or decided_by_training(call):
        return  # it takes the mode (or runs only in training): its callers decide
    rate = call.argument(1, "p")
    p = literal_number(rate)
    if p is not None and p <= 0:
        return
    callers = [(method, node) for cls in module_classes for method in cls.body
               if isinstance(method, ast.FunctionDef) and "train" not in method.name.lower()
               for node in ast.walk(method) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
               and node.func.id == helper.name]
    if not callers or any(_training_passed(node, helper, rate) for _, node in callers):
        return
    comments = comments_near(unit, call.node)
    if any(_DELIBERATE.search(comment) and not _BELIEVED_OFF.search(comment) for comment in comments):
        return
    method, first = callers[0]
    span = unit.span(call.node)
    yield Report(
        span,
        f"F.{call.short} defaults to training=True and ignores model.eval(): dropout stays on at evaluation and "
        f"inference in {helper.name}(), which {method.name}() of a module calls (line {first.lineno}); give "
        f"{helper.name} a training parameter, pass training=self.training to it there and on to F.{call.short}",
        related=other_place(first.lineno, f"`{method.name}()` calls `{helper.name}()` here", span),
    )


def _training_passed(caller: ast.Call, helper: ast.FunctionDef, rate: Optional[ast.expr]) -> bool:
    """The call hands the helper something that reads the training mode (``dropout=self.p if
    self.training else 0.0``), or a rate of 0 for the parameter ``rate`` names (also by
    leaving it at a default of 0: ``slow_attn(q, k, v, scale)`` with ``dropout_p=0.0``)."""
    if any(mentions_training(arg) for arg in [*caller.args, *(k.value for k in caller.keywords)]):
        return True
    if not isinstance(rate, ast.Name):
        return False
    positional = [a.arg for a in helper.args.posonlyargs + helper.args.args]
    passed = argument(caller, positional.index(rate.id) if rate.id in positional else len(caller.args), rate.id)
    if passed is None:  # left at the helper's default (``dropout_p=0.0``)
        passed = parameter_defaults(helper).get(rate.id)
    value = literal_number(passed)
    return value is not None and value <= 0

