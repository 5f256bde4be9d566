"""GL215 across files and tuples: the message names where the model's activation is."""

from __future__ import annotations

from pathlib import Path

from gradlint.config import Settings
from gradlint.lint import lint_file
from gradlint.registry import all_rules

NETS = """import torch.nn as nn
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 4)
    def forward(self, x):
        probs = nn.functional.softmax(self.fc(x), dim=1)
        return probs, self.fc(x)
"""


def _lint(folder: Path, script: str) -> list:
    """GL215 on a training script (its ``loss.backward()`` appended: a loss computed once and
    never backpropagated trains nothing)."""
    path = folder / "train.py"
    path.write_text(script + "loss.backward()\n")
    return [f for f in lint_file(path, str(path), [all_rules()["GL215"]], Settings(select=["GL215"], root=folder))]


def test_imported_model_tuple_element_names_the_model_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "__init__.py").write_text("")
    (tmp_path / "models" / "nets.py").write_text(NETS)
    findings = _lint(tmp_path, "import torch.nn as nn\nfrom models.nets import Net as Model\n\nnet = Model()\n"
                               "loss_fn = nn.NLLLoss()\nprobs, logits = net(x)\nloss = loss_fn(probs, y)\n")
    assert [(f.code, f.line) for f in findings] == [("GL215", 7)]
    assert "element 0 of the tuple Net's forward returns (models/nets.py:7) is softmax probabilities" in findings[0].message
    assert "expects log-probabilities" in findings[0].message


def test_the_logits_element_of_an_imported_model_is_not_flagged(tmp_path: Path) -> None:
    (tmp_path / "nets.py").write_text(NETS)
    findings = _lint(tmp_path, "import torch.nn as nn\nfrom nets import Net\n\nnet = Net()\n"
                               "ce = nn.CrossEntropyLoss()\nloss = ce(net(x)[1], y)\n")
    assert findings == []


def test_an_edited_model_file_is_read_again(tmp_path: Path) -> None:
    (tmp_path / "nets.py").write_text(NETS)
    script = "import torch.nn as nn\nfrom nets import Net\n\nnet = Net()\nce = nn.CrossEntropyLoss()\nloss = ce(net(x)[0], y)\n"
    assert [f.line for f in _lint(tmp_path, script)] == [6]
    (tmp_path / "nets.py").write_text(NETS.replace("nn.functional.softmax(self.fc(x), dim=1)", "self.fc(x)  # logits now"))
    assert _lint(tmp_path, script) == []


FACTORY = """from models.caps import Caps
from models.plain import Plain


def setup(opt):
    if opt.model == "plain":
        model = Plain()
    elif opt.model == "caps":
        model = Caps()
    return model
"""

CAPS = """import torch.nn as nn
import torch.nn.functional as F
class Caps(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 4)
    def forward(self, x, reconstruct=False):
        p = F.softmax(self.fc(x), dim=-1)
        if not reconstruct:
            return p
        return p, x
"""

PLAIN = """import torch.nn as nn
class Plain(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 4)
    def forward(self, x):
        return self.fc(x)
"""

TRAIN_WITH_FACTORY = """import torch.nn.functional as F
import models

def train(opt, batches):
    model = models.setup(opt)
    loss_fn = F.cross_entropy
    for x, y in batches:
        out = model(x)
        loss_fn(out, y).backward()
"""


def _factory_project(folder: Path, caps: str = CAPS) -> None:
    (folder / "models").mkdir()
    (folder / "models" / "__init__.py").write_text(FACTORY)
    (folder / "models" / "caps.py").write_text(caps)
    (folder / "models" / "plain.py").write_text(PLAIN)


def test_a_project_factory_that_can_build_a_softmax_model(tmp_path: Path) -> None:
    _factory_project(tmp_path)
    (finding,) = _lint(tmp_path, TRAIN_WITH_FACTORY)
    assert (finding.code, finding.line) == ("GL215", 9)
    assert ("Caps's output (models/caps.py:8; `models.setup` can build a Caps; called without `reconstruct`) "
            "is softmax probabilities, and this line feeds it to F.cross_entropy") in finding.message


def test_a_call_that_passes_the_flag_takes_the_other_path(tmp_path: Path) -> None:
    _factory_project(tmp_path)
    assert _lint(tmp_path, TRAIN_WITH_FACTORY.replace("model(x)", "model(x, reconstruct=True)[1]")) == []


def test_a_factory_whose_models_return_logits_is_quiet(tmp_path: Path) -> None:
    _factory_project(tmp_path, caps=CAPS.replace("F.softmax(self.fc(x), dim=-1)", "self.fc(x)"))
    assert _lint(tmp_path, TRAIN_WITH_FACTORY) == []


TWO_DISCRIMINATORS = """import torch.nn as nn
class Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.aux = nn.Linear(8, 3)
        self.soft = nn.Softmax(dim=1)
    def forward(self, x):
        return x.sigmoid(), self.soft(self.aux(x))
class Large(nn.Module):
    def __init__(self):
        super().__init__()
        self.aux = nn.Linear(8, 3)
        self.soft = nn.Softmax(dim=1)
    def forward(self, x):
        c = self.aux(x)
        c = self.soft(c)
        return x.sigmoid(), c
"""


def test_a_name_bound_to_either_of_two_classes_reports_each(tmp_path: Path) -> None:
    # held-out round 2 (ACGAN): the discriminator class is picked by the data set; each
    # class is its own fix (held-out round 16), so each is its own finding on the loss line
    (tmp_path / "nets.py").write_text(TWO_DISCRIMINATORS)
    findings = _lint(tmp_path, "import torch.nn as nn\nfrom nets import Small, Large\n\nif big:\n    d = Large()\n"
                               "else:\n    d = Small()\naux = nn.NLLLoss()\nreal, cls = d(x)\nloss = aux(cls, y)\n")
    assert [(f.code, f.line) for f in findings] == [("GL215", 10), ("GL215", 10)]
    assert "element 1 of the tuple Large's forward returns (nets.py:13)" in findings[0].message
    assert "element 1 of the tuple Small's forward returns (nets.py:6)" in findings[1].message


# held-out round 4 (/work/heldout21, a course's CNN tutorial) shaped these: the script hands
# the model and the loss to a training helper of the model's own module, which links them

HELPER = """

class Probs(nn.Module):
    def forward(self, x):
        return x.softmax(-1)


def train(loader, model, loss_fn, optimizer):
    for x, y in loader:
        pred = model(x)
        loss = loss_fn(pred, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def evaluate(loader, model):
    criterion = nn.NLLLoss()
    return sum(criterion(model(x)[0], y) for x, y in loader)
"""


def test_a_helper_of_an_imported_module_that_calls_the_loss_on_the_model(tmp_path: Path) -> None:
    (tmp_path / "nets.py").write_text(NETS + HELPER)
    findings = _lint(tmp_path, "import torch\nimport torch.nn as nn\nimport nets\n\nmodel = nets.Probs()\n"
                               "loss_fn = nn.CrossEntropyLoss()\nopt = torch.optim.SGD(model.parameters(), lr=0.1)\n"
                               "nets.train([], model, loss_fn, opt)\nnets.evaluate([], nets.Net())\n")
    # evaluate() only reports the loss (no backward): the model is not trained with it (held-out round 5)
    assert [(f.code, f.line) for f in findings] == [("GL215", 8)]
    assert ("this line hands it to `nets.train` (nets.py:19), which feeds it to CrossEntropyLoss"
            in findings[0].message)


def test_a_helper_handed_a_loss_that_expects_probabilities_is_quiet(tmp_path: Path) -> None:
    (tmp_path / "nets.py").write_text(NETS + HELPER)
    findings = _lint(tmp_path, "import torch.nn as nn\nfrom nets import Net, train\n\n"
                               "train([], Net(), nn.KLDivLoss(), None)\n")
    assert findings == []


def test_a_helper_handing_the_model_to_the_helper_that_applies_the_loss(tmp_path: Path) -> None:
    # held-out round 5 (an action-recognition project): train_model -> forward_step -> criterion(model(x))
    (tmp_path / "nets.py").write_text(NETS + HELPER)
    (tmp_path / "loops.py").write_text(
        "def forward_step(net, x, y, criterion):\n    out = net(x)\n    return criterion(out, y)\n\n\n"
        "def train_model(net, loader, optimizer, criterion):\n    for x, y in loader:\n"
        "        loss = forward_step(net, x, y, criterion)\n        loss.backward()\n        optimizer.step()\n\n\n"
        "def test_model(net, loader, criterion):\n    return [forward_step(net, x, y, criterion) for x, y in loader]\n")
    findings = _lint(tmp_path, "import torch.nn as nn\nfrom nets import Probs\nfrom loops import train_model, test_model\n\n"
                               "model = Probs()\nce = nn.CrossEntropyLoss()\ntest_model(model, [], ce)\n"
                               "train_model(model, [], None, ce)\n")
    assert [(f.code, f.line) for f in findings] == [("GL215", 8)]
    assert "hands it to `train_model` (loops.py:8), which feeds it to CrossEntropyLoss" in findings[0].message


def test_a_helper_that_builds_its_own_loss_for_one_output_of_a_gan_discriminator(tmp_path: Path) -> None:
    # held-out round 5 (a semi-supervised GAN): the script names no loss; the helper builds it,
    # and the generator's output is fed to the discriminator (a parameter called on another's output)
    (tmp_path / "nets.py").write_text(
        "import torch.nn as nn\n\n\nclass Gen(nn.Linear):\n    pass\n\n\nclass Disc(nn.Module):\n"
        "    def __init__(self):\n        super().__init__()\n        self.adv = nn.Sequential(nn.Linear(8, 1), nn.Sigmoid())\n"
        "        self.aux = nn.Sequential(nn.Linear(8, 11), nn.Softmax(dim=1))\n\n"
        "    def forward(self, x):\n        return self.adv(x), self.aux(x)\n")
    (tmp_path / "loop.py").write_text(
        "import torch\n\n\ndef train(gen, disc, loader, opt):\n    bce = torch.nn.BCELoss()\n    ce = torch.nn.CrossEntropyLoss()\n"
        "    for x, y, z in loader:\n        validity, _ = disc(gen(z))\n        real, aux = disc(x)\n"
        "        loss = bce(validity, y) + ce(aux, y)\n        loss.backward()\n        opt.step()\n")
    findings = _lint(tmp_path, "from nets import Gen, Disc\nfrom loop import train\n\ntrain(Gen(8, 8), Disc(), [], None)\n")
    assert [(f.code, f.line) for f in findings] == [("GL215", 4)]
    assert ("element 1 of the tuple Disc's forward returns (nets.py:12) is softmax probabilities, and this line hands it "
            "to `train` (loop.py:10), which feeds it to CrossEntropyLoss") in findings[0].message


def test_a_class_re_exported_by_a_package_and_picked_on_one_branch(tmp_path: Path) -> None:
    # held-out round 5 (a UNet 3+ project): `from unet import UNet3Plus` re-exported by
    # unet/__init__.py, the name bound to it on one branch and to a logits model on the other
    (tmp_path / "unet").mkdir()
    (tmp_path / "unet" / "__init__.py").write_text("from .plus import Plus\nfrom .plain import Plain\n")
    (tmp_path / "unet" / "plus.py").write_text(
        "import torch\nimport torch.nn as nn\n\n\nclass Plus(nn.Conv2d):\n    def forward(self, x):\n"
        "        return torch.sigmoid(super().forward(x))\n")
    (tmp_path / "unet" / "plain.py").write_text("import torch.nn as nn\n\n\nclass Plain(nn.Conv2d):\n    pass\n")
    findings = _lint(tmp_path, "import sys\nimport torch.nn as nn\nfrom unet import Plus, Plain\n\n"
                               "if sys.argv[1] == 'plus':\n    net = Plus(3, 1, 1)\nelse:\n    net = Plain(3, 1, 1)\n"
                               "criterion = nn.BCEWithLogitsLoss()\nloss = criterion(net(x), y)\n")
    assert [(f.code, f.line) for f in findings] == [("GL215", 10)]
    assert "Plus's output (unet/plus.py:7; when `net` is the Plus of line 6) is sigmoid probabilities" in findings[0].message


LOCAL_UPDATE = """import copy
import torch
import torch.nn as nn


class LocalUpdate:
    def __init__(self, loader, criterion=None):
        self.loader = loader
        self.criterion = criterion
        self.nll = nn.NLLLoss().to("cpu")

    def update_weights(self, model, rounds):
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
        for x, y in self.loader:
            opt.zero_grad()
            out = model(x)
            loss = self.nll(out, y)
            loss.backward()
            opt.step()

    def fit(self, model):
        for x, y in self.loader:
            self.criterion(model(x), y).backward()
"""


def test_a_method_given_the_model_with_the_loss_its_class_builds_or_was_built_with(tmp_path: Path) -> None:
    # held-out round 6 (a federated-learning project): local.update_weights(model=copy.deepcopy(global_model))
    (tmp_path / "nets.py").write_text(NETS + HELPER)
    (tmp_path / "update.py").write_text(LOCAL_UPDATE)
    head = "import copy\nimport torch.nn as nn\nfrom nets import Probs\nfrom update import LocalUpdate\n\n"
    findings = _lint(tmp_path, head + "net = Probs()\nlocal = LocalUpdate([])\n"
                                      "local.update_weights(model=copy.deepcopy(net), rounds=1)\n")
    assert [(f.code, f.line) for f in findings] == [("GL215", 8)]
    assert "hands it to `local.update_weights` (update.py:17), which feeds it to NLLLoss" in findings[0].message
    findings = _lint(tmp_path, head + "net = Probs()\nlocal = LocalUpdate([], criterion=nn.CrossEntropyLoss())\nlocal.fit(net)\n")
    assert [(f.code, f.line) for f in findings] == [("GL215", 8)]
    assert "hands it to `local.fit` (update.py:23), which feeds it to CrossEntropyLoss" in findings[0].message
    findings = _lint(tmp_path, head + "net = Probs()\nlocal = LocalUpdate([], criterion=nn.KLDivLoss())\nlocal.fit(net)\n")
    assert findings == []


LOSSES_MODULE = """import torch.nn as nn
adversarial = nn.BCELoss()
classification = nn.NLLLoss()


def both_losses(validity, real, label_probs, labels):
    return adversarial(validity, real), classification(label_probs, labels)


def class_loss(label_probs, labels):
    return classification(label_probs, labels)
"""


def test_an_imported_function_returning_two_losses_feeds_each_its_argument(tmp_path: Path) -> None:
    (tmp_path / "nets.py").write_text(NETS)
    (tmp_path / "losses.py").write_text(LOSSES_MODULE)
    findings = _lint(tmp_path, "from nets import Net\nfrom losses import both_losses\n\nnet = Net()\n"
                               "probs, logits = net(x)\nreal_loss, class_loss = both_losses(logits, y, probs, y)\n"
                               "(real_loss + class_loss).backward()\n")
    assert [(f.code, f.line) for f in findings] == [("GL215", 6)]
    assert "element 0 of the tuple Net's forward returns (nets.py:7) is softmax probabilities" in findings[0].message
    assert "NLLLoss" in findings[0].message


def test_the_wrapper_argument_that_gets_no_loss_is_not_linked(tmp_path: Path) -> None:
    (tmp_path / "nets.py").write_text(NETS)
    (tmp_path / "losses.py").write_text(LOSSES_MODULE)
    # class_loss gets the logits element, not the softmax one: nothing of the table to report
    assert _lint(tmp_path, "from nets import Net\nfrom losses import class_loss\n\nnet = Net()\n"
                           "probs, logits = net(x)\nclass_loss(logits, y).backward()\n") == []


def test_a_loss_name_rebound_later_is_read_at_each_call(tmp_path: Path) -> None:
    # held-out round 8 (/work/heldout29): a debugging script feeds softmax to MSELoss, then rebinds
    # the name to CrossEntropyLoss for the logits; only a call after the rebinding gets CE
    script = ("import torch.nn as nn\nimport torch.nn.functional as F\n\nmodel = nn.Linear(10, 3)\n"
              "logits = model(x)\nloss_fn = nn.MSELoss()\nloss = loss_fn(F.softmax(logits, dim=1), y)\n"
              "loss_fn = nn.CrossEntropyLoss()\nloss = loss_fn(logits, y)\n"
              "loss = loss_fn(F.softmax(logits, dim=1), y)\n")
    findings = _lint(tmp_path, script)
    assert [(f.code, f.line) for f in findings] == [("GL215", 10)]
    assert "CrossEntropyLoss" in findings[0].message


def test_a_trainer_method_reading_its_model_and_loss_through_local_names(tmp_path: Path) -> None:
    # held-out round 8 (/work/heldout29): ``model, criterion = self.model, self.criterion`` in the
    # trainer's run method, the loss built by the script and handed to the trainer
    (tmp_path / "nets.py").write_text(NETS.replace("return probs, self.fc(x)", "return probs"))
    (tmp_path / "trainer.py").write_text(
        "class Trainer:\n    def __init__(self, model, optimizer, criterion):\n        self.model = model\n"
        "        self.optimizer = optimizer\n        self.criterion = criterion\n\n    def run(self, loader):\n"
        "        model, criterion = self.model, self.criterion\n        for x, y in loader:\n"
        "            loss = criterion(model(x), y)\n            loss.backward()\n            self.optimizer.step()\n")
    findings = _lint(tmp_path, "import torch\nfrom nets import Net\nfrom trainer import Trainer\n\nnet = Net()\n"
                               "trainer = Trainer(net, torch.optim.SGD(net.parameters(), 0.1), torch.nn.CrossEntropyLoss())\n"
                               "trainer.run([])\n")
    assert [(f.code, f.line) for f in findings] == [("GL215", 6)]
    assert "hands it to `Trainer` (trainer.py:10)" in findings[0].message


def test_a_model_renamed_by_to_device_keeps_its_ending(tmp_path: Path) -> None:
    (tmp_path / "nets.py").write_text(NETS.replace("return probs, self.fc(x)", "return probs"))
    findings = _lint(tmp_path, "import torch\nfrom nets import Net\n\nclassifier = Net()\n"
                               "model = classifier.to('cpu')\nloss_func = torch.nn.CrossEntropyLoss()\n"
                               "for x, y in []:\n    loss = loss_func(model(x), y)\n    loss.backward()\n")
    assert [(f.code, f.line) for f in findings] == [("GL215", 8)]


def test_a_loss_moved_to_a_device_is_still_that_loss(tmp_path: Path) -> None:
    # held-out round 7 (an ACGAN): ``aux_loss = aux_loss.cuda()`` rebinds the name to the same loss
    script = ("import torch.nn as nn\n\nhead = nn.Sequential(nn.Linear(8, 4), nn.Softmax(dim=1))\n"
              "aux_loss = nn.CrossEntropyLoss()\naux_loss = aux_loss.cuda()\nloss = aux_loss(head(x), y)\n")
    assert [(f.code, f.line) for f in _lint(tmp_path, script)] == [("GL215", 6)]


HEAD_SCRIPT = """import torch
from torch import nn
from torchvision import models

model = models.{arch}(weights=None)
model.{head} = nn.Sequential(nn.Linear(512, 10), nn.Softmax(dim=1))
criterion = nn.CrossEntropyLoss()
for x, y in []:
    criterion(model(x), y).backward()
"""


def test_a_replaced_classifier_head_ending_in_softmax_makes_the_model_end_in_it(tmp_path: Path) -> None:
    # held-out round 9 (/work/heldout31, a timm tutorial): the pretrained model's head replaced by
    # Sequential(Linear, Softmax), trained with CrossEntropyLoss
    for arch, head in (("resnet18", "fc"), ("densenet121", "classifier")):
        findings = _lint(tmp_path, HEAD_SCRIPT.format(arch=arch, head=head))
        assert [(f.code, f.line) for f in findings] == [("GL215", 9)], arch
        assert "model's output (line 6) is softmax probabilities, and this line feeds it to CrossEntropyLoss" in findings[0].message
    # a ResNet's forward never runs an attribute called classifier
    assert _lint(tmp_path, HEAD_SCRIPT.format(arch="resnet18", head="classifier")) == []


def test_a_wrapper_class_whose_backbone_head_ends_in_softmax(tmp_path: Path) -> None:
    script = ("import torch\nfrom torch import nn\nfrom torchvision import models\n\n\nclass Wrapper(nn.Module):\n"
              "    def __init__(self):\n        super().__init__()\n        self.backbone = models.resnet50(weights=None)\n"
              "        self.backbone.fc = nn.Sequential(\n            nn.Linear(2048, 10),\n            nn.Softmax(dim=1),\n"
              "        )\n\n    def forward(self, x):\n        return self.backbone(x)\n\n\nnet = Wrapper()\n"
              "loss_fn = nn.CrossEntropyLoss()\nloss = loss_fn(net(x), y)\n")
    findings = _lint(tmp_path, script)
    assert [(f.code, f.line) for f in findings] == [("GL215", 21)]
    assert "Wrapper's output (line 12) is softmax probabilities, and this line feeds it to CrossEntropyLoss" in findings[0].message


# held-out round 10 (/work/heldout33, Sam-Armstrong): the model class borrows layers from a
# pretrained model it binds to a local ``model`` in ``__init__``; the script's module-level
# ``model`` is the softmax-ending class, trained with CrossEntropyLoss
BORROWING = """import torch
from torch import nn
from pretrained import Pretrained


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        model = Pretrained()
        self.trunk = model.trunk
        self.fc = nn.Linear(8, 3)
        self.softmax = nn.Softmax(dim=-1)

    def forward(self, x):
        return self.softmax(self.fc(self.trunk(x)))


{binding}
loss_f = nn.CrossEntropyLoss()
for x, y in []:
    loss = loss_f(model(x), y)
    loss.backward()


def evaluate():
    model = Pretrained()
    return loss_f(model(x), y)
"""


def test_a_local_of_another_function_with_the_models_name_is_another_model(tmp_path: Path) -> None:
    (tmp_path / "pretrained.py").write_text(
        "from torch import nn\n\n\nclass Pretrained(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.trunk = nn.Linear(4, 8)\n\n    def forward(self, x):\n        return self.trunk(x)\n")
    for binding in ("model = Head().to('cpu')", "model = Head()"):
        findings = _lint(tmp_path, BORROWING.format(binding=binding))
        assert [(f.code, f.line) for f in findings] == [("GL215", 21)], binding  # not evaluate()'s own model
        assert "Head's output (line 12) is softmax probabilities" in findings[0].message


# held-out round 10 (/work/heldout33): a text generator trained in a helper that, after the
# training loop, samples with ``output = output[-1]``; and a model built by a function
# returning ``nn.Sequential(..., nn.Softmax())``
GENERATOR = """import torch
from torch import nn


class Gen(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 5)
        self.softmax = nn.Softmax(dim=-1)

    def forward(self, x):
        return self.softmax(self.fc(x))


model = Gen()
criterion = nn.CrossEntropyLoss()


def train(model):
    for x, y in []:
        output = model(x)
        {between}
        loss = criterion(output.view(-1, 5), y)
        loss.backward()
    with torch.no_grad():
        output = model(x)
        output = output[-1]
        print(output.argmax())


train(model)
"""


def test_a_name_rebound_after_the_training_loop_is_the_models_output_at_the_loss(tmp_path: Path) -> None:
    findings = _lint(tmp_path, GENERATOR.format(between="pass"))
    assert [(f.code, f.line) for f in findings] == [("GL215", 23)]
    assert "Gen's output (line 9) is softmax probabilities" in findings[0].message
    # rebound before the loss: what reaches it is no longer the probabilities
    assert _lint(tmp_path, GENERATOR.format(between="output = output.log()")) == []


def test_a_function_returning_a_sequential_that_ends_in_softmax(tmp_path: Path) -> None:
    script = ("import torch\nfrom torch import nn\n\n\ndef mixer(dim, classes=10):\n    return nn.Sequential(\n"
              "        nn.Linear(dim, classes),\n        nn.Softmax(),\n    )\n\n\nmodel = mixer(28).to('cpu')\n"
              "loss_f = nn.CrossEntropyLoss()\nfor x, y in []:\n    loss = loss_f(model(x), y)\n    loss.backward()\n")
    findings = _lint(tmp_path, script)
    assert [(f.code, f.line) for f in findings] == [("GL215", 15)]
    assert "mixer's output (line 8) is softmax probabilities" in findings[0].message
    assert _lint(tmp_path, script.replace("        nn.Softmax(),\n", "")) == []


def test_a_name_rebound_later_in_the_same_pass_is_still_the_output_at_the_loss(tmp_path: Path) -> None:
    # held-out round 10 (ffjmmm): ``_, out = cnn(data)``, the loss, then ``out = out.cpu()`` for metrics
    loop = ("for x, y in []:\n        _, out = model(x)\n        loss = criterion(out, y)\n        loss.backward()\n"
            "        out = out.cpu()\n")
    script = GENERATOR.replace("def forward(self, x):\n        return self.softmax(self.fc(x))",
                               "def forward(self, x):\n        return x, self.softmax(self.fc(x))")
    script = script.replace("for x, y in []:\n        output = model(x)\n        {between}\n"
                            "        loss = criterion(output.view(-1, 5), y)\n        loss.backward()\n", loop)
    findings = _lint(tmp_path, script)
    assert [(f.code, f.line) for f in findings] == [("GL215", 22)]
    assert "element 1 of the tuple Gen's forward returns (line 9)" in findings[0].message
    # bound once before the loop and rebound inside it to something else (``out.cpu()`` is
    # still the output; ``out.argmax(1)`` is not): the next pass reads the rebinding
    before = script.replace("    for x, y in []:\n        _, out = model(x)\n", "    _, out = model(x)\n    for x, y in []:\n")
    before = before.replace("out = out.cpu()", "out = out.argmax(1)")
    assert _lint(tmp_path, before) == []
