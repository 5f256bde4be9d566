import copy

import torch
import torch.nn as nn
import torchvision


def resnet_encoder(arch="resnet18"):
    net = getattr(torchvision.models, arch)(weights=None)
    dim = net.fc.in_features
    net.fc = nn.Identity()
    return net, dim


class MLP(nn.Module):
    def __init__(self, dim, hidden=4096, out=256):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True),
                                 nn.Linear(hidden, out))

    def forward(self, x):
        return self.net(x)


class BYOL(nn.Module):
    def __init__(self, arch="resnet18", tau=0.996):
        super().__init__()
        self.encoder, dim = resnet_encoder(arch)
        self.projector = MLP(dim)
        self.predictor = MLP(256, hidden=4096, out=256)
        self.target_encoder = copy.deepcopy(self.encoder)
        self.target_projector = copy.deepcopy(self.projector)
        for p in list(self.target_encoder.parameters()) + list(self.target_projector.parameters()):
            p.requires_grad = False
        self.tau = tau

    @torch.no_grad()
    def update_target(self):
        for online, target in ((self.encoder, self.target_encoder), (self.projector, self.target_projector)):
            for po, pt in zip(online.parameters(), target.parameters()):
                pt.mul_(self.tau).add_(po.detach(), alpha=1 - self.tau)

    @staticmethod
    def regression(p, z):
        p = nn.functional.normalize(p, dim=-1)
        z = nn.functional.normalize(z, dim=-1)
        return 2 - 2 * (p * z).sum(-1)

    def forward(self, v1, v2):
        p1 = self.predictor(self.projector(self.encoder(v1)))
        p2 = self.predictor(self.projector(self.encoder(v2)))
        with torch.no_grad():
            z1 = self.target_projector(self.target_encoder(v1))
            z2 = self.target_projector(self.target_encoder(v2))
        return (self.regression(p1, z2) + self.regression(p2, z1)).mean()
