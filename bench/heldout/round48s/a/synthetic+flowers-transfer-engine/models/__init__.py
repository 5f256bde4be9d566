"""Model registry for the flowers transfer-learning experiments."""
from .classifier import FlowerNet, build_flower_net
from .heads import MLPHead

__all__ = ["FlowerNet", "build_flower_net", "MLPHead", "get_model"]

_ARCHS = {
    "flowernet_r50": build_flower_net,
}


def get_model(name, num_classes, pretrained=True, freeze_backbone=True):
    """Return a model by name.

    Only one architecture is registered for now, but the registry keeps
    train.py free of imports from individual modules.
    """
    if name not in _ARCHS:
        raise KeyError(f"unknown model {name!r}; choose from {sorted(_ARCHS)}")
    return _ARCHS[name](num_classes=num_classes,
                        pretrained=pretrained,
                        freeze_backbone=freeze_backbone)
