from .factory import get_model, set_backbone_trainable

__all__ = ["get_model", "set_backbone_trainable"]

AVAILABLE_ARCHS = ("densenet121", "resnet50", "vgg16")


def list_models():
    """Architectures accepted by get_model (used by the --arch help text)."""
    return list(AVAILABLE_ARCHS)


def count_parameters(model, trainable_only=True):
    params = model.parameters()
    if trainable_only:
        return sum(p.numel() for p in params if p.requires_grad)
    return sum(p.numel() for p in params)


def describe(model):
    total = count_parameters(model, trainable_only=False)
    train = count_parameters(model)
    return f"{train:,} / {total:,} trainable ({100.0 * train / total:.1f}%)"
