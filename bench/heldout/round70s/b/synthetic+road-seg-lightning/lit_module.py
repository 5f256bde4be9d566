import pytorch_lightning as pl
import torch
import torch.nn as nn

from models.unet_resnet import ResNetUNet, freeze_encoder_stages


def dice_coeff(prob, target, eps=1.0):
    inter = (prob * target).sum(dim=(1, 2, 3))
    union = prob.sum(dim=(1, 2, 3)) + target.sum(dim=(1, 2, 3))
    return ((2 * inter + eps) / (union + eps)).mean()


class RoadSegModule(pl.LightningModule):
    def __init__(self, lr=3e-4, freeze_stages=True):
        super().__init__()
        self.save_hyperparameters()
        self.net = ResNetUNet(pretrained=True)
        if freeze_stages:
            freeze_encoder_stages(self.net)
        self.criterion = nn.BCELoss()

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        img, mask = batch
        logits = self(img)
        loss = self.criterion(logits, mask)
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        img, mask = batch
        prob = torch.sigmoid(self(img))
        self.log("val/dice", dice_coeff((prob > 0.5).float(), mask), prog_bar=True)

    def configure_optimizers(self):
        params = [p for p in self.parameters() if p.requires_grad]
        opt = torch.optim.AdamW(params, lr=self.hparams.lr, weight_decay=1e-4)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=self.trainer.max_epochs)
        return [opt], [sched]
