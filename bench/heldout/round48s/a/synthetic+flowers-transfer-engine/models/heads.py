import torch.nn as nn


class MLPHead(nn.Module):
    """Two-layer classification head with dropout."""

    def __init__(self, in_features, num_classes, hidden=512, p=0.3):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(in_features, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(p),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x):
        return self.net(x)


def count_trainable(module):
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def count_all(module):
    return sum(p.numel() for p in module.parameters())
