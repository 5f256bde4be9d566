"""Linear probe of an ImageNet ResNet-18 on CIFAR-10 with PyTorch Lightning."""
import pytorch_lightning as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

from datamodule import CIFARDataModule


class LinearProbe(pl.LightningModule):
    def __init__(self, num_classes=10, lr=0.1):
        super().__init__()
        self.save_hyperparameters()
        backbone = torchvision.models.resnet18(pretrained=True)
        n_feats = backbone.fc.in_features
        backbone.fc = nn.Identity()
        self.backbone = backbone
        for p in self.backbone.parameters():
            p.requires_grad = False
        self.classifier = nn.Linear(n_feats, num_classes)

    def forward(self, x):
        return self.classifier(self.backbone(x))

    def training_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        loss = F.cross_entropy(logits, y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        acc = (logits.argmax(1) == y).float().mean()
        self.log("val_acc", acc, prog_bar=True)

    def configure_optimizers(self):
        opt = torch.optim.SGD(self.classifier.parameters(), lr=self.hparams.lr, momentum=0.9)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=self.trainer.max_epochs)
        return [opt], [sched]


if __name__ == "__main__":
    pl.seed_everything(0)
    dm = CIFARDataModule()
    model = LinearProbe()
    trainer = pl.Trainer(max_epochs=25, accelerator="auto", devices=1)
    trainer.fit(model, dm)
    trainer.test(model, datamodule=dm)
