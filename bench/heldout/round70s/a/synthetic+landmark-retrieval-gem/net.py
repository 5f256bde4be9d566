import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision import models
from torchvision.ops.misc import FrozenBatchNorm2d


class GeM(nn.Module):
    def __init__(self, p=3.0, eps=1e-6):
        super().__init__()
        self.p = nn.Parameter(torch.ones(1) * p)
        self.eps = eps

    def forward(self, x):
        return F.avg_pool2d(x.clamp(min=self.eps).pow(self.p), x.shape[-2:]).pow(1.0 / self.p)


class RetrievalNet(nn.Module):
    """ResNet body + GeM + whitening FC. With freeze_body=True the body is kept in eval mode."""

    def __init__(self, depth=101, dim=512, freeze_body=True):
        super().__init__()
        base = getattr(models, f"resnet{depth}")(weights="DEFAULT")
        self.body = nn.Sequential(*list(base.children())[:-2])
        self.pool = GeM()
        self.whiten = nn.Linear(base.fc.in_features, dim)
        self.freeze_body = freeze_body
        if freeze_body:
            self.body.requires_grad_(False)

    def train(self, mode=True):
        super().train(mode)
        if self.freeze_body:
            self.body.eval()
        return self

    def forward(self, x):
        x = self.pool(self.body(x)).flatten(1)
        return F.normalize(self.whiten(x), dim=-1)


def frozen_bn_resnet50():
    """Detectron-style backbone: BN replaced by FrozenBatchNorm2d, stem+layer1 frozen."""
    net = models.resnet50(weights="DEFAULT", norm_layer=FrozenBatchNorm2d)
    for name, p in net.named_parameters():
        if name.startswith(("conv1", "layer1")):
            p.requires_grad = False
    return net


def set_bn_eval(m):
    if isinstance(m, nn.BatchNorm2d):
        m.eval()
