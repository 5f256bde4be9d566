import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


class InceptionFeatures(nn.Module):
    """Pool-3 features of ImageNet Inception-v3, used as a feature-matching target."""

    def __init__(self):
        super().__init__()
        net = torchvision.models.inception_v3(weights="IMAGENET1K_V1", aux_logits=True)
        net.fc = nn.Identity()
        net.AuxLogits = None
        net.aux_logits = False
        self.net = net

    def forward(self, x):
        x = F.interpolate((x + 1) / 2, size=(299, 299), mode="bilinear", align_corners=False)
        return self.net(x)


class ProjectedDiscriminator(nn.Module):
    """Discriminator heads on top of a fixed EfficientNet feature pyramid."""

    def __init__(self):
        super().__init__()
        eff = torchvision.models.efficientnet_b0(weights="IMAGENET1K_V1").features
        self.feature_network = nn.ModuleList([eff[:3], eff[3:4], eff[4:6]])
        self.feature_network.requires_grad_(False)
        self.heads = nn.ModuleList([
            nn.Sequential(nn.Conv2d(c, 64, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(64, 1, 4, 1, 0))
            for c in (24, 40, 112)
        ])

    def train(self, mode=True):
        super().train(mode)
        self.feature_network.train(False)
        return self

    def forward(self, x):
        logits = []
        for stage, head in zip(self.feature_network, self.heads):
            x = stage(x)
            logits.append(head(x).flatten(1))
        return torch.cat(logits, dim=1)
