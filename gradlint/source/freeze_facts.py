"""The facts GL406's collector records, shared by the modules that read them: a freeze
(``Freeze``), a train/eval call (``ModeCall``), the function either happens in when it is
not the linted file's own code (``Elsewhere``), and a file's collection (``FileNorms``)."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Optional, Union

from gradlint.source.frames import FileFrames
from gradlint.source.norm_knowledge import NormKnowledge

# nn.Module's own methods: calling one runs no forward
MODULE_METHODS = frozenset({"eval", "train", "parameters", "named_parameters", "buffers", "named_buffers", "modules",
                             "named_modules", "children", "named_children", "state_dict", "load_state_dict", "to",
                             "cuda", "cpu", "float", "half", "double", "zero_grad", "apply", "requires_grad_",
                             "items", "values", "keys"})  # (a ModuleDict's views run none of its modules)


@dataclass(frozen=True)
class Elsewhere:
    """The function a freeze or a train call happens in, with its line and file."""

    function: str
    line: int
    path: Optional[str] = None  # as seen from the linted file's folder; None: the linted file
    inner: Optional["Elsewhere"] = None  # a function passing it on: where the freeze or the train call is
    branch: Optional[str] = None  # ``when `arch == 'densenet'` (line 127)``: the arm that builds the BatchNorm

    @property
    def where(self) -> str:
        """``models/pretrained.py:16`` or ``line 16`` (``, through `f` at nets.py:8``)."""
        here = f"{self.path}:{self.line}" if self.path else f"line {self.line}"
        return here + (f", through `{self.inner.function}` at {self.inner.where}" if self.inner else "")


@dataclass
class Freeze:
    target: str  # the frozen module, as written (``model.backbone``)
    how: str  # "requires_grad" | "requires_grad_" | "no_grad" | "optimizer"
    node: Union[ast.stmt, ast.expr]  # where it is reported
    except_: Optional[str] = None  # for "optimizer": the only part that is optimised (``model.fc``)
    via: Optional[Elsewhere] = None  # "factory": the function that freezes it; else a helper called here
    guard: Optional[str] = None  # a parameter of the enclosing function the freeze needs to be true
    built_by: Optional[str] = None  # "factory": the call that built it, when that never puts it in eval mode
    held: Optional[tuple[str, int]] = None  # frozen as another name, then held by this one: (that name, hand-off line)
    part: str = ""  # a freeze that stops part-way: which part ("its first 7 child modules")
    partial: bool = False  # a factory's freeze whose function makes later stages trainable again (``layer4``)
    sets_flag: bool = False  # ``p.requires_grad = flag`` under a parameter: where it passes True, an unfreeze
    parts_optimised: tuple[str, ...] = ()  # "optimizer": every part optimised, when more than ``except_``


@dataclass
class ModeCall:
    target: str
    train: bool  # True: train mode; False: eval mode
    call: ast.Call
    stmt: ast.stmt
    frame: ast.AST
    written: str = ""  # the receiver as written (``net`` in a helper called with ``model``)
    via: Optional[Elsewhere] = None  # a training function of another file, which left it in train mode
    implicit: bool = False  # no call: the module was built in train mode and nothing changed it; ``call`` runs it
    by: str = ""  # a library call that runs ``train()`` on it: ``trainer.fit(model)``
    runner: str = ""  # implicit: the helper ``call`` hands it to, which runs it (``extract`` (feats.py:12))
    within: str = ""  # implicit: the function of the file ``call`` runs it in, and where a training loop calls it
    site: Optional[ast.Call] = None  # written: the call handing the model to the helper (``fit(model)``)
    unread: str = ""  # a training function gradlint cannot read, handed the model: ``engine.train``

    @property
    def receiver(self) -> str:
        return self.written or self.target


@dataclass
class FileNorms:
    frames: FileFrames
    freezes: list[Freeze] = field(default_factory=list)
    modes: list[ModeCall] = field(default_factory=list)
    unfrozen: set[str] = field(default_factory=set)  # targets set back to requires_grad True
    unfrozen_at: dict[str, list[ast.AST]] = field(default_factory=dict)  # where each target was made trainable
    optimised: set[str] = field(default_factory=set)  # owners of every optimiser's parameters
    optimised_at: dict[str, list[ast.AST]] = field(default_factory=dict)  # the optimisers built for each owner
    bn_kept_in_eval: bool = False
    moving: set[str] = field(default_factory=set)  # momentum (EMA) copies the file updates: ``self.target``
    knowledge: Optional[NormKnowledge] = None
    # ``self.teacher`` for ``def on_train_epoch_start(self): self.teacher.eval()``: put back in eval
    # mode by a LightningModule hook after Lightning's own ``train()``
    hook_evals: set[str] = field(default_factory=set)
    hook_evals_of: dict[str, set[str]] = field(default_factory=dict)  # the same, by the class whose hooks they are
    # helpers freezing ``getattr(model, name)`` for the names they are given: (the loop, model, names parameter)
    named_by_parameter: list[tuple[ast.For | ast.AsyncFor, str, str]] = field(default_factory=list)
    # helpers making the parameters of the names they are given trainable again, the same way
    unfrozen_by_parameter: list[tuple[ast.For | ast.AsyncFor, str, str]] = field(default_factory=list)

    def unfreeze(self, target: str, node: ast.AST) -> None:
        """Record ``target`` made trainable again at ``node``."""
        self.unfrozen.add(target)
        self.unfrozen_at.setdefault(target, []).append(node)
