import torch
import torch.nn as nn
import torchvision


class ViTLinearProbe(nn.Module):
    """Frozen torchvision ViT-B/16 (LayerNorm only) + linear multi-label head on the CLS token."""

    def __init__(self, num_labels=80):
        super().__init__()
        self.vit = torchvision.models.vit_b_16(weights="IMAGENET1K_SWAG_LINEAR_V1")
        self.vit.heads = nn.Identity()
        for p in self.vit.parameters():
            p.requires_grad = False
        self.head = nn.Linear(768, num_labels)

    def forward(self, x):
        return self.head(self.vit(x))


class RegNetTeacher(nn.Module):
    def __init__(self, ckpt, num_labels=80):
        super().__init__()
        self.net = torchvision.models.regnet_y_8gf(weights=None)
        self.net.fc = nn.Linear(self.net.fc.in_features, num_labels)
        self.net.load_state_dict(torch.load(ckpt, map_location="cpu"))

    def forward(self, x):
        return self.net(x)
