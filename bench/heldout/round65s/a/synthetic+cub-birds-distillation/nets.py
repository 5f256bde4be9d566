import torch.nn as nn
from torchvision import models


def make_teacher(num_classes=200, ckpt=None):
    import torch
    net = models.resnet101(weights=None)
    net.fc = nn.Linear(net.fc.in_features, num_classes)
    if ckpt is not None:
        net.load_state_dict(torch.load(ckpt, map_location="cpu"))
    return net


def make_student(num_classes=200):
    net = models.mobilenet_v3_small(weights="DEFAULT")
    net.classifier[-1] = nn.Linear(net.classifier[-1].in_features, num_classes)
    return net


def count_params(net, trainable_only=False):
    return sum(p.numel() for p in net.parameters() if p.requires_grad or not trainable_only)


def describe(net, name):
    total = count_params(net)
    train = count_params(net, trainable_only=True)
    print(f"{name}: {total / 1e6:.1f}M params ({train / 1e6:.1f}M trainable)")
