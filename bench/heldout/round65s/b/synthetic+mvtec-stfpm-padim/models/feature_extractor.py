import torch.nn as nn
import torchvision


def build_backbone(name="resnet18", pretrained=True):
    weights = "IMAGENET1K_V1" if pretrained else None
    return getattr(torchvision.models, name)(weights=weights)


class MultiScaleExtractor(nn.Module):
    """Returns the outputs of the requested residual stages."""

    def __init__(self, backbone, layers=("layer1", "layer2", "layer3")):
        super().__init__()
        self.stem = nn.Sequential(backbone.conv1, backbone.bn1, backbone.relu, backbone.maxpool)
        self.stages = nn.ModuleDict({n: getattr(backbone, n) for n in ("layer1", "layer2", "layer3", "layer4")})
        self.layers = layers

    def forward(self, x):
        x = self.stem(x)
        out = []
        for name, stage in self.stages.items():
            x = stage(x)
            if name in self.layers:
                out.append(x)
            if name == self.layers[-1]:
                break
        return out
