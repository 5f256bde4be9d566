import pytorch_lightning as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


class GalaxyRegressor(pl.LightningModule):
    """v0: predicts the 37 Galaxy Zoo vote fractions from a frozen EfficientNet-B0 encoder."""

    def __init__(self, lr=1e-3):
        super().__init__()
        self.save_hyperparameters()
        self.encoder = torchvision.models.efficientnet_b0(weights="IMAGENET1K_V1").features
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1280, 37), nn.Sigmoid())

    def setup(self, stage=None):
        if stage == "fit":
            for p in self.encoder.parameters():
                p.requires_grad = False

    def forward(self, x):
        return self.head(self.encoder(x))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.mse_loss(self(x), y)
        self.log("train_rmse", loss.sqrt(), prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_rmse", F.mse_loss(self(x), y).sqrt(), prog_bar=True)

    def configure_optimizers(self):
        return torch.optim.Adam(self.head.parameters(), lr=self.hparams.lr)


class GalaxyRegressorBNFixed(GalaxyRegressor):
    """v1: same, but keeps the frozen encoder's BatchNorm statistics from ImageNet."""

    def on_train_epoch_start(self):
        self.encoder.eval()
