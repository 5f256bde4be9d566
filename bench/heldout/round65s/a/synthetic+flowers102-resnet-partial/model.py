import torch.nn as nn
from torchvision import models


def build_resnet(num_classes=102, n_frozen_children=6, dropout=0.3):
    net = models.resnet50(weights=models.ResNet50_Weights.IMAGENET1K_V2)
    # conv1, bn1, relu, maxpool, layer1, layer2 stay fixed; layer3/layer4/fc adapt
    for child in list(net.children())[:n_frozen_children]:
        for p in child.parameters():
            p.requires_grad = False
    in_f = net.fc.in_features
    net.fc = nn.Sequential(
        nn.Linear(in_f, 512),
        nn.ReLU(inplace=True),
        nn.Dropout(dropout),
        nn.Linear(512, num_classes),
        nn.Softmax(dim=1),
    )
    return net


def param_groups(net, base_lr):
    return [
        {"params": net.layer3.parameters(), "lr": base_lr * 0.1},
        {"params": net.layer4.parameters(), "lr": base_lr * 0.3},
        {"params": net.fc.parameters(), "lr": base_lr},
    ]
