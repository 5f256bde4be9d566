"""A model file with no training code: s15_decay_imported_model.py trains it."""
import torch.nn as nn


class ImportedNormNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(16, 32)
        self.norm = nn.LayerNorm(32)
        self.head = nn.Linear(32, 4)

    def forward(self, x):
        return self.head(self.norm(self.proj(x)).relu())
