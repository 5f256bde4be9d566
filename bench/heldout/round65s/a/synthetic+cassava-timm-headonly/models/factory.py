import timm
import torch.nn as nn


HEAD_KEYS = ("classifier", "head", "fc")


def _is_head(name):
    return any(name.startswith(k) for k in HEAD_KEYS)


def get_model(name, num_classes, pretrained=True, freeze_backbone=False):
    """Build a timm backbone with a fresh classifier for the cassava classes."""
    model = timm.create_model(name, pretrained=pretrained, num_classes=num_classes)
    if freeze_backbone:
        n_frozen = 0
        for pname, param in model.named_parameters():
            if not _is_head(pname):
                param.requires_grad = False
                n_frozen += param.numel()
        print(f"[factory] froze {n_frozen:,} backbone params of {name}")
    return model


def count_trainable(model: nn.Module):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
