"""Small helpers for freezing / unfreezing parts of a network."""
import torch.nn as nn


def set_requires_grad(module: nn.Module, flag: bool) -> None:
    for p in module.parameters():
        p.requires_grad = flag


def freeze(module: nn.Module) -> nn.Module:
    """Freeze every parameter of ``module`` (used for the pretrained encoder)."""
    set_requires_grad(module, False)
    return module


def unfreeze(module: nn.Module) -> nn.Module:
    set_requires_grad(module, True)
    return module


def count_trainable(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def count_total(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def summary(model: nn.Module) -> str:
    t, n = count_trainable(model), count_total(model)
    return f"trainable {t:,} / {n:,} ({100.0 * t / max(n, 1):.1f}%)"
