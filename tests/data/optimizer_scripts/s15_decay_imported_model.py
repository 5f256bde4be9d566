"""Weight decay over every parameter of a model imported from another file of the project:
the probe sees its LayerNorm built."""
import torch
import torch.nn as nn

from s15_net_for_imported import ImportedNormNet


def train(loader):
    model = ImportedNormNet()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)  # expect: GL404
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
