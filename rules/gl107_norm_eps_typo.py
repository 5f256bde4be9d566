"""## What it does
Finds normalisation layers built with a large `eps` (0.01 or more, a literal):
`nn.BatchNorm1d/2d/3d`, `nn.SyncBatchNorm`, `nn.InstanceNorm1d/2d/3d` and their `Lazy`
forms, `nn.GroupNorm`, `nn.LayerNorm`, `nn.RMSNorm`, and the functional
`F.batch_norm`/`instance_norm`/`group_norm`/`layer_norm`/`rms_norm`. Above all it catches a
slip of Keras ports: Keras code writes `BatchNormalization(momentum=0.8)`, and ported as
`nn.BatchNorm2d(128, 0.8)` the number lands in PyTorch's second parameter, which is
`eps`: that layer normalises with `eps=0.8` and the default momentum. Each layer's signature is read as PyTorch defines it: `eps` is the second
argument of BatchNorm/InstanceNorm/LayerNorm/RMSNorm, the third of
`GroupNorm(num_groups, num_channels, eps)` and the first of the `Lazy` forms.

It also flags a layer's size repeated in the `eps` place
(`nn.BatchNorm2d(c * 2, c * 2)`), whatever its value: eps is then a channel count.
Any other `eps` that comes from a variable or a config is not flagged, nor one whose line (or
the line above) carries a comment about it (`# eps=0.1 on purpose: fp16 variance`).

## Why is this bad?
A normalisation layer computes `(x - mean) / sqrt(var + eps)`. With the default
`eps=1e-5` the output has unit variance; with `eps=0.8` a channel whose variance is 0.01
comes out with a standard deviation of 0.11 instead of 1, so the layer stops normalising
exactly where normalisation matters (small, shrinking activations), and the gradient
through it shrinks by the same factor. The code runs and trains, just worse, and the
slip is invisible in a review. The one-token Keras port `BatchNorm2d(n, 0.8)` is common
in public GAN code.

For a BatchNorm/InstanceNorm layer whose misplaced number looks like a Keras momentum
(0.5 to 1), the fix rewrites it as PyTorch's momentum, which counts the other way:
PyTorch's `momentum` is the weight of the *new* batch statistic, Keras' the weight of
the *old* running value, so Keras' `momentum=0.8` is PyTorch's `momentum=0.2`. The fix is
unsafe (it changes the running statistics the model will be evaluated with, and only
you know which one you meant): it is shown, and applied by `--fix --unsafe-fixes`.

## Example
```python
import torch.nn as nn

generator = nn.Sequential(
    nn.ConvTranspose2d(128, 64, 4, 2, 1),
    nn.BatchNorm2d(64, 0.8),
    nn.LeakyReLU(0.2, inplace=True),
)
```

## Use instead
```python
import torch.nn as nn

generator = nn.Sequential(
    nn.ConvTranspose2d(128, 64, 4, 2, 1),
    nn.BatchNorm2d(64, momentum=0.2),
    nn.LeakyReLU(0.2, inplace=True),
)
```

## Options
- `min-eps` (default `0.01`): the smallest literal `eps` reported.

## References
- [`torch.nn.BatchNorm2d`](https://pytorch.org/docs/stable/generated/torch.nn.BatchNorm2d.html): `BatchNorm2d(num_features, eps=1e-05, momentum=0.1, ...)`, and its note on the momentum update of the running statistics, `(1 - momentum) * running + momentum * batch`
- [`torch.nn.GroupNorm`](https://pytorch.org/docs/stable/generated/torch.nn.GroupNorm.html), [`torch.nn.LayerNorm`](https://pytorch.org/docs/stable/generated/torch.nn.LayerNorm.html)
- [Keras `BatchNormalization`](https://keras.io/api/layers/normalization_layers/batch_normalization/): `momentum=0.99`, `epsilon=0.001`
- Ioffe & Szegedy, [Batch Normalization](https://arxiv.org/abs/1502.03167), 2015
"""

from __future__ import annotations

import ast
import re
from typing import Iterator, Optional

from gradlint.findings import Fix
from gradlint.fix.edits import make_fix, replace, source
from gradlint.registry import Invalid, Report, Valid
from gradlint.source.torch_calls import TorchCall, comments_near, literal_number, torch_calls
from gradlint.source.unit import SourceUnit

CODE = "GL107"
NAME = "norm-eps-typo"
SEVERITY = "warning"
SUMMARY = "A normalisation layer with a large eps, often a Keras momentum passed as PyTorch's eps"
SCOPE = "file"
FIXABLE = True
OPTIONS = {"min-eps": 0.01}

_NUMBERED = ("1d", "2d", "3d")
# layer -> index of eps among its positional parameters (PyTorch's signatures)
EPS_POSITION: dict[str, int] = {
    **{f"BatchNorm{n}": 1 for n in _NUMBERED},
    **{f"InstanceNorm{n}": 1 for n in _NUMBERED},
    **{f"LazyBatchNorm{n}": 0 for n in _NUMBERED},
    **{f"LazyInstanceNorm{n}": 0 for n in _NUMBERED},
    "SyncBatchNorm": 1,
    "GroupNorm": 2,  # (num_groups, num_channels, eps)
    "LayerNorm": 1,  # (normalized_shape, eps)
    "RMSNorm": 1,
    # functional forms
    "batch_norm": 7,  # (input, running_mean, running_var, weight, bias, training, momentum, eps)
    "instance_norm": 7,
    "group_norm": 4,  # (input, num_groups, weight, bias, eps)
    "layer_norm": 4,  # (input, normalized_shape, weight, bias, eps)
    "rms_norm": 3,  # (input, normalized_shape, weight, eps)
}
# layers with a momentum parameter (what a Keras port's misplaced number meant)
WITH_MOMENTUM = {name for name in EPS_POSITION if "BatchNorm" in name or "InstanceNorm" in name}
# a comment that says the author chose eps: "eps", "epsilon", "on purpose", ...
_DELIBERATE = re.compile(r"\beps|epsilon|deliberate|intentional|on purpose", re.I)

VALID = [
    Valid(  # nn is the file's own object here, not torch.nn
        "from mylib import Network\nnn = Network()\nbn = nn.BatchNorm2d(64, 0.8)\n",
    ),
    Valid("import torch.nn as nn\nbn = nn.BatchNorm2d(64)\nln = nn.LayerNorm(512, eps=1e-6)\n"),
    Valid(  # Keras' own default epsilon (1e-3) and PyTorch's momentum by keyword
        "import torch.nn as nn\nbn = nn.BatchNorm2d(64, 1e-3, momentum=0.01)\n"
    ),
    Valid(  # GroupNorm's second argument is num_channels, not eps
        "from torch import nn\ngn = nn.GroupNorm(32, 256)\n"
    ),
    Valid(  # eps from a variable: the caller decides
        "import torch.nn as nn\ndef block(c, bn_eps):\n    return nn.BatchNorm2d(c, bn_eps)\n"
    ),
    Valid(  # a different expression: eps from the config
        "import torch.nn as nn\ndef up(cfg):\n    return nn.BatchNorm2d(cfg.width, cfg.eps)\n"
    ),
    Valid(  # documented on the line above
        "import torch.nn as nn\n# eps=0.1: the variance of these fp16 features is tiny, keep the step bounded\nnorm = nn.LayerNorm(64, eps=0.1)\n"
    ),
    Valid(  # documented on the same line
        "import torch.nn as nn\nnorm = nn.GroupNorm(8, 64, 0.05)  # large epsilon on purpose\n"
    ),
    Valid(  # not torch: a local class of the same name
        "import torch.nn as nn\nclass LayerNorm(nn.Module):\n    def __init__(self, d, eps):\n        super().__init__()\n\nnorm = LayerNorm(64, 0.5)\n"
    ),
    Valid(  # not torch: Keras' own layer
        "from tensorflow import keras\nbn = keras.layers.BatchNormalization(momentum=0.8)\n"
    ),
]
INVALID = [
    Invalid(  # a block cut out of a larger script: no import at all, nn can only be torch.nn
        "def block(c):\n    return [nn.Conv2d(c, c, 3, 1, 1), nn.BatchNorm2d(c, 0.8), nn.LeakyReLU(0.2)]\n",
        line=2, message="BatchNorm2d's second argument is eps, not momentum",
    ),
    Invalid(
        """import torch.nn as nn

def block(in_feat, out_feat):
    layers = [nn.Linear(in_feat, out_feat)]
    layers.append(nn.BatchNorm1d(out_feat, 0.8))
    layers.append(nn.LeakyReLU(0.2, inplace=True))
    return layers
""",
        line=5,
        fixed="""import torch.nn as nn

def block(in_feat, out_feat):
    layers = [nn.Linear(in_feat, out_feat)]
    layers.append(nn.BatchNorm1d(out_feat, momentum=0.2))
    layers.append(nn.LeakyReLU(0.2, inplace=True))
    return layers
""",
    ),
    Invalid(  # keywords after the misplaced momentum stay; Keras' default 0.99 becomes 0.01
        "import torch\nnorm = torch.nn.InstanceNorm2d(32, 0.99, affine=True)\n",
        line=2,
        column=8,
        message="InstanceNorm2d's second argument is eps, not momentum: eps=0.99",
        fixed="import torch\nnorm = torch.nn.InstanceNorm2d(32, momentum=0.01, affine=True)\n",
    ),
    Invalid(  # GroupNorm's eps is its third argument
        "import torch.nn as nn\nnorm = nn.GroupNorm(8, 64, 0.1)\n",
        line=2,
    ),
    Invalid(  # LayerNorm(normalized_shape, eps): report only, LayerNorm has no momentum
        "from torch.nn import LayerNorm\nnorm = LayerNorm(768, 0.5)\n",
        line=2,
    ),
    Invalid(  # a large eps by keyword; a comment that is not about eps does not excuse it
        "import torch.nn as nn\nbn = nn.BatchNorm2d(64, eps=0.1)  # second block\n",
        line=2,
    ),
    Invalid(  # the Lazy forms take eps first
        "import torch.nn as nn\nbn = nn.LazyBatchNorm2d(0.9)\n",
        line=2,
        fixed="import torch.nn as nn\nbn = nn.LazyBatchNorm2d(momentum=0.1)\n",
    ),
    Invalid(  # the channel count repeated: eps = num_features, whatever its value
        "import torch.nn as nn\ndef up(cfg):\n    return nn.BatchNorm2d(cfg.width * 2, cfg.width * 2)\n",
        line=3,
    ),
    Invalid(  # functional: eps is batch_norm's eighth argument
        "import torch.nn.functional as F\ndef norm(x, m, v):\n    return F.batch_norm(x, m, v, None, None, True, 0.1, 0.5)\n",
        line=3,
    ),
]


def check(unit: SourceUnit, options: dict) -> Iterator[Report]:
    threshold = float(options["min-eps"])
    for call in torch_calls(unit).named(*EPS_POSITION):
        position = EPS_POSITION[call.short]
        eps_node = call.argument(position, "eps")
        eps = literal_number(eps_node)
        if eps_node is None or any(_DELIBERATE.search(comment) for comment in comments_near(unit, call.node)):
            continue
        positional = eps_node in call.node.args
        if eps is None:
            size = _size_repeated_as_eps(unit, call, eps_node) if positional else None
            if size is not None:
                yield Report(
                    unit.span(call.node),
                    f"{call.short}'s {_ordinal(EPS_POSITION[call.short])} argument is eps, and it gets {source(unit, eps_node)}, "
                    f"the same value as {size}: eps is a channel count, so the layer divides by sqrt(var + that count) "
                    "and hardly normalises; drop the repeated argument",
                )
            continue
        if eps < threshold:
            continue
        yield Report(unit.span(call.node), _message(call, eps, positional), fix=_fix(unit, call, eps, positional))


# the size parameter a repeated eps copies: BatchNorm2d(c, c), GroupNorm(g, c, c)
_SIZE_PARAMETER = {"GroupNorm": (1, "num_channels"), "LayerNorm": (0, "normalized_shape"), "RMSNorm": (0, "normalized_shape")}


def _size_repeated_as_eps(unit: SourceUnit, call: TorchCall, eps_node: ast.expr) -> Optional[str]:
    """``BatchNorm2d(c * 2, c * 2)``: the positional eps is the layer's own size expression."""
    if EPS_POSITION[call.short] == 0 or (call.short not in _SIZE_PARAMETER and call.short not in WITH_MOMENTUM):
        return None  # Lazy forms have no size; functional forms take tensors first
    index, name = _SIZE_PARAMETER.get(call.short, (0, "num_features"))
    size = call.node.args[index]
    return name if ast.dump(size) == ast.dump(eps_node) else None


def _keras_momentum(call: TorchCall, eps: float, positional: bool) -> Optional[float]:
    """The PyTorch momentum a misplaced Keras momentum stands for, when the number looks
    like one (0.5 <= value < 1) and the layer has a momentum parameter."""
    if positional and call.short in WITH_MOMENTUM and 0.5 <= eps < 1:
        return round(1 - eps, 10)
    return None


def _shown(value: float) -> str:
    return f"{value:g}"


def _message(call: TorchCall, eps: float, positional: bool) -> str:
    layer, shown = call.short, _shown(eps)
    effect = (
        f"divides by sqrt(var + {shown}), so a channel with variance 0.01 comes out with std "
        f"{(0.01 / (0.01 + eps)) ** 0.5:.2g} instead of 1"
    )
    momentum = _keras_momentum(call, eps, positional)
    if momentum is not None:
        return (
            f"{layer}'s {_ordinal(EPS_POSITION[layer])} argument is eps, not momentum: eps={shown} {effect}; "
            f"for Keras' momentum={shown} write momentum={_shown(momentum)} (PyTorch's momentum is 1 - Keras'), "
            "or say in a comment why eps is large"
        )
    where = f"its {_ordinal(EPS_POSITION[layer])} argument" if positional else "by keyword"
    return f"{layer} gets eps={shown} ({where}) and {effect}; use the default (1e-05), or say in a comment why eps is large"


def _ordinal(index: int) -> str:
    return ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")[index]


def _fix(unit: SourceUnit, call: TorchCall, eps: float, positional: bool) -> Optional[Fix]:
    momentum = _keras_momentum(call, eps, positional)
    node = call.node
    if momentum is None or call.opaque or call.argument(None, "momentum") is not None or node.args[-1] is not call.argument(EPS_POSITION[call.short], "eps"):
        return None  # momentum given as well, or more positional arguments after it: not a clear slip
    return make_fix(
        f"pass momentum={_shown(momentum)} (Keras' momentum {_shown(eps)}) and keep the default eps",
        replace(unit, node.args[-1], f"momentum={_shown(momentum)}"),
        unsafe=True,
    )
