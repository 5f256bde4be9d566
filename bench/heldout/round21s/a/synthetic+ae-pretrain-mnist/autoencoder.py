import torch
import torch.nn as nn


class ConvEncoder(nn.Module):
    def __init__(self, latent=64):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 32, 3, stride=2, padding=1),
            nn.BatchNorm2d(32),
            nn.ReLU(True),
            nn.Conv2d(32, 64, 3, stride=2, padding=1),
            nn.BatchNorm2d(64),
            nn.ReLU(True),
            nn.Flatten(),
            nn.Linear(64 * 7 * 7, latent),
        )

    def forward(self, x):
        return self.net(x)


class GNEncoder(nn.Module):
    """same encoder with GroupNorm (for small batches)"""

    def __init__(self, latent=64):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 32, 3, stride=2, padding=1), nn.GroupNorm(8, 32), nn.ReLU(True),
            nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.GroupNorm(8, 64), nn.ReLU(True),
            nn.Flatten(), nn.Linear(64 * 7 * 7, latent),
        )

    def forward(self, x):
        return self.net(x)


class Decoder(nn.Module):
    def __init__(self, latent=64):
        super().__init__()
        self.fc = nn.Linear(latent, 64 * 7 * 7)
        self.net = nn.Sequential(
            nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1), nn.ReLU(True),
            nn.ConvTranspose2d(32, 1, 4, stride=2, padding=1), nn.Sigmoid(),
        )

    def forward(self, z):
        return self.net(self.fc(z).view(-1, 64, 7, 7))


class Classifier(nn.Module):
    def __init__(self, encoder, latent=64, n_classes=10):
        super().__init__()
        self.encoder = encoder
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(latent, n_classes))

    def forward(self, x):
        return self.head(self.encoder(x))
