"""GL406: an optimiser built only in a branch a module switch never takes trains nothing
(held-out round 54/b, a captioning script: ``encoder_optimizer = Adam(...) if
fine_tune_encoder else None`` with ``fine_tune_encoder = False`` at module level, read by
``main`` through ``global``; the checkpoint arm under ``if checkpoint is None:`` never runs
while ``checkpoint = None``). Written in our own words."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

SCRIPT = """\
import torch
import torch.nn as nn
from torchvision import models

fine_tune_encoder = {flag}
checkpoint = None


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.cnn = nn.Sequential(*list(models.resnet50(weights="DEFAULT").children())[:-1])
        self.bn = nn.BatchNorm1d(256)
        self.fc = nn.Linear(2048, 256)

    def forward(self, x):
        return self.bn(self.fc(self.cnn(x).flatten(1)))


def main():
    global checkpoint, fine_tune_encoder
    decoder = nn.LSTM(256, 256)
    if checkpoint is None:
        encoder = Encoder()
        decoder_optimizer = torch.optim.Adam(decoder.parameters())
        encoder_optimizer = torch.optim.Adam(encoder.parameters()) if fine_tune_encoder else None
    else:
        checkpoint = torch.load(checkpoint)
        encoder = checkpoint["encoder"]
        decoder = checkpoint["decoder"]
        decoder_optimizer = checkpoint["decoder_optimizer"]
        encoder_optimizer = checkpoint["encoder_optimizer"]
        if fine_tune_encoder is True and encoder_optimizer is None:
            encoder_optimizer = torch.optim.Adam(encoder.parameters())
    encoder = encoder.to("cpu")
    for epoch in range(10):
        train(encoder, decoder, encoder_optimizer, decoder_optimizer)


def train(encoder, decoder, encoder_optimizer, decoder_optimizer):
    encoder.train()
    decoder.train()
    for images, captions in []:
        features = encoder(images)
        out, _ = decoder(features.unsqueeze(0))
        loss = out.sum()
        decoder_optimizer.zero_grad()
        if encoder_optimizer is not None:
            encoder_optimizer.zero_grad()
        loss.backward()
        decoder_optimizer.step()
        if encoder_optimizer is not None:
            encoder_optimizer.step()


main()
"""


def _findings(tmp_path: Path, flag: str) -> list:
    write_project(tmp_path, {"train.py": SCRIPT.format(flag=flag)})
    return lint_in_process(tmp_path / "train.py", "GL406")


def test_an_optimiser_a_false_switch_never_builds_leaves_the_encoder_frozen(tmp_path: Path) -> None:
    [finding] = _findings(tmp_path, "False")
    assert finding.line == 44  # ``features = encoder(images)``, its first run in the loop
    assert "no optimiser of the file takes its parameters" in finding.message
    assert "`encoder.train()` on line 41" in finding.message


def test_a_true_switch_builds_the_optimiser_and_trains_the_encoder(tmp_path: Path) -> None:
    assert _findings(tmp_path, "True") == []


def test_a_switch_rebound_where_it_is_read_is_not_read(tmp_path: Path) -> None:
    # (``fine_tune_encoder = args.fine_tune`` in main: what the run passes is not known)
    write_project(tmp_path, {"train.py": SCRIPT.format(flag="False").replace(
        "    decoder = nn.LSTM(256, 256)\n", "    fine_tune_encoder = bool(len(__file__) % 2)\n    decoder = nn.LSTM(256, 256)\n")})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []
