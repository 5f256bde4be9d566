import torch
import torch.nn as nn
import torchvision


def load_moco_resnet50(ckpt_path):
    """ResNet-50 trunk from a MoCo-style checkpoint (query encoder weights)."""
    net = torchvision.models.resnet50()
    net.fc = nn.Identity()
    state = torch.load(ckpt_path, map_location="cpu")["state_dict"]
    prefix = "module.encoder_q."
    state = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix) and "fc" not in k}
    missing, _ = net.load_state_dict(state, strict=False)
    print("missing keys:", missing)
    return net


class LinearClassifier(nn.Module):
    """Linear head on top of a fixed trunk; features computed without grad."""

    def __init__(self, backbone, feat_dim=2048, num_classes=1000):
        super().__init__()
        self.backbone = backbone
        self.fc = nn.Linear(feat_dim, num_classes)
        nn.init.normal_(self.fc.weight, std=0.01)
        nn.init.zeros_(self.fc.bias)

    def forward(self, x):
        with torch.no_grad():
            feats = self.backbone(x)
        return self.fc(feats.flatten(1))
