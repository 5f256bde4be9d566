import torch
import torchvision.models as tvm

from .distiller import Distiller


def get_model(name, num_classes=100, pretrained=False):
    """Small registry so train.py can pick networks from the command line."""
    if name == "resnet18":
        net = tvm.resnet18(num_classes=num_classes)
    elif name == "resnet50":
        net = tvm.resnet50(num_classes=num_classes)
    elif name == "mobilenet_v2":
        net = tvm.mobilenet_v2(num_classes=num_classes)
    else:
        raise ValueError(f"unknown architecture {name}")
    return net


def load_teacher(name, ckpt_path, num_classes=100):
    net = get_model(name, num_classes=num_classes)
    state = torch.load(ckpt_path, map_location="cpu")
    net.load_state_dict(state.get("model", state))
    return net
