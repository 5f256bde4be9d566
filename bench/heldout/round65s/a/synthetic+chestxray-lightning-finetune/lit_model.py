import pytorch_lightning as pl
import torch
import torch.nn as nn
import torchmetrics
from torchvision import models


class ChestXrayClassifier(pl.LightningModule):
    """DenseNet-121 multi-label classifier (14 findings)."""

    def __init__(self, num_labels=14, lr=1e-3, freeze_features=True):
        super().__init__()
        self.save_hyperparameters()
        backbone = models.densenet121(weights="DEFAULT")
        self.features = backbone.features
        if self.hparams.freeze_features:
            for param in self.features.parameters():
                param.requires_grad = False
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(backbone.classifier.in_features, num_labels)
        self.criterion = nn.BCEWithLogitsLoss()
        self.val_auc = torchmetrics.AUROC(task="multilabel", num_labels=num_labels)

    def forward(self, x):
        x = torch.relu(self.features(x))
        x = self.pool(x).flatten(1)
        return self.classifier(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = self.criterion(self(x), y.float())
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.log("val/loss", self.criterion(logits, y.float()))
        self.val_auc.update(torch.sigmoid(logits), y.int())

    def on_validation_epoch_end(self):
        self.log("val/auc", self.val_auc.compute(), prog_bar=True)
        self.val_auc.reset()

    def configure_optimizers(self):
        params = [p for p in self.parameters() if p.requires_grad]
        opt = torch.optim.Adam(params, lr=self.hparams.lr)
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", patience=2)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "monitor": "val/auc"}}
