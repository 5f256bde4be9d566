"""Same probe but with a DenseNet-121 and the backbone kept in eval mode
(otherwise Lightning switches it back to train() every epoch and the BN stats move)."""
import pytorch_lightning as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

from datamodule import CIFARDataModule


class FrozenDenseProbe(pl.LightningModule):
    def __init__(self, num_classes=10, lr=1e-3):
        super().__init__()
        self.save_hyperparameters()
        net = torchvision.models.densenet121(pretrained=True)
        self.features = net.features
        self.features.requires_grad_(False)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1024, num_classes))

    def forward(self, x):
        return self.head(F.relu(self.features(x)))

    def on_train_epoch_start(self):
        self.features.eval()

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_acc", (self(x).argmax(1) == y).float().mean(), prog_bar=True)

    def configure_optimizers(self):
        return torch.optim.Adam(self.head.parameters(), lr=self.hparams.lr)


if __name__ == "__main__":
    dm = CIFARDataModule(batch_size=64)
    trainer = pl.Trainer(max_epochs=20, accelerator="auto")
    trainer.fit(FrozenDenseProbe(), dm)
