import pytorch_lightning as pl
import timm
import torch
import torch.nn as nn
from torchvision import models


class ViTLinearProbe(pl.LightningModule):
    """Frozen ViT-S/16 (LayerNorm only) with a trainable linear head."""

    def __init__(self, num_labels=14, lr=1e-3):
        super().__init__()
        self.save_hyperparameters()
        self.encoder = timm.create_model("vit_small_patch16_224", pretrained=True, num_classes=0)
        self.encoder.requires_grad_(False)
        self.head = nn.Linear(self.encoder.num_features, num_labels)
        self.criterion = nn.BCEWithLogitsLoss()

    def forward(self, x):
        return self.head(self.encoder(x))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = self.criterion(self(x), y.float())
        self.log("train/loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.AdamW(self.head.parameters(), lr=self.hparams.lr)


class ResNetFrozenBN(pl.LightningModule):
    """ResNet-50 with a frozen trunk whose BatchNorm layers are kept in eval mode."""

    def __init__(self, num_labels=14, lr=1e-3):
        super().__init__()
        self.save_hyperparameters()
        trunk = models.resnet50(weights="DEFAULT")
        trunk.fc = nn.Identity()
        self.trunk = trunk
        self.trunk.requires_grad_(False)
        self.head = nn.Linear(2048, num_labels)
        self.criterion = nn.BCEWithLogitsLoss()

    def on_train_epoch_start(self):
        # Lightning calls .train() on the whole module before each epoch
        self.trunk.eval()

    def forward(self, x):
        return self.head(self.trunk(x))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = self.criterion(self(x), y.float())
        self.log("train/loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.head.parameters(), lr=self.hparams.lr)
