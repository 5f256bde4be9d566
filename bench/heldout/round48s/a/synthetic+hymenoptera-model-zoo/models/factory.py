import torch.nn as nn
from torchvision import models


def set_parameter_requires_grad(model, feature_extracting):
    if feature_extracting:
        for param in model.parameters():
            param.requires_grad = False


def _alexnet(num_classes):
    m = models.alexnet(weights="DEFAULT")
    m.classifier[6] = nn.Linear(4096, num_classes)
    return m


def _vgg11(num_classes):
    m = models.vgg11(weights="DEFAULT")
    m.classifier[6] = nn.Linear(4096, num_classes)
    return m


def _mobilenet_v3_small(num_classes):
    m = models.mobilenet_v3_small(weights="DEFAULT")
    m.classifier[3] = nn.Linear(m.classifier[3].in_features, num_classes)
    return m


def _resnet18(num_classes):
    m = models.resnet18(weights="DEFAULT")
    m.fc = nn.Linear(m.fc.in_features, num_classes)
    return m


ARCHS = {
    "alexnet": _alexnet,
    "vgg11": _vgg11,
    "mobilenet_v3_small": _mobilenet_v3_small,
    "resnet18": _resnet18,
}


def create_model(arch, num_classes, feature_extract=True):
    builder = ARCHS[arch]
    # load the body with the original head so that freezing happens before the
    # replacement head is attached
    model = builder(1000)
    set_parameter_requires_grad(model, feature_extract)
    fresh = builder(num_classes)
    if arch in ("alexnet", "vgg11", "mobilenet_v3_small"):
        idx = 6 if arch != "mobilenet_v3_small" else 3
        model.classifier[idx] = fresh.classifier[idx]
    else:
        model.fc = fresh.fc
    return model
