import torch.nn as nn
import torch.nn.functional as F
from torchvision import models

_REGISTRY = {}


def register(name):
    def deco(fn):
        _REGISTRY[name] = fn
        return fn
    return deco


TRAINABLE_PREFIXES = ("features.6", "features.7", "features.8", "classifier")


@register("effnet_b3")
def effnet_b3(num_classes):
    net = models.efficientnet_b3(weights=models.EfficientNet_B3_Weights.IMAGENET1K_V1)
    net.classifier[1] = nn.Linear(net.classifier[1].in_features, num_classes)
    for name, param in net.named_parameters():
        param.requires_grad = name.startswith(TRAINABLE_PREFIXES)
    return net


class ConvNeXtLogProb(nn.Module):
    def __init__(self, num_classes, trainable_stages=1):
        super().__init__()
        base = models.convnext_tiny(weights=models.ConvNeXt_Tiny_Weights.IMAGENET1K_V1)
        self.features = base.features
        n_blocks = len(self.features)
        for idx, block in enumerate(self.features):
            if idx < n_blocks - 2 * trainable_stages:
                block.requires_grad_(False)
        self.norm = base.classifier[0]
        self.fc = nn.Linear(base.classifier[2].in_features, num_classes)

    def forward(self, x):
        x = F.adaptive_avg_pool2d(self.features(x), 1)
        x = self.norm(x).flatten(1)
        return F.log_softmax(self.fc(x), dim=1)


@register("convnext_tiny")
def convnext_tiny(num_classes):
    return ConvNeXtLogProb(num_classes)


def get_model(name, num_classes):
    if name not in _REGISTRY:
        raise KeyError(f"unknown model {name}; choose from {sorted(_REGISTRY)}")
    return _REGISTRY[name](num_classes)
