"""A generated project tree for the benchmarks: training scripts that look like real
ones (a model, data helpers, a training loop with AMP, clipping and accumulation).

Every file holds a training loop, so no file is skipped by the runner's cheap
pre-check: the source rules do their full work on each one.
"""

from __future__ import annotations

from pathlib import Path

_HEADER = '''"""Training script {index} (generated for gradlint's benchmarks)."""
import math
import torch
from torch import nn
from torch.utils.data import DataLoader


class Block{index}(nn.Module):
    def __init__(self, width: int = 256) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.fc1 = nn.Linear(width, 4 * width)
        self.fc2 = nn.Linear(4 * width, width)

    def forward(self, x):
        return x + self.fc2(torch.relu(self.fc1(self.norm(x))))
'''
_HELPER = '''

def helper_{index}_{n}(values, scale={n}.5):
    """Normalise a batch of values ({n})."""
    total = 0.0
    for position, value in enumerate(values):
        if value is None:
            continue
        total += math.sqrt(abs(value) * scale) / (position + 1)
    return {{"total": total, "count": len(values), "name": "helper_{n}"}}
'''
_LOOP = '''

def train(model, loader, optimizer, scaler, accumulation_steps=4, epochs=3):
    model.train()
    for epoch in range(epochs):
        for step, (x, y) in enumerate(loader):
            with torch.autocast("cuda"):
                loss = nn.functional.cross_entropy(model(x), y) / accumulation_steps
            scaler.scale(loss).backward()
            if (step + 1) % accumulation_steps == 0:
                scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                scaler.step(optimizer)
                scaler.update()
                optimizer.zero_grad(set_to_none=True)


for x, y in DataLoader(range(10)):
    loss = model(x).sum()
    loss.backward()
    optimizer.step()
'''


def write_tree(root: Path, files: int = 200, helpers: int = 20) -> Path:
    """``files`` scripts of about ``17 + 10 * helpers + 22`` lines each, in 10 packages."""
    for index in range(files):
        folder = root / f"pkg{index % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        body = _HEADER.format(index=index) + "".join(_HELPER.format(index=index, n=n) for n in range(helpers)) + _LOOP
        (folder / f"train_{index:03d}.py").write_text(body)
    return root
