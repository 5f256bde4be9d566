"""Model factory for the CheXpert / NIH chest X-ray experiments."""
import torch.nn as nn
from torchvision import models


def _classifier_attr(arch):
    if arch.startswith("densenet"):
        return "classifier"
    if arch.startswith("resnet"):
        return "fc"
    if arch.startswith("vgg"):
        return "classifier"
    raise KeyError(arch)


def set_backbone_trainable(model, arch, trainable):
    head = getattr(model, _classifier_attr(arch))
    head_ids = {id(p) for p in head.parameters()}
    for p in model.parameters():
        if id(p) not in head_ids:
            p.requires_grad = trainable


def get_model(arch="densenet121", num_classes=14, pretrained=True, freeze_features=False):
    if arch == "densenet121":
        model = models.densenet121(weights="DEFAULT" if pretrained else None)
        model.classifier = nn.Linear(model.classifier.in_features, num_classes)
    elif arch == "resnet50":
        model = models.resnet50(weights="DEFAULT" if pretrained else None)
        model.fc = nn.Linear(model.fc.in_features, num_classes)
    elif arch == "vgg16":
        model = models.vgg16(weights="DEFAULT" if pretrained else None)
        model.classifier[6] = nn.Linear(4096, num_classes)
    else:
        raise ValueError(f"unsupported arch {arch}")
    if freeze_features:
        set_backbone_trainable(model, arch, False)
    return model
