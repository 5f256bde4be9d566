import copy

import torch
import torch.nn as nn
import torchvision


def mlp(dim_in, hidden=4096, dim_out=256):
    return nn.Sequential(nn.Linear(dim_in, hidden), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True),
                         nn.Linear(hidden, dim_out))


def resnet_trunk(arch="resnet50"):
    net = getattr(torchvision.models, arch)()
    dim = net.fc.in_features
    net.fc = nn.Identity()
    return net, dim


class BYOL(nn.Module):
    def __init__(self, arch="resnet50", tau=0.996):
        super().__init__()
        trunk, dim = resnet_trunk(arch)
        self.online = nn.Sequential(trunk, mlp(dim))
        self.predictor = mlp(256)
        self.target = copy.deepcopy(self.online)
        for p in self.target.parameters():
            p.requires_grad = False
        self.tau = tau

    @torch.no_grad()
    def update_target(self):
        for po, pt in zip(self.online.parameters(), self.target.parameters()):
            pt.mul_(self.tau).add_(po.detach(), alpha=1 - self.tau)

    def forward(self, v1, v2):
        p1, p2 = self.predictor(self.online(v1)), self.predictor(self.online(v2))
        with torch.no_grad():
            z1, z2 = self.target(v1), self.target(v2)
        return p1, p2, z1, z2
