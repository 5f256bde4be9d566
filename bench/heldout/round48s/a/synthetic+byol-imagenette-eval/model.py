import torch
import torch.nn as nn
from torchvision.models import resnet18


def build_encoder(checkpoint=None):
    enc = resnet18(weights=None)
    enc.fc = nn.Identity()
    if checkpoint is not None:
        sd = torch.load(checkpoint, map_location="cpu")
        online = {k.replace("online_encoder.net.", ""): v
                  for k, v in sd.items() if k.startswith("online_encoder.net.")}
        enc.load_state_dict(online, strict=False)
    return enc


class EvalNet(nn.Module):
    """Encoder + linear layer used for both linear and fine-tune evaluation."""

    def __init__(self, encoder, num_classes=10):
        super().__init__()
        self.encoder = encoder
        self.linear = nn.Linear(512, num_classes)

    def forward(self, x):
        h = self.encoder(x)
        return self.linear(h)
