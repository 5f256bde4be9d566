import torch.nn as nn
from torchvision import models


def mobilenet_classifier(num_classes, dropout=0.2):
    net = models.mobilenet_v2(weights=models.MobileNet_V2_Weights.IMAGENET1K_V2)
    net.classifier = nn.Sequential(
        nn.Dropout(dropout),
        nn.Linear(net.last_channel, num_classes),
    )
    return net


def freeze_features(net):
    net.features.requires_grad_(False)
    # keep the pretrained statistics
    net.features.eval()
    return net


def trainable_parameters(net):
    return [p for p in net.parameters() if p.requires_grad]


def param_summary(net):
    n_all = sum(p.numel() for p in net.parameters())
    n_train = sum(p.numel() for p in trainable_parameters(net))
    return f"{n_train:,} of {n_all:,} parameters will be updated"
