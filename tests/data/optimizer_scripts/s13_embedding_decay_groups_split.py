"""Weight decay only on the matrices, embeddings and norms in a group without it."""
import torch
import torch.nn as nn


class SplitLm(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(100, 32)
        self.norm = nn.LayerNorm(32)
        self.out = nn.Linear(32, 100, bias=False)

    def forward(self, ids):
        return self.out(self.norm(self.embed(ids)))


def train(loader):
    model = SplitLm()
    optimizer = torch.optim.AdamW([
        {"params": model.out.parameters(), "weight_decay": 0.1},
        {"params": [*model.embed.parameters(), *model.norm.parameters()], "weight_decay": 0.0},
    ], lr=3e-4)
    for ids, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(ids).flatten(0, 1), y.flatten()).backward()
        optimizer.step()
