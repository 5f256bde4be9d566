import torch.nn as nn
from torchvision import models


class ResNetEncoder(nn.Module):
    def __init__(self, pretrained=True):
        super().__init__()
        net = models.resnet50(weights="IMAGENET1K_V2" if pretrained else None)
        self.body = nn.Sequential(*list(net.children())[:-1])
        self.out_dim = net.fc.in_features

    def forward(self, x):
        return self.body(x).flatten(1)


class Classifier(nn.Module):
    def __init__(self, in_dim=2048, n_classes=31):
        super().__init__()
        self.fc = nn.Sequential(nn.Dropout(0.5), nn.Linear(in_dim, n_classes))

    def forward(self, f):
        return self.fc(f)


class Critic(nn.Module):
    def __init__(self, in_dim=2048, hidden=1024):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                                 nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, f):
        return self.net(f)
