"""## What it does
Finds leaky ReLUs that are the identity: `nn.LeakyReLU(True)` or
`F.leaky_relu(x, True)` (the first parameter of `nn.LeakyReLU`, the second of
`F.leaky_relu`, is `negative_slope`, not `inplace` as in `nn.ReLU(True)`), and a literal
`negative_slope` of 1 or more. A slope from a variable or a config is not flagged, nor a
slope of exactly 1 meant as a linear activation: returned for an activation named
`"linear"` or `"identity"` (`if act == "linear": return nn.LeakyReLU(1)`), or with a
comment saying so.

## Why is this bad?
`LeakyReLU(x) = max(0, x) + negative_slope * min(0, x)`. `True` is the number 1, and with
a slope of 1 the layer returns its input unchanged: there is no non-linearity, and the
layers around it collapse into one linear map however deep the network is. A slope above
1 inverts the activation's shape (negative inputs are amplified). Nothing fails at run
time; the model just cannot learn what a non-linear one could. `nn.ReLU(True)` is a
common spelling of `inplace=True`, and copying it onto `nn.LeakyReLU` is an easy slip.

The fix writes what `True` was meant to say: `nn.LeakyReLU(inplace=True)` (default slope
0.01). For the functional form it drops the `True` (`F.leaky_relu(x)`), since an in-place
functional call could overwrite a tensor the caller still reads. A numeric slope of 1 or
more is reported without a fix: only you know the slope you meant.

## Example
```python
import torch.nn as nn

encoder = nn.Sequential(
    nn.Conv2d(3, 64, 4, 2, 1),
    nn.LeakyReLU(True),
    nn.Conv2d(64, 128, 4, 2, 1),
)
```

## Use instead
```python
import torch.nn as nn

encoder = nn.Sequential(
    nn.Conv2d(3, 64, 4, 2, 1),
    nn.LeakyReLU(inplace=True),
    nn.Conv2d(64, 128, 4, 2, 1),
)
```

## Options
None.

## References
- [`torch.nn.LeakyReLU`](https://pytorch.org/docs/stable/generated/torch.nn.LeakyReLU.html): `LeakyReLU(negative_slope=0.01, inplace=False)`
- [`torch.nn.functional.leaky_relu`](https://pytorch.org/docs/stable/generated/torch.nn.functional.leaky_relu.html): `leaky_relu(input, negative_slope=0.01, inplace=False)`
- Maas et al., Rectifier Nonlinearities Improve Neural Network Acoustic Models, 2013
"""

from __future__ import annotations

import ast
import re
from typing import Iterator, Optional

from gradlint.findings import Edit, Fix
from gradlint.fix.edits import make_fix, replace
from gradlint.registry import Invalid, Report, Valid
from gradlint.source.frames import file_frames
from gradlint.source.torch_calls import TorchCall, comments_near, literal_number, torch_calls
from gradlint.source.unit import SourceUnit

CODE = "GL108"
NAME = "leaky-relu-identity"
SEVERITY = "error"
SUMMARY = "A leaky ReLU with negative_slope True or >= 1 is the identity: the layers around it collapse into one linear map"
SCOPE = "file"
FIXABLE = True
OPTIONS: dict = {}

# callee -> index of negative_slope among its positional parameters
SLOPE_POSITION = {"LeakyReLU": 0, "leaky_relu": 1, "leaky_relu_": 1}
# the name of an activation that is meant to be the identity (an activation factory's choice)
_LINEAR = re.compile(r"\b(linear|identity|none|no_?act)\b", re.IGNORECASE)

VALID = [
    Valid("import torch.nn as nn\nact = nn.LeakyReLU(0.2, True)\nrelu = nn.ReLU(True)\n"),
    Valid("import torch.nn as nn\nact = nn.LeakyReLU(negative_slope=0.1, inplace=True)\n"),
    Valid(  # the slope from a variable: the caller decides
        "import torch.nn as nn\ndef act(slope):\n    return nn.LeakyReLU(slope)\n"
    ),
    Valid(  # functional with a slope and inplace
        "import torch.nn.functional as F\ndef f(x):\n    return F.leaky_relu(x, 0.2, True)\n"
    ),
    Valid(  # False is slope 0: a plain ReLU, not the identity
        "import torch.nn as nn\nact = nn.LeakyReLU(False)\n"
    ),
    Valid(  # not torch: Keras' LeakyReLU
        "from tensorflow.keras import layers\nact = layers.LeakyReLU(1.0)\n"
    ),
    Valid(  # an activation factory's "linear" choice: the identity on purpose
        "import torch.nn as nn\ndef act_fun(kind):\n    if kind == 'relu':\n        return nn.ReLU()\n"
        "    if kind == 'linear':\n        return nn.LeakyReLU(1)\n"
    ),
    Valid(  # a comment says the identity is meant
        "import torch.nn as nn\nskip = nn.LeakyReLU(1.0)  # identity: keeps the module list uniform\n"
    ),
]
INVALID = [
    Invalid(
        """import torch.nn as nn

class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, 64, 4, 2, 1),
            nn.LeakyReLU(True),
            nn.Conv2d(64, 1, 4, 1, 0),
        )
""",
        line=8,
        fixed="""import torch.nn as nn

class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, 64, 4, 2, 1),
            nn.LeakyReLU(inplace=True),
            nn.Conv2d(64, 1, 4, 1, 0),
        )
""",
    ),
    Invalid(  # functional: the slope is the second argument; the fix drops it
        "import torch.nn.functional as F\ndef act(x):\n    return F.leaky_relu(x, True)\n",
        line=3,
        column=12,
        message="leaky_relu's negative_slope is True, i.e. 1",
        fixed="import torch.nn.functional as F\ndef act(x):\n    return F.leaky_relu(x)\n",
    ),
    Invalid(  # inplace given as well: keep it
        "import torch\nact = torch.nn.LeakyReLU(True, inplace=False)\n",
        line=2,
        fixed="import torch\nact = torch.nn.LeakyReLU(inplace=False)\n",
    ),
    Invalid(  # a numeric slope of 1 or more: report only
        "from torch import nn\nact = nn.LeakyReLU(negative_slope=1.0)\n",
        line=2,
    ),
    Invalid(
        "import torch.nn.functional as F\ndef act(x):\n    return F.leaky_relu(x, 2)\n",
        line=3,
    ),
]


def check(unit: SourceUnit, options: dict) -> Iterator[Report]:
    for call in torch_calls(unit).named(*SLOPE_POSITION):
        slope_node = call.argument(SLOPE_POSITION[call.short], "negative_slope")
        slope = literal_number(slope_node)
        if slope is None or slope < 1:
            continue
        if slope == 1 and slope_node.value is not True and _linear_on_purpose(unit, call):  # type: ignore[union-attr]
            continue  # a linear activation on purpose (True is the ReLU(True) slip whatever the arm)
        given = "True" if slope_node.value is True else f"{slope:g}"  # type: ignore[union-attr]
        if given == "True":
            meant = "inplace=True" if call.short == "LeakyReLU" else "inplace=True, which is a keyword argument"
            message = (
                f"{call.short}'s negative_slope is True, i.e. 1: the activation is the identity and the layers "
                f"around it collapse into one linear map; {meant} (as in nn.ReLU(True)) must be passed by name"
            )
        else:
            message = (
                f"{call.short} with negative_slope={given} is "
                + ("the identity" if slope == 1 else "steeper for negative inputs than for positive ones")
                + ": there is no useful non-linearity here; a leaky ReLU's slope is below 1 (default 0.01)"
            )
        yield Report(unit.span(call.node), message, fix=_fix(unit, call) if given == "True" else None)


def _linear_on_purpose(unit: SourceUnit, call: TorchCall) -> bool:
    """A slope of 1 chosen as a linear activation: in an arm of ``if act == "linear":`` (or
    the value of a ``"linear"`` key), or with a comment naming it linear or the identity."""
    if any(_LINEAR.search(comment) for comment in comments_near(unit, call.node)):
        return True
    parents = file_frames(unit).parents
    child: ast.AST = call.node
    while child in parents:
        parent = parents[child]
        if isinstance(parent, ast.If) and child is not parent.test and child in parent.body:
            named = [n.value for n in ast.walk(parent.test) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
            if any(_LINEAR.fullmatch(name) for name in named):
                return True
        if isinstance(parent, ast.Dict):
            key = next((k for k, v in zip(parent.keys, parent.values) if v is child), None)
            if isinstance(key, ast.Constant) and isinstance(key.value, str) and _LINEAR.fullmatch(key.value):
                return True
        if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            break
        child = parent
    return False


def _fix(unit: SourceUnit, call: TorchCall) -> Optional[Fix]:
    """``LeakyReLU(True)`` -> ``LeakyReLU(inplace=True)``; ``leaky_relu(x, True)`` -> ``leaky_relu(x)``."""
    node = call.node
    position = SLOPE_POSITION[call.short]
    if call.opaque or len(node.args) != position + 1 or any(k.arg == "negative_slope" for k in node.keywords):
        return None  # a slope by keyword True, or more positional arguments: not the ReLU(True) slip
    slope = unit.span(node.args[position])
    if position > 0:  # functional: drop ", True" after the input
        before = unit.span(node.args[position - 1])
        edit = Edit(before.end_line, before.end_column, slope.end_line, slope.end_column, "")
        return make_fix("drop the True (the default slope 0.01)", edit)
    if not node.keywords:
        return make_fix("pass inplace=True by name", replace(unit, node.args[0], "inplace=True"))
    following = unit.span(node.keywords[0])  # LeakyReLU(True, inplace=...): drop "True, "
    return make_fix("drop the True (the default slope 0.01)", Edit(slope.line, slope.column, following.line, following.column, ""))
