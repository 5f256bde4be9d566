"""GL406's facts about the functions and classes of a module, as other modules read them: a
freezing factory (``def get_model(): m = resnet50(); <freeze>; return m``) with its guard or
choice, a frozen instance a module keeps, a freezing helper and a training function (one
that puts a parameter in train mode). :mod:`gradlint.source.norm_chains` follows them through
the functions that pass a model on."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional

from gradlint.source.attribute_branches import AttributeArm

# a parameter that must be true for a factory to freeze: (index, name, its constant default or None)
Guard = tuple[int, str, Optional[bool]]
# a string parameter that picks the model (``if model_name == "resnet": ...``): (index, name,
# the values whose branch freezes a model with BatchNorm)
Choice = tuple[int, str, frozenset[str]]


@dataclass(frozen=True)
class Origin:
    """Where a chained fact really happens: the freeze, or the train call."""

    function: str
    path: str  # absolute; shown relative to the linted file's folder
    line: int


@dataclass(frozen=True)
class FreezingFactory:
    function: str
    rest: str  # the frozen part of what it returns: "" (all of it) or ".backbone"
    line: int  # the freeze (for a chained factory: the line that returns the inner one's model)
    how: str  # the freeze's Freeze.how
    guard: Optional[Guard] = None
    origin: Optional[Origin] = None  # a chained factory: the freeze it passes on
    position: Optional[int] = None  # ``return model, size``: the element of the tuple it returns
    puts_in_eval: bool = False  # it (or what it calls of the model) may put the model in eval mode
    choice: Optional[Choice] = None  # only these values of a string parameter build the frozen BatchNorm model
    # the choice is of a freeze mode (``if train_mode == "head_only": <freeze>``), not of a network: a
    # command-line option's default picks it, as it sets a freeze flag
    mode_choice: bool = False
    branch: Optional[str] = None  # the arm of an ``if arch == ...`` chain that builds the BatchNorm (bn_branch)
    part: str = ""  # only part of it is frozen: "its first 7 child modules" (Freeze.part)
    partial: bool = False  # it makes later stages trainable again (``layer4``): a partial fine-tuning
    # the other parts a class freezes (``self.video`` and ``self.audio`` encoders): each its own finding
    also: tuple["FreezingFactory", ...] = ()
    # a class freezing the module it is handed (``self.net = model``): (position, name) of that
    # ``__init__`` parameter; the call's argument decides whether it holds BatchNorm
    handed: Optional[tuple[int, str]] = None
    # ``if k != 1: <freeze>`` with ``k=1`` by default: the numeric test on a parameter (numeric_guards.Compare)
    compare: Optional[tuple[int, str, str, int, Optional[int]]] = None

    def each(self) -> tuple["FreezingFactory", ...]:
        """This frozen part and every other one."""
        return (replace(self, also=()), *self.also)


def folded_factories(factories: list[FreezingFactory]) -> list[FreezingFactory]:
    """One entry per function or class, its other frozen parts kept in ``also``."""
    first: dict[str, FreezingFactory] = {}
    for factory in factories:
        known = first.get(factory.function)
        if known is None:
            first[factory.function] = factory
        elif all(not (f.rest + ".").startswith(factory.rest + ".") and not (factory.rest + ".").startswith(f.rest + ".")
                 or _other_arms(f, factory) for f in known.each()):
            first[factory.function] = replace(known, also=(*known.also, factory))
    return list(first.values())


def _other_arms(one: FreezingFactory, other: FreezingFactory) -> bool:
    """Two freezes of one part in arms a string parameter picks between (``if backbone ==
    "mobilenet": ... elif backbone == "efficientnet": ...``): each its own frozen part."""
    return (one.choice is not None and other.choice is not None and one.choice[:2] == other.choice[:2]
            and not one.choice[2] & other.choice[2])


@dataclass(frozen=True)
class FrozenInstance:
    """A module-level model of a project module, frozen there (``model = densenet121(...)``,
    ``for p in model.parameters(): ...``), which a script imports and trains."""

    name: str
    rest: str  # the frozen part: "" or ".features"
    line: int  # the freeze
    # the module's functions that make it trainable again (``def load_and_unfreeze(path):``):
    # a script calling one, where it also uses the model, trains an unfrozen one
    unfrozen_by: tuple[str, ...] = ()
    puts_in_eval: bool = False  # the module calls ``.eval()`` on it (a script running it may rely on that)


@dataclass(frozen=True)
class FreezingHelper:
    """A module-level function that freezes (part of) a model it is handed: ``def
    freeze_backbone(model): for p in model.features.parameters(): p.requires_grad = False``."""

    function: str
    index: int  # the position of the parameter it freezes
    parameter: str
    rest: str  # "" (all of it) or ".features"
    line: int  # the freeze
    how: str  # the freeze's Freeze.how; "unfreeze": it makes the part trainable again (``unfreeze_all``)
    guard: Optional[Guard] = None  # the flag parameter the freeze runs under
    # (position, name) of the parameter listing the children frozen by name: ``freeze_layers(net, names)``
    names: Optional[tuple[int, str]] = None
    part: str = ""  # only part of it is frozen: "its first 5 child modules" (Freeze.part)
    # (position, name) of the parameter whose default sets how much is frozen (``n_layer=6``):
    # a call passing it freezes an unknown part
    extent: Optional[tuple[int, str]] = None
    # a method freezing under ``if self.backbone == "resnet50":``: the instance's constructor
    # argument that arm needs (:mod:`gradlint.source.attribute_branches`)
    arm: Optional[AttributeArm] = None
    # ``p.requires_grad = flag``: a call whose flag says trainable makes the part trainable again
    sets_flag: bool = False
    # ``return model``: ``net = freeze_features(build(n))`` freezes ``net``
    returns_it: bool = False
    # (position, name, value): it freezes only under ``if <name> == "<value>":`` of its own parameter
    # (``lock(self, which)``: ``if which == "ground_image": ... elif which == "remote_sensing": ...``)
    branch: Optional[tuple[int, str, str]] = None
    # (position, name, values): it freezes all, then an arm ``if <name> == "<value>":`` for one of
    # these values makes it all trainable again (``set_trainable_params(model, "full_finetune")``)
    reopened: Optional[tuple[int, str, frozenset[str]]] = None


@dataclass(frozen=True)
class TrainingFunction:
    function: str
    index: int  # the parameter put in train mode
    parameter: str
    rest: str  # "" or ".backbone" when it is ``net.backbone.train()``
    line: int  # the train call (for a chained function: the call handing the model on)
    origin: Optional[Origin] = None  # a chained function: the train call it leads to
    written: str = ""  # how the train call names the model when not by the parameter (``self.model``)
    # the other parameters the same function puts in train mode (``decoder.train(); encoder.train()``)
    also: tuple["TrainingFunction", ...] = ()
    # a callable parameter it calls with the model after train() (``before_epoch(model)``):
    # (its position, its name); what a caller passes there may put the model back in eval
    hook: Optional[tuple[int, str]] = None
    # a class: the methods that lead to the train call (``train_epoch``, ``fit`` calling it); an
    # instance only ever asked for others (``trainer.log_metrics(...)``) trains nothing
    entries: tuple[str, ...] = ()

    def each(self) -> tuple["TrainingFunction", ...]:
        """This parameter and every other one the function puts in train mode."""
        return (replace(self, also=()), *self.also)


def folded(trainers: list[TrainingFunction]) -> list[TrainingFunction]:
    """One entry per function, the later parameters it trains kept in ``also``."""
    first: dict[str, TrainingFunction] = {}
    for trainer in trainers:
        known = first.get(trainer.function)
        if known is None:
            first[trainer.function] = trainer
        elif all(t.index != trainer.index or t.rest != trainer.rest for t in known.each()):
            first[trainer.function] = replace(known, also=(*known.also, trainer))
    return list(first.values())


# what a module can call, by the name it calls it (``fit``, ``engine.fit``), with the file it is in
Known = dict[str, tuple[FreezingFactory, str]]
KnownTrainers = dict[str, tuple[TrainingFunction, str]]
