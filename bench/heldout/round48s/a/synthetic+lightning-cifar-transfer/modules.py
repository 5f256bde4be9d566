import lightning as L
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.models as models
from torchmetrics import Accuracy


class TransferClassifier(L.LightningModule):
    """Pretrained ResNet-50 as a fixed feature extractor + linear classifier."""

    def __init__(self, num_classes=10, lr=1e-3):
        super().__init__()
        self.save_hyperparameters()
        backbone = models.resnet50(weights="DEFAULT")
        num_filters = backbone.fc.in_features
        self.feature_extractor = nn.Sequential(*list(backbone.children())[:-1])
        self.classifier = nn.Linear(num_filters, num_classes)
        self.acc = Accuracy(task="multiclass", num_classes=num_classes)

    def forward(self, x):
        with torch.no_grad():
            reps = self.feature_extractor(x).flatten(1)
        return self.classifier(reps)

    def training_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        loss = F.cross_entropy(logits, y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_acc", self.acc(self(x), y), prog_bar=True)

    def configure_optimizers(self):
        return torch.optim.Adam(self.classifier.parameters(), lr=self.hparams.lr)


class FinetuneClassifier(L.LightningModule):
    """Backbone frozen by a BaseFinetuning callback and released later."""

    def __init__(self, num_classes=10, lr=1e-3):
        super().__init__()
        self.save_hyperparameters()
        net = models.efficientnet_b0(weights="DEFAULT")
        self.backbone = net.features
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(1280, num_classes)

    def forward(self, x):
        return self.head(self.pool(self.backbone(x)).flatten(1))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        params = filter(lambda p: p.requires_grad, self.parameters())
        return torch.optim.AdamW(params, lr=self.hparams.lr)
