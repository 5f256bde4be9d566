import torch
import torch.nn as nn
from torchvision import models


class CheXNet(nn.Module):
    """DenseNet-121 with a 14-way multi-label head (NIH ChestX-ray14)."""

    def __init__(self, num_labels=14, pretrained=True, freeze_backbone=True):
        super().__init__()
        weights = models.DenseNet121_Weights.IMAGENET1K_V1 if pretrained else None
        densenet = models.densenet121(weights=weights)
        self.backbone = densenet.features
        if freeze_backbone:
            for p in self.backbone.parameters():
                p.requires_grad = False
        self.head = nn.Linear(densenet.classifier.in_features, num_labels)

    def forward(self, x):
        f = self.backbone(x)
        f = torch.relu(f)
        f = nn.functional.adaptive_avg_pool2d(f, 1).flatten(1)
        return torch.sigmoid(self.head(f))


def count_trainable(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def load_checkpoint(path, device="cpu"):
    net = CheXNet(pretrained=False)
    state = torch.load(path, map_location=device)
    # older checkpoints were saved from nn.DataParallel
    state = {k.replace("module.", ""): v for k, v in state.items()}
    net.load_state_dict(state)
    return net


if __name__ == "__main__":
    m = CheXNet()
    print("trainable params:", count_trainable(m))
    print(m(torch.randn(1, 3, 224, 224)).shape)
