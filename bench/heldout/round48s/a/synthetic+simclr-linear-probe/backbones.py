import torch
import torch.nn as nn
import torchvision


def load_simclr_resnet(ckpt_path, arch="resnet50"):
    """Build a torchvision ResNet and load a SimCLR checkpoint into it.

    The projection head of the checkpoint is dropped; fc becomes Identity.
    """
    net = getattr(torchvision.models, arch)(weights=None)
    net.fc = nn.Identity()
    state = torch.load(ckpt_path, map_location="cpu")
    state = state.get("state_dict", state)
    cleaned = {}
    for k, v in state.items():
        if k.startswith("backbone."):
            cleaned[k[len("backbone."):]] = v
    missing, unexpected = net.load_state_dict(cleaned, strict=False)
    print(f"missing={len(missing)} unexpected={len(unexpected)}")
    return net


def load_vit_backbone():
    vit = torchvision.models.vit_b_16(weights=torchvision.models.ViT_B_16_Weights.DEFAULT)
    vit.heads = nn.Identity()
    return vit


FEATURE_DIMS = {"resnet18": 512, "resnet50": 2048, "vit_b_16": 768}
