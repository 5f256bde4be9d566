"""Model registry: networks register themselves by name and are built from the config."""
import torch.nn as nn

_MODELS = {}


def register_model(name):
    def _wrap(cls):
        if name in _MODELS:
            raise KeyError(f"model {name} registered twice")
        _MODELS[name] = cls
        return cls
    return _wrap


def get_model(name, **kwargs):
    if name not in _MODELS:
        raise KeyError(f"unknown model '{name}', choose from {sorted(_MODELS)}")
    net = _MODELS[name](**kwargs)
    n_params = sum(p.numel() for p in net.parameters())
    print(f"=> built {name} with {n_params / 1e6:.2f}M parameters")
    return net


def list_models():
    return sorted(_MODELS)


from . import convnet  # noqa: E402,F401  (populate the registry)
