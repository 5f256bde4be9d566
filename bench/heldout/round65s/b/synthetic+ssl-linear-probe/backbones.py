import torch
import torchvision.models as models


def load_pretrained(arch, ckpt, prefix="module.encoder_q."):
    """Load a self-supervised checkpoint into a torchvision model (fc is re-initialised)."""
    model = models.__dict__[arch]()
    state = torch.load(ckpt, map_location="cpu")["state_dict"]
    state = {k[len(prefix):]: v for k, v in state.items()
             if k.startswith(prefix) and not k.startswith(prefix + "fc")}
    missing = model.load_state_dict(state, strict=False).missing_keys
    assert set(missing) == {"fc.weight", "fc.bias"}, missing
    model.fc.weight.data.normal_(mean=0.0, std=0.01)
    model.fc.bias.data.zero_()
    return model


def freeze_all_but(model, trainable=("fc",)):
    for name, param in model.named_parameters():
        param.requires_grad = any(name.startswith(t) for t in trainable)
    return [p for p in model.parameters() if p.requires_grad]
