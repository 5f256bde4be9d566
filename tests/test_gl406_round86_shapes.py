"""GL406 shapes of held-out round 86 (``bench/heldout/round86``), in our own words: a module
whose loader freezes and returns a model for another script, beside a training function
of its own whose ``model`` is another network; a super-resolution GAN whose step function
makes the discriminator trainable for its own step and frozen for the generator's, batch
after batch."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

TOOLS = """\
import torch
import torch.nn as nn
import torchvision


def load_phase_model(checkpoint_path, device):
    model = torchvision.models.resnet50()
    model.load_state_dict(torch.load(checkpoint_path, map_location=device))
    model.to(device)
    model.eval()
    for param in model.parameters():
        param.requires_grad = False
    return model


def train_one_epoch(model, loader, optimizer, phase_model=None):
    model.train()
    for images, tools in loader:
        with torch.no_grad():
            hints = phase_model(images) if phase_model is not None else None
        optimizer.zero_grad()
        nn.functional.binary_cross_entropy_with_logits(model(images, hints), tools).backward()
        optimizer.step()


def train(model, loader, epochs=20, phase_model=None):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    for epoch in range(epochs):
        train_one_epoch(model, loader, optimizer, phase_model=phase_model)
"""


def test_a_loader_nothing_here_calls_is_not_linked_to_another_functions_model(tmp_path: Path) -> None:
    write_project(tmp_path, {"train_tools.py": TOOLS})
    assert lint_in_process(tmp_path / "train_tools.py", "GL406") == []


def test_the_loaders_model_trained_in_this_file_is_still_reported(tmp_path: Path) -> None:
    source = TOOLS + "\n\nphase_model = load_phase_model('a.pt', 'cpu')\ntrain(phase_model, [])\n"
    write_project(tmp_path, {"train_tools.py": source})
    findings = lint_in_process(tmp_path / "train_tools.py", "GL406")
    assert ("GL406", 32) in [(f.code, f.line) for f in findings]
    assert any("`load_phase_model` (line 11) returns it with its parameters frozen" in f.message for f in findings)


GAN_STEP = """\
import torch
import torch.nn as nn


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, 64, 3), nn.BatchNorm2d(64), nn.LeakyReLU(0.2), nn.Conv2d(64, 1, 1))

    def forward(self, x):
        return self.net(x).mean((1, 2, 3))


def train_model(generator, discriminator, g_optimizer, d_optimizer, loader):
    discriminator.train()
    generator.train()
    bce = nn.BCEWithLogitsLoss()
    for lr, hr in loader:
        sr = generator(lr)
        for p in discriminator.parameters():
            p.requires_grad = True
        d_optimizer.zero_grad()
        d_loss = bce(discriminator(hr), torch.ones(hr.size(0))) + bce(discriminator(sr.detach()), torch.zeros(hr.size(0)))
        d_loss.backward()
        d_optimizer.step()
        for p in discriminator.parameters():
            p.requires_grad = False
        g_optimizer.zero_grad()
        bce(discriminator(sr), torch.ones(hr.size(0))).backward()
        g_optimizer.step()


def main():
    generator = nn.Conv2d(3, 3, 3, padding=1)
    discriminator = Discriminator().to("cuda")
    g_optimizer = torch.optim.Adam(generator.parameters())
    d_optimizer = torch.optim.Adam(discriminator.parameters())
    for epoch in range(100):
        train_model(generator, discriminator, g_optimizer, d_optimizer, [])


main()
"""


def test_a_gan_step_helper_freezing_the_discriminator_for_the_generator_step(tmp_path: Path) -> None:
    write_project(tmp_path, {"run_gan_training.py": GAN_STEP})
    assert lint_in_process(tmp_path / "run_gan_training.py", "GL406") == []


def test_a_helper_freezing_it_for_good_is_still_read_at_its_call(tmp_path: Path) -> None:
    frozen_for_good = GAN_STEP.replace("""        for p in discriminator.parameters():
            p.requires_grad = True
""", "")
    write_project(tmp_path, {"run_gan_training.py": frozen_for_good})
    # (read in the helper itself: frozen after its step, trained again in train mode the next epoch)
    assert [f.line for f in lint_in_process(tmp_path / "run_gan_training.py", "GL406")] == [25]
