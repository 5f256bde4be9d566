"""1D CNNs for PTB-XL superdiagnostic labels (NORM, MI, STTC, CD, HYP)."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class ResBlock1d(nn.Module):
    def __init__(self, ch, k=7):
        super().__init__()
        self.c1 = nn.Conv1d(ch, ch, k, padding=k // 2, bias=False)
        self.b1 = nn.BatchNorm1d(ch)
        self.c2 = nn.Conv1d(ch, ch, k, padding=k // 2, bias=False)
        self.b2 = nn.BatchNorm1d(ch)

    def forward(self, x):
        h = F.relu(self.b1(self.c1(x)))
        return F.relu(x + self.b2(self.c2(h)))


class ECGResNet(nn.Module):
    def __init__(self, n_leads=12, n_labels=5, width=64, depth=4):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv1d(n_leads, width, 15, stride=2, padding=7), nn.BatchNorm1d(width), nn.ReLU())
        self.blocks = nn.Sequential(*[ResBlock1d(width) for _ in range(depth)])
        self.fc = nn.Linear(width * 2, n_labels)

    def forward(self, x):
        h = self.blocks(self.stem(x))
        h = torch.cat([h.mean(-1), h.amax(-1)], dim=1)
        out = self.fc(h)
        return torch.sigmoid(out)


class SEBlock1d(nn.Module):
    def __init__(self, ch, r=8):
        super().__init__()
        self.fc1 = nn.Linear(ch, ch // r)
        self.fc2 = nn.Linear(ch // r, ch)

    def forward(self, x):
        w = torch.sigmoid(self.fc2(F.relu(self.fc1(x.mean(-1)))))
        return x * w.unsqueeze(-1)


class ECGSENet(nn.Module):
    """Squeeze-excitation variant; sigmoid is only used for channel gating."""

    def __init__(self, n_leads=12, n_labels=5, width=64):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv1d(n_leads, width, 11, padding=5), nn.BatchNorm1d(width), nn.ReLU(),
            nn.Conv1d(width, width, 11, padding=5), nn.BatchNorm1d(width), nn.ReLU(),
        )
        self.se = SEBlock1d(width)
        self.head = nn.Linear(width, n_labels)

    def forward(self, x):
        h = self.se(self.conv(x))
        return self.head(h.mean(-1))
