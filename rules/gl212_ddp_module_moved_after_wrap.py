"""## What it does
Checks functions (and scripts) that wrap a model in `DistributedDataParallel` and then,
before training goes on (a `backward()`, an optimiser `step()` or a `train(...)`/`fit(...)`
call later in the function or in the same loop), move or convert it: `.cpu()`, `.half()`,
`.bfloat16()`, `.double()`, `.to(<dtype>)` on the wrapper, on `wrapper.module`, or on the
wrapped model's own name. A move to a device counts when it changes where the parameters
are: `.to(device)`/`.cuda()` on a model that was still on the CPU when it was wrapped, or
back to the GPU after a `.cpu()`. A repeated `.to(rank)` on a model that already sits on
that device is a no-op and is not flagged, nor is any move of the inputs, nor a move
after the training is over (`ddp.module.cpu()` before saving).

## Why is this bad?
At construction DDP registers its gradient-reduction hooks on the gradient accumulators of
the parameters as they are then. Moving the parameters to another device or dtype gives
them new accumulators, so `backward()` no longer fires DDP's hooks: every process trains
on its own gradients, the replicas drift apart, and nothing raises an error
(pytorch/pytorch#104336: CUDA -> CPU -> CUDA on a wrapped model silently stops gradient
averaging). DDP's documentation: never change the model's parameters after wrapping it.
No automatic fix: move the model before wrapping, or wrap it again after moving it.

## Example
```python
import torch
from torch.nn.parallel import DistributedDataParallel as DDP

def train(rank, model, loader, optimizer):
    model = model.to(rank)
    ddp_model = DDP(model, device_ids=[rank])
    ddp_model.cpu()  # free the GPU for an index build
    build_index()
    ddp_model.to(rank)
    for x, y in loader:
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(ddp_model(x), y).backward()
        optimizer.step()
```

## Use instead
```python
import torch
from torch.nn.parallel import DistributedDataParallel as DDP

def train(rank, model, loader, optimizer):
    model = model.to(rank)
    ddp_model = DDP(model, device_ids=[rank])
    for x, y in loader:
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(ddp_model(x), y).backward()
        optimizer.step()
```

## Options
None.

## References
- [`torch.nn.parallel.DistributedDataParallel` (warning: do not change the parameters after wrapping)](https://pytorch.org/docs/stable/generated/torch.nn.parallel.DistributedDataParallel.html)
- [pytorch/pytorch#104336: moving a DDP model to CPU and back breaks gradient synchronization](https://github.com/pytorch/pytorch/issues/104336)
"""

from __future__ import annotations

import ast
from typing import Iterator, Optional

from gradlint.registry import Invalid, Report, Valid
from gradlint.source.frames import MOVE_METHODS, FileFrames, Frame, Move, Rebind, Training, Wrap, file_frames, quiet_when_too_deep
from gradlint.source.loops import contains
from gradlint.source.modules import MODULE
from gradlint.source.names import dotted
from gradlint.source.unit import SourceUnit

from .support.other_places import other_place

CODE = "GL212"
NAME = "ddp-module-moved-after-wrap"
SEVERITY = "error"
SUMMARY = "A model is moved or converted after being wrapped in DistributedDataParallel"
SCOPE = "file"
FIXABLE = False
OPTIONS: dict = {}

_IMPORT = "import torch\nfrom torch.nn.parallel import DistributedDataParallel as DDP\n"
_LOOP = """    for x, y in loader:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
"""

VALID = [
    Valid(  # moved before wrapping: the DDP tutorial's order
        _IMPORT + "def run(rank, model, loader, opt):\n    model = model.to(rank)\n    model = DDP(model, device_ids=[rank])\n" + _LOOP
    ),
    Valid(  # the same device again after wrapping: a no-op
        _IMPORT + "def run(rank, model, loader, opt):\n    model.cuda(rank)\n    model = DDP(model, device_ids=[rank])\n    model.cuda(rank)\n" + _LOOP
    ),
    Valid(  # moved to the CPU after training, to save it
        _IMPORT + "def run(rank, model, loader, opt):\n    model = DDP(model.to(rank), device_ids=[rank])\n" + _LOOP
        + "    model.module.cpu()\n    torch.save(model.module.state_dict(), 'm.pt')\n"
    ),
    Valid(  # the other branch: not wrapped
        _IMPORT
        + "def run(args, model, loader, opt):\n    if args.distributed:\n        model = DDP(model, device_ids=[args.gpu])\n"
        + "    else:\n        model = model.half()\n" + _LOOP
    ),
    Valid(  # moving the batch, not the model
        _IMPORT + "def run(rank, model, loader, opt):\n    model = DDP(model.to(rank), device_ids=[rank])\n"
        + "    for x, y in loader:\n        x, y = x.half().to(rank), y.to(rank)\n        opt.zero_grad()\n        loss_fn(model(x), y).backward()\n        opt.step()\n"
    ),
]
INVALID = [
    Invalid(  # pytorch#104336: CUDA -> CPU -> CUDA
        _IMPORT + "def run(rank, model, loader, opt):\n    model = DDP(model.to(rank), device_ids=[rank])\n    model.cpu()\n    model.to(rank)\n" + _LOOP,
        line=5,
        column=5,
        message="model.cpu() moves the parameters of a model already wrapped in DistributedDataParallel (line 4)",
    ),
    Invalid(  # a dtype conversion of the wrapped module
        _IMPORT + "def run(rank, model, loader, opt):\n    ddp = DDP(model.to(rank), device_ids=[rank])\n    ddp.module.half()\n"
        + _LOOP.replace("model(x)", "ddp(x)"),
        line=5,
    ),
    Invalid(  # wrapped on the CPU, then moved to the GPU
        _IMPORT
        + "import torch.nn as nn\nmodel = nn.Linear(4, 2)\nmodel = DDP(model)\nmodel = model.cuda()\nopt = torch.optim.SGD(model.parameters(), lr=0.1)\n"
        + "for x, y in loader:\n    opt.zero_grad()\n    loss_fn(model(x), y).backward()\n    opt.step()\n",
        line=6,
    ),
    Invalid(  # the unwrapped name still holds the same parameters
        _IMPORT + "def run(rank, model, loader, opt):\n    model.to(rank)\n    ddp_model = DDP(model, device_ids=[rank])\n    model.to(torch.bfloat16)\n"
        + _LOOP.replace("model(x)", "ddp_model(x)"),
        line=6,
    ),
]


def check(unit: SourceUnit, options: dict) -> Iterator[Report]:
    return quiet_when_too_deep(_check(unit))


def _check(unit: SourceUnit) -> Iterator[Report]:
    if unit.tree is None or "DistributedDataParallel" not in unit.text:
        return
    frames = file_frames(unit)
    for frame in frames.frames:
        for index, fact in enumerate(frame.facts):
            if isinstance(fact, Wrap):
                report = _moved_after(frames, frame, index, fact)
                if report is not None:
                    yield report


def _moved_after(frames: FileFrames, frame: Frame, index: int, wrap: Wrap) -> Optional[Report]:
    device, dtype = _placement_at_wrap(frames, frame, index, wrap)
    aliases = {wrap.target, f"{wrap.target}.module"} | ({wrap.wrapped} if wrap.wrapped else set())
    for later_index in range(index + 1, len(frame.facts)):
        fact = frame.facts[later_index]
        if isinstance(fact, Rebind) and fact.name in aliases and fact.stmt is not wrap.stmt and not _moves_itself(fact):
            aliases.discard(fact.name)
        if not isinstance(fact, Move) or fact.receiver not in aliases or frames.exclusive(fact.node, wrap.node):
            continue
        changes = _changes(fact, device, dtype)
        device = fact.device or device
        dtype = fact.dtype or dtype
        if changes and _training_follows(frames, frame, later_index, fact):
            span = frames.unit.span(fact.node)
            return Report(span, _message(fact, wrap), related=other_place(
                wrap.node.lineno, "the model is wrapped in DistributedDataParallel here", span))
    return None


def _moves_itself(fact: Rebind) -> bool:
    """``model = model.to(device)``: still the same module."""
    value = getattr(fact.stmt, "value", None)
    while isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr in MOVE_METHODS:
        value = value.func.value
    return value is not None and dotted(value) == fact.name


def _placement_at_wrap(frames: FileFrames, frame: Frame, index: int, wrap: Wrap) -> tuple[Optional[str], Optional[str]]:
    """Where the wrapped parameters are when DDP takes them: ("cpu" | "device" | None, dtype or None)."""
    device: Optional[str] = "device" if wrap.device_ids else None
    dtype: Optional[str] = None
    assert isinstance(wrap.node, ast.Call)  # a Wrap is recorded only for a DDP(...) call
    inner = wrap.node.args[0]
    moves = [f for f in frame.facts[:index] if isinstance(f, Move) and f.receiver == wrap.wrapped]
    moves += [f for f in frame.facts if isinstance(f, Move) and f.node in _calls_in(inner)]
    for move in moves:
        device = move.device or device
        dtype = move.dtype or dtype
    if device is None and wrap.wrapped and "." not in wrap.wrapped:
        if frames.kinds.frame_names(frames.kinds.frame_of(wrap.node)).get(wrap.wrapped) == MODULE:
            device = "cpu"  # built in this function and never moved: a CPU model
    return device, dtype


def _calls_in(node: ast.AST) -> set[ast.AST]:
    return {sub for sub in ast.walk(node) if isinstance(sub, ast.Call)}


def _changes(move: Move, device: Optional[str], dtype: Optional[str]) -> bool:
    if move.dtype is not None and move.dtype != (dtype or "float"):
        return True
    if move.device == "cpu":
        return device != "cpu"
    if move.device == "device":
        return device == "cpu"
    return False


def _training_follows(frames: FileFrames, frame: Frame, index: int, move: Move) -> bool:
    """A backward()/step()/train(...) after the move, or anywhere in a loop around it."""
    loop = frames.innermost_loop(move.node, frame.node)
    for position, fact in enumerate(frame.facts):
        if not isinstance(fact, Training):
            continue
        if position > index or (loop is not None and contains(loop, fact.node)):
            return True
    return False


def _message(move: Move, wrap: Wrap) -> str:
    call = f"{move.receiver}.{move.method}()"
    return (
        f"{call} moves the parameters of a model already wrapped in DistributedDataParallel (line "
        f"{wrap.node.lineno}): DDP's gradient hooks stay on the old parameters, so gradients are no longer "
        "averaged across processes (pytorch#104336); move the model before wrapping it, or wrap it again after moving"
    )

