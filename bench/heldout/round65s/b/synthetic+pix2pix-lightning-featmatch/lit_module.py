import pytorch_lightning as pl
import torch
import torch.nn.functional as F

from models.feature_nets import InceptionFeatures, ProjectedDiscriminator
from models.unet import UNetGenerator


class Pix2PixFM(pl.LightningModule):
    def __init__(self, lr=2e-4, lambda_l1=100.0, lambda_fm=10.0):
        super().__init__()
        self.save_hyperparameters()
        self.automatic_optimization = False
        self.generator = UNetGenerator()
        self.discriminator = ProjectedDiscriminator()
        self.fm_net = InceptionFeatures().eval()
        for p in self.fm_net.parameters():
            p.requires_grad = False

    def training_step(self, batch, batch_idx):
        src, tgt = batch
        opt_g, opt_d = self.optimizers()
        fake = self.generator(src)
        # discriminator
        d_real, d_fake = self.discriminator(tgt), self.discriminator(fake.detach())
        loss_d = F.relu(1 - d_real).mean() + F.relu(1 + d_fake).mean()
        opt_d.zero_grad()
        self.manual_backward(loss_d)
        opt_d.step()
        # generator
        loss_adv = -self.discriminator(fake).mean()
        loss_l1 = F.l1_loss(fake, tgt)
        loss_fm = F.mse_loss(self.fm_net(fake), self.fm_net(tgt).detach())
        loss_g = loss_adv + self.hparams.lambda_l1 * loss_l1 + self.hparams.lambda_fm * loss_fm
        opt_g.zero_grad()
        self.manual_backward(loss_g)
        opt_g.step()
        self.log_dict({"loss_d": loss_d, "loss_g": loss_g, "loss_fm": loss_fm}, prog_bar=True)

    def configure_optimizers(self):
        lr = self.hparams.lr
        opt_g = torch.optim.Adam(self.generator.parameters(), lr=lr, betas=(0.5, 0.999))
        opt_d = torch.optim.Adam(self.discriminator.heads.parameters(), lr=lr, betas=(0.5, 0.999))
        return opt_g, opt_d
