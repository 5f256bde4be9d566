import torch
import torch.nn as nn


class ChurnMLP(nn.Module):
    """Embeddings for categorical columns + MLP over numeric features; single score out."""

    def __init__(self, cardinalities, n_numeric, emb_dim=8, hidden=(128, 64), dropout=0.1):
        super().__init__()
        self.embs = nn.ModuleList([nn.Embedding(c + 1, emb_dim) for c in cardinalities])
        layers, d = [], emb_dim * len(cardinalities) + n_numeric
        for h in hidden:
            layers += [nn.Linear(d, h), nn.BatchNorm1d(h), nn.ReLU(), nn.Dropout(dropout)]
            d = h
        self.body = nn.Sequential(*layers)
        self.out = nn.Linear(d, 1)

    def forward(self, x_cat, x_num):
        e = [emb(x_cat[:, i]) for i, emb in enumerate(self.embs)]
        h = self.body(torch.cat(e + [x_num], dim=1))
        return self.out(h).squeeze(-1)


class WideAndDeep(nn.Module):
    """Wide linear part plus deep MLP, probability output."""

    def __init__(self, n_wide, n_deep, hidden=64):
        super().__init__()
        self.wide = nn.Linear(n_wide, 1)
        self.deep = nn.Sequential(nn.Linear(n_deep, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, x_wide, x_deep):
        return torch.sigmoid(self.wide(x_wide) + self.deep(x_deep)).squeeze(-1)
