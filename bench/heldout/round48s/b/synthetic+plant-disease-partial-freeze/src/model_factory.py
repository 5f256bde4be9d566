import torch.nn as nn
from torchvision import models

TRAINABLE_BLOCKS = ("layer4", "fc")


def freeze_except(model, trainable=TRAINABLE_BLOCKS):
    """Freeze every parameter whose top-level module is not listed in `trainable`."""
    for name, param in model.named_parameters():
        param.requires_grad = name.split(".")[0] in trainable
    return model


def get_model(name, num_classes, pretrained=True):
    if name == "resnet50":
        model = models.resnet50(weights=models.ResNet50_Weights.IMAGENET1K_V2 if pretrained else None)
    elif name == "resnet101":
        model = models.resnet101(weights=models.ResNet101_Weights.IMAGENET1K_V2 if pretrained else None)
    else:
        raise ValueError(f"unknown backbone {name}")
    model.fc = nn.Sequential(nn.Dropout(0.3), nn.Linear(model.fc.in_features, num_classes))
    return freeze_except(model)


def param_groups(model, lr):
    return [
        {"params": model.layer4.parameters(), "lr": lr * 0.1},
        {"params": model.fc.parameters(), "lr": lr},
    ]
