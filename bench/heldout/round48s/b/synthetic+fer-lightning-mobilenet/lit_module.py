import pytorch_lightning as pl
import torch
import torch.nn.functional as F
import torchmetrics

from model import EmotionNet


class EmotionClassifier(pl.LightningModule):
    def __init__(self, num_classes=7, lr=3e-4, freeze_backbone=True):
        super().__init__()
        self.save_hyperparameters()
        self.net = EmotionNet(num_classes=num_classes, freeze_backbone=freeze_backbone)
        self.train_acc = torchmetrics.Accuracy(task="multiclass", num_classes=num_classes)
        self.val_acc = torchmetrics.Accuracy(task="multiclass", num_classes=num_classes)

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        preds = self(x)
        loss = F.cross_entropy(preds, y)
        self.train_acc(preds, y)
        self.log("train/loss", loss, prog_bar=True)
        self.log("train/acc", self.train_acc, on_epoch=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        preds = self(x)
        self.val_acc(preds, y)
        self.log("val/acc", self.val_acc, prog_bar=True)

    def configure_optimizers(self):
        params = filter(lambda p: p.requires_grad, self.parameters())
        return torch.optim.Adam(params, lr=self.hparams.lr)
