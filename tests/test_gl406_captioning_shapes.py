"""GL406 on the image-captioning shapes earlier held-out rounds (/work/heldout39) missed;
each project is written here in our own words:
- an imported ``train(loader, encoder, decoder, ...)`` that calls ``decoder.train()`` and
  then ``encoder.train()`` (only the first parameter it trains used to be read);
- a frozen encoder handed to an imported ``Trainer`` class that keeps it and runs it in its
  training step, never setting its mode, with ``encoder.eval()`` only in the test branch."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

ENCODER = """\
    import torchvision
    from torch import nn


    class Encoder(nn.Module):
        def __init__(self, finetune=False):
            super().__init__()
            resnet = torchvision.models.resnet101(weights=None)
            self.cnn = nn.Sequential(*list(resnet.children())[:-2])
            if not finetune:
                for p in self.cnn.parameters():
                    p.requires_grad = False

        def forward(self, images):
            return self.cnn(images)
"""

ENGINE = """\
    def train(loader, encoder, decoder, criterion, decoder_optimizer):
        decoder.train()
        encoder.train()
        for images, captions in loader:
            loss = criterion(decoder(encoder(images)), captions)
            decoder_optimizer.zero_grad()
            loss.backward()
            decoder_optimizer.step()
"""

SCRIPT = """\
    import torch
    from torch import nn

    from engine import train
    from model import Encoder

    encoder = Encoder()
    decoder = nn.Linear(2048, 10)
    decoder_optimizer = torch.optim.Adam(decoder.parameters())
    for epoch in range(3):
        train([], encoder, decoder, nn.CrossEntropyLoss(), decoder_optimizer)
"""


def test_the_second_module_a_training_function_puts_in_train_mode(tmp_path: Path) -> None:
    write_project(tmp_path, {"model.py": ENCODER, "engine.py": ENGINE, "train.py": SCRIPT})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 7)
    assert "but `encoder.train()` in `train` (engine.py:3), called on line 11 with `encoder`" in finding.message


def test_a_training_function_that_puts_the_encoder_back_in_eval_is_quiet(tmp_path: Path) -> None:
    engine = ENGINE.replace("    encoder.train()\n", "    encoder.train()\n    encoder.cnn.eval()\n")
    write_project(tmp_path, {"model.py": ENCODER, "engine.py": engine, "train.py": SCRIPT})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


TRAINER = """\
    import torch
    from torch import nn


    class Trainer:
        def __init__(self, encoder, decoder, loader):
            self.encoder = encoder.to("cpu")
            self.decoder = decoder
            self.loader = loader
            self.optimizer = torch.optim.Adam(decoder.parameters())

        def train(self, epochs):
            for epoch in range(epochs):
                for images, captions in self.loader:
                    self.train_step(images, captions)

        def train_step(self, images, captions):
            self.encoder.zero_grad()
            self.decoder.zero_grad()
            loss = nn.functional.cross_entropy(self.decoder(self.encoder(images)), captions)
            loss.backward()
            self.optimizer.step()

        def save(self, path):
            torch.save({{"encoder": self.encoder.state_dict()}}, path)
{extra}"""

MAIN = """\
    import argparse

    from torch import nn

    from model import Encoder
    from trainer import Trainer

    parser = argparse.ArgumentParser()
    parser.add_argument("--test", action="store_true")
    args = parser.parse_args()
    encoder = Encoder({finetune})
    decoder = nn.Linear(2048, 10)
    if not args.test:
        trainer = Trainer(encoder, decoder, [])
        trainer.train(10)
    else:
        encoder.eval()
        decoder.eval()
"""


def test_a_frozen_encoder_handed_to_a_trainer_class_that_never_sets_its_mode(tmp_path: Path) -> None:
    write_project(tmp_path, {"model.py": ENCODER, "trainer.py": TRAINER.format(extra=""),
                             "main.py": MAIN.format(finetune="")})
    [finding] = lint_in_process(tmp_path / "main.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 11)
    assert "handing it on line 14 to `Trainer` (trainer.py:20), which runs it," in finding.message
    assert "call `encoder.cnn.eval()` once it is built" in finding.message


def test_a_trainer_class_that_puts_the_encoder_in_eval_is_quiet(tmp_path: Path) -> None:
    extra = """
        def validate(self):
            self.encoder.eval()
"""
    write_project(tmp_path, {"model.py": ENCODER, "trainer.py": TRAINER.format(extra=extra),
                             "main.py": MAIN.format(finetune="")})
    assert lint_in_process(tmp_path / "main.py", "GL406") == []


def test_an_encoder_built_trainable_is_quiet(tmp_path: Path) -> None:
    write_project(tmp_path, {"model.py": ENCODER, "trainer.py": TRAINER.format(extra=""),
                             "main.py": MAIN.format(finetune="finetune=True")})
    assert lint_in_process(tmp_path / "main.py", "GL406") == []


def test_a_script_that_only_restores_the_mode_after_plotting_is_quiet(tmp_path: Path) -> None:
    plot = """\
    import torch

    from model import Encoder

    def show(model, loader):
        was_training = model.training
        model.eval()
        with torch.no_grad():
            for images, _ in loader:
                print(model(images).shape)
        model.train(mode=was_training)

    encoder = Encoder()
    show(encoder, [])
"""
    write_project(tmp_path, {"model.py": ENCODER, "trainer.py": TRAINER.format(extra=""), "plot.py": plot})
    assert lint_in_process(tmp_path / "plot.py", "GL406") == []
