import lightning as L
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


class ResNetSSL(L.LightningModule):
    """Encoder checkpointed by the self-supervised pretraining run."""

    def __init__(self, proj_dim=128):
        super().__init__()
        self.save_hyperparameters()
        net = torchvision.models.resnet18(weights=None)
        net.fc = nn.Identity()
        self.encoder = net
        self.projector = nn.Sequential(nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, proj_dim))

    def forward(self, x):
        return self.encoder(x)


class SSLProbe(L.LightningModule):
    def __init__(self, ckpt_path, num_classes=10, lr=0.1):
        super().__init__()
        self.save_hyperparameters()
        self.ssl = ResNetSSL.load_from_checkpoint(ckpt_path)
        self.ssl.freeze()
        self.head = nn.Linear(512, num_classes)

    def on_train_epoch_start(self):
        # the Trainer may switch every submodule to train mode; keep the frozen encoder fixed
        self.ssl.eval()

    def forward(self, x):
        return self.head(self.ssl(x))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("probe_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.head.parameters(), lr=self.hparams.lr, momentum=0.9)
