# Stage 1: conv autoencoder on unlabeled histology tiles
# Stage 2: freeze encoder, train classifier on the small labelled set
import torch
import torch.nn as nn


class ConvEncoder(nn.Module):
    def __init__(self, in_ch=3, latent=256):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(in_ch, 32, 4, 2, 1), nn.BatchNorm2d(32), nn.LeakyReLU(0.1),
            nn.Conv2d(32, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.LeakyReLU(0.1),
            nn.Conv2d(64, 128, 4, 2, 1), nn.BatchNorm2d(128), nn.LeakyReLU(0.1),
            nn.Conv2d(128, 256, 4, 2, 1), nn.BatchNorm2d(256), nn.LeakyReLU(0.1),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
            nn.Linear(256, latent),
        )

    def forward(self, x):
        return self.net(x)


class ConvDecoder(nn.Module):
    def __init__(self, latent=256, out_ch=3):
        super().__init__()
        self.fc = nn.Linear(latent, 256 * 6 * 6)
        self.net = nn.Sequential(
            nn.ConvTranspose2d(256, 128, 4, 2, 1), nn.BatchNorm2d(128), nn.ReLU(),
            nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),
            nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.ConvTranspose2d(32, out_ch, 4, 2, 1), nn.Sigmoid(),
        )

    def forward(self, z):
        return self.net(self.fc(z).view(-1, 256, 6, 6))


class TileClassifier(nn.Module):
    def __init__(self, encoder, latent=256, n_classes=9):
        super().__init__()
        self.encoder = encoder
        self.mlp = nn.Sequential(nn.Linear(latent, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, n_classes))

    def forward(self, x):
        return self.mlp(self.encoder(x))
