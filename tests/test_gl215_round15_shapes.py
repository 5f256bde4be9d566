"""GL215 on shapes held-out round 15 (/work/heldout43) found it could not read; each
project is written here in our own words:
- a course GAN's discriminator returning ``F.softmax(self.convc(x)).view(-1, n)``: a
  reshape keeps the probabilities;
- an ACGAN module whose factory returns ``(netG, netD)`` unpacked by the script, with the
  auxiliary head ending in ``nn.Softmax()`` trained with ``CrossEntropyLoss``;
- a trainer class in ``trainer/`` building ``CNN().cuda() if cuda else CNN()`` from the
  project's ``model/`` package (the same model either way);
- a model whose forward returns its head module's output, the head a class of a package
  module ending in softmax (``self.fc = Classifier(n)``)."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

RESHAPED = """\
    import torch
    import torch.nn.functional as F
    from torch import nn


    class Discriminator(nn.Module):
        def __init__(self):
            super().__init__()
            self.convd = nn.Conv2d(8, 1, 4)
            self.convc = nn.Conv2d(8, 3, 4)

        def forward(self, x):
            realfake = torch.sigmoid(self.convd(x))
            classes = F.softmax(self.convc(x), dim=1).{reshape}
            return realfake, classes


    D = Discriminator()
    bce, aux = nn.BCELoss(), nn.NLLLoss()
    optimizer = torch.optim.Adam(D.parameters())
    for x, real, y in []:
        optimizer.zero_grad()
        r, c = D(x)
        (bce(r, real) + aux(c, y)).backward()
        optimizer.step()
"""


def test_softmax_reshaped_in_forward_is_still_probabilities(tmp_path: Path) -> None:
    write_project(tmp_path, {"acgan.py": RESHAPED.format(reshape="view(-1, 3)")})
    [finding] = lint_in_process(tmp_path / "acgan.py", "GL215")
    assert (finding.code, finding.line) == ("GL215", 24)
    assert finding.message.startswith("element 1 of the tuple Discriminator's forward returns (line 14) is softmax")


def test_a_log_after_the_softmax_is_not_probabilities(tmp_path: Path) -> None:
    write_project(tmp_path, {"acgan.py": RESHAPED.format(reshape="view(-1, 3).log()")})
    assert lint_in_process(tmp_path / "acgan.py", "GL215") == []


MODELS = """\
    from torch import nn


    class Generator(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 8)

        def forward(self, z):
            return self.fc(z)


    class AuxDiscriminator(nn.Module):
        def __init__(self, classes):
            super().__init__()
            self.adv = nn.Sequential(nn.Linear(8, 1), nn.Sigmoid())
            self.aux = nn.Sequential(nn.Linear(8, classes), nn.Softmax(dim=1))

        def forward(self, img):
            return self.adv(img), self.aux(img)


    def acgan(classes):
        netG = Generator()
        netD = AuxDiscriminator(classes)
        return netG, netD
"""

ACGAN_SCRIPT = """\
    import torch
    from torch import nn

    import models

    netG, netD = models.acgan(10)
    netG, netD = netG.cuda(), netD.cuda()
    adversarial, auxiliary = nn.BCELoss(), nn.{loss}()
    optimizer = torch.optim.Adam(netD.parameters())
    for img, valid, labels in []:
        optimizer.zero_grad()
        validity, predicted = netD(img)
        (adversarial(validity, valid) + auxiliary(predicted, labels)).backward()
        optimizer.step()
"""


def test_a_tuple_returned_by_an_imported_factory_is_unpacked(tmp_path: Path) -> None:
    write_project(tmp_path, {"models.py": MODELS, "train.py": ACGAN_SCRIPT.format(loss="CrossEntropyLoss")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL215")
    assert (finding.code, finding.line) == ("GL215", 13)
    assert finding.message.startswith("element 1 of the tuple AuxDiscriminator's forward returns (models.py:17; "
                                      "`models.acgan` can build an AuxDiscriminator) is softmax probabilities")


def test_the_matching_loss_for_the_unpacked_discriminator_is_quiet(tmp_path: Path) -> None:
    write_project(tmp_path, {"models.py": MODELS.replace("nn.Softmax(dim=1)", "nn.LogSoftmax(dim=1)"),
                             "train.py": ACGAN_SCRIPT.format(loss="NLLLoss")})
    assert lint_in_process(tmp_path / "train.py", "GL215") == []


TRAINER = """\
    import torch
    from torch import nn

    from model.models import CNN


    class MnistTrainer:
        def __init__(self, cuda):
            self.cuda = cuda
            self.model = CNN().cuda() if self.cuda else CNN()
            self.criterion = nn.CrossEntropyLoss().cuda() if self.cuda else nn.CrossEntropyLoss()
            self.optimizer = torch.optim.Adam(self.model.parameters())

        def train(self, loader):
            self.model.train()
            for x, y in loader:
                self.optimizer.zero_grad()
                loss = self.criterion(self.model(x), y)
                loss.backward()
                self.optimizer.step()
"""

CNN = """\
    from torch import nn


    class CNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 8, 3)
            self.classifier = nn.Sequential(nn.Linear(8, 10), nn.Softmax(dim=1))

        def forward(self, x):
            return self.classifier(self.conv(x).mean((2, 3)))
"""


def test_a_model_built_the_same_either_way_in_a_trainer_of_a_subfolder(tmp_path: Path) -> None:
    write_project(tmp_path, {"model/__init__.py": "", "model/models.py": CNN, "trainer/__init__.py": "",
                             "trainer/mnist_trainer.py": TRAINER})
    [finding] = lint_in_process(tmp_path / "trainer" / "mnist_trainer.py", "GL215")
    assert (finding.code, finding.line) == ("GL215", 18)
    assert finding.message.startswith("CNN's output (../model/models.py:8) is softmax probabilities")


def test_two_different_models_either_way_are_not_read_as_one(tmp_path: Path) -> None:
    trainer = TRAINER.replace("CNN().cuda() if self.cuda else CNN()", "CNN().cuda() if self.cuda else Other()")
    trainer = trainer.replace("from model.models import CNN", "from model.models import CNN, Other")
    cnn = CNN + "\n\nclass Other(nn.Module):\n    def forward(self, x):\n        return x\n"
    write_project(tmp_path, {"model/__init__.py": "", "model/models.py": cnn, "trainer/__init__.py": "",
                             "trainer/mnist_trainer.py": trainer})
    assert lint_in_process(tmp_path / "trainer" / "mnist_trainer.py", "GL215") == []


HEAD = """\
    from torch import nn


    class Classifier(nn.Module):
        def __init__(self, features):
            super().__init__()
            self.fc = nn.Linear(features, 11)
            self.output = nn.Softmax(dim=1)

        def forward(self, feature):
            category = self.fc(feature)
            category = self.output(category)
            return category
"""

COMPOSED = """\
    from torch import nn

    from .modules import Classifier


    class VideoCNN(nn.Module):
        def __init__(self, features):
            super().__init__()
            self.fc = Classifier(features)

        def forward(self, frame):
            return self.fc(frame)
"""

COMPOSED_SCRIPT = """\
    import torch
    from torch import nn

    from models.video import VideoCNN

    model = VideoCNN(2048)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters())
    for x, y in []:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()
"""


def test_a_model_returning_its_imported_heads_softmax(tmp_path: Path) -> None:
    write_project(tmp_path, {"models/__init__.py": "", "models/modules/__init__.py": "from .head import Classifier\n",
                             "models/modules/head.py": HEAD, "models/video.py": COMPOSED, "train.py": COMPOSED_SCRIPT})
    [finding] = lint_in_process(tmp_path / "train.py", "GL215")
    assert (finding.code, finding.line) == ("GL215", 11)
    assert finding.message.startswith("VideoCNN's output (models/modules/head.py:8) is softmax probabilities")


def test_a_part_of_the_same_file_ending_in_softmax(tmp_path: Path) -> None:
    model = HEAD + "\n\n" + COMPOSED.replace("from .modules import Classifier\n", "").replace(
        "from torch import nn\n", "", 1)
    script = COMPOSED_SCRIPT.replace("from models.video import VideoCNN", "from net import VideoCNN")
    write_project(tmp_path, {"net.py": model, "train.py": script})
    [finding] = lint_in_process(tmp_path / "train.py", "GL215")
    assert finding.message.startswith("VideoCNN's output (net.py:8) is softmax probabilities")


def test_a_part_ending_in_logits_is_quiet(tmp_path: Path) -> None:
    write_project(tmp_path, {"models/__init__.py": "", "models/modules/__init__.py": "from .head import Classifier\n",
                             "models/modules/head.py": HEAD.replace("nn.Softmax(dim=1)", "nn.Identity()"),
                             "models/video.py": COMPOSED, "train.py": COMPOSED_SCRIPT})
    assert lint_in_process(tmp_path / "train.py", "GL215") == []
