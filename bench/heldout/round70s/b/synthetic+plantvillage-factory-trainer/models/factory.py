"""Backbone factory. Every model returned here outputs class probabilities so the
same checkpoint can be dropped into the mobile app without extra post-processing."""
import torch.nn as nn
import torchvision.models as tvm


def _mobilenet_v3(num_classes, pretrained):
    net = tvm.mobilenet_v3_large(weights="IMAGENET1K_V2" if pretrained else None)
    net.classifier[-1] = nn.Linear(net.classifier[-1].in_features, num_classes)
    return net


def _shufflenet(num_classes, pretrained):
    net = tvm.shufflenet_v2_x1_0(weights="IMAGENET1K_V1" if pretrained else None)
    net.fc = nn.Linear(net.fc.in_features, num_classes)
    return net


MODEL_ZOO = {
    "mobilenet_v3_large": _mobilenet_v3,
    "shufflenet_v2": _shufflenet,
}


def get_model(name, num_classes, pretrained=True, freeze_features=False):
    net = MODEL_ZOO[name](num_classes, pretrained)
    if freeze_features:
        feats = net.features if hasattr(net, "features") else nn.ModuleList(list(net.children())[:-1])
        for p in feats.parameters():
            p.requires_grad = False
    return nn.Sequential(net, nn.Softmax(dim=1))
