import torch
import torch.nn as nn
import torchvision


class ResNetFeat(nn.Module):
    """ResNet-50 split into a feature trunk and a bottleneck classifier."""

    def __init__(self, num_classes=31, bottleneck=256, pretrained=True):
        super().__init__()
        base = torchvision.models.resnet50(weights="IMAGENET1K_V2" if pretrained else None)
        self.trunk = nn.Sequential(*list(base.children())[:-1])
        self.bottleneck = nn.Sequential(nn.Linear(2048, bottleneck), nn.BatchNorm1d(bottleneck),
                                        nn.ReLU(inplace=True))
        self.fc = nn.Linear(bottleneck, num_classes)

    def features(self, x):
        return self.bottleneck(self.trunk(x).flatten(1))

    def forward(self, x):
        return self.fc(self.features(x))


def load_source_model(path, num_classes=31):
    net = ResNetFeat(num_classes, pretrained=False)
    net.load_state_dict(torch.load(path, map_location="cpu"))
    return net
