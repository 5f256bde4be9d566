"""One group with explicit AdamW decay over a language model's embeddings and norms."""
import torch
import torch.nn as nn


class DecayLm(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(100, 32)
        self.norm = nn.LayerNorm(32)
        self.out = nn.Linear(32, 100)

    def forward(self, ids):
        return self.out(self.norm(self.embed(ids)))


def train(loader):
    model = DecayLm()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.1)  # expect: GL404
    for ids, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(ids).flatten(0, 1), y.flatten()).backward()
        optimizer.step()
