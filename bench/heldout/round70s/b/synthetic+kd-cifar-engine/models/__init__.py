"""Teacher / student factory. Teachers are ImageNet torchvision nets adapted to 100 classes."""
import torch.nn as nn
import torchvision.models as tvm

from .mobilenet_small import MobileNetSmall


def _resnet(depth, num_classes, pretrained):
    ctor = {18: tvm.resnet18, 34: tvm.resnet34, 50: tvm.resnet50}[depth]
    net = ctor(weights="DEFAULT" if pretrained else None)
    net.fc = nn.Linear(net.fc.in_features, num_classes)
    return net


def get_model(name, num_classes=100, pretrained=False):
    name = name.lower()
    if name.startswith("resnet"):
        return _resnet(int(name[len("resnet"):]), num_classes, pretrained)
    if name == "mobilenet_small":
        return MobileNetSmall(num_classes=num_classes)
    raise ValueError(f"no model called {name}")


__all__ = ["get_model", "MobileNetSmall"]
