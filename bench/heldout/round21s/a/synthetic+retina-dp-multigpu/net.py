import torch.nn as nn
from torchvision import models


class RetinaGrader(nn.Module):
    """Diabetic retinopathy grading (5 levels): ResNet-152 encoder + regression-ish head."""

    def __init__(self, n_out=5, pretrained=True):
        super().__init__()
        r = models.resnet152(pretrained=pretrained)
        self.encoder = nn.Sequential(r.conv1, r.bn1, r.relu, r.maxpool,
                                     r.layer1, r.layer2, r.layer3, r.layer4)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(nn.Dropout(0.3), nn.Linear(2048, n_out))

    def forward(self, x):
        return self.fc(self.gap(self.encoder(x)).flatten(1))


def kappa(pred, gt, n=5):
    import numpy as np
    from sklearn.metrics import cohen_kappa_score
    return cohen_kappa_score(np.asarray(gt), np.asarray(pred), weights="quadratic")


def count_params(model):
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return total, trainable


if __name__ == "__main__":
    import torch
    m = RetinaGrader(pretrained=False)
    print(m(torch.randn(2, 3, 320, 320)).shape, count_params(m))
