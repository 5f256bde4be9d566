from .factory import ARCHS, create_model, set_parameter_requires_grad

__all__ = ["ARCHS", "create_model", "set_parameter_requires_grad"]


def describe(model):
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return f"{trainable}/{total} trainable parameters"


def input_size_for(arch):
    return 299 if arch == "inception_v3" else 224


def list_models():
    return sorted(ARCHS)


def is_supported(arch):
    return arch in ARCHS


def default_arch():
    return "mobilenet_v3_small"
