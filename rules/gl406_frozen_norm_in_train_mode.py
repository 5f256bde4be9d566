"""## What it does
Checks training scripts that freeze a submodule containing BatchNorm and then put it
back in train mode: the submodule is frozen with
`for p in X.parameters(): p.requires_grad = False`, `X.requires_grad_(False)`, a call
`X(...)` inside `torch.no_grad()` (when no optimiser takes its parameters; the optimiser's
parameters read also from a list built before it, `params = list(a.parameters()) +
list(b.parameters())`, or `params=`), or handing `X` to a function of the file or of a
project module that only runs it, under `torch.no_grad()` (`feats = get_features(X,
loader)`), or by handing only `X.head.parameters()` to the optimiser (also as its only param
groups, `[{"params": X.fc.parameters()}]`, beside `X.layer4`'s), or by running `X` in
the training loop while no optimiser takes it (`soft = teacher(x).detach()`; read only where
every optimiser of the file names the modules it trains and nothing reads `X.parameters()`); and `X.train()` or a `.train()` of
a model holding it runs with no `X.eval()` after it before training resumes.

`gradlint.preflight` measures the same thing on the real model: a module whose
parameters are all frozen but whose BatchNorm running statistics changed on the probe
batch.

What counts as frozen, as holding BatchNorm and as put back in train mode, the shapes of
real code it follows, and what it leaves alone: under *What it reads* below.

## Why is this bad?
Freezing a module's parameters does not freeze its BatchNorm layers: in train mode
each of them normalises with the statistics of the current batch and overwrites its
running mean and variance with every forward pass (`track_running_stats`), with or
without gradients and with or without the optimiser. The "frozen" pretrained features
change under the head during training, small or unbalanced fine-tuning batches make
them noisy, and at evaluation time the layers use running statistics that no longer
match what the head was trained on. `model.train()` puts every submodule back in train
mode, so a single `backbone.eval()` before the loop is undone at the next epoch.

## Example
```python
import torch
from torch import nn
from torchvision import models

model = models.resnet18(weights="DEFAULT")
model.fc = nn.Linear(512, 10)
for p in model.layer4.parameters():
    p.requires_grad = False
optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01)

def train_epoch(loader):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
```

## Use instead
```python
import torch
from torch import nn
from torchvision import models

model = models.resnet18(weights="DEFAULT")
model.fc = nn.Linear(512, 10)
for p in model.layer4.parameters():
    p.requires_grad = False
optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01)

def train_epoch(loader):
    model.train()
    model.layer4.eval()
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
```

The fix inserts `X.eval()` after each `.train()` of a model holding `X` (it also turns
off dropout inside `X`, which a frozen feature extractor does not want either). A model
built inside `nn.DataParallel(Net())` is `Net` for the check, but no fix is offered when the
name is ever bound to a data-parallel wrapper: its parts sit under `.module` there. When the
frozen module is the trained model itself (`net.requires_grad_(False)` then a new
`net.fc`) there is no safe edit: call `.eval()` on its BatchNorm layers after
`net.train()`, or override `train()`.

## What it reads
`X` counts as having BatchNorm when it is built in the file from `nn.BatchNorm*`, an
`nn.Sequential` or a module class of the file that builds one, a torchvision or timm
model of a BatchNorm family (ResNet, ResNeXt, DenseNet, EfficientNet, MobileNet, RegNet,
Inception, VGG-BN...), or a submodule of those (`model.backbone` assigned one in the
class, also through an `__init__` argument), or a class imported from a project module
next to the script that builds BatchNorm (read, never imported). A train call inside a
helper counts for the model the file passes it (`run_epoch(model)` with
`net.train()`, or with `current = net; current.train()`), as does a loop over several
networks (`for net in (backbone, head): net.train()`), also a training function imported from a project module (`from engine
import fit`; `fit(model, ...)` trains and calls `net.train()` with no `net.eval()` after
it), and `net.train() if training else net.eval()` puts it in train mode for training. A
training function gradlint cannot read (imported from a module outside the project, such
as a course helper downloaded at run time) counts as putting the model in train mode when
its name says it trains (`train`, `fit`, `train_model`, `train_step`...) and it is handed the
model and an optimiser: `engine.train(model=model, optimizer=optimizer, ...)`.
A freezing helper of a project module counts at its call (`freeze_backbone(model)`, or
`model.freeze_backbone()`, a method of the imported class `model` is built from), and a
frozen module handed to a model that keeps it (`model = Captioner(encoder, decoder)` with
`self.encoder = encoder`, `model = encoder`, `model_train = model.train()`,
`nn.DataParallel(model)`, or a function returning such a holder, or an `__init__` keeping
a local it froze, `self.resnet = FeatureExtractor(resnet)`, or another method keeping it,
`self.encoder = encoder`) is that model's part, as is the part of it a holder keeps
(`self.base = old_net.base`),
a frozen local spliced into a Sequential with new layers (`self.model =
nn.Sequential(*list(features.children()), <decoder>)`) is that Sequential's first layers,
and a freeze of `model_without_ddp.backbone` (`model_without_ddp = model.module`) is one of
`model.backbone`.
A function of the file or of a project module that freezes the model it builds and
returns it (`model = get_pretrained_model("resnet50")`, frozen in `models/pretrained.py`)
freezes `model`: the finding is on that line and names the freeze; built inside the call
of a training function (`train(FeatureHeadNet())`), it is that function's model. The same holds
through functions that only pass the model on (a name dispatch `define_model(name)`, an
epoch loop handing the model to the training function, several modules down), a factory
returning `(model, size)`, a class whose `__init__` freezes a part or keeps another
class's frozen part, a part its `forward` runs under `torch.no_grad()`, a model frozen at
module level of a module the script imports (`from model import *`), and a trainer class
built with the model that calls `self.model.train()`. A freeze by parameter name
(`for n, p in model.named_parameters(): if "fc" not in n: ...`) counts when the test,
read on the names of common backbones, freezes the stem. A frozen backbone nothing ever
puts in eval mode is in train mode since it was built: running it in the training loop,
in a function of the file the training loop calls (a loss helper running a frozen expert
network, `sync_loss = get_sync_loss(out)`), or handing it to a helper that only runs it
(`feats = precompute(backbone, loader)`), is flagged too; `expert = Expert().eval()` at the
binding is an eval. An architecture picked by a string the file fixes counts by that string
(`models.__dict__[args.arch]` with an `--arch` default, a dict of models). Each arm of an
`if arch == "vgg19": ... elif ...` chain is a configuration of the code: the arm that builds
BatchNorm is flagged, and named in the message, whatever an option's default picks; only a
string written in the code (`build_model("vgg19")`, or `FineTuning("vgg")` for a class
testing `self.model_name == "vgg"`) picks one arm. An arm that fails on the line reading
the model's head before it trains (a DenseNet, whose `classifier` is one `nn.Linear`,
given `model.classifier[0].in_features`; a ResNet given `model.classifier`) is not a
configuration that trains. A class picked from a dict of classes and built in the same call
(`model_map[args.model](pretrained=True)`) is read as the class the `if` around it (or a
constant key) names, a factory reached through a package's registry (`_ARCHS[name](...)` in
`models/__init__.py`) as the entries it holds, `getattr(torchvision.models, arch)` by the
string `arch` defaults to, and a project class keeping the backbone it is handed
(`EvalNet(resnet18())`, `self.encoder = encoder`) as holding its BatchNorm; and a freeze under a constant switch that is off (`WEIGHTS_FREEZING =
False`, then `if WEIGHTS_FREEZING:`) never runs. A model a function freezes and returns
only to code that runs it (a checkpoint loader for prediction: no backward, no step) is not
trained. A LightningModule's
`configure_optimizers` counts as its
optimiser (a part it leaves out, `return Adam(self.head.parameters())` beside a pretrained
`self.trunk`, is out of the optimiser), and an `on_train_epoch_start` hook (or an `.eval()` in `training_step` or
`forward`) putting the part back in eval mode is the fix. A LightningModule that defines
`training_step` is trained in train mode by Lightning's Trainer even when no linted file
calls `trainer.fit` (a notebook does): its freeze is reported in its own file, and a
script fitting it, imported from there, does not report it again. A freeze written with a flag (`p.requires_grad = train_cnn`, `fine_tune(False)`)
counts where the flag is known: a constant of the file, an option's default, the state a
Streamlit checkbox starts in (`st.sidebar.checkbox(..., value=False)`), a
configuration class's attribute or module constant (also set by `if flag: p.requires_grad =
True else: p.requires_grad = False`), an entry of a dict literal
(`config["train_cnn"]`, also when a function of the file returns the dict), a key of the
project's YAML configurations (`cfg["model"].get("freeze_encoder", False)` with
`freeze_encoder: true` in a `config.yaml` beside the script or in its `configs/` folder: on
where any of them turns it on, off where all turn it off), or a parameter's default at the
call, also through a function that passes its own parameter on and that every call of the file
gives one value. An `action="store_true"` option counts as passed where the project documents running the
script with it (`python train.py --freeze_backbone` in its README, a shell script, a Makefile
or a notebook cell).
A freeze that stops part-way (`list(model.children())[:7]`, `list(model.parameters())[:-10]`, `model.features[:5]`,
a counter over the children, children frozen by name from `named_children()` or with
`getattr(model, name)` for a list of names, also in a helper of the file given the list,
an `nn.Sequential(*list(model.children())[:-3])` built only to be frozen, the layers of a list
the model keeps, `for layer in model.base_layers: <freeze layer>`) counts for the
frozen layers, and the message asks for `.eval()` on them only; so do parts of one module
frozen one loop each and put back by the same `train()` (`model.layer0` ... `model.layer4`),
one finding on the module. Methods count like functions: a trainer class's method that builds
and returns the frozen model (`self.create_model()`, `trainer.build_model()`), one that
trains the model it is given (`self.train_fold(model)`, `trainer.train(model)`), and one
`__init__` calls to freeze its part. Each factory that can build the model, each branch
of an `if`/`match` that freezes one, and each new model bound to the same name is its own
finding; a freeze loop is reported at its `requires_grad` line.
A model of unknown make (a library builder gradlint does not know), a ViT/ConvNeXt
(LayerNorm), a freeze by a name test it cannot read, a module unfrozen again later in the
file (unless only its head, a late stage, the elements of a Sequential after its first
(`model.body[1:]`) or its recurrent back end is, `model.gru` on a frozen convolutional front
end; a part without parameters such as `avgpool` made trainable beside them changes nothing; or unless the unfreeze ends a long frozen phase of the epoch loop: `if epoch >=
Freeze_Epoch: <unfreeze>`, or a first loop `for epoch in range(Freeze_Epoch)` that trains
before the unfreeze, with `Freeze_Epoch` a number of at least 10 written in the file, an
option's default or the training function's parameter default (the epoch counted by the loop
or by a name it derives, `epoch = int(step / 1)`), as detection code trains its head for tens of epochs on a frozen
backbone; a short warm-up before fine-tuning everything is the common recipe and is not
reported, nor is a head-only run whose checkpoint a second model of the same builder loads
and trains whole), a model handed to
something whose mode handling is unknown, a momentum (EMA) copy of
the trained network (BYOL's target, MoCo's key encoder, DINO's teacher: their BatchNorm
is meant to run in train mode, also when a helper of the file moves it: `update_ema(ema,
model)`), a part a class's forward runs under `torch.no_grad()` in one call and with
gradients in another (also through the model holding it: `self.model(x)` beside
`self.model.features_extractor(x)` under `no_grad`), a freeze in a class's method under a flag parameter
whose default leaves it off (`def __init__(self, freeze_backbone=False)`, also read through
`self.freeze_backbone`) where the file never builds the class, a freeze (or a factory call) in
an arm a constant switch never takes (`stage = 'sup'`, then `if stage in ['pretrain']:`), a freeze whose own flag
also puts the model in eval mode (`if args.linear_eval: model.eval()`), a train() taken
only when an optimiser is given for the module (`if encoder_optimizer: encoder.train()
else: encoder.eval()`) or by the freezing flag (`if not args.freeze_resnet: extractor.train()
else: extractor.eval()`), a module-level freeze a script importing the module skips (`if
__name__ != ...`), and a file that
switches its BatchNorm layers to eval itself (a `train(mode=True)` override calling
`.eval()`, unless it does so only where the class does not freeze, `if mode and not
self.freeze_base:`, a loop over `modules()` calling `m.eval()`, a helper named like
`freeze_bn`/`set_bn_eval`, also called after `model.train()` in an imported training
function, or a callback such a function calls with the model after `train()`,
`fit(net, ..., before_epoch=keep_frozen)`; a callback of the script or of that function's
module with no `eval()` in it, such as an `EarlyStopping` that saves checkpoints, does not
count) are not reported; a model a training helper is handed before it is frozen
(`teacher = train_supervised(teacher)`, then frozen for distillation) trained unfrozen; a trainer class's `def train(self, num_epochs)` with a
validation `model.eval()` is a training routine, not such an override.

## Options
- `partial-freezes` (default true): report a model whose stem and early stages are frozen
  while later stages train again (`layer4`, `features[7]`, `model.body[1:]`), or whose freeze
  stops part-way (`list(model.children())[:7]`). Their frozen BatchNorm drifts as any other,
  but some projects keep it so on purpose (the frozen stem's statistics then follow the new
  data); `false` reports only models frozen whole or but their head.

## References
- [`torch.nn.BatchNorm2d`](https://pytorch.org/docs/stable/generated/torch.nn.BatchNorm2d.html): "during training this layer keeps running estimates of its computed mean and variance" (`track_running_stats`, `momentum`)
- [`torch.nn.Module.eval`](https://pytorch.org/docs/stable/generated/torch.nn.Module.html#torch.nn.Module.eval) and [`train`](https://pytorch.org/docs/stable/generated/torch.nn.Module.html#torch.nn.Module.train): the mode applies to every submodule
- [PyTorch: Autograd mechanics, locally disabling gradient computation](https://pytorch.org/docs/stable/notes/autograd.html#locally-disabling-gradient-computation): `requires_grad` and `no_grad` do not change the module's mode
"""

from __future__ import annotations

from typing import Iterator

from gradlint.registry import Invalid, Report, Valid
from gradlint.inprocess.slips import MeasuredSlips
from gradlint.source.default_flags import off_by_default
from gradlint.source.frames import Training, quiet_when_too_deep
from gradlint.source.freeze_forms import after_exit, in_uncalled_private_method, related, trains_a_stage
from gradlint.source.frozen_norms import Freeze, ModeCall
from gradlint.source.lightning_steps import LIGHTNING_TRAINER, trained_where_defined
from gradlint.source.mode_restores import (eval_under_freeze_flag, hook_keeps_eval, mode_chosen_with_freeze, put_back,
                                          train_calls, trained_only_when_optimised, unfrozen_with)
from gradlint.source.norm_links import file_norms, worth_reading
from gradlint.source.returned_uses import only_run_in, returned_only_to_inference
from gradlint.source.unit import SourceUnit

from .support.frozen_reports import fold_siblings, frozen_report, one_per_module
from .support.frozen_targets import another_model_there, frozen_targets, stays_frozen, unfrozen_parts
from .support.quiet_builders import left_in_built_mode
from .support.rebuilt_models import rebuilt_on_the_way

CODE = "GL406"
NAME = "frozen-norm-in-train-mode"
SEVERITY = "warning"
SUMMARY = "A frozen submodule with BatchNorm is put in train mode: its running statistics keep changing"
SCOPE = "file"
FIXABLE = True
OPTIONS: dict = {}


_LOOP = """
def train_epoch(loader):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
"""

VALID = [
    Valid(  # the frozen backbone goes back to eval after each train()
        """
import torch
from torch import nn
from torchvision import models

model = models.resnet50(weights="DEFAULT")
model.layer1.requires_grad_(False)
optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01)

def train_epoch(loader):
    model.train()
    model.layer1.eval()
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
"""
    ),

]
INVALID = [
    Invalid(
        """
import torch
from torch import nn
from torchvision import models

model = models.resnet18(weights="DEFAULT")
model.fc = nn.Linear(512, 10)
for p in model.layer4.parameters():
    p.requires_grad = False
optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01)
""" + _LOOP,
        line=9,
        fixed="""
import torch
from torch import nn
from torchvision import models

model = models.resnet18(weights="DEFAULT")
model.fc = nn.Linear(512, 10)
for p in model.layer4.parameters():
    p.requires_grad = False
optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01)

def train_epoch(loader):
    model.train()
    model.layer4.eval()
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
""",
    ),

]


def measured(slips: MeasuredSlips) -> Iterator[Report]:
    """The form ``gradlint.preflight`` measures: a frozen module whose BatchNorm running
    statistics the probe batch changed."""
    for entry in slips.drift:
        place = slips.place_of(entry.module)
        message = (f"measured: '{entry.module}' ({entry.type}) has all {entry.parameters} parameters frozen, but "
                   f"{len(entry.layers)} BatchNorm layer(s) in it are in train mode and the probe batch changed "
                   f"their running statistics (an element by up to {entry.max_change:.3g}): they drift with "
                   f"every training batch; call model.{entry.module}.eval() after each model.train()")
        yield Report(place, message, path=place.path, model=slips.model,
                     evidence={"module": entry.module, "batchnorm_layers": float(len(entry.layers)),
                               "max_change": entry.max_change})


OPTIONS = {"partial-freezes": True}


def check(unit: SourceUnit, options: dict) -> Iterator[Report]:
    return quiet_when_too_deep(_check(unit, bool(options.get("partial-freezes", True))))


def _check(unit: SourceUnit, partial_freezes: bool = True) -> Iterator[Report]:
    if unit.tree is None or not worth_reading(unit):
        return
    norms = file_norms(unit)
    trains = any(isinstance(f, Training) for fr in norms.frames.frames for f in fr.facts)
    # a file that trains nothing here may still hand a frozen model to a class that trains with it
    trains = trains or any(m.via or m.by or m.unread for m in norms.modes)
    if norms.bn_kept_in_eval or not (trains or norms.freezes):
        return
    found: list[tuple[Freeze, str, list[ModeCall]]] = []
    assert norms.knowledge is not None
    for freeze in norms.freezes:
        if freeze.guard is not None:
            continue  # frozen only when a parameter of its function is true: read where that function is called
        if after_exit(freeze.node, norms.frames.parents) or in_uncalled_private_method(freeze.node, norms.frames.parents,
                                                                                      unit.tree):
            continue  # left-over code after ``exit(1)``, or a private method nothing calls: it never runs
        if off_by_default(freeze.node, norms.frames.kinds.frame_of(freeze.node),
                                                 norms.frames.kinds.class_of(freeze.node), unit.tree, norms.frames.parents):
            continue  # ``if freeze_backbone:`` in a class's __init__ with the default False, never built here
        frame, root = norms.frames.kinds.frame_of(freeze.node), freeze.target.split(".")[0]
        if returned_only_to_inference(norms, frame, root) or freeze.how.startswith("factory") and frame is not None \
                and only_run_in(norms, [(frame, root)]):
            continue  # a loader that freezes and returns the model to code that only runs it
        if any(related(freeze.target, kept) for kept in norms.knowledge.eval_kept):
            continue  # an instance of a class whose train() override keeps its BatchNorm in eval
        for target in frozen_targets(norms, freeze):
            if not stays_frozen(norms, freeze, target):
                continue
            if not partial_freezes and (freeze.part or freeze.partial
                                        or any(trains_a_stage(u, target) for u in unfrozen_parts(norms, target, freeze))):
                continue  # a partial fine-tuning, reported only where the project asks for it
            # a training function of another file was read there: nothing here puts it back
            if eval_under_freeze_flag(norms, freeze, target):
                continue  # the flag that freezes it also puts it in eval mode
            # (``requires_grad = True`` beside ``train()`` does not train what no optimiser takes)
            by_omission = freeze.how in ("optimizer", "unoptimised")
            left = [t for t in (train_calls(norms, freeze, target) if trains else [])
                    if (by_omission or not unfrozen_with(norms, t))
                    # (a new model bound to the name before it is trained, here or by a helper)
                    and not (freeze.held is None and rebuilt_on_the_way(norms, target, freeze.node, t.site or t.call))
                    and (t.via or not (put_back(norms, t, target) or mode_chosen_with_freeze(norms, freeze, t, target)
                                       or trained_only_when_optimised(norms, t)
                                       or t.by and hook_keeps_eval(norms, freeze, t, target)
                                       or another_model_there(norms, freeze, t)))]
            if not left and (freeze.how in ("requires_grad", "requires_grad_", "no_grad", "unoptimised", "optimizer")
                             or freeze.built_by):
                left = left_in_built_mode(norms, freeze, target, trains)
            if left and freeze.via is not None and all(t.by and t.by != LIGHTNING_TRAINER for t in left) \
                    and trained_where_defined(unit.path, freeze.via):
                break  # the LightningModule's own file reports it at the freeze
            if left:
                found.append((freeze, target, left))
                break
    for freeze, target, left in fold_siblings(norms, one_per_module(norms, found)):
        yield frozen_report(norms, freeze, target, left)
