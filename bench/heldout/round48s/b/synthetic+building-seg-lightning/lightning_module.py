import pytorch_lightning as pl
import torch
import torch.nn as nn

from model import ResNetUNet


def dice_score(prob, target, eps=1e-6):
    pred = (prob > 0.5).float()
    inter = (pred * target).sum(dim=(1, 2, 3))
    union = pred.sum(dim=(1, 2, 3)) + target.sum(dim=(1, 2, 3))
    return ((2 * inter + eps) / (union + eps)).mean()


class BuildingSegmenter(pl.LightningModule):
    def __init__(self, lr=1e-3, freeze_encoder=True):
        super().__init__()
        self.save_hyperparameters()
        self.model = ResNetUNet(pretrained=True)
        if freeze_encoder:
            self.model.encoder.requires_grad_(False)
        self.loss_fn = nn.BCEWithLogitsLoss()

    def forward(self, x):
        return self.model(x)

    def training_step(self, batch, batch_idx):
        image, mask = batch
        pred = self(image)
        loss = self.loss_fn(pred, mask)
        self.log("train_loss", loss, on_step=True, on_epoch=True)
        return loss

    def validation_step(self, batch, batch_idx):
        image, mask = batch
        pred = self(image)
        self.log("val_dice", dice_score(pred, mask), prog_bar=True)

    def configure_optimizers(self):
        trainable = [p for p in self.model.parameters() if p.requires_grad]
        opt = torch.optim.AdamW(trainable, lr=self.hparams.lr, weight_decay=1e-4)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=self.hparams.lr, total_steps=self.trainer.estimated_stepping_batches)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
